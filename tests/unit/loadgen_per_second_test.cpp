// Unit tests for perf/loadgen/per_second: a received frame counts in the second it was sent in
// (a late one in the second before), a second is reported one second after it ends and the last
// two at the trial's end, offered frames are charged from the running total, lost is clamped at
// zero, a stall yields its empty seconds, p99 is the second's own, and over random traffic the
// records agree with a model that buckets every frame by its send time.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "loadgen/per_second.hpp"

using namespace sluice::loadgen;

namespace {

constexpr uint64_t s = second_series::second_ns;
constexpr uint64_t t0 = 5 * s + 123;  // a trial does not start at 0

}  // namespace

TEST_CASE("a frame counts in the second it was sent in, reported one second after that ends") {
    second_series k;
    k.start(3, t0);
    CHECK_FALSE(k.due(t0 + s - 1));
    k.received(t0 + s / 2);
    CHECK(k.due(t0 + s));
    CHECK_FALSE(k.advance(100).has_value());  // second 0 ends: it still takes late frames
    k.received(t0 + s - 1);                   // sent in second 0, arrives in second 1
    k.reordered(t0 + s - 1);
    k.received(t0 + s + 10);  // sent in second 1
    k.received(0);            // no send time: the current second (1)
    const std::optional<second_record> r0 = k.advance(250);
    REQUIRE(r0.has_value());
    CHECK(r0->trial == 3);
    CHECK(r0->t_s == 0);
    CHECK(r0->span_s == 1);
    CHECK(r0->offered == 100);
    CHECK(r0->received == 2);
    CHECK(r0->lost == 98);
    CHECK(r0->reordered == 1);
    const std::vector<second_record> rest = k.finish(250, t0 + 2 * s + s / 4);
    REQUIRE(rest.size() == 2);
    CHECK(rest[0].t_s == 1);
    CHECK(rest[0].offered == 150);  // charged from the running total
    CHECK(rest[0].received == 2);
    CHECK(rest[1].t_s == 2);
    CHECK(rest[1].span_s == doctest::Approx(0.25));
    CHECK(rest[1].offered == 0);
    CHECK_FALSE(k.due(UINT64_MAX - 1));  // finished: nothing due until the next start
}

TEST_CASE("lost is clamped at zero: copies do not offset losses") {
    second_series k;
    k.start(1, t0);
    for (int i = 0; i < 5; ++i) k.received(t0 + 1);
    const std::vector<second_record> r = k.finish(3, t0 + s / 2);
    REQUIRE(r.size() == 1);
    CHECK(r[0].offered == 3);
    CHECK(r[0].received == 5);
    CHECK(r[0].lost == 0);
}

TEST_CASE("a stall over several seconds yields one record per second, the empty ones too") {
    second_series k;
    k.start(1, t0);
    k.received(t0 + 1);
    std::vector<second_record> out;
    const uint64_t now = t0 + 4 * s + 7;  // the loop was away for four seconds
    while (k.due(now))
        if (auto r = k.advance(10)) out.push_back(*r);
    for (const second_record& r : k.finish(10, now)) out.push_back(r);
    REQUIRE(out.size() == 5);
    for (size_t i = 0; i < out.size(); ++i) CHECK(out[i].t_s == double(i));
    CHECK(out[0].offered == 10);  // all charged to the second that ended first
    CHECK(out[0].received == 1);
    for (size_t i = 1; i < out.size(); ++i) CHECK((out[i].offered == 0 && out[i].received == 0));
}

TEST_CASE("p99 of a second is read from that second's samples only") {
    second_series k;
    k.start(1, t0);
    for (int i = 0; i < 100; ++i) k.latency(t0 + 10, 1000);  // second 0: 1 us
    k.advance(0);
    for (int i = 0; i < 100; ++i) k.latency(t0 + s + 10, 50000);  // second 1: 50 us
    const std::optional<second_record> r0 = k.advance(0);
    REQUIRE(r0.has_value());
    CHECK(r0->latency_samples == 100);
    CHECK(r0->latency_p99_ns == 1000);
    const std::vector<second_record> rest = k.finish(0, t0 + 2 * s);
    REQUIRE(!rest.empty());
    CHECK(rest[0].latency_samples == 100);
    CHECK(rest[0].latency_p99_ns >= 50000);
    CHECK(rest[0].latency_p99_ns <= 50000 * (1 + latency_histogram::max_relative_error));
}

TEST_CASE("random traffic: each second's counts equal a model bucketing frames by send time") {
    std::mt19937_64 rng(17);
    second_series k;
    k.start(1, t0);
    std::map<uint64_t, uint64_t> sent, got;  // by second
    uint64_t offered = 0, total_received = 0;
    std::vector<second_record> out;
    // Frames sent every 1-2 ms for 10 s; 90% arrive 0-900 ms later (never beyond the second
    // after theirs), delivered in arrival order as the loop would see them.
    std::multimap<uint64_t, uint64_t> in_flight;  // arrival -> send time
    for (uint64_t now = t0; now < t0 + 10 * s; now += 1000000 + rng() % 1000000) {
        for (auto it = in_flight.begin(); it != in_flight.end() && it->first <= now;) {
            k.received(it->second);
            ++got[(it->second - t0) / s];
            ++total_received;
            it = in_flight.erase(it);
        }
        while (k.due(now))
            if (auto r = k.advance(offered)) out.push_back(*r);
        ++offered;
        ++sent[(now - t0) / s];
        if (rng() % 10) in_flight.emplace(now + rng() % (s - s / 10), now);
    }
    const uint64_t end = t0 + 11 * s;
    for (const auto& [arrival, sent_ns] : in_flight) {
        while (k.due(arrival))
            if (auto r = k.advance(offered)) out.push_back(*r);
        k.received(sent_ns);
        ++got[(sent_ns - t0) / s];
        ++total_received;
    }
    for (const second_record& r : k.finish(offered, end)) out.push_back(r);
    uint64_t sum_offered = 0, sum_received = 0;
    for (const second_record& r : out) {
        const uint64_t second = uint64_t(r.t_s);
        CAPTURE(second);
        CHECK(r.offered == sent[second]);
        CHECK(r.received == got[second]);
        CHECK(r.lost == sent[second] - got[second]);
        sum_offered += r.offered;
        sum_received += r.received;
    }
    CHECK(out.size() >= 10);
    CHECK(sum_offered == offered);
    CHECK(sum_received == total_received);
}

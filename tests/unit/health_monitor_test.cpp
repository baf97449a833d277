// Unit tests for src/health/health_monitor: probe scheduling and transitions (fake prober, clock).
#include "health/health_monitor.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "health/http_check.hpp"
#include "health/probe_engine.hpp"
#include "health_helpers.hpp"

using namespace test;
using sluice::config::health_check_type;
using sluice::config::health_initial_state;
using sluice::config::http_method;
using sluice::config::http_status_range;
using sluice::health::build_http_request;
using sluice::health::health_monitor;
using sluice::health::probe_request;
using sluice::health::probe_result;
using sluice::health::probe_type;
using sluice::health::prober;
using sluice::health::result_kind;
using sluice::health::target;
using sluice::health::transition;

namespace {

// ---- a prober whose results the test decides ----

class fake_prober final : public prober {
public:
    struct started {
        probe_request request;
        uint64_t at_ns;
    };
    void start(const probe_request& request, uint64_t now_ns) override {
        starts.push_back({request, now_ns});
        active[request.key] = request;
    }
    void cancel(uint64_t key) override {
        if (active.erase(key)) cancelled.push_back(key);
    }
    std::vector<probe_result> poll(uint64_t) override { return std::exchange(ready, {}); }

    // The probe in flight for backend `id`; fails the test when there is none.
    uint64_t key_of(uint32_t id) const {
        for (const auto& [key, request] : active)
            if (uint32_t(key) == id) return key;
        FAIL("no probe in flight for id " << id);
        return 0;
    }
    bool probing(uint32_t id) const {
        for (const auto& [key, request] : active)
            if (uint32_t(key) == id) return true;
        return false;
    }
    // Finishes backend `id`'s probe; the monitor sees it at its next poll().
    void finish(uint32_t id, result_kind kind, std::string detail, uint64_t now_ns,
                uint16_t status = 0) {
        uint64_t key = key_of(id);
        active.erase(key);
        ready.push_back(probe_result{key, kind, status, 1 * ms, now_ns, std::move(detail)});
    }

    std::vector<started> starts;
    std::map<uint64_t, probe_request> active;
    std::vector<uint64_t> cancelled;
    std::vector<probe_result> ready;
};

target tcp_target(uint32_t id, uint32_t rise = 2, uint32_t fall = 3) {
    target t;
    t.id = id;
    t.address = addr("198.18.1.11");
    t.port = uint16_t(8000 + id);
    t.check.type = health_check_type::tcp;
    t.check.interval_ms = 1000;
    t.check.timeout_ms = 500;
    t.check.rise = rise;
    t.check.fall = fall;
    t.check.initial_jitter = false;
    return t;
}

// Polls at `now`, finishing backend `id`'s probe first when one is in flight.
std::vector<transition> probe_once(health_monitor& monitor, fake_prober& fake, uint32_t id,
                                   result_kind kind, const std::string& detail, uint64_t now) {
    auto before = monitor.poll(now);  // starts the due probe
    REQUIRE(before.empty());
    fake.finish(id, kind, detail, now);
    return monitor.poll(now);
}

}  // namespace

// ---- health_monitor with a fake prober and clock ----

TEST_CASE(
    "a probed target goes down after fall failures and up after rise successes, with reasons") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    monitor.set_targets({tcp_target(7)}, 0);
    CHECK(monitor.is_up(7));
    uint64_t t = 0;
    for (int i = 0; i < 2; ++i, t += 1000 * ms)
        CHECK(probe_once(monitor, fake, 7, result_kind::refused, "connection refused", t).empty());
    auto down = probe_once(monitor, fake, 7, result_kind::refused, "connection refused", t);
    REQUIRE(down.size() == 1);
    CHECK(down[0].id == 7);
    CHECK_FALSE(down[0].up);
    CHECK(down[0].reason == "3 consecutive failures, last: connection refused");
    CHECK(down[0].at_ns == t);
    CHECK_FALSE(monitor.is_up(7));
    t += 1000 * ms;
    CHECK(probe_once(monitor, fake, 7, result_kind::ok, "connected", t).empty());
    t += 1000 * ms;
    auto up = probe_once(monitor, fake, 7, result_kind::ok, "connected", t);
    REQUIRE(up.size() == 1);
    CHECK(up[0].up);
    CHECK(up[0].reason == "2 consecutive successes");
    CHECK(monitor.is_up(7));
}

TEST_CASE("probes start every interval, one at a time, to the backend's or the override port") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto t = tcp_target(1);
    auto overridden = tcp_target(2);
    overridden.check.port = 9999;
    monitor.set_targets({t, overridden}, 0);
    monitor.poll(0);
    REQUIRE(fake.starts.size() == 2);
    std::set<uint16_t> ports{fake.starts[0].request.port, fake.starts[1].request.port};
    CHECK(ports == std::set<uint16_t>{8001, 9999});
    CHECK(fake.starts[0].request.timeout_ms == 500);
    // While a probe is in flight, no second one starts, even when the next is due.
    monitor.poll(1500 * ms);
    CHECK(fake.starts.size() == 2);
    fake.finish(1, result_kind::ok, "connected", 1500 * ms);
    fake.finish(2, result_kind::ok, "connected", 1500 * ms);
    monitor.poll(1500 * ms);  // overdue: starts at once
    CHECK(fake.starts.size() == 4);
    fake.finish(1, result_kind::ok, "connected", 1600 * ms);
    monitor.poll(1600 * ms);
    monitor.poll(1999 * ms);
    CHECK(fake.starts.size() == 4);  // next due at 1000 ms + 1000 ms
    monitor.poll(2000 * ms);
    CHECK(fake.starts.size() == 5);
    CHECK(fake.starts[4].at_ns == 2000 * ms);
}

TEST_CASE("with initial_jitter each first probe falls within the first interval, spread out") {
    fake_prober fake;
    health_monitor monitor(fake, 42);
    std::vector<target> targets;
    for (uint32_t id = 0; id < 100; ++id) {
        auto t = tcp_target(id);
        t.check.initial_jitter = true;
        t.check.interval_ms = 2000;
        targets.push_back(t);
    }
    const uint64_t start = 5000 * ms;
    monitor.set_targets(targets, start);
    for (uint64_t t = start; t < start + 2000 * ms; t += 10 * ms) monitor.poll(t);
    monitor.poll(start + 2000 * ms - 1);
    REQUIRE(fake.starts.size() == 100);  // all within [start, start + interval)
    std::set<uint64_t> buckets;          // 100 ms buckets hit
    for (const auto& s : fake.starts) {
        CHECK(s.at_ns >= start);
        CHECK(s.at_ns < start + 2000 * ms);
        buckets.insert((s.at_ns - start) / (100 * ms));
    }
    CHECK(buckets.size() >= 10);  // not all at once
    // Without jitter, all start at once.
    fake_prober fake2;
    health_monitor monitor2(fake2, 42);
    monitor2.set_targets({tcp_target(1), tcp_target(2)}, start);
    monitor2.poll(start);
    CHECK(fake2.starts.size() == 2);
}

TEST_CASE("set_targets keeps the state of ids that stay, starts new ones, forgets removed ones") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    monitor.set_targets({tcp_target(1, 2, 1), tcp_target(2, 2, 1)}, 0);
    monitor.poll(0);
    fake.finish(1, result_kind::timeout, "timeout after 500 ms while connecting", 10 * ms);
    auto down = monitor.poll(10 * ms);
    REQUIRE(down.size() == 1);
    CHECK_FALSE(monitor.is_up(1));
    REQUIRE(fake.probing(2));
    // Reload: 1 stays (down, with its counters), 2 goes (its probe cancelled), 3 comes down.
    auto three = tcp_target(3);
    three.check.initial_state = health_initial_state::down;
    monitor.set_targets({tcp_target(1, 2, 1), three}, 20 * ms);
    CHECK(monitor.size() == 2);
    CHECK_FALSE(monitor.is_up(1));
    CHECK(monitor.status(1)->checks[size_t(result_kind::timeout)] == 1);
    CHECK(monitor.status(1)->state_changes == 1);
    CHECK_FALSE(monitor.status(2).has_value());
    CHECK_FALSE(monitor.is_up(2));
    CHECK_FALSE(fake.probing(2));
    CHECK(fake.cancelled.size() == 1);
    CHECK_FALSE(monitor.is_up(3));
    // A late result for the removed id is ignored.
    fake.ready.push_back(probe_result{uint64_t(1) << 32 | 2, result_kind::ok, 0, 0, 30 * ms, ""});
    CHECK(monitor.poll(30 * ms).empty());
    // The initially down target comes up after rise (2) successes.
    fake.finish(3, result_kind::ok, "connected", 40 * ms);
    CHECK(monitor.poll(40 * ms).empty());
    monitor.poll(1030 * ms);
    fake.finish(3, result_kind::ok, "connected", 1040 * ms);
    auto up = monitor.poll(1040 * ms);
    REQUIRE(up.size() == 1);
    CHECK(up[0].id == 3);
    CHECK(up[0].up);
}

TEST_CASE("a reload that changes the probe cancels the one in flight; the same probe keeps it") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto t = tcp_target(4);
    monitor.set_targets({t}, 0);
    monitor.poll(0);
    uint64_t first = fake.key_of(4);
    auto same = t;
    same.check.rise = 5;  // thresholds are not part of the probe
    monitor.set_targets({same}, 10 * ms);
    CHECK(fake.cancelled.empty());
    CHECK(fake.key_of(4) == first);
    auto moved = t;
    moved.port = 9000;
    monitor.set_targets({moved}, 20 * ms);
    CHECK(fake.cancelled == std::vector<uint64_t>{first});
    CHECK_FALSE(fake.probing(4));
    // A result with the cancelled key is ignored.
    fake.ready.push_back(probe_result{first, result_kind::refused, 0, 0, 30 * ms, "x"});
    monitor.poll(30 * ms);
    CHECK(monitor.status(4)->checks[size_t(result_kind::refused)] == 0);
}

TEST_CASE("passive_failures consecutive reports mark down; probes bring it back after rise") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto t = tcp_target(9, 2, 3);
    t.passive_failures = 3;
    monitor.set_targets({t}, 0);
    monitor.passive_failure(9, 1 * ms);
    monitor.passive_failure(9, 2 * ms);
    monitor.passive_success(9);  // the run is over
    monitor.passive_failure(9, 3 * ms);
    monitor.passive_failure(9, 4 * ms);
    CHECK(monitor.status(9)->consecutive_passive_failures == 2);
    CHECK(monitor.is_up(9));
    monitor.passive_failure(9, 5 * ms);
    CHECK_FALSE(monitor.is_up(9));
    auto down = monitor.poll(5 * ms);
    REQUIRE(down.size() == 1);
    CHECK_FALSE(down[0].up);
    CHECK(down[0].reason == "passive: 3 consecutive failed connects");
    CHECK(down[0].at_ns == 5 * ms);
    // The probe started at 5 ms succeeds, then one more: rise 2.
    fake.finish(9, result_kind::ok, "connected", 6 * ms);
    CHECK(monitor.poll(6 * ms).empty());
    monitor.poll(1005 * ms);
    fake.finish(9, result_kind::ok, "connected", 1006 * ms);
    auto up = monitor.poll(1006 * ms);
    REQUIRE(up.size() == 1);
    CHECK(up[0].up);
    CHECK(up[0].reason == "2 consecutive successes");
}

TEST_CASE("passive reports do nothing when passive_failures is 0 or the type is none") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto off = tcp_target(1);
    auto none = tcp_target(2);
    none.check.type = health_check_type::none;
    none.passive_failures = 1;
    monitor.set_targets({off, none}, 0);
    for (int i = 0; i < 10; ++i) {
        monitor.passive_failure(1, 0);
        monitor.passive_failure(2, 0);
        monitor.passive_failure(99, 0);  // unknown
    }
    CHECK(monitor.is_up(1));
    CHECK(monitor.is_up(2));
    CHECK(monitor.poll(0).empty());
}

TEST_CASE("type none is up and never probed; switching a down target to none brings it up") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto none = tcp_target(1);
    none.check.type = health_check_type::none;
    none.check.initial_state = health_initial_state::down;  // ignored: never probed
    monitor.set_targets({none}, 0);
    for (uint64_t t = 0; t < 10000 * ms; t += 500 * ms) monitor.poll(t);
    CHECK(fake.starts.empty());
    CHECK(monitor.is_up(1));
    CHECK_FALSE(monitor.status(1)->probed);

    auto probed = tcp_target(2, 2, 1);
    monitor.set_targets({probed}, 0);
    monitor.poll(0);
    fake.finish(2, result_kind::refused, "connection refused", 1 * ms);
    REQUIRE(monitor.poll(1 * ms).size() == 1);
    CHECK_FALSE(monitor.is_up(2));
    probed.check.type = health_check_type::none;
    monitor.set_targets({probed}, 2 * ms);
    auto up = monitor.poll(2 * ms);
    REQUIRE(up.size() == 1);
    CHECK(up[0].up);
    CHECK(up[0].reason == "health checks off (type \"none\")");
    CHECK(fake.starts.size() == 1);
}

TEST_CASE("status shows the last result, check time, runs, totals by kind and state changes") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    monitor.set_targets({tcp_target(5, 1, 1)}, 0);
    CHECK_FALSE(monitor.status(5)->last_result.has_value());
    CHECK(monitor.status(5)->last_check_ns == 0);
    const std::pair<result_kind, const char*> results[] = {
        {result_kind::ok, "connected"},
        {result_kind::refused, "connection refused"},
        {result_kind::refused, "connection refused"},
        {result_kind::timeout, "timeout after 500 ms while connecting"},
    };
    uint64_t t = 0;
    for (const auto& [kind, detail] : results) {
        monitor.poll(t);
        fake.finish(5, kind, detail, t + 7 * ms);
        monitor.poll(t + 7 * ms);
        t += 1000 * ms;
    }
    auto s = *monitor.status(5);
    CHECK_FALSE(s.up);
    CHECK(s.probed);
    CHECK(s.last_result == result_kind::timeout);
    CHECK(s.last_detail == "timeout after 500 ms while connecting");
    CHECK(s.last_check_ns == 3007 * ms);
    CHECK(s.last_latency_ns == 1 * ms);
    CHECK(s.consecutive_failures == 3);
    CHECK(s.consecutive_successes == 0);
    CHECK(s.checks[size_t(result_kind::ok)] == 1);
    CHECK(s.checks[size_t(result_kind::refused)] == 2);
    CHECK(s.checks[size_t(result_kind::timeout)] == 1);
    CHECK(s.state_changes == 1);  // down at the first refusal (fall 1)
    CHECK(s.last_change_ns == 1007 * ms);
    CHECK_FALSE(monitor.status(6).has_value());
}

TEST_CASE("an http target's probe carries its request, Host and expected statuses") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto t = tcp_target(1);
    t.check.type = health_check_type::http;
    t.check.method = http_method::head;
    t.check.http_path = "/ready";
    t.check.expect_status = {{204, 204}};
    auto named = t;
    named.id = 2;
    named.check.http_host = "svc.example";
    monitor.set_targets({t, named}, 0);
    monitor.poll(0);
    REQUIRE(fake.starts.size() == 2);
    for (const auto& s : fake.starts) {
        CHECK(s.request.type == probe_type::http);
        CHECK(s.request.expect_status == std::vector<http_status_range>{{204, 204}});
        std::string host = uint32_t(s.request.key) == 1 ? "198.18.1.11:8001" : "svc.example";
        CHECK(s.request.http_request == build_http_request(http_method::head, "/ready", host));
    }
}

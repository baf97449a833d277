// Unit tests for perf/loadgen/latency_histogram: the buckets tile every 64-bit value, values
// below 128 are exact, percentiles of known distributions are never below and at most 1/128
// above the exact nearest-rank value, count/min/max are exact, merge equals recording into one.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "loadgen/latency_histogram.hpp"

using sluice::loadgen::latency_histogram;

namespace {

// 58 KiB each: on the heap rather than the test's stack.
std::unique_ptr<latency_histogram> fresh() {
    return std::make_unique<latency_histogram>();
}

// The exact nearest-rank percentile of `sorted`, the definition the histogram approximates.
uint64_t exact_percentile(const std::vector<uint64_t>& sorted, double p) {
    auto rank = uint64_t(std::ceil(p / 100.0 * double(sorted.size())));
    rank = std::clamp<uint64_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

// Records `values` and checks p50 .. p100 against the exact percentiles within the bound.
void check_percentiles(std::vector<uint64_t> values) {
    auto h = fresh();
    for (uint64_t v : values) h->record(v);
    std::sort(values.begin(), values.end());
    for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        const uint64_t exact = exact_percentile(values, p);
        const uint64_t got = h->percentile(p);
        CAPTURE(p);
        CAPTURE(exact);
        CAPTURE(got);
        CHECK(got >= exact);
        CHECK(double(got - exact) <= double(exact) * latency_histogram::max_relative_error);
    }
}

}  // namespace

TEST_CASE("the stated error bound is below 1%") {
    CHECK(latency_histogram::max_relative_error < 0.01);
}

TEST_CASE("buckets tile 0 .. 2^64-1: contiguous, each maps back to itself, narrower than 1/128") {
    CHECK(latency_histogram::bucket_lowest(0) == 0);
    CHECK(latency_histogram::bucket_highest(latency_histogram::bucket_count - 1) == UINT64_MAX);
    for (size_t i = 0; i < latency_histogram::bucket_count; ++i) {
        const uint64_t lo = latency_histogram::bucket_lowest(i);
        const uint64_t hi = latency_histogram::bucket_highest(i);
        CAPTURE(i);
        REQUIRE(lo <= hi);
        REQUIRE(latency_histogram::bucket_of(lo) == i);
        REQUIRE(latency_histogram::bucket_of(hi) == i);
        if (i + 1 < latency_histogram::bucket_count) {
            REQUIRE(latency_histogram::bucket_lowest(i + 1) == hi + 1);
        }
        if (lo > 0) REQUIRE(double(hi - lo) <= double(lo) * latency_histogram::max_relative_error);
    }
}

TEST_CASE("values below 128 ns are recorded exactly") {
    auto h = fresh();
    for (uint64_t v = 0; v < 128; ++v) h->record(v);
    for (uint64_t v = 0; v < 128; ++v) CHECK(h->bucket_count_at(v) == 1);
    CHECK(h->percentile(50) == 63);  // rank 64 of 0 .. 127
    CHECK(h->percentile(100) == 127);
    CHECK(h->percentile(0) == 0);
}

TEST_CASE("an empty histogram reports zero count, min, max and percentiles") {
    auto h = fresh();
    CHECK(h->count() == 0);
    CHECK(h->min() == 0);
    CHECK(h->max() == 0);
    CHECK(h->percentile(99) == 0);
}

TEST_CASE("count, min and max are exact, not bucket bounds") {
    auto h = fresh();
    h->record(1'234'567);
    h->record(999);
    h->record(77'777'777);
    CHECK(h->count() == 3);
    CHECK(h->min() == 999);
    CHECK(h->max() == 77'777'777);
    // The top percentile is capped at the exact maximum although its bucket reaches higher.
    CHECK(latency_histogram::bucket_highest(latency_histogram::bucket_of(77'777'777)) > 77'777'777);
    CHECK(h->percentile(100) == 77'777'777);
}

TEST_CASE("a single value: every percentile is that value") {
    auto h = fresh();
    h->record(5'000'001);
    for (double p : {0.0, 50.0, 99.0, 99.9, 100.0}) CHECK(h->percentile(p) == 5'000'001);
}

TEST_CASE("uniform 100 ns .. 10 ms: percentiles within the bound of the exact ones") {
    std::mt19937_64 rng(17);
    std::uniform_int_distribution<uint64_t> d(100, 10'000'000);
    std::vector<uint64_t> v(200'000);
    for (auto& x : v) x = d(rng);
    check_percentiles(std::move(v));
}

TEST_CASE("log-normal latencies (median ~20 us, long tail): percentiles within the bound") {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> d(std::log(20'000.0), 1.2);
    std::vector<uint64_t> v(200'000);
    for (auto& x : v) x = uint64_t(d(rng));
    check_percentiles(std::move(v));
}

TEST_CASE("bimodal: 98.5% near 5 us, 1.5% near 2 ms; p50 in the first mode, p99 in the second") {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> fast(5'000, 300), slow(2'000'000, 50'000);
    std::vector<uint64_t> v;
    for (int i = 0; i < 98'500; ++i) v.push_back(uint64_t(std::max(1.0, fast(rng))));
    for (int i = 0; i < 1'500; ++i) v.push_back(uint64_t(std::max(1.0, slow(rng))));
    auto h = fresh();
    for (uint64_t x : v) h->record(x);
    CHECK(h->percentile(50) < 10'000);
    CHECK(h->percentile(99) > 1'000'000);
    check_percentiles(std::move(v));
}

TEST_CASE("the extremes 0 and 2^64-1 are recorded and read back without overflow") {
    auto h = fresh();
    h->record(0);
    h->record(UINT64_MAX);
    CHECK(h->min() == 0);
    CHECK(h->max() == UINT64_MAX);
    CHECK(h->percentile(50) == 0);
    CHECK(h->percentile(100) == UINT64_MAX);
    CHECK(h->bucket_count_at(latency_histogram::bucket_count - 1) == 1);
}

TEST_CASE("record(value, n) equals n single records; n = 0 changes nothing") {
    auto a = fresh();
    auto b = fresh();
    a->record(31'000, 5);
    for (int i = 0; i < 5; ++i) b->record(31'000);
    a->record(900, 0);
    CHECK(a->count() == 5);
    CHECK(a->min() == 31'000);
    for (size_t i = 0; i < latency_histogram::bucket_count; ++i) {
        REQUIRE(a->bucket_count_at(i) == b->bucket_count_at(i));
    }
}

TEST_CASE("merging two histograms equals recording both sets of samples into one") {
    std::mt19937_64 rng(3);
    std::uniform_int_distribution<uint64_t> low(50, 5'000), high(1'000'000, 90'000'000);
    auto a = fresh();
    auto b = fresh();
    auto all = fresh();
    for (int i = 0; i < 10'000; ++i) {
        const uint64_t x = low(rng), y = high(rng);
        a->record(x);
        b->record(y);
        all->record(x);
        all->record(y);
    }
    a->merge(*b);
    CHECK(a->count() == all->count());
    CHECK(a->min() == all->min());
    CHECK(a->max() == all->max());
    for (size_t i = 0; i < latency_histogram::bucket_count; ++i) {
        REQUIRE(a->bucket_count_at(i) == all->bucket_count_at(i));
    }
    for (double p : {50.0, 99.0, 99.9}) CHECK(a->percentile(p) == all->percentile(p));
}

TEST_CASE("merging an empty histogram keeps min and max; merging into one takes them") {
    auto a = fresh();
    auto empty = fresh();
    a->record(400);
    a->merge(*empty);
    CHECK(a->min() == 400);
    CHECK(a->max() == 400);
    empty->merge(*a);
    CHECK(empty->min() == 400);
    CHECK(empty->count() == 1);
}

TEST_CASE("p outside [0, 100] is clamped: below 0 reads the minimum's bucket, above 100 the max") {
    auto h = fresh();
    for (uint64_t v = 1000; v <= 2000; ++v) h->record(v);
    CHECK(h->percentile(-5) == h->percentile(0));
    CHECK(h->percentile(250) == 2000);
    CHECK(h->percentile(0) >= 1000);
    CHECK(h->percentile(0) <= 1003);  // 1000 lies in [512, 1024): buckets 4 wide, [1000, 1003]
}

TEST_CASE("reset empties the histogram for the next trial") {
    auto h = fresh();
    h->record(12'345);
    h->reset();
    CHECK(h->count() == 0);
    CHECK(h->min() == 0);
    CHECK(h->max() == 0);
    CHECK(h->bucket_count_at(latency_histogram::bucket_of(12'345)) == 0);
    h->record(7);
    CHECK(h->min() == 7);
}

// Unit tests of src/sched/least_connections.hpp: (weighted) least connections' picks and ties.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <span>
#include <vector>

#include "sched/least_connections.hpp"
#include "sched_helpers.hpp"

using namespace sluice::sched;
using test::always;

TEST_CASE("conn_overhead weighs an active flow as 256 inactive ones") {
    // Property: IPVS's ip_vs_dest_conn_overhead formula.
    CHECK(conn_overhead(0, 0) == 0);
    CHECK(conn_overhead(1, 0) == 256);
    CHECK(conn_overhead(3, 7) == 775);
    CHECK(conn_overhead(1, 0) > conn_overhead(0, 255));
}

TEST_CASE("lc picks the least overhead and wlc the least overhead per weight") {
    // Property: against a brute-force reference over random loads and weights, the pick's load is
    // the minimum (any of the tied minima is allowed). Ratios are exact in long double here:
    // overheads < 2^20 and weights < 2^12 keep distinct ratios 2^-24 apart.
    std::mt19937 rng(5);
    for (int trial = 0; trial < 2000; ++trial) {
        std::vector<uint32_t> weights(1 + rng() % 20);
        std::vector<uint64_t> oh(weights.size());
        for (uint32_t i = 0; i < weights.size(); ++i) {
            weights[i] = rng() % 5 == 0 ? 0 : 1 + rng() % 4000;
            oh[i] = rng() % 3 == 0 ? rng() % 4 : rng() % (1 << 20);  // small values make ties
        }
        auto overhead = [&](uint32_t i) { return oh[i]; };
        for (bool weighted : {false, true}) {
            auto load = [&](uint32_t i) {
                return weighted ? (long double)oh[i] / weights[i] : (long double)oh[i];
            };
            bool any = false;
            long double least = 0;
            for (uint32_t i = 0; i < weights.size(); ++i) {
                if (weights[i] == 0) continue;
                if (!any || load(i) < least) least = load(i);
                any = true;
            }
            const uint32_t pick =
                pick_least_connections(weights, weighted, uint32_t(rng()), overhead, always);
            CAPTURE(trial);
            if (!any) {
                REQUIRE(pick == no_backend);
                continue;
            }
            REQUIRE(pick < weights.size());
            REQUIRE(weights[pick] > 0);
            REQUIRE(load(pick) == least);
        }
    }
}

TEST_CASE("wlc compares loads exactly even when products exceed 64 bits") {
    // Property: overhead * weight beyond 2^64 does not wrap: 2^62/3 per unit beats 2^62/2.
    std::vector<uint32_t> weights = {2, 3};
    std::vector<uint64_t> oh = {uint64_t(1) << 62, uint64_t(1) << 62};
    auto overhead = [&](uint32_t i) { return oh[i]; };
    CHECK(pick_least_connections(weights, true, 0, overhead, always) == 1);
    weights = {0xffffffffu, 0xfffffffeu};
    oh = {UINT64_MAX, UINT64_MAX - 1};  // UINT64_MAX / (2^32-1) < (UINT64_MAX-1) / (2^32-2)
    CHECK(pick_least_connections(weights, true, 1, overhead, always) == 0);
}

TEST_CASE("least connections shares new flows among tied backends") {
    // Property: with equal loads and a rotating start every tied backend is picked (each start
    // picks the first tied backend at or after it); a fixed start always picks the same one.
    std::vector<uint32_t> weights = {1, 3, 3, 3, 0, 3};
    std::vector<uint64_t> oh = {100, 60, 60, 60, 0, 60};  // lc: 60 ties; wlc: 100/1 > 60/3 ties
    auto overhead = [&](uint32_t i) { return oh[i]; };
    std::vector<uint32_t> lc(6, 0);
    std::vector<uint32_t> wlc(6, 0);
    for (uint32_t start = 0; start < 600; ++start) {
        ++lc[pick_least_connections(weights, false, start, overhead, always)];
        ++wlc[pick_least_connections(weights, true, start, overhead, always)];
    }
    // Starts 0,1 -> 1; 2 -> 2; 3 -> 3; 4 (weight 0), 5 -> 5.
    CHECK(lc == std::vector<uint32_t>{0, 200, 100, 100, 0, 200});
    CHECK(wlc == lc);
    for (int k = 0; k < 10; ++k)
        CHECK(pick_least_connections(weights, false, 0, overhead, always) == 1);
}

TEST_CASE("least connections skips weight-0 and ineligible backends") {
    // Property: the least loaded backend is not picked when its weight is 0 or it is at
    // max_connections; with none eligible the answer is no_backend.
    std::vector<uint32_t> weights = {0, 1, 1, 1};
    std::vector<uint64_t> active = {0, 5, 10, 3};    // 3 is the least loaded taking flows...
    std::vector<uint64_t> max_conns = {0, 0, 0, 3};  // ...but at its limit (0 = unlimited)
    auto overhead = [&](uint32_t i) { return conn_overhead(active[i], 0); };
    auto below_max = [&](uint32_t i) { return max_conns[i] == 0 || active[i] < max_conns[i]; };
    for (bool weighted : {false, true})
        for (uint32_t start = 0; start < 8; ++start)
            CHECK(pick_least_connections(weights, weighted, start, overhead, below_max) == 1);
    auto none = [](uint32_t) { return false; };
    CHECK(pick_least_connections(weights, true, 0, overhead, none) == no_backend);
    std::vector<uint32_t> zeros(4, 0);
    CHECK(pick_least_connections(zeros, false, 2, overhead, always) == no_backend);
    CHECK(pick_least_connections(std::span<const uint32_t>{}, false, 0, overhead, always) ==
          no_backend);
}

// Unit tests for perf/loadgen/pacer.hpp: the long-run rate is exact whatever the polling period,
// packets are released in bursts of at most 32, nothing is due before the start, packets not
// taken stay due, and a loop that falls behind catches up one burst per call.
#include <doctest/doctest.h>

#include <cstdint>

#include "loadgen/pacer.hpp"

using sluice::loadgen::pacer;

TEST_CASE("pacer: the rate is exact over a second whatever the polling period") {
    for (uint64_t step : {1ull, 7ull, 100ull, 2500ull}) {
        pacer p(1e6, 1e4, 1000);  // 1 MHz clock, 10 kpps: one packet every 100 ticks
        uint64_t sent = 0;
        unsigned largest = 0;
        for (uint64_t now = 1000; now < 1000 + 1000000; now += step) {
            const unsigned n = p.due(now);
            largest = n > largest ? n : largest;
            p.taken(n);
            sent += n;
        }
        CHECK(largest <= 32);
        // One second of packets; a coarse step leaves at most one step's worth still due.
        CHECK(sent <= 10000);
        CHECK(sent >= 10000 - step / 100 - 1);
        CHECK(p.released() == sent);
    }
}

TEST_CASE("pacer: nothing before the start, the first packet at it") {
    pacer p(1e9, 1000, 5000);
    CHECK(p.due(0) == 0);
    CHECK(p.due(4999) == 0);
    CHECK(p.due(5000) == 1);
    p.taken(1);
    CHECK(p.due(5000) == 0);
    CHECK(p.next_due() == 5000 + 1000000);
    CHECK(p.due(5000 + 999999) == 0);
    CHECK(p.due(5000 + 1000000) == 1);
}

TEST_CASE("pacer: packets not taken stay due; a late loop catches up one burst at a time") {
    pacer p(1e9, 1e6, 0, 32);
    CHECK(p.due(99999) == 32);  // 100 packets due, one burst
    p.taken(10);                // the TX ring took 10
    CHECK(p.due(99999) == 32);
    p.taken(32);
    p.taken(32);
    CHECK(p.due(99999) == 26);  // 100 - 74
    p.taken(26);
    CHECK(p.due(99999) == 0);
    CHECK(p.released() == 100);
}

// Unit tests of src/sched/round_robin.hpp: plain round-robin's order, cursor and skipped backends.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <vector>

#include "sched/round_robin.hpp"

using namespace sluice::sched;

TEST_CASE("round robin visits each enabled backend once per cycle, in index order") {
    // Property: for random weights, each cycle of picks is the enabled indices in ascending order.
    std::mt19937 rng(31);
    for (int trial = 0; trial < 500; ++trial) {
        std::vector<uint32_t> weights(1 + rng() % 20);
        std::vector<uint32_t> enabled;
        for (uint32_t i = 0; i < weights.size(); ++i) {
            weights[i] = rng() % 3 == 0 ? 0 : 1 + rng() % 100;
            if (weights[i] > 0) enabled.push_back(i);
        }
        if (enabled.empty()) continue;
        uint32_t cursor = 0;
        for (int cycle = 0; cycle < 3; ++cycle) {
            for (uint32_t want : enabled) {
                CAPTURE(trial);
                REQUIRE(pick_round_robin(weights, cursor) == want);
            }
        }
    }
}

TEST_CASE("round robin never returns a weight-0 backend") {
    // Property: from any cursor, every pick has weight > 0.
    std::vector<uint32_t> weights = {0, 5, 0, 0, 1, 0};
    for (uint32_t start = 0; start < 10; ++start) {
        uint32_t cursor = start;
        for (int i = 0; i < 20; ++i) {
            uint32_t pick = pick_round_robin(weights, cursor);
            REQUIRE(pick < weights.size());
            CHECK(weights[pick] > 0);
        }
    }
}

TEST_CASE("round robin returns no_backend when no backend takes flows") {
    // Property: an empty list or all-zero weights give no_backend, from any cursor.
    std::vector<uint32_t> none;
    std::vector<uint32_t> zeros(7, 0);
    for (uint32_t start : {0u, 3u, 100u, 0xffffffffu}) {
        uint32_t cursor = start;
        CHECK(pick_round_robin(none, cursor) == no_backend);
        CHECK(pick_round_robin(zeros, cursor) == no_backend);
        CHECK(pick_round_robin(zeros, cursor) == no_backend);
    }
}

TEST_CASE("a cursor beyond the backend count wraps to the first enabled backend") {
    // Property: a cursor >= size (the list shrank) picks the first enabled backend next.
    std::vector<uint32_t> weights = {0, 2, 3};
    for (uint32_t start : {3u, 4u, 1000u, 0xffffffffu}) {
        uint32_t cursor = start;
        CHECK(pick_round_robin(weights, cursor) == 1);
        CHECK(pick_round_robin(weights, cursor) == 2);
        CHECK(pick_round_robin(weights, cursor) == 1);
    }
}

TEST_CASE("round robin continues from the cursor, not from the start") {
    // Property: a pick returns the cursor's backend and leaves the cursor on the next one.
    std::vector<uint32_t> weights(5, 1);
    for (uint32_t start = 0; start < 5; ++start) {
        uint32_t cursor = start;
        CHECK(pick_round_robin(weights, cursor) == start);
        CHECK(cursor == start + 1);
        CHECK(pick_round_robin(weights, cursor) == (start + 1) % 5);
    }
}

TEST_CASE("round robin with a predicate skips ineligible backends and keeps the order") {
    // Property: ineligible backends are passed over; all ineligible gives no_backend.
    std::vector<uint32_t> weights = {1, 1, 1, 1};
    auto not_two = [](uint32_t i) { return i != 2; };
    uint32_t cursor = 0;
    std::vector<uint32_t> got;
    for (int i = 0; i < 6; ++i) got.push_back(pick_round_robin(weights, cursor, not_two));
    CHECK(got == std::vector<uint32_t>{0, 1, 3, 0, 1, 3});
    CHECK(pick_round_robin(weights, cursor, [](uint32_t) { return false; }) == no_backend);
}

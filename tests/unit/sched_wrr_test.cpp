// Unit tests of src/sched/smooth_wrr.hpp: smooth weighted round-robin's shares, order and runs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "sched/smooth_wrr.hpp"
#include "sched_helpers.hpp"

using namespace sluice::sched;
using test::always;

namespace {

std::vector<uint32_t> wrr_sequence(const std::vector<uint32_t>& weights,
                                   std::vector<int64_t>& current, uint64_t picks) {
    std::vector<uint32_t> seq;
    for (uint64_t k = 0; k < picks; ++k) seq.push_back(pick_smooth_wrr(weights, current, always));
    return seq;
}

uint64_t sum(const std::vector<uint32_t>& weights) {
    uint64_t total = 0;
    for (uint32_t w : weights) total += w;
    return total;
}

std::vector<std::vector<uint32_t>> wrr_weight_sets() {
    std::vector<std::vector<uint32_t>> sets = {
        {1}, {1, 1}, {5, 1, 1}, {10, 1, 1}, {10, 1}, {3, 2, 1}, {100, 1, 1, 1}, {7, 7, 7}, {1, 50}};
    std::mt19937 rng(7);
    for (int i = 0; i < 200; ++i) {
        std::vector<uint32_t> w(1 + rng() % 12);
        for (uint32_t& x : w) x = 1 + rng() % (i % 2 ? 10 : 300);
        sets.push_back(w);
    }
    return sets;
}

}  // namespace

TEST_CASE("smooth wrr picks each backend exactly its weight times per cycle") {
    // Property: from zeroed credits, every W = sum(weights) picks hold each backend weight times.
    for (const auto& weights : wrr_weight_sets()) {
        CAPTURE(weights);
        std::vector<int64_t> current(weights.size(), 0);
        const uint64_t total = sum(weights);
        for (int cycle = 0; cycle < 3; ++cycle) {
            std::vector<uint32_t> count(weights.size(), 0);
            for (uint32_t pick : wrr_sequence(weights, current, total)) ++count[pick];
            REQUIRE(count == weights);
        }
    }
}

TEST_CASE("smooth wrr interleaves like nginx") {
    // Property: weights {5,1,1} give nginx's documented sequence a a b a c a a.
    std::vector<uint32_t> weights = {5, 1, 1};
    std::vector<int64_t> current(3, 0);
    CHECK(wrr_sequence(weights, current, 7) == std::vector<uint32_t>{0, 0, 1, 0, 2, 0, 0});
}

TEST_CASE("smooth wrr runs of one backend stay within the algorithm's bound") {
    // Property: a run of backend a (weight w, R = W - w) is at most 2W / (R + min other weight).
    // Proof: let j != a be picked just before the run, at pre-pick credits p_j >= p_a. Afterwards
    // j holds p_j - W >= c - W, where c = p_a is a's credit then. At the run's L-th pick a holds
    // c + w - (L-1)R and j holds at least c - W + L*w_j; a winning needs the first to be >= the
    // second, so L <= 2W / (R + w_j). A run at the very start (all credits zero) obeys
    // L <= W / (R + w_j). The sequence repeats every W picks, so two cycles show every run,
    // including the one wrapping around the cycle. ({10,1,1} gives a a a a b a a a c a a a: a run
    // of 7 across the wrap, so the simpler ceil(w/R) + 1 = 6 does not hold for this algorithm.)
    for (const auto& weights : wrr_weight_sets()) {
        if (weights.size() < 2) continue;
        CAPTURE(weights);
        std::vector<int64_t> current(weights.size(), 0);
        const uint64_t total = sum(weights);
        std::vector<uint32_t> seq = wrr_sequence(weights, current, 2 * total);
        uint64_t run = 0;
        for (size_t k = 0; k < seq.size(); ++k) {
            run = k > 0 && seq[k] == seq[k - 1] ? run + 1 : 1;
            const uint32_t a = seq[k];
            uint32_t min_other = UINT32_MAX;
            for (uint32_t i = 0; i < weights.size(); ++i)
                if (i != a) min_other = std::min(min_other, weights[i]);
            REQUIRE(run <= 2 * total / (total - weights[a] + min_other));
        }
    }
    std::vector<uint32_t> weights = {5, 1, 1};  // a a b a c a a | a a ...: the wrap makes 4
    std::vector<int64_t> current(3, 0);
    std::vector<uint32_t> seq = wrr_sequence(weights, current, 14);
    CHECK(std::search_n(seq.begin(), seq.end(), 4, 0u) != seq.end());
    CHECK(std::search_n(seq.begin(), seq.end(), 5, 0u) == seq.end());
}

TEST_CASE("smooth wrr weight changes apply from the next pick") {
    // Property: after a change with credits zeroed (what the control thread does on a weight
    // change) the next cycle follows the new weights exactly; without zeroing, a backend set to 0
    // is never picked again and long-run counts follow the new weights to within the old credit.
    std::mt19937 rng(11);
    for (int trial = 0; trial < 100; ++trial) {
        std::vector<uint32_t> weights(2 + rng() % 8);
        for (uint32_t& w : weights) w = 1 + rng() % 50;
        std::vector<int64_t> current(weights.size(), 0);
        wrr_sequence(weights, current, 1 + rng() % (3 * sum(weights)));  // stop mid-cycle

        std::vector<uint32_t> changed = weights;
        for (uint32_t& w : changed) w = rng() % 4 == 0 ? 0 : 1 + rng() % 50;
        if (sum(changed) == 0) changed[0] = 1;
        const uint64_t total = sum(changed);
        CAPTURE(weights);
        CAPTURE(changed);

        std::vector<int64_t> zeroed(current.size(), 0);
        std::vector<uint32_t> count(changed.size(), 0);
        for (uint32_t pick : wrr_sequence(changed, zeroed, total)) ++count[pick];
        REQUIRE(count == changed);

        // Without zeroing, a backend set to 0 is out from the very next pick.
        std::vector<int64_t> credits = current;
        for (uint32_t pick : wrr_sequence(changed, credits, 2 * total)) REQUIRE(changed[pick] > 0);

        // Without zeroing, all weights > 0: credits sum to 0; a pick leaves the winner above -W
        // (its pre-pick credit is at least the mean, W/n > 0) and the others only grow, so every
        // credit stays >= -B with B = max(W, -min starting credit), hence <= (n-1)B (minus the
        // others' sum). Over K cycles count_i = K*w_i + (start_i - end_i)/W, so count_i is within
        // (|start_i| + (n-1)B)/W of K*w_i however long the run: the old credit only drains.
        for (uint32_t& w : changed) w = std::max(w, 1u);
        const uint64_t new_total = sum(changed);
        int64_t b = int64_t(new_total);
        for (int64_t c : current) b = std::max(b, -c);
        const uint64_t cycles = 200;
        credits = current;
        std::fill(count.begin(), count.end(), 0);
        for (uint32_t pick : wrr_sequence(changed, credits, cycles * new_total)) ++count[pick];
        for (uint32_t i = 0; i < changed.size(); ++i) {
            const double off = std::fabs(double(count[i]) - double(cycles * changed[i]));
            const double bound =
                double(std::abs(current[i]) + int64_t(changed.size() - 1) * b) / double(new_total);
            REQUIRE(off <= bound);
        }
    }
}

TEST_CASE("smooth wrr skips weight-0 and ineligible backends") {
    // Property: those backends are never picked, keep their credit, and share the cycle with
    // nobody; with none eligible the answer is no_backend.
    std::vector<uint32_t> weights = {4, 0, 2, 3};
    std::vector<int64_t> current(4, 0);
    current[3] = 42;  // ineligible below: must stay untouched
    auto not_three = [](uint32_t i) { return i != 3; };
    std::vector<uint32_t> count(4, 0);
    for (int k = 0; k < 6 * 5; ++k) ++count[pick_smooth_wrr(weights, current, not_three)];
    CHECK(count == std::vector<uint32_t>{20, 0, 10, 0});
    CHECK(current[1] == 0);
    CHECK(current[3] == 42);

    auto none = [](uint32_t) { return false; };
    CHECK(pick_smooth_wrr(weights, current, none) == no_backend);
    std::vector<uint32_t> zeros(3, 0);
    std::vector<int64_t> zc(3, 0);
    CHECK(pick_smooth_wrr(zeros, zc, always) == no_backend);
    CHECK(pick_smooth_wrr(std::span<const uint32_t>{}, std::span<int64_t>{}, always) == no_backend);
}

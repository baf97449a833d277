// Unit tests for src/sched/: round-robin, smooth weighted round-robin, (weighted) least
// connections, Maglev and the client hash.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <stdexcept>
#include <vector>

#include "sched/client_hash.hpp"
#include "sched/least_connections.hpp"
#include "sched/maglev.hpp"
#include "sched/round_robin.hpp"
#include "sched/smooth_wrr.hpp"

using namespace sluice::sched;

namespace {

constexpr auto always = [](uint32_t) { return true; };

}  // namespace

// ---- round-robin ----

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

// ---- smooth weighted round-robin ----

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

// ---- least connections ----

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

// ---- Maglev ----

namespace {

constexpr uint32_t table_size = 65537;

std::vector<maglev_backend> equal_backends(uint32_t n, uint64_t salt = 0) {
    std::vector<maglev_backend> b;
    for (uint32_t i = 0; i < n; ++i) {
        const uint8_t addr[4] = {10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)};
        b.push_back({backend_key(addr, 4, uint16_t(8080 + salt)), 1});
    }
    return b;
}

std::vector<uint64_t> owned(const maglev_table& t, size_t backends) {
    std::vector<uint64_t> count(backends, 0);
    for (uint32_t owner : t.entries()) {
        REQUIRE(owner < backends);
        ++count[owner];
    }
    return count;
}

}  // namespace

TEST_CASE("maglev gives equal backends equal shares") {
    // Property: N equal backends each own 0.99..1.01 of M/N entries (M = 65537).
    for (uint32_t n : {3u, 10u, 100u, 1000u}) {
        CAPTURE(n);
        const maglev_table t = maglev_table::build(equal_backends(n), table_size, 1);
        REQUIRE(t.size() == table_size);
        const double fair = double(table_size) / n;
        for (uint64_t c : owned(t, n)) {
            CHECK(c >= 0.99 * fair);
            CHECK(c <= 1.01 * fair);
        }
    }
}

TEST_CASE("maglev with equal weights is the paper's population") {
    // Property: build() equals a direct transcription of the pseudo-code of section 3.4 (full
    // permutation lists, one entry per backend per turn in order), with offset and skip from
    // splitmix64's first two outputs seeded with key ^ seed (pinned: tables must not change
    // between versions, or LB instances running different versions disagree).
    auto splitmix = [](uint64_t x) {
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
    };
    const uint64_t golden = 0x9e3779b97f4a7c15ull;
    for (uint32_t m : {7u, 251u, 4099u}) {
        for (uint32_t n : {1u, 2u, 5u, 13u}) {
            for (uint32_t weight : {1u, 7u}) {
                std::vector<maglev_backend> b = equal_backends(n, m);
                for (maglev_backend& x : b) x.weight = weight;
                const uint64_t seed = m * 31 + n;
                std::vector<std::vector<uint32_t>> permutation(n);
                for (uint32_t i = 0; i < n; ++i) {
                    const uint64_t offset = splitmix((b[i].key ^ seed) + golden) % m;
                    const uint64_t skip = splitmix((b[i].key ^ seed) + 2 * golden) % (m - 1) + 1;
                    for (uint64_t j = 0; j < m; ++j)
                        permutation[i].push_back(uint32_t((offset + j * skip) % m));
                }
                std::vector<uint32_t> next(n, 0);
                std::vector<uint32_t> entry(m, no_backend);
                for (uint32_t filled = 0;;) {
                    for (uint32_t i = 0; i < n; ++i) {
                        uint32_t c = permutation[i][next[i]];
                        while (entry[c] != no_backend) c = permutation[i][++next[i]];
                        entry[c] = i;
                        ++next[i];
                        if (++filled == m) goto done;
                    }
                }
            done:
                CAPTURE(m);
                CAPTURE(n);
                CHECK(maglev_table::build(b, m, seed).entries() == entry);
            }
        }
    }
}

TEST_CASE("maglev rebuild after a removal moves only the removed backend's entries") {
    // Property: removing (or draining to weight 0) one of N backends keeps every other entry's
    // owner; the moved share is the removed backend's, about 1/N; survivors stay balanced.
    std::mt19937 rng(3);
    for (uint32_t n : {3u, 10u, 100u, 1000u}) {
        for (bool drain : {false, true}) {
            CAPTURE(n);
            CAPTURE(drain);
            const std::vector<maglev_backend> before = equal_backends(n);
            const maglev_table old = maglev_table::build(before, table_size, 9);
            const uint32_t gone = rng() % n;
            std::vector<maglev_backend> after = before;
            std::vector<uint32_t> new_index(n);  // old index -> new index
            if (drain) {
                after[gone].weight = 0;
                for (uint32_t i = 0; i < n; ++i) new_index[i] = i;
            } else {
                after.erase(after.begin() + gone);
                for (uint32_t i = 0; i < n; ++i) new_index[i] = i < gone ? i : i - 1;
            }
            const maglev_table t = maglev_table::rebuild(old, before, after, table_size, 9);
            REQUIRE(t.size() == table_size);
            uint64_t moved = 0;
            for (uint32_t e = 0; e < table_size; ++e) {
                const uint32_t was = old.entries()[e];
                if (was == gone) {
                    ++moved;
                    if (drain) REQUIRE(t.entries()[e] != gone);
                } else {
                    REQUIRE(t.entries()[e] == new_index[was]);
                }
            }
            CHECK(std::fabs(double(moved) / table_size - 1.0 / n) <= 0.01);
            const double fair = double(table_size) / (n - 1);
            std::vector<uint64_t> count = owned(t, after.size());
            for (uint32_t i = 0; i < after.size(); ++i) {
                if (after[i].weight == 0) {
                    CHECK(count[i] == 0);
                    continue;
                }
                CHECK(std::fabs(double(count[i]) - fair) <= 2.0);
            }
        }
    }
}

TEST_CASE("maglev shares follow the weights") {
    // Property: weights 1:2:3 own 1/6, 2/6, 3/6 of the table to within 1%, before and after a
    // rebuild that removes the weight-2 backend (then 1/4, 3/4).
    std::vector<maglev_backend> b = equal_backends(3);
    b[0].weight = 1;
    b[1].weight = 2;
    b[2].weight = 3;
    const maglev_table t = maglev_table::build(b, table_size, 4);
    std::vector<uint64_t> count = owned(t, 3);
    for (uint32_t i = 0; i < 3; ++i)
        CHECK(std::fabs(double(count[i]) / table_size - (i + 1) / 6.0) <= 0.01);

    std::vector<maglev_backend> after = {b[0], b[2]};
    count = owned(maglev_table::rebuild(t, b, after, table_size, 4), 2);
    CHECK(std::fabs(double(count[0]) / table_size - 0.25) <= 0.01);
    CHECK(std::fabs(double(count[1]) / table_size - 0.75) <= 0.01);
}

TEST_CASE("maglev shares are within one entry of exact for any weights") {
    // Property: every backend owns M * w / W entries to within one, for random and extremely
    // skewed weights (one of 65535 among 999 of 1: the small ones still get about one entry each,
    // not all in one late round that the table is too full to finish).
    std::mt19937 rng(8);
    std::vector<std::vector<uint32_t>> sets = {{1, 1000}, {65535}, {1, 2, 3}};
    std::vector<uint32_t> skewed(1000, 1);
    skewed[0] = 65535;
    sets.push_back(skewed);
    for (int i = 0; i < 20; ++i) {
        std::vector<uint32_t> w(1 + rng() % 200);
        for (uint32_t& x : w) x = rng() % 10 == 0 ? 0 : 1 + rng() % (i % 2 ? 100 : 65535);
        sets.push_back(w);
    }
    for (const std::vector<uint32_t>& weights : sets) {
        std::vector<maglev_backend> b = equal_backends(uint32_t(weights.size()));
        double total = 0;
        for (uint32_t i = 0; i < b.size(); ++i) total += b[i].weight = weights[i];
        if (total == 0) continue;
        const std::vector<uint64_t> count = owned(maglev_table::build(b, table_size, 6), b.size());
        for (uint32_t i = 0; i < b.size(); ++i) {
            CAPTURE(weights.size());
            CAPTURE(i);
            CHECK(std::fabs(double(count[i]) - table_size * weights[i] / total) < 1.0);
        }
    }
}

TEST_CASE("maglev rebuild falls back to a full build when shares change") {
    // Property: adding a backend or changing a weight, size or seed gives exactly build()'s table.
    const std::vector<maglev_backend> before = equal_backends(10);
    const maglev_table old = maglev_table::build(before, table_size, 2);
    std::vector<maglev_backend> added = equal_backends(11);
    CHECK(maglev_table::rebuild(old, before, added, table_size, 2).entries() ==
          maglev_table::build(added, table_size, 2).entries());
    std::vector<maglev_backend> reweighted = before;
    reweighted[4].weight = 3;
    CHECK(maglev_table::rebuild(old, before, reweighted, table_size, 2).entries() ==
          maglev_table::build(reweighted, table_size, 2).entries());
    CHECK(maglev_table::rebuild(old, before, before, 65521, 2).entries() ==
          maglev_table::build(before, 65521, 2).entries());
    CHECK(maglev_table::rebuild(old, before, before, table_size, 3).entries() ==
          maglev_table::build(before, table_size, 3).entries());
    // Nothing changed: nothing moves.
    CHECK(maglev_table::rebuild(old, before, before, table_size, 2).entries() == old.entries());
}

TEST_CASE("maglev tables are deterministic and the seed perturbs them") {
    // Property: the same input builds the identical table twice; another seed moves most entries.
    const std::vector<maglev_backend> b = equal_backends(100);
    const maglev_table one = maglev_table::build(b, table_size, 77);
    const maglev_table two = maglev_table::build(b, table_size, 77);
    CHECK(one.entries() == two.entries());
    const maglev_table other = maglev_table::build(b, table_size, 78);
    uint64_t differ = 0;
    for (uint32_t e = 0; e < table_size; ++e) differ += one.entries()[e] != other.entries()[e];
    CHECK(differ > table_size * 9 / 10);  // ~99/100 expected for unrelated tables
}

TEST_CASE("is_prime") {
    // Property: agrees with known primes and composites, at both ends of the 32-bit range.
    for (uint32_t p : {2u, 3u, 5u, 13u, 251u, 65521u, 65537u, 655373u, 4294967291u})
        CHECK(is_prime(p));
    for (uint32_t c : {0u, 1u, 4u, 9u, 15u, 65535u, 65536u, 65539u * 3u, 4294967295u, 4294836225u})
        CHECK_FALSE(is_prime(c));
    CHECK_THROWS_AS(maglev_table::build(equal_backends(3), 65536, 0), std::invalid_argument);
}

TEST_CASE("maglev lookup spreads flows over entries and returns valid backends") {
    // Property: client hashes of 2^20 consecutive IPv4 clients land on the 65537 entries like
    // uniform draws (chi-square within 5 standard deviations of its mean M-1), and per backend
    // in proportion to the table's shares; every answer is a valid index.
    const uint32_t n = 10;
    const maglev_table t = maglev_table::build(equal_backends(n), table_size, 5);
    std::vector<uint64_t> table_share = owned(t, n);
    std::vector<uint64_t> per_entry(table_size, 0);
    std::vector<uint64_t> per_backend(n, 0);
    const uint32_t clients = 1u << 20;
    const uint8_t vip[4] = {192, 0, 2, 1};
    for (uint32_t c = 0; c < clients; ++c) {
        const uint32_t ip = 0x0a000000 + c;
        const uint8_t src[4] = {uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8),
                                uint8_t(ip)};
        const uint64_t h = client_hash(hash_selector::src_ip, src, vip, 4, 40000, 80, 6, 0);
        const uint64_t slot = (h >> 32) * table_size >> 32;  // lookup()'s reduction
        ++per_entry[slot];
        const uint32_t pick = t.lookup(h);
        REQUIRE(pick == t.entries()[slot]);
        REQUIRE(pick < n);
        ++per_backend[pick];
    }
    const double expect = double(clients) / table_size;
    double chi = 0;
    for (uint64_t got : per_entry) chi += (got - expect) * (got - expect) / expect;
    const double df = table_size - 1;
    CHECK(std::fabs(chi - df) <= 5 * std::sqrt(2 * df));
    chi = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const double want = double(clients) * table_share[i] / table_size;
        chi += (per_backend[i] - want) * (per_backend[i] - want) / want;
    }
    CHECK(chi < 27.9);  // chi-square, 9 degrees of freedom, p = 0.001
}

TEST_CASE("maglev without weighted backends answers no_backend") {
    // Property: no backends, all weight 0, or a default table: every lookup gives no_backend.
    std::vector<maglev_backend> zero = equal_backends(4);
    for (maglev_backend& b : zero) b.weight = 0;
    for (const maglev_table& t :
         {maglev_table{}, maglev_table::build({}, table_size, 0),
          maglev_table::build(zero, table_size, 0),
          maglev_table::rebuild(maglev_table::build(equal_backends(4), table_size, 0),
                                equal_backends(4), zero, table_size, 0)}) {
        CHECK(t.size() == 0);
        for (uint64_t h : {0ull, 1ull, 0xdeadbeefcafef00dull, ~0ull})
            CHECK(t.lookup(h) == no_backend);
    }
}

// ---- client hash ----

TEST_CASE("client_hash covers exactly what the selector names") {
    // Property: src-ip ignores ports, destination and protocol; src-ip-port ignores all but the
    // source address and port; the 5-tuple uses every field; the seed changes every hash.
    const uint8_t a[4] = {10, 0, 0, 1};
    const uint8_t b[4] = {10, 0, 0, 2};
    const uint8_t vip[4] = {192, 0, 2, 1};
    const uint8_t vip2[4] = {192, 0, 2, 2};
    auto h = [](hash_selector k, const uint8_t* s, const uint8_t* d, uint16_t sp, uint16_t dp,
                uint8_t pr,
                uint64_t seed = 1) { return client_hash(k, s, d, 4, sp, dp, pr, seed); };
    using enum hash_selector;

    CHECK(h(src_ip, a, vip, 1000, 80, 6) == h(src_ip, a, vip2, 2000, 443, 17));
    CHECK(h(src_ip, a, vip, 1000, 80, 6) != h(src_ip, b, vip, 1000, 80, 6));

    CHECK(h(src_ip_port, a, vip, 1000, 80, 6) == h(src_ip_port, a, vip2, 1000, 443, 17));
    CHECK(h(src_ip_port, a, vip, 1000, 80, 6) != h(src_ip_port, a, vip, 1001, 80, 6));
    CHECK(h(src_ip_port, a, vip, 1000, 80, 6) != h(src_ip_port, b, vip, 1000, 80, 6));

    const uint64_t base = h(five_tuple, a, vip, 1000, 80, 6);
    CHECK(base != h(five_tuple, b, vip, 1000, 80, 6));
    CHECK(base != h(five_tuple, a, vip2, 1000, 80, 6));
    CHECK(base != h(five_tuple, a, vip, 1001, 80, 6));
    CHECK(base != h(five_tuple, a, vip, 1000, 81, 6));
    CHECK(base != h(five_tuple, a, vip, 1000, 80, 17));

    for (hash_selector k : {src_ip, src_ip_port, five_tuple}) {
        CHECK(h(k, a, vip, 1000, 80, 6, 1) != h(k, a, vip, 1000, 80, 6, 2));
        CHECK(h(k, a, vip, 1000, 80, 6, 1) == h(k, a, vip, 1000, 80, 6, 1));
    }
}

TEST_CASE("client_hash reads 4 bytes for IPv4 and all 16 for IPv6") {
    // Property: an IPv4 address and the IPv6 address with the same leading bytes differ; IPv4
    // ignores bytes past the fourth; every IPv6 byte counts.
    uint8_t v6[16] = {1, 2, 3, 4};
    const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8};
    const uint8_t vip4[4] = {192, 0, 2, 1};
    const uint64_t as_v4 = client_hash(hash_selector::src_ip, v6, vip4, 4, 1, 2, 6, 0);
    const uint64_t as_v6 = client_hash(hash_selector::src_ip, v6, vip6, 6, 1, 2, 6, 0);
    CHECK(as_v4 != as_v6);
    v6[15] = 1;
    CHECK(client_hash(hash_selector::src_ip, v6, vip4, 4, 1, 2, 6, 0) == as_v4);
    CHECK(client_hash(hash_selector::src_ip, v6, vip6, 6, 1, 2, 6, 0) != as_v6);
    for (int byte = 0; byte < 16; ++byte) {
        uint8_t other[16] = {};
        other[byte] = 0x80;
        uint8_t zero[16] = {};
        CHECK(client_hash(hash_selector::five_tuple, other, vip6, 6, 1, 2, 6, 0) !=
              client_hash(hash_selector::five_tuple, zero, vip6, 6, 1, 2, 6, 0));
        CHECK(client_hash(hash_selector::five_tuple, zero, other, 6, 1, 2, 6, 0) !=
              client_hash(hash_selector::five_tuple, zero, vip6, 6, 1, 2, 6, 0));
    }
}

TEST_CASE("client_hash and backend_key are stable across builds and processes") {
    // Property: fixed inputs give pinned values, so LB instances of any build agree on backends.
    const uint8_t src[4] = {198, 51, 100, 7};
    const uint8_t dst[4] = {203, 0, 113, 1};
    CHECK(client_hash(hash_selector::five_tuple, src, dst, 4, 51000, 443, 6, 42) ==
          0x4c9b8ea046c1094bull);
    CHECK(backend_key(dst, 4, 8080) == 0x0bfcb4059154d59bull);
    const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(client_hash(hash_selector::five_tuple, src6, dst6, 6, 51000, 443, 6, 42) ==
          0x1919b3cfad052f28ull);
    CHECK(backend_key(dst, 4, 8080) != backend_key(dst, 4, 8081));
    CHECK(backend_key(src, 4, 8080) != backend_key(dst, 4, 8080));
}

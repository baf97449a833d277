#include "sched/maglev.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>
#include <utility>

namespace sluice::sched {

namespace {

// splitmix64's output function; mix(x + k * golden) for k = 1, 2 are splitmix64's first two
// outputs from state x: two independent-looking hashes of one key.
uint64_t mix(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}
constexpr uint64_t golden = 0x9e3779b97f4a7c15ull;

// One backend's walk through its permutation (offset + j * skip) mod size, generated lazily as
// in the paper: materialising 1000 permutations of 65537 entries would take 256 MB.
struct walker {
    uint32_t share;  // entries it is to take in this fill
    uint32_t index;  // into the backends given to build()/rebuild()
    uint32_t next;   // next preferred entry
    uint32_t skip;   // in [1, size): a full cycle because size is prime
};

// Largest-remainder (Hamilton) apportionment of `seats` by weight: floor(seats * w / W) each, the
// leftover seats to the largest remainders (lower index on ties). Every share is within one
// entry of exact, however skewed the weights.
std::vector<uint32_t> apportion(std::span<const maglev_backend> backends, uint32_t seats) {
    uint64_t total = 0;
    for (const maglev_backend& b : backends) total += b.weight;
    std::vector<uint32_t> share(backends.size(), 0);
    std::vector<std::pair<uint64_t, uint32_t>> remainders;  // (remainder, index)
    uint64_t given = 0;
    for (uint32_t i = 0; i < backends.size(); ++i) {
        if (backends[i].weight == 0) continue;
        // seats < 2^32 and weight < 2^32: the product fits; total >= weight.
        const uint64_t exact = uint64_t(seats) * backends[i].weight;
        share[i] = uint32_t(exact / total);
        given += share[i];
        remainders.push_back({exact % total, i});
    }
    std::sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    for (uint64_t k = 0; given < seats; ++k, ++given) ++share[remainders[k].second];
    return share;
}

// Gives every entry still holding no_backend an owner. Each backend's share of the free entries
// is apportioned by weight up front; then backends take turns, round after round, each taking its
// next free preferred entry on its turn. With T the largest share, a backend of share t takes a
// turn in ceil(r * t / T) of the first r rounds (credit starts at T - 1, gains t per round, spends
// T per turn), so after T rounds every share is met and the table is full. Backends of equal share
// turn in the same rounds, so a round visits groups of equal share (largest first, each in index
// order) instead of every backend: O(T * groups) rather than O(T * N) when weights are skewed.
// Equal weights give the paper's population exactly: one entry per backend per round in index
// order, the last round stopping when the table is full. The walks probe about M ln M entries in
// all (704k for M = 65537, N = 1000), most near the end, so they test a byte map of taken
// entries (64 KB) rather than the 256 KB entries themselves.
void fill(std::vector<uint32_t>& entries, std::span<const maglev_backend> backends, uint64_t seed) {
    const uint32_t size = uint32_t(entries.size());
    std::vector<uint8_t> taken(size);
    uint32_t free = 0;
    for (uint32_t e = 0; e < size; ++e) {
        taken[e] = entries[e] != no_backend;
        free += !taken[e];
    }

    const std::vector<uint32_t> share = apportion(backends, free);
    std::vector<walker> walkers;
    for (uint32_t i = 0; i < backends.size(); ++i) {
        if (share[i] == 0) continue;
        const uint64_t x = backends[i].key ^ seed;
        const uint32_t offset = uint32_t(mix(x + golden) % size);
        const uint32_t skip = uint32_t(mix(x + 2 * golden) % (size - 1)) + 1;  // size >= 2
        walkers.push_back({share[i], i, offset, skip});
    }
    if (walkers.empty()) return;
    std::stable_sort(walkers.begin(), walkers.end(),
                     [](const walker& a, const walker& b) { return a.share > b.share; });

    struct group {
        uint32_t share;
        uint32_t first, end;  // walkers[first, end)
        uint64_t credit;
    };
    const uint32_t rounds = walkers[0].share;
    std::vector<group> groups;
    for (uint32_t k = 0; k < walkers.size(); ++k) {
        if (groups.empty() || groups.back().share != walkers[k].share)
            groups.push_back({walkers[k].share, k, k, rounds - 1});
        groups.back().end = k + 1;
    }

    while (free > 0) {
        for (group& g : groups) {
            g.credit += g.share;
            if (g.credit < rounds) continue;
            g.credit -= rounds;
            for (uint32_t k = g.first; k < g.end && free > 0; ++k, --free) {
                walker& w = walkers[k];
                uint32_t e = w.next;
                while (taken[e]) e = e + w.skip < size ? e + w.skip : e + w.skip - size;
                taken[e] = 1;
                entries[e] = w.index;
                w.next = e + w.skip < size ? e + w.skip : e + w.skip - size;
            }
        }
    }
}

bool has_weight(std::span<const maglev_backend> backends) {
    for (const maglev_backend& b : backends)
        if (b.weight > 0) return true;
    return false;
}

}  // namespace

maglev_table maglev_table::build(std::span<const maglev_backend> backends, uint32_t size,
                                 uint64_t seed) {
    if (!is_prime(size)) throw std::invalid_argument("maglev table size must be a prime");
    maglev_table t;
    t.seed_ = seed;
    if (!has_weight(backends)) return t;
    t.entries_.assign(size, no_backend);
    fill(t.entries_, backends, seed);
    return t;
}

maglev_table maglev_table::rebuild(const maglev_table& previous,
                                   std::span<const maglev_backend> previous_backends,
                                   std::span<const maglev_backend> backends, uint32_t size,
                                   uint64_t seed) {
    if (previous.entries_.empty() || size != previous.size() || seed != previous.seed_ ||
        !has_weight(backends))
        return build(backends, size, seed);

    // Keys identify backends across the reload; duplicates would make that ambiguous.
    std::unordered_map<uint64_t, uint32_t> old_weight;
    for (const maglev_backend& b : previous_backends)
        if (!old_weight.emplace(b.key, b.weight).second) return build(backends, size, seed);
    std::unordered_map<uint64_t, uint32_t> new_index;
    for (uint32_t i = 0; i < backends.size(); ++i) {
        const maglev_backend& b = backends[i];
        if (!new_index.emplace(b.key, i).second) return build(backends, size, seed);
        // Added or re-weighted: every share changes, so minimal disruption no longer applies.
        auto old = old_weight.find(b.key);
        if (b.weight > 0 && (old == old_weight.end() || old->second != b.weight))
            return build(backends, size, seed);
    }

    std::vector<uint32_t> remap(previous_backends.size(), no_backend);
    for (uint32_t j = 0; j < previous_backends.size(); ++j) {
        auto now = new_index.find(previous_backends[j].key);
        if (now != new_index.end() && backends[now->second].weight > 0) remap[j] = now->second;
    }
    maglev_table t;
    t.seed_ = seed;
    t.entries_.resize(size);
    for (uint32_t e = 0; e < size; ++e) {
        const uint32_t owner = previous.entries_[e];
        if (owner >= remap.size()) return build(backends, size, seed);  // not that table's list
        t.entries_[e] = remap[owner];
    }
    fill(t.entries_, backends, seed);
    return t;
}

}  // namespace sluice::sched

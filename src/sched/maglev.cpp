#include "sched/maglev.hpp"

#include <stdexcept>
#include <unordered_map>

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
    uint32_t index;  // into the backends given to build()/rebuild()
    uint32_t weight;
    uint32_t next;    // next preferred entry
    uint32_t skip;    // in [1, size): a full cycle because size is prime
    uint64_t credit;  // weight accrued but not yet spent on entries
};

// Gives every entry still holding no_backend an owner. Backends take turns in index order; per
// round each gains its weight as credit and takes its next free preferred entry if it holds at
// least max-weight credit (then loses max-weight). Equal weights thus take one entry per round,
// exactly the paper's population. A bitmap of taken entries (8 KB for 65537) keeps the walks,
// which skip many taken entries near the end, inside L1.
void fill(std::vector<uint32_t>& entries, std::span<const maglev_backend> backends, uint64_t seed) {
    const uint32_t size = uint32_t(entries.size());
    std::vector<uint64_t> taken((size + 63) / 64, 0);
    uint32_t free = 0;
    for (uint32_t e = 0; e < size; ++e) {
        if (entries[e] == no_backend)
            ++free;
        else
            taken[e / 64] |= uint64_t(1) << (e % 64);
    }

    std::vector<walker> walkers;
    uint32_t max_weight = 0;
    for (uint32_t i = 0; i < backends.size(); ++i) {
        if (backends[i].weight == 0) continue;
        const uint64_t x = backends[i].key ^ seed;
        const uint32_t offset = uint32_t(mix(x + golden) % size);
        const uint32_t skip = size > 1 ? uint32_t(mix(x + 2 * golden) % (size - 1)) + 1 : 1;
        walkers.push_back({i, backends[i].weight, offset, skip, 0});
        if (backends[i].weight > max_weight) max_weight = backends[i].weight;
    }
    if (walkers.empty()) return;

    while (free > 0) {
        for (walker& w : walkers) {
            w.credit += w.weight;
            if (w.credit < max_weight) continue;
            w.credit -= max_weight;
            uint32_t e = w.next;
            while (taken[e / 64] >> (e % 64) & 1)
                e = e + w.skip < size ? e + w.skip : e + w.skip - size;
            taken[e / 64] |= uint64_t(1) << (e % 64);
            entries[e] = w.index;
            w.next = e + w.skip < size ? e + w.skip : e + w.skip - size;
            if (--free == 0) break;
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

bool is_prime(uint32_t n) {
    if (n < 2) return false;
    if (n % 2 == 0) return n == 2;
    for (uint64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0) return false;
    return true;
}

}  // namespace sluice::sched

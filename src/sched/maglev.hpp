#pragma once
// Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4) with weights. The control
// thread builds an immutable lookup table per VIP and publishes it with the snapshot; workers only
// call lookup(), which is one multiply, one shift and one load.
#include <cstdint>
#include <span>
#include <vector>

#include "sched/client_hash.hpp"  // hash_selector, client_hash, backend_key: Maglev's inputs
#include "sched/round_robin.hpp"  // no_backend

namespace sluice::sched {

struct maglev_backend {
    uint64_t key;     // a stable hash of the backend (address, port), e.g. backend_key()
    uint32_t weight;  // 0 = owns no entry
};

class maglev_table {
public:
    maglev_table() = default;  // empty: every lookup gives no_backend

    // Builds a table of `size` entries (a prime; std::invalid_argument otherwise) from `backends`
    // in the given order. Each backend's share is M * weight / W rounded by largest remainder
    // (within one entry of exact; a backend whose share rounds to 0 owns nothing). Each backend
    // walks its own permutation of the entries (offset and skip from two hashes of key ^ seed);
    // backends take turns, each taking its next free preferred entry, paced so that all shares
    // fill up together (equal weights: one entry per backend per round, as in the paper). Same
    // backends, size and seed give the same table in any process. Control thread only.
    static maglev_table build(std::span<const maglev_backend> backends, uint32_t size,
                              uint64_t seed);

    // Minimal-disruption rebuild for a reload. When the change only removes backends (or sets
    // their weight to 0) and leaves every remaining weight as it was, each entry keeps its owner
    // if that owner (same key) is still present, and the entries of removed backends are refilled
    // by the Maglev fill over the free entries only, apportioned by weight: no surviving backend
    // loses an entry, and each share stays within two entries of exact. Any other change (a backend
    // added or re-weighted, another size or seed, duplicate keys) falls back to build(). The result
    // depends on history: it equals build() of the same backends only by chance. Control thread
    // only.
    static maglev_table rebuild(const maglev_table& previous,
                                std::span<const maglev_backend> previous_backends,
                                std::span<const maglev_backend> backends, uint32_t size,
                                uint64_t seed);

    // Index into the build's `backends` for a flow hash, or no_backend if no backend has weight.
    // The hash's high 32 bits are mapped onto [0, size) by multiply-shift (Lemire's fast range),
    // not by division. Any thread; the table is immutable.
    uint32_t lookup(uint64_t hash) const {
        if (entries_.empty()) return no_backend;
        const uint64_t slot = (hash >> 32) * entries_.size() >> 32;
        return entries_[slot];
    }

    uint32_t size() const { return uint32_t(entries_.size()); }        // 0 when empty
    const std::vector<uint32_t>& entries() const { return entries_; }  // backend index per entry

private:
    std::vector<uint32_t> entries_;
    uint64_t seed_ = 0;
};

// Trial division (sizes stay below 2^24: at most ~2000 odd divisors); used by the config checks
// and the table builds, control thread only.
constexpr bool is_prime(uint64_t n) {
    if (n < 2) return false;
    if (n % 2 == 0) return n == 2;
    for (uint64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0) return false;
    return true;
}

}  // namespace sluice::sched

#pragma once
// Per-client-address rate limiting: a bounded table of token buckets (token_bucket.hpp), one per
// source address, all with the same parameters. One table per worker (no sharing, no locks); the
// capacity is fixed at construction and nothing is allocated afterwards.
//
// Layout: sets of 4 entries (32 bytes each: the address and the bucket's TAT), 128 bytes = two
// cache lines per set. An address has two candidate sets (two-choice hashing from one seeded
// hash): a lookup reads the first, and the second only when the address is not in the first, so
// at most four cache lines. A new address goes to the candidate with more free entries, which
// keeps sets from overflowing until the table is nearly full: at 75% load 0.6% of addresses find
// both candidates full (1.3% at 80%, 3.9% at 90%), where a single set per address would leave
// 11% out. When both candidates are full it replaces, among their 8 entries, the one whose
// bucket is fullest (lowest TAT): the one whose loss changes least, since a forgotten source
// starts again with a full bucket. An entry whose bucket is already full is reused without
// losing anything (`reclaims`); replacing one that was still limiting its source is an eviction
// (`evictions`: the table is too small for the sources it sees). A source being limited has the
// emptiest bucket around, so a flood of new addresses evicts idle sources first and the limited
// one last.
//
// IPv4 addresses are stored as IPv4-mapped IPv6 (::ffff:a.b.c.d), so both families share one
// table; an IPv6 packet from a mapped address (never valid on the wire) shares that bucket.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "protect/token_bucket.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::protect {

// A client address as two 64-bit words of its 16 bytes (network order, IPv4 mapped).
struct source_key {
    uint64_t word[2] = {0, 0};

    // `addr`: 4 bytes in network order.
    static source_key v4(const uint8_t* addr) {
        uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        std::memcpy(mapped + 12, addr, 4);
        return from_bytes(mapped);
    }
    // `addr`: 16 bytes in network order.
    static source_key v6(const uint8_t* addr) { return from_bytes(addr); }
    static source_key of(const ip_address& address) {
        return address.is_v4() ? v4(address.bytes.data()) : v6(address.bytes.data());
    }
    bool operator==(const source_key&) const = default;

private:
    static source_key from_bytes(const uint8_t* bytes) {
        source_key key;
        std::memcpy(key.word, bytes, 16);
        return key;
    }
};

// Counters of one table; owner thread writes, others may read them racily for statistics.
struct source_limiter_stats {
    uint64_t inserts = 0;    // a new source took an empty entry
    uint64_t reclaims = 0;   // a new source replaced one whose bucket was full (nothing lost)
    uint64_t evictions = 0;  // a new source replaced one still being limited (state lost)
};

class source_limiter {
public:
    static constexpr uint32_t ways = 4;  // entries per set: the probe window

    // Bytes of memory a table of `capacity` entries needs (rounded up to whole sets), for
    // callers that bring their own memory (hugepages on the worker's socket).
    static size_t memory_bytes(uint32_t capacity);

    // Allocates the table (capacity rounded up to a multiple of `ways`, at least one set).
    // `seed` keys the address hash, so that clients cannot aim at one set. Control thread.
    source_limiter(uint32_t capacity, const bucket_params& params, uint64_t seed);
    // Uses `memory` (memory_bytes(capacity) bytes, 64-byte aligned; the caller keeps it alive and
    // frees it after the limiter). Control thread.
    source_limiter(std::span<std::byte> memory, uint32_t capacity, const bucket_params& params,
                   uint64_t seed);
    source_limiter(source_limiter&&) noexcept = default;
    source_limiter& operator=(source_limiter&&) noexcept = default;
    source_limiter(const source_limiter&) = delete;
    source_limiter& operator=(const source_limiter&) = delete;
    ~source_limiter() = default;

    // One event of `source` at `now` (the parameters' clock): false when the source is over its
    // limit. A source not in the table gets a full bucket (and an entry). With unlimited
    // parameters always true, and the table is not touched. Owner thread; per event.
    bool take(const source_key& source, uint64_t now);

    // New parameters for every bucket, keeping what each source has used (a reload changed
    // the limit). Owner thread.
    void set_params(const bucket_params& params) { params_ = params; }
    // Forgets every source. Owner thread.
    void clear();

    uint32_t capacity() const { return sets_ * ways; }
    uint64_t size() const { return stats_.inserts; }  // entries in use; entries are never freed
    const source_limiter_stats& stats() const { return stats_; }
    const bucket_params& params() const { return params_; }

private:
    struct entry {
        bucket_state bucket;  // TAT; 0 = free (a used entry's TAT is >= one interval)
        source_key key;
    };
    static_assert(sizeof(entry) == 32);
    struct alignas(64) set {
        entry entries[ways];
    };
    static_assert(sizeof(set) == 128);

    static uint32_t set_count(uint32_t capacity);
    uint64_t hash(const source_key& source) const;
    // Multiply-shift maps a hash onto [0, sets_) without a division.
    set& set_at(uint64_t hash) { return table_[size_t((uint128(hash) * sets_) >> 64)]; }
    static entry* find(set& s, const source_key& source) {
        for (auto& e : s.entries)
            if (e.key == source && e.bucket.tat != 0) return &e;
        return nullptr;
    }
    entry& replace_in(set& first, set& second, uint64_t now);

    std::unique_ptr<set[]> owned_;
    set* table_ = nullptr;
    uint32_t sets_ = 0;
    bucket_params params_;
    uint64_t seed_ = 0;
    source_limiter_stats stats_;
};

// Seeded: the first word folded into the second, then murmur3's finaliser (fmix64), so every
// address bit reaches the high bits the multiply-shift set index uses.
inline uint64_t source_limiter::hash(const source_key& source) const {
    uint64_t h = (source.word[0] ^ seed_) * 0x9e3779b97f4a7c15ull + source.word[1];
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

inline bool source_limiter::take(const source_key& source, uint64_t now) {
    if (params_.unlimited()) return true;
    const uint64_t h = hash(source);
    set& first = set_at(h);
    if (entry* e = find(first, source)) return protect::take(e->bucket, params_, now);
    // The second choice: the other half of the hash's bits lead.
    set& second = set_at(h << 32 | h >> 32);
    if (entry* e = find(second, source)) return protect::take(e->bucket, params_, now);
    entry& fresh = replace_in(first, second, now);
    fresh.key = source;
    return protect::take(fresh.bucket, params_, now);
}

}  // namespace sluice::protect

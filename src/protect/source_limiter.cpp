#include "protect/source_limiter.hpp"

#include <algorithm>
#include <cassert>
#include <new>

namespace sluice::protect {

uint32_t source_limiter::set_count(uint32_t capacity) {
    return std::max<uint32_t>(1, uint32_t((uint64_t(capacity) + ways - 1) / ways));
}

size_t source_limiter::memory_bytes(uint32_t capacity) {
    return size_t(set_count(capacity)) * sizeof(set);
}

source_limiter::source_limiter(uint32_t capacity, const bucket_params& params, uint64_t seed)
    : owned_(new set[set_count(capacity)]()),
      table_(owned_.get()),
      sets_(set_count(capacity)),
      params_(params),
      seed_(seed) {}

source_limiter::source_limiter(std::span<std::byte> memory, uint32_t capacity,
                               const bucket_params& params, uint64_t seed)
    : sets_(set_count(capacity)), params_(params), seed_(seed) {
    assert(memory.size() >= memory_bytes(capacity));
    assert(reinterpret_cast<uintptr_t>(memory.data()) % alignof(set) == 0);
    auto* sets = reinterpret_cast<set*>(memory.data());
    for (uint32_t i = 0; i < sets_; ++i) new (&sets[i]) set{};
    table_ = sets;
}

void source_limiter::clear() {
    for (uint32_t i = 0; i < sets_; ++i) table_[i] = set{};
    stats_ = {};
}

// The entry a new source takes: a free one of the candidate with more free entries (the first on
// a tie), else the fullest bucket (lowest TAT) of both.
source_limiter::entry& source_limiter::replace_in(set& first, set& second, uint64_t now) {
    auto free_in = [](set& s) {
        uint32_t n = 0;
        for (auto& e : s.entries) n += e.bucket.tat == 0 ? 1 : 0;
        return n;
    };
    uint32_t free_first = free_in(first);
    uint32_t free_second = &second == &first ? 0 : free_in(second);
    if (free_first + free_second > 0) {
        set& target = free_first >= free_second ? first : second;
        for (auto& e : target.entries) {
            if (e.bucket.tat == 0) {
                ++stats_.inserts;
                return e;
            }
        }
    }
    entry* victim = &first.entries[0];
    for (set* s : {&first, &second}) {
        for (auto& e : s->entries)
            if (e.bucket.tat < victim->bucket.tat) victim = &e;
    }
    // TAT <= now: the bucket is full, so the source would start over exactly as it is.
    if (victim->bucket.tat <= uint128(now) << fraction_bits)
        ++stats_.reclaims;
    else
        ++stats_.evictions;
    victim->bucket = {};
    return *victim;
}

}  // namespace sluice::protect

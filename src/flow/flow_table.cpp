#include "flow/flow_table.hpp"

#include <bit>

namespace sluice::flow {

uint32_t flow_table::bucket_count(uint32_t capacity) {
    // Two index entries per flow; aim at <= 50% slot load so two-choice inserts practically
    // never fail before the entry pool is exhausted.
    uint64_t wanted = uint64_t(capacity) * 2 * 2 / 8;
    return uint32_t(std::bit_ceil(wanted < 2 ? 2 : wanted));
}

size_t flow_table::required_bytes(uint32_t capacity) {
    size_t b = size_t(bucket_count(capacity)) * sizeof(bucket);
    size_t e = (size_t(capacity) * sizeof(flow_entry) + 63) / 64 * 64;
    return b + e + size_t(wheel_slots) * sizeof(uint32_t);
}

flow_table::flow_table(void* memory, uint32_t capacity, uint32_t now_tick,
                       const endpoint_table* endpoints)
    : capacity_(capacity < max_capacity ? capacity : max_capacity),
      last_tick_(now_tick),
      endpoints_(endpoints) {
    capacity = capacity_;
    uint32_t nb = bucket_count(capacity);
    auto* p = static_cast<uint8_t*>(memory);
    buckets_ = reinterpret_cast<bucket*>(p);
    p += size_t(nb) * sizeof(bucket);
    entries_ = reinterpret_cast<flow_entry*>(p);
    p += (size_t(capacity) * sizeof(flow_entry) + 63) / 64 * 64;
    wheel_ = reinterpret_cast<uint32_t*>(p);
    bucket_mask_ = nb - 1;
    std::memset(buckets_, 0, size_t(nb) * sizeof(bucket));
    for (uint32_t i = 0; i < wheel_slots; ++i) wheel_[i] = no_link;
    for (uint32_t i = 0; i < capacity; ++i) {
        entries_[i].timer_next = i + 1 < capacity ? i + 1 : no_link;
        entries_[i].state = tcp_state::count;
    }
    free_head_ = capacity ? 0 : no_link;
}

// Bits set in an 8-bit slot mask, without libgcc's popcount call (the baseline x86-64 target
// has no POPCNT instruction).
static unsigned free_slots(unsigned mask) {
    mask = mask - ((mask >> 1) & 0x55);
    mask = (mask & 0x33) + ((mask >> 2) & 0x33);
    return (mask + (mask >> 4)) & 0x0f;
}

bool flow_table::index_add(uint64_t h, uint32_t ref) {
    bucket& a = buckets_[bucket_a(h)];
    bucket& b = buckets_[bucket_b(h)];
    const unsigned free_a = slots_with(a, 0), free_b = slots_with(b, 0);
    // The emptier bucket (ties: the first choice).
    bucket& target = free_slots(free_a) >= free_slots(free_b) ? a : b;
    const unsigned free = &target == &a ? free_a : free_b;
    if (!free) return false;
    const unsigned i = unsigned(std::countr_zero(free));
    target.sig[i] = signature(h);
    target.ref[i] = ref;
    return true;
}

void flow_table::index_del(const flow_key& k, uint32_t ref) {
    uint64_t h = flow_hash(k);
    for (uint32_t b : {bucket_a(h), bucket_b(h)}) {
        bucket& bk = buckets_[b];
        for (unsigned m = slots_with(bk, signature(h)); m; m &= m - 1) {
            const unsigned i = unsigned(std::countr_zero(m));
            if (bk.ref[i] == ref) {
                bk.ref[i] = 0;
                bk.sig[i] = 0;
                return;
            }
        }
    }
}

void flow_table::link(flow_entry* e, uint32_t tick) {
    uint32_t idx = index_of(e);
    // Deadlines already due go into the next slot the wheel will visit.
    if (int32_t(tick - last_tick_) <= 0) tick = last_tick_ + 1;
    uint32_t slot = tick & (wheel_slots - 1);
    const uint32_t next = wheel_[slot];
    e->timer_slot = slot;
    e->timer_prev = no_link;
    e->timer_next = next;
    if (next != no_link) entries_[next].timer_prev = idx;
    wheel_[slot] = idx;
}

void flow_table::unlink(flow_entry* e) {
    const uint32_t prev = uint32_t(e->timer_prev), next = uint32_t(e->timer_next);
    if (prev != no_link)
        entries_[prev].timer_next = next;
    else
        wheel_[e->timer_slot] = next;
    if (next != no_link) entries_[next].timer_prev = prev;
}

void flow_table::release(flow_entry* e) {
    e->state = tcp_state::count;
    e->timer_next = free_head_;
    free_head_ = index_of(e);
    --size_;
}

void flow_table::unindex(flow_entry* e) {
    index_del(client_key(*e), (index_of(e) << 1 | 0) + 1);
    index_del(reply_key(*e), (index_of(e) << 1 | 1) + 1);
}

}  // namespace sluice::flow

#pragma once
// Per-worker flow table: a fixed pool of flow entries, a hash index holding both directions of
// every flow, and a timer wheel that ages flows without scanning the table.
// Owned by exactly one lcore; no locks, no atomics, no allocation after construction.
//
// Index: 64-byte buckets of 8 (signature, reference) slots; each key may live in one of two
// buckets (two-choice hashing), so a lookup touches at most two cache lines and an insert fails
// only when both are full (counted by the caller as flow_table_full).
// Aging: every entry sits on one wheel slot list; a packet only moves `expire_tick` forward (one
// store); the wheel re-files entries whose deadline moved when their slot comes due. A shorter
// deadline (RST → close) re-files the entry at once.
#include <bit>
#include <cstddef>
#include <cstdint>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "flow/endpoints.hpp"
#include "flow/flow_key.hpp"
#include "flow/tcp_state.hpp"

namespace sluice::flow {

// One cache line per flow, both families. The client side is kept whole; the VIP, the backend
// endpoint, the protocol and the tuple group are what `backend_id` stands for (endpoints.hpp).
struct flow_entry {
    uint8_t client_addr[16];  // the client's address; IPv4 in the first 4 bytes, the rest zero
    uint16_t client_port;     // host order
    uint16_t backend_id;      // stable backend id (control::backend_registry): flow_endpoint row
    uint16_t local_port;      // full-NAT source port towards the backend
    // The local (full-NAT source) address is stored as an index into the local addresses of
    // port_backend and the backend's family (flow_table::local_address), fixed while sluiced
    // runs since ports change only with a restart.
    uint8_t local_index;
    uint8_t port_client : 4;  // egress ports of each direction (flow_table::max_ports)
    uint8_t port_backend : 4;
    tcp_state state;           // tcp_state::count marks a free entry
    uint8_t flags;             // flow_flag bits
    uint8_t extra;             // flow_extra bits
    uint8_t wscale;            // window shifts: client in the low nibble, backend in the high one
    uint16_t neighbor_client;  // neighbour-table slots of each direction's next hop
    uint16_t neighbor_backend;
    uint32_t expire_tick;  // deadline, moved forward by traffic
    // Per direction (index: direction), the window the sender last advertised (unscaled),
    // beside ack_seen below.
    uint16_t window[2];
    // Timer wheel links (entry indexes, no_link = none; timer_next also links the free list)
    // and the wheel slot the entry is filed under.
    uint64_t timer_next : 26;
    uint64_t timer_prev : 26;
    uint64_t timer_slot : 12;
    // Per direction, the sequence number after the highest segment seen: what the other side
    // expects next, so a reset the LB sends is accepted (RFC 5961). Valid once
    // flow_flag::seq_client / seq_backend is set.
    uint32_t seq_next[2];
    // Per direction, the highest acknowledgement number that side sent (in the numbers its peer
    // uses: after SYN-proxy translation), for judging RSTs (RFC 5961). Valid once
    // flow_extra::ack_client / ack_backend is set.
    uint32_t ack_seen[2];
};

static_assert(sizeof(flow_entry) == 64, "one cache line + 32 bytes of index = 96 per flow");

// Timer links are 26 bits: the largest [flows] capacity is 2^26 - 1 entries.
inline constexpr uint32_t no_link = (1u << 26) - 1;
inline constexpr uint32_t max_capacity = no_link;

// More per-flow bits (flow_entry::extra).
namespace flow_extra {
inline constexpr uint8_t ack_client = 0x01;  // ack_seen/window[from_client] valid
inline constexpr uint8_t ack_backend = 0x02;
inline constexpr uint8_t wscale_client_offered = 0x04;  // the client's SYN carried a window scale
inline constexpr uint8_t wscale_agreed = 0x08;          // both sides scale: wscale applies
inline constexpr uint8_t replied = 0x10;                // the backend has sent something
inline constexpr uint8_t backend_closed_first = 0x20;   // backend's FIN before the client's
// The backend answered the client's SYN with a bare ACK: old state (TIME_WAIT) on the tuple.
inline constexpr uint8_t backend_refused_syn = 0x40;
// The backend is of the other family than the client (NAT64 / NAT46): packets are translated,
// and the reply direction, the local address and the tuple pool are the backend's family.
inline constexpr uint8_t translated = 0x80;
}  // namespace flow_extra

// The family (4 or 6) of the flow's client side: the client's address and the VIP.
inline uint8_t client_family(const flow_entry& e) {
    return (e.flags & flow_flag::client_ipv6) ? 6 : 4;
}

// The family (4 or 6) of the flow's backend side: the backend, the local address, reply_key.
inline uint8_t backend_family(const flow_entry& e) {
    const bool v6 =
        bool(e.flags & flow_flag::client_ipv6) != bool(e.extra & flow_extra::translated);
    return v6 ? 6 : 4;
}

inline bool is_live(const flow_entry& e) {
    return e.state != tcp_state::count;
}

struct flow_hit {
    flow_entry* entry = nullptr;
    direction dir = direction::from_client;
};

class flow_table {
public:
    static constexpr uint32_t wheel_slots = 4096;  // power of two

    // Bytes the caller must provide (64-byte aligned, zero-filled not required).
    static size_t required_bytes(uint32_t capacity);
    // `capacity` <= max_capacity; `endpoints` outlives the table.
    flow_table(void* memory, uint32_t capacity, uint32_t now_tick, const endpoint_table* endpoints);

    static constexpr unsigned max_ports = 16;
    static constexpr unsigned max_local_addresses = 256;
    // The full-NAT source addresses of flows leaving on `port` for `family` (4 or 6): 16 bytes
    // each, IPv4 in the first 4. Set before the first insert (control thread, at start).
    void set_local_address(uint8_t port, uint8_t family, unsigned index, const uint8_t* address) {
        std::memcpy(local_addrs_[port % max_ports][family == 6][index % max_local_addresses],
                    address, 16);
    }
    const uint8_t* local_address(const flow_entry& e) const {
        return local_addrs_[e.port_backend % max_ports][backend_family(e) == 6][e.local_index];
    }
    // What the flow's backend id stands for: VIP, backend endpoint, protocol, tuple group.
    const flow_endpoint& endpoint(const flow_entry& e) const { return (*endpoints_)[e.backend_id]; }
    const endpoint_table& endpoints() const { return *endpoints_; }
    bool is_tcp(const flow_entry& e) const { return endpoint(e).protocol == 6; }
    // The id of the flow's VIP now (a VIP removed and added again gets a new one).
    uint16_t vip_id(const flow_entry& e) const {
        return endpoint(e).vip_id.load(std::memory_order_relaxed);
    }
    // The key a packet from the client carries: client → VIP.
    flow_key client_key(const flow_entry& e) const {
        const flow_endpoint& ep = endpoint(e);
        flow_key k;
        std::memset(&k, 0, sizeof k);
        std::memcpy(k.src, e.client_addr, 16);
        std::memcpy(k.dst, ep.vip, 16);
        k.src_port = e.client_port;
        k.dst_port = ep.vip_port;
        k.protocol = ep.protocol;
        k.family = client_family(e);
        return k;
    }
    // The key a reply from the backend carries: backend → local address.
    flow_key reply_key(const flow_entry& e) const {
        const flow_endpoint& ep = endpoint(e);
        flow_key k;
        std::memset(&k, 0, sizeof k);
        std::memcpy(k.src, ep.backend, 16);
        std::memcpy(k.dst, local_address(e), 16);
        k.src_port = ep.backend_port;
        k.dst_port = e.local_port;
        k.protocol = ep.protocol;
        k.family = backend_family(e);
        return k;
    }

    flow_table(const flow_table&) = delete;
    flow_table& operator=(const flow_table&) = delete;

    void prefetch(uint64_t hash) const;
    // Second stage, once the buckets are in cache: requests the entries whose signature
    // matches, so the lookup that follows finds them in cache too.
    void prefetch_entries(uint64_t hash) const;
    flow_hit lookup(const flow_key& key, uint64_t hash) const;

    // Allocates an entry and indexes both keys (what client_key(e) and reply_key(e) read must
    // be filled in by `fill`, called before indexing; the endpoint row of its backend id set).
    // Returns nullptr when no entry or index slot is free; the table is then unchanged.
    template <class Fill>
    flow_entry* insert(uint32_t expire_tick, Fill&& fill);

    // Removes the flow now (wheel and index), calls before_free(entry) (which must not look it
    // up), then frees it. Whoever gives back the flow's connection count does it inside
    // before_free, last: once the count is zero the control thread may recycle the backend id
    // and rewrite the endpoint row the keys are read from.
    template <class BeforeFree>
    void remove(flow_entry* e, BeforeFree&& before_free) {
        unlink(e);
        unindex(e);
        before_free(*e);
        release(e);
    }

    // Early drop: the first entry for which `evictable(entry)` holds among those closest to
    // their deadline (the next `max_slots` wheel slots, at most `max_entries` entries looked
    // at), or nullptr. The caller removes it. Bounded so a table full of established flows
    // costs a few hundred loads, not a scan.
    template <class Pred>
    flow_entry* oldest_evictable(Pred&& evictable, uint32_t max_slots = 1024,
                                 uint32_t max_entries = 64);

    // Moves the deadline; re-files at once only when it got earlier than the tick the entry's
    // slot comes due (an entry is never filed later than its deadline, so a deadline that moves
    // forward, the per-packet case, is one compare and one store).
    void set_expire(flow_entry* e, uint32_t tick) {
        const uint32_t old = e->expire_tick;
        e->expire_tick = tick;
        if (int32_t(tick - old) < 0 && int32_t(tick - due_tick(*e)) < 0) refile(e, tick);
    }

    // Expires every flow whose deadline is <= now: takes it out of the index, calls
    // on_expire(entry) (which must not look it up), then frees it. Returns the number expired.
    template <class OnExpire>
    uint32_t expire(uint32_t now, OnExpire&& on_expire);

    // Calls fn(entry) for every live entry with index in [begin, end); fn may remove() it.
    // For sweeps spread over several polls (resets, flow dumps).
    template <class Fn>
    void for_each_in(uint32_t begin, uint32_t end, Fn&& fn) {
        if (end > capacity_) end = capacity_;
        for (uint32_t i = begin; i < end; ++i)
            if (is_live(entries_[i])) fn(entries_[i]);
    }

    uint32_t size() const { return size_; }
    uint32_t capacity() const { return capacity_; }
    uint32_t index_of(const flow_entry* e) const { return uint32_t(e - entries_); }
    flow_entry& at(uint32_t i) { return entries_[i]; }

private:
    struct alignas(64) bucket {
        uint32_t sig[8];
        uint32_t ref[8];  // (entry << 1 | direction) + 1; 0 = empty
    };
    static uint32_t bucket_count(uint32_t capacity);
    uint32_t bucket_a(uint64_t h) const { return uint32_t(h) & bucket_mask_; }
    uint32_t bucket_b(uint64_t h) const { return uint32_t(h >> 24) & bucket_mask_; }
    static uint32_t signature(uint64_t h) { return uint32_t(h >> 32) | 1; }
    static unsigned slots_with(const bucket& bk, uint32_t sig);
    bool index_add(uint64_t h, uint32_t ref);
    void index_del(const flow_key& k, uint32_t ref);
    bool key_matches(const flow_entry& e, direction d, const flow_key& k) const;
    // The next tick at which the wheel visits the entry's slot (slots are filed at most
    // wheel_slots ticks ahead of last_tick_).
    uint32_t due_tick(const flow_entry& e) const {
        return last_tick_ + ((uint32_t(e.timer_slot) - last_tick_ - 1) & (wheel_slots - 1)) + 1;
    }
    void link(flow_entry* e, uint32_t tick);
    void unlink(flow_entry* e);
    void refile(flow_entry* e, uint32_t tick) {
        unlink(e);
        link(e, tick);
    }
    void unindex(flow_entry* e);
    void release(flow_entry* e);

    bucket* buckets_;
    flow_entry* entries_;
    uint32_t* wheel_;  // head entry per slot
    uint32_t bucket_mask_;
    uint32_t capacity_;
    uint32_t size_ = 0;
    uint32_t free_head_;
    uint32_t last_tick_;
    const endpoint_table* endpoints_;
    uint8_t local_addrs_[max_ports][2][max_local_addresses][16] = {};
};

// Per-packet lookups and the two prefetch stages, inline in the worker (no LTO across the
// libraries).
// Bit i set: slot i of `bk` holds signature `sig` (0 finds the empty slots: a used slot's
// signature is odd). One SSE2 compare of the eight signatures instead of eight branches.
inline unsigned flow_table::slots_with(const bucket& bk, uint32_t sig) {
#ifdef __SSE2__
    const __m128i want = _mm_set1_epi32(int(sig));
    const __m128i lo = _mm_load_si128(reinterpret_cast<const __m128i*>(bk.sig));
    const __m128i hi = _mm_load_si128(reinterpret_cast<const __m128i*>(bk.sig + 4));
    const __m128i eq = _mm_packs_epi32(_mm_cmpeq_epi32(lo, want), _mm_cmpeq_epi32(hi, want));
    return unsigned(_mm_movemask_epi8(_mm_packs_epi16(eq, eq))) & 0xff;
#else
    unsigned mask = 0;
    for (unsigned i = 0; i < 8; ++i) mask |= unsigned(bk.sig[i] == sig) << i;
    return mask;
#endif
}

// A prefetch the compiler cannot drop: GCC 12 deletes a loop whose only effect is
// __builtin_prefetch once it is inlined (prefetch_entries' loop over the matching slots vanished
// from the worker, halving throughput at 1 M flows). Per packet, any lcore.
inline void prefetch_line(const void* p) {
#if defined(__x86_64__)
    asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
    __builtin_prefetch(p);
#endif
}

inline void flow_table::prefetch(uint64_t h) const {
    prefetch_line(&buckets_[bucket_a(h)]);
    prefetch_line(&buckets_[bucket_b(h)]);
}

inline void flow_table::prefetch_entries(uint64_t h) const {
    const uint32_t sig = signature(h);
    for (uint32_t b : {bucket_a(h), bucket_b(h)}) {
        const bucket& bk = buckets_[b];
        for (unsigned m = slots_with(bk, sig); m; m &= m - 1) {
            const char* e =
                reinterpret_cast<const char*>(&entries_[(bk.ref[std::countr_zero(m)] - 1) >> 1]);
            // One line: entries are 64 bytes in a 64-byte aligned array.
            prefetch_line(e);
        }
    }
}

inline bool flow_table::key_matches(const flow_entry& e, direction d, const flow_key& k) const {
    const flow_endpoint& ep = endpoint(e);
    if (d == direction::from_client)
        return k.src_port == e.client_port && k.dst_port == ep.vip_port &&
               k.protocol == ep.protocol && k.family == client_family(e) &&
               same_address(k.src, e.client_addr) && same_address(k.dst, ep.vip);
    return k.src_port == ep.backend_port && k.dst_port == e.local_port &&
           k.protocol == ep.protocol && k.family == backend_family(e) &&
           same_address(k.src, ep.backend) && same_address(k.dst, local_address(e));
}

inline flow_hit flow_table::lookup(const flow_key& key, uint64_t h) const {
    const uint32_t sig = signature(h);
    for (uint32_t b : {bucket_a(h), bucket_b(h)}) {
        const bucket& bk = buckets_[b];
        for (unsigned m = slots_with(bk, sig); m; m &= m - 1) {
            const uint32_t ref = bk.ref[std::countr_zero(m)] - 1;
            flow_entry& e = entries_[ref >> 1];
            auto d = direction(ref & 1);
            if (key_matches(e, d, key)) return {&e, d};
        }
    }
    return {};
}

template <class Fill>
flow_entry* flow_table::insert(uint32_t expire_tick, Fill&& fill) {
    if (free_head_ == no_link) return nullptr;
    uint32_t idx = free_head_;
    flow_entry* e = &entries_[idx];
    uint32_t next_free = uint32_t(e->timer_next);
    std::memset(static_cast<void*>(e), 0, sizeof *e);
    fill(*e);
    uint32_t ref_client = (idx << 1 | 0) + 1, ref_reply = (idx << 1 | 1) + 1;
    const flow_key client = client_key(*e);
    // On failure the entry stays on the free list: its link was cleared by the fill above.
    if (!index_add(flow_hash(client), ref_client)) {
        e->timer_next = next_free;
        e->state = tcp_state::count;
        return nullptr;
    }
    if (!index_add(flow_hash(reply_key(*e)), ref_reply)) {
        index_del(client, ref_client);
        e->timer_next = next_free;
        e->state = tcp_state::count;
        return nullptr;
    }
    free_head_ = next_free;
    ++size_;
    e->expire_tick = expire_tick;
    link(e, expire_tick);
    return e;
}

template <class Pred>
flow_entry* flow_table::oldest_evictable(Pred&& evictable, uint32_t max_slots,
                                         uint32_t max_entries) {
    uint32_t looked = 0;
    for (uint32_t s = 1; s <= max_slots && s <= wheel_slots; ++s) {
        for (uint32_t cur = wheel_[(last_tick_ + s) & (wheel_slots - 1)]; cur != no_link;) {
            flow_entry* e = &entries_[cur];
            if (evictable(*e)) return e;
            if (++looked >= max_entries) return nullptr;
            cur = uint32_t(e->timer_next);
        }
    }
    return nullptr;
}

template <class OnExpire>
uint32_t flow_table::expire(uint32_t now, OnExpire&& on_expire) {
    uint32_t expired = 0;
    uint32_t steps = now - last_tick_;
    if (int32_t(steps) <= 0) return 0;
    if (steps > wheel_slots) steps = wheel_slots;
    for (uint32_t s = 1; s <= steps; ++s) {
        uint32_t slot = (last_tick_ + s) & (wheel_slots - 1);
        uint32_t cur = wheel_[slot];
        wheel_[slot] = no_link;  // detach: re-filed entries start a fresh list
        while (cur != no_link) {
            flow_entry* e = &entries_[cur];
            cur = uint32_t(e->timer_next);
            if (int32_t(e->expire_tick - now) <= 0) {
                // Out of the index before on_expire: it gives the flow's count back, after
                // which its backend id (and so the endpoint row the keys are read from) may be
                // recycled by the control thread.
                unindex(e);
                on_expire(*e);
                release(e);
                ++expired;
            } else {
                link(e, e->expire_tick);
            }
        }
    }
    last_tick_ = now;
    return expired;
}

}  // namespace sluice::flow

#pragma once
// Full-NAT source tuples of one worker on one egress port and family: which (local address,
// local port) a new flow towards a backend uses, so that a backend never sees a tuple again
// while it may still hold TIME_WAIT for the previous connection on it (docs/config.md,
// "Full-NAT source tuples").
//
// Each backend endpoint belongs to one of `groups` (assigned in turn by the control thread,
// control::backend_registry::tuple_group); within a group a tuple is exclusive (at most one flow
// uses it), across groups it is shared (the backend side of the 4-tuple differs). Per group, tuples
// are handed out fresh (never used since start) first, spread over the addresses and starting at a
// point drawn from `seed` (a restart within reuse_after, which forgets what rested, then does not
// walk the tuples the previous run just closed); after that the one released longest ago, and only
// once it has rested `reuse_after` ticks. A tuple whose backend holds no state for it (UDP, reset,
// handshake never answered, client closed first) is released "clean" and may be used again at once.
// Acquire and release are O(1).
//
// Memory: per group a ring of addresses × ports 8-byte slots, reserved by the control thread at
// start (mmap, touched only as far as tuples circulate). Worker lcore only, except the in-use
// counters (relaxed atomics, read by control for metrics).
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::flow {

struct local_tuple {
    uint8_t address;  // index into the port's local addresses
    uint16_t port;    // host order
};

class tuple_pool {
public:
    // `addresses` local addresses, ports [first_port, first_port + span). Control thread.
    tuple_pool(unsigned addresses, uint16_t first_port, uint32_t span, uint32_t groups,
               uint32_t reuse_after_ticks, uint64_t seed);
    ~tuple_pool();
    tuple_pool(const tuple_pool&) = delete;
    tuple_pool& operator=(const tuple_pool&) = delete;

    // False when every tuple of the group is in use or still resting. Lcore only.
    bool acquire(uint32_t group, uint32_t now_tick, local_tuple& out);
    // Lcore only. `clean`: the backend holds no state for this tuple, reuse at once.
    void release(uint32_t group, local_tuple t, uint32_t now_tick, bool clean);

    unsigned addresses() const { return addresses_; }
    // Tuples per address over all groups, and how many of them flows use now. Any thread.
    uint64_t capacity_per_address() const { return uint64_t(span_) * groups_.size(); }
    uint32_t in_use(unsigned address) const {
        return in_use_[address].load(std::memory_order_relaxed);
    }

private:
    struct group {
        uint32_t fresh = 0;  // how many never-used tuples were handed out
        uint32_t start = 0;  // the id the fresh walk starts at
        uint32_t head = 0;   // ring positions, free-running (masked on access)
        uint32_t tail = 0;
        uint64_t* ring = nullptr;  // (tuple id << 32) | release tick + reuse_after (ready tick)
    };
    local_tuple tuple_at(uint32_t id) const {
        return {uint8_t(id % addresses_), uint16_t(first_port_ + id / addresses_)};
    }
    uint32_t id_of(local_tuple t) const {
        return uint32_t(t.port - first_port_) * addresses_ + t.address;
    }
    void count(unsigned address, int delta) {
        auto& c = in_use_[address];
        c.store(uint32_t(int64_t(c.load(std::memory_order_relaxed)) + delta),
                std::memory_order_relaxed);
    }

    unsigned addresses_;
    uint16_t first_port_;
    uint32_t span_;
    uint32_t total_;  // addresses × span
    uint32_t mask_;   // ring capacity - 1
    uint32_t reuse_after_;
    std::vector<group> groups_;
    std::vector<std::atomic<uint32_t>> in_use_;
    size_t ring_bytes_ = 0;
};

}  // namespace sluice::flow

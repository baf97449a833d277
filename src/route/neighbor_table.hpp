#pragma once
// Next-hop MAC addresses, shared by the control thread (the only writer) and the workers
// (readers). Fixed capacity, open addressing with linear probing; slots are never freed, only
// invalidated, so a reader that probes concurrently with an insert can never miss a key that was
// published before it started, and never needs a lock.
//
// Publication: the writer fills `port`/`address`, then stores `used` with release; readers load
// `used` with acquire before reading the key. The MAC and its valid bit travel in one 64-bit
// atomic so a reader never sees half an update.
#include <atomic>
#include <cstdint>
#include <memory>

#include "sluice/ip_address.hpp"

namespace sluice::route {

inline constexpr uint32_t no_neighbor = 0xffffffff;

class neighbor_table {
public:
    explicit neighbor_table(uint32_t capacity);  // rounded up to a power of two

    // Any thread.
    uint32_t find(uint16_t port, const ip_address& addr) const;
    // Copies the MAC into out[6]; false while unresolved. Any thread.
    bool mac(uint32_t slot, uint8_t* out) const {
        uint64_t v = slots_[slot].mac.load(std::memory_order_acquire);
        if (!(v & valid_bit)) return false;
        for (int i = 0; i < 6; ++i) out[i] = uint8_t(v >> (8 * i));
        return true;
    }
    // A worker found the slot unresolved: ask the control thread to resolve it now. The flag is
    // read first so a busy flow does not write the shared line per packet.
    void want(uint32_t slot) {
        if (!slots_[slot].wanted.load(std::memory_order_relaxed))
            slots_[slot].wanted.store(1, std::memory_order_relaxed);
    }

    // Control thread only.
    uint32_t find_or_add(uint16_t port, const ip_address& addr);  // no_neighbor when full
    void set_mac(uint32_t slot, const uint8_t* mac);
    void invalidate(uint32_t slot) { slots_[slot].mac.store(0, std::memory_order_release); }
    bool take_wanted(uint32_t slot) {
        return slots_[slot].wanted.exchange(0, std::memory_order_relaxed) != 0;
    }
    bool used(uint32_t slot) const { return slots_[slot].used.load(std::memory_order_acquire); }
    uint16_t port(uint32_t slot) const { return slots_[slot].port; }
    const ip_address& address(uint32_t slot) const { return slots_[slot].address; }
    uint32_t capacity() const { return mask_ + 1; }

private:
    static constexpr uint64_t valid_bit = uint64_t(1) << 63;
    struct slot {
        std::atomic<uint64_t> mac{0};
        std::atomic<uint8_t> used{0};
        std::atomic<uint8_t> wanted{0};
        uint16_t port = 0;
        ip_address address;
    };
    uint32_t home(uint16_t port, const ip_address& addr) const;
    std::unique_ptr<slot[]> slots_;
    uint32_t mask_;
};

}  // namespace sluice::route

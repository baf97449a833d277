#include "route/neighbor_table.hpp"

#include <bit>

namespace sluice::route {

neighbor_table::neighbor_table(uint32_t capacity)
    : slots_(new slot[std::bit_ceil(capacity < 2 ? 2u : capacity)]),
      mask_(std::bit_ceil(capacity < 2 ? 2u : capacity) - 1) {}

uint32_t neighbor_table::home(uint16_t port, const ip_address& addr) const {
    uint64_t h = 0xcbf29ce484222325ull ^ port;
    for (size_t i = 0; i < addr.size(); ++i) h = (h ^ addr.bytes[i]) * 0x100000001b3ull;
    return uint32_t(h ^ (h >> 32)) & mask_;
}

uint32_t neighbor_table::find(uint16_t port, const ip_address& addr) const {
    uint32_t i = home(port, addr);
    for (uint32_t probes = 0; probes <= mask_; ++probes, i = (i + 1) & mask_) {
        const slot& s = slots_[i];
        if (!s.used.load(std::memory_order_acquire)) return no_neighbor;
        if (s.port == port && s.address == addr) return i;
    }
    return no_neighbor;
}

uint32_t neighbor_table::find_or_add(uint16_t port, const ip_address& addr) {
    uint32_t i = home(port, addr);
    for (uint32_t probes = 0; probes <= mask_; ++probes, i = (i + 1) & mask_) {
        slot& s = slots_[i];
        if (!s.used.load(std::memory_order_relaxed)) {
            s.port = port;
            s.address = addr;
            s.used.store(1, std::memory_order_release);
            return i;
        }
        if (s.port == port && s.address == addr) return i;
    }
    return no_neighbor;
}

void neighbor_table::set_mac(uint32_t slot, const uint8_t* mac) {
    uint64_t v = valid_bit;
    for (int i = 0; i < 6; ++i) v |= uint64_t(mac[i]) << (8 * i);
    slots_[slot].mac.store(v, std::memory_order_release);
}

}  // namespace sluice::route

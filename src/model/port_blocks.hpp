#pragma once
// A range of 16-bit ports as the fewest (value, mask) blocks that cover exactly it, the way a
// NIC's flow rules match a field: a block is every port p with (p & mask) == value, its size a
// power of two and its value aligned to it (the TCAM range expansion; at most 30 blocks for any
// range). dataplane/flow_steering.cpp turns each worker's full-NAT source port range into one
// rule per block. Pure: no DPDK, unit-tested (tests/unit/port_blocks_test.cpp).
#include <cstdint>
#include <vector>

namespace sluice::model {

struct port_block {
    uint16_t value = 0;
    uint16_t mask = 0xffff;
    bool operator==(const port_block&) const = default;
};

// [first, last] inclusive; empty when first > last.
inline std::vector<port_block> cover_port_range(uint32_t first, uint32_t last) {
    std::vector<port_block> out;
    if (last > 0xffff) last = 0xffff;
    while (first <= last) {
        // The largest aligned block starting at `first` that does not pass `last`.
        uint32_t size = first == 0 ? 0x10000 : (first & (~first + 1));
        while (first + size - 1 > last) size >>= 1;
        out.push_back({uint16_t(first), uint16_t(~(size - 1) & 0xffff)});
        first += size;
    }
    return out;
}

}  // namespace sluice::model

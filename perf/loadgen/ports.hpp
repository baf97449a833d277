#pragma once
// sluice-loadgen's DPDK ports: the packet pool, the two ports (clients, servers) started with one
// queue pair each, their link, and a TX buffer per port that sends in bursts.
//
// Threads: set up on the main lcore before any trial; the TX buffers and RX polls belong to the
// generator lcore (the main lcore in this version: one lcore drives both ports).
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <string>

#include "frames.hpp"

namespace sluice::loadgen {

// The pool every frame of the generator comes from (throws std::runtime_error when EAL cannot
// give the memory).
rte_mempool* create_packet_pool(unsigned mbufs);

// The DPDK port named `name` (e.g. "net_memif0"), or `fallback` when the name is empty; throws
// std::runtime_error when no such port exists.
uint16_t find_port(const std::string& name, uint16_t fallback);

// Configures one RX and one TX queue, starts the port and returns its MAC. Throws on failure.
mac_address start_port(uint16_t port, rte_mempool* pool);

// Waits up to `seconds` for the link to come up (memif: the peer connected); true when up.
bool wait_link(uint16_t port, double seconds);

// Frames queued for one port, sent when 32 are waiting or on flush(). Frames the port does not
// take are freed and counted in `refused`: they were not offered.
class tx_buffer {
public:
    static constexpr unsigned burst = 32;
    explicit tx_buffer(uint16_t port) : port_(port) {}

    // Returns the number of frames the port refused in a flush this call caused.
    unsigned push(rte_mbuf* m) {
        bufs_[count_++] = m;
        return count_ == burst ? flush() : 0;
    }
    unsigned flush();
    uint16_t port() const { return port_; }
    uint64_t refused() const { return refused_; }

private:
    uint16_t port_;
    unsigned count_ = 0;
    std::array<rte_mbuf*, burst> bufs_{};
    uint64_t refused_ = 0;
};

// A fresh mbuf holding `len` bytes for the caller to write (nullptr when the pool is empty).
uint8_t* frame_room(rte_mempool* pool, uint32_t len, rte_mbuf*& out);

}  // namespace sluice::loadgen

// Building the frames the benchmark feeds the worker (and reading fields of the ones it sends):
// plain byte writes, valid checksums, no DPDK. Benchmark thread (any thread: no shared state).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::worker_bench {

inline void put16(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
inline void put32(uint8_t* p, uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v);
}
inline uint32_t get16(const uint8_t* p) {
    return uint32_t(p[0]) << 8 | p[1];
}
inline uint32_t get32(const uint8_t* p) {
    return get16(p) << 16 | get16(p + 2);
}
uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc);
uint32_t fold(uint32_t acc);
uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t protocol, uint32_t l4_len);

// The MACs frames are addressed with: the LB's two ports and the gateways in front of the clients
// and of the spoofed sources (learnt when a scenario's runtime starts).
struct frame_macs {
    uint8_t port[2][6] = {};
    uint8_t gateway[6] = {};
    uint8_t attack_gateway[6] = {};
};

// The flows a scenario opened: what setup learnt of each from the frames the worker sent.
struct flow_set {
    uint8_t protocol = 6;
    std::vector<uint16_t> local_port;  // the full-NAT source port the worker chose
    std::vector<uint16_t> backend;     // backend index
};

enum class segment { open, synack, ack, data };

// A 60-byte frame of flow `flow` from its client to the VIP (TCP: SYN, ACK or ACK+6 B of data;
// UDP: an 18-byte datagram); the payload's first 4 bytes carry the flow number.
void client_frame(uint8_t* f, const frame_macs& macs, uint8_t protocol, uint32_t flow,
                  segment what);
// The same flow's backend answering the LB's local address (SYN-ACK, or data).
void backend_frame(uint8_t* f, const frame_macs& macs, const flow_set& fs, uint32_t flow,
                   segment what);
// A Linux client's SYN from spoofed source `i`, as Linux writes it: MSS 1460, SACK_PERM,
// timestamps, NOP, window scale 7; window 64240, DF. 74 bytes, checksums valid.
void syn_frame(uint8_t* f, const frame_macs& macs, uint32_t i);

}  // namespace sluice::worker_bench

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
// The same over addresses as bytes: 4 (IPv4) or 16 (IPv6).
uint32_t pseudo_sum(const uint8_t* src, const uint8_t* dst, unsigned address_len, uint8_t protocol,
                    uint32_t l4_len);

// The MACs frames are addressed with: the LB's two ports and the gateways in front of the clients
// and of the spoofed sources (learnt when a scenario's runtime starts).
struct frame_macs {
    uint8_t port[2][6] = {};
    uint8_t gateway[6] = {};
    uint8_t gateway6[6] = {};  // the IPv6 clients' gateway
    uint8_t attack_gateway[6] = {};
};

// The families of a scenario's frames: the client side (clients and VIP) and the backend side
// (backends and the full-NAT source), and whether every client frame carries an 8-byte
// destination options header (the parser's extension header walk).
struct frame_shape {
    bool client_v6 = false;
    bool backend_v6 = false;
    bool dest_options = false;
};

// The flows a scenario opened: what setup learnt of each from the frames the worker sent.
struct flow_set {
    uint8_t protocol = 6;
    frame_shape shape;
    std::vector<uint16_t> local_port;  // the full-NAT source port the worker chose
    std::vector<uint16_t> backend;     // backend index
    // The worker that owns the flow: the TX queue its first packet left on (several workers;
    // both directions of a flow meet there, the local port being from the owner's range).
    std::vector<uint8_t> owner;
};

// The TCP segments of the benchmark's connections. The client's ISN is the flow number, the
// backend's 1000; each side sends 6 bytes of data at most once per connection (established
// scenarios repeat the same data segment), so the numbers of a whole connection (tcp_cps) are:
//   client  open      SYN          seq flow                      (the SYN's seq names the flow)
//   backend synack    SYN+ACK      seq 1000,     ack flow + 1
//   client  ack       ACK          seq flow + 1, ack 1001
//   client  data      ACK+6 B      seq flow + 1, ack 1001        (the request)
//   backend data      ACK+6 B      seq 1001,     ack flow + 1    (established: request unseen)
//   backend response  ACK+6 B      seq 1001,     ack flow + 7    (acknowledges the request)
//   client  fin       FIN+ACK      seq flow + 7, ack 1007
//   backend fin       FIN+ACK      seq 1007,     ack flow + 8
//   client  last_ack  ACK          seq flow + 8, ack 1008
// UDP ignores the kind: one 18-byte datagram.
enum class segment { open, synack, ack, data, response, fin, last_ack };

// A frame of flow `flow` from its client to the VIP (TCP: one of the client's segments above;
// UDP: an 18-byte datagram); a payload's first 4 bytes carry the flow number. IPv4: 60 bytes;
// IPv6: 80 (88 with the destination options). Returns its length (at most 128 bytes: two slots).
uint16_t client_frame(uint8_t* f, const frame_macs& macs, const flow_set& fs, uint32_t flow,
                      segment what);
// The same flow's backend answering the LB's local address (one of the backend's segments).
uint16_t backend_frame(uint8_t* f, const frame_macs& macs, const flow_set& fs, uint32_t flow,
                       segment what);

// Where a frame's L4 header is: IPv4 or IPv6 (past hop-by-hop, routing and destination options
// headers); l4 = 0 when it is neither or is malformed.
struct l3_view {
    bool v6 = false;
    uint8_t protocol = 0;
    unsigned l4 = 0;      // offset of the L4 header in the frame
    uint32_t l4_len = 0;  // from the IP header's length fields
    const uint8_t* src = nullptr;
    const uint8_t* dst = nullptr;
};
l3_view view_of(const uint8_t* f, uint32_t len);

// An IPv6 neighbour advertisement (solicited, override) for `target` with its MAC, to the
// soliciting `asker` at `asker_mac`. 86 bytes, checksum valid.
uint16_t neighbor_advert(uint8_t* f, const uint8_t* target, const uint8_t* target_mac,
                         const uint8_t* asker, const uint8_t* asker_mac);
// A Linux client's SYN from spoofed source `i`, as Linux writes it: MSS 1460, SACK_PERM,
// timestamps, NOP, window scale 7; window 64240, DF. 74 bytes, checksums valid.
void syn_frame(uint8_t* f, const frame_macs& macs, uint32_t i);

}  // namespace sluice::worker_bench

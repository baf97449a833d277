#pragma once
// Builds a TCP RST|ACK segment in a fresh frame (Ethernet + IPv4/IPv6 + 20-byte TCP header) with
// correct IP and TCP checksums. Ethernet addresses are left zero: the sender fills them from its
// neighbour table. Pure function over bytes; any thread (workers use it to reset flows).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "packet/tcp_frame.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

inline constexpr unsigned tcp_reset_max_len =
    ethernet_header_len + ipv6_header_len + tcp_min_header_len;

struct tcp_reset_spec {
    uint8_t family;      // 4 or 6
    const uint8_t* src;  // address bytes, network order (4 or 16 used)
    const uint8_t* dst;
    uint16_t src_port;  // host order
    uint16_t dst_port;
    uint32_t seq;  // must equal the receiver's next expected sequence number (RFC 5961)
    uint32_t ack;
    // False: a bare RST, for a receiver whose own sequence numbers the sender does not know (a
    // SYN_RECEIVED peer drops an RST|ACK that acknowledges the wrong number).
    bool with_ack = true;
};

// Writes the frame into `out` (room for tcp_reset_max_len bytes) and returns its length.
inline size_t build_tcp_reset(uint8_t* out, const tcp_reset_spec& r) {
    tcp_frame_spec f{};
    f.family = r.family;
    f.src = r.src;
    f.dst = r.dst;
    f.src_port = r.src_port;
    f.dst_port = r.dst_port;
    f.seq = r.seq;
    f.ack = r.ack;
    f.flags = r.with_ack ? tcp_flag::rst | tcp_flag::ack : tcp_flag::rst;
    f.window = 0;
    return build_tcp_frame(out, f);
}

}  // namespace sluice::packet

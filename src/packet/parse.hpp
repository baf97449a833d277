#pragma once
// Bounds-checked parse and validation of one Ethernet frame. Pure function over bytes: no DPDK,
// callable from any thread. Every rejection returns the drop_reason the caller counts.
#include <cstdint>

#include "sluice/drop_reason.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::packet {

enum class frame_kind : uint8_t { ip_l4, ip_other, arp };

struct parsed_frame {
    frame_kind kind = frame_kind::ip_other;
    address_family family = address_family::ipv4;
    uint8_t protocol = 0;   // IP protocol / IPv6 next header
    uint8_t tcp_flags = 0;  // TCP only
    uint16_t l3_offset = 0;
    uint16_t l4_offset = 0;
    uint16_t l3_length =
        0;  // IP header + payload per the IP length fields (frame padding excluded)
    uint16_t l4_length = 0;  // L4 header + payload
    uint16_t src_port = 0;   // host order, TCP/UDP only
    uint16_t dst_port = 0;
};

// Validates Ethernet, IPv4/IPv6 and TCP/UDP headers. ICMP and other protocols come back as
// frame_kind::ip_other with l4_offset set; ARP as frame_kind::arp (length checked).
// `verify_ipv4_checksum` is off when the NIC already verified it.
// A frame whose first `contiguous` of `len` bytes are at `frame` (a reassembled datagram's
// chained mbuf): the headers read must lie there, the length fields are checked against `len`.
drop_reason parse_frame(const uint8_t* frame, uint32_t contiguous, uint32_t len, parsed_frame& out,
                        bool verify_ipv4_checksum = true);
inline drop_reason parse_frame(const uint8_t* frame, uint32_t len, parsed_frame& out,
                               bool verify_ipv4_checksum = true) {
    return parse_frame(frame, len, len, out, verify_ipv4_checksum);
}

// Source and destination addresses of a parsed IP frame.
inline ip_address frame_src(const uint8_t* frame, const parsed_frame& p) {
    const uint8_t* l3 = frame + p.l3_offset;
    return p.family == address_family::ipv4 ? ip_address::v4_from_network(l3 + 12)
                                            : ip_address::v6_from_network(l3 + 8);
}
inline ip_address frame_dst(const uint8_t* frame, const parsed_frame& p) {
    const uint8_t* l3 = frame + p.l3_offset;
    return p.family == address_family::ipv4 ? ip_address::v4_from_network(l3 + 16)
                                            : ip_address::v6_from_network(l3 + 24);
}

}  // namespace sluice::packet

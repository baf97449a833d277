#pragma once
// Wire-format offsets and unaligned big-endian accessors. Headers are read through these helpers
// instead of casting to structs: frames are only 2-byte aligned after the Ethernet header, and
// memcpy-based access is both defined behaviour and a single load on x86.
#include <cstdint>
#include <cstring>

namespace sluice::packet {

inline constexpr uint16_t ethertype_ipv4 = 0x0800;
inline constexpr uint16_t ethertype_arp = 0x0806;
inline constexpr uint16_t ethertype_ipv6 = 0x86dd;
inline constexpr uint8_t ipproto_tcp = 6;
inline constexpr uint8_t ipproto_udp = 17;
inline constexpr uint8_t ipproto_icmp = 1;
inline constexpr uint8_t ipproto_icmpv6 = 58;
// IPv6 extension headers (next-header values) the parser walks or refuses.
inline constexpr uint8_t ipv6_ext_hop_by_hop = 0, ipv6_ext_routing = 43, ipv6_ext_fragment = 44,
                         ipv6_ext_destination = 60;
// ICMP header: type, code, checksum and one 32-bit word (echo: identifier and sequence).
inline constexpr unsigned icmp_header_len = 8;

inline constexpr unsigned ethernet_header_len = 14;
inline constexpr unsigned ipv4_min_header_len = 20;
inline constexpr unsigned ipv6_header_len = 40;
inline constexpr unsigned tcp_min_header_len = 20;
inline constexpr unsigned udp_header_len = 8;
inline constexpr unsigned arp_ipv4_len = 28;

// Ethernet
inline constexpr unsigned eth_dst = 0, eth_src = 6, eth_type = 12;
// IPv4
inline constexpr unsigned ip4_ver_ihl = 0, ip4_total_len = 2, ip4_id = 4, ip4_frag = 6, ip4_ttl = 8,
                          ip4_proto = 9, ip4_csum = 10, ip4_src = 12, ip4_dst = 16;
// IPv6
inline constexpr unsigned ip6_payload_len = 4, ip6_next = 6, ip6_hop_limit = 7, ip6_src = 8,
                          ip6_dst = 24;
// TCP / UDP (ports at the same offsets)
inline constexpr unsigned l4_sport = 0, l4_dport = 2, tcp_seq = 4, tcp_ack = 8, tcp_off = 12,
                          tcp_flags_off = 13, tcp_window = 14, tcp_csum = 16, udp_len = 4,
                          udp_csum = 6;
// ARP (Ethernet/IPv4)
inline constexpr unsigned arp_htype = 0, arp_ptype = 2, arp_hlen = 4, arp_plen = 5, arp_op = 6,
                          arp_sha = 8, arp_spa = 14, arp_tha = 18, arp_tpa = 24;
inline constexpr uint16_t arp_op_request = 1, arp_op_reply = 2;

namespace tcp_flag {
inline constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}

inline uint16_t load_be16(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}
inline uint32_t load_be32(const uint8_t* p) {
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 24);
    p[1] = uint8_t(v >> 16);
    p[2] = uint8_t(v >> 8);
    p[3] = uint8_t(v);
}
// Raw 16-bit word as stored (network order kept), for one's-complement arithmetic.
inline uint16_t load_raw16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}
inline void store_raw16(uint8_t* p, uint16_t v) {
    std::memcpy(p, &v, 2);
}

}  // namespace sluice::packet

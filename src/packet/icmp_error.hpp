#pragma once
// ICMP errors the load balancer originates itself (RFC 792; RFC 1812 4.3.2): a whole
// Ethernet/IPv4/ICMP frame quoting the offending packet's IP header and as much of its payload
// as keeps the error's IP packet within 576 bytes. Ethernet addresses are left zero (the sender
// fills them from its neighbour table). ICMPv6 errors (RFC 4443 2.4) likewise, within the IPv6
// minimum MTU of 1280 bytes. Pure functions over bytes; any thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/ndp.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

inline constexpr uint8_t icmp_time_exceeded = 11;  // code 0: TTL exceeded in transit
inline constexpr size_t icmp_error_max_ip = 576;   // RFC 1812 4.3.2.3
inline constexpr size_t icmp_error_max_len = ethernet_header_len + icmp_error_max_ip;
inline constexpr size_t icmp6_error_max_ip = 1280;  // RFC 4443 2.4 (c)
inline constexpr size_t icmp6_error_max_len = ethernet_header_len + icmp6_error_max_ip;

struct icmp_error_spec {
    uint8_t type;
    uint8_t code;
    uint32_t rest;       // the word after the checksum: 0 (unused) or the next-hop MTU
    const uint8_t* src;  // our address (4 or 16 bytes, network order): the error's source
};

// Writes the error about the IPv4 packet at `offending` (`length` bytes per its total length)
// into `out` (room for icmp_error_max_len) and returns the frame's length. The destination is
// the offending packet's source. IP: TOS 0xc0 (network control, as Linux), no DF, TTL 64.
inline size_t build_icmp_error_v4(uint8_t* out, const icmp_error_spec& s, const uint8_t* offending,
                                  size_t length) {
    const size_t quoted =
        std::min(length, icmp_error_max_ip - ipv4_min_header_len - icmp_header_len);
    const size_t icmp_len = icmp_header_len + quoted;
    std::memset(out, 0, ethernet_header_len + ipv4_min_header_len + icmp_header_len);
    store_be16(out + eth_type, ethertype_ipv4);
    uint8_t* ip = out + ethernet_header_len;
    ip[ip4_ver_ihl] = 0x45;
    ip[1] = 0xc0;
    store_be16(ip + ip4_total_len, uint16_t(ipv4_min_header_len + icmp_len));
    ip[ip4_ttl] = 64;
    ip[ip4_proto] = ipproto_icmp;
    std::memcpy(ip + ip4_src, s.src, 4);
    std::memcpy(ip + ip4_dst, offending + ip4_src, 4);
    store_raw16(ip + ip4_csum, checksum_full(ip, ipv4_min_header_len));
    uint8_t* icmp = ip + ipv4_min_header_len;
    icmp[0] = s.type;
    icmp[1] = s.code;
    store_be32(icmp + 4, s.rest);
    std::memcpy(icmp + icmp_header_len, offending, quoted);
    store_raw16(icmp + 2, checksum_full(icmp, icmp_len));
    return ethernet_header_len + ipv4_min_header_len + icmp_len;
}

// Writes the ICMPv6 error about the IPv6 packet at `offending` (`length` bytes: header and
// payload) into `out` (room for icmp6_error_max_len) and returns the frame's length. The
// destination is the offending packet's source; hop limit 64, traffic class 0.
inline size_t build_icmp_error_v6(uint8_t* out, const icmp_error_spec& s, const uint8_t* offending,
                                  size_t length) {
    const size_t quoted = std::min(length, icmp6_error_max_ip - ipv6_header_len - icmp_header_len);
    const size_t icmp_len = icmp_header_len + quoted;
    std::memset(out, 0, ethernet_header_len + ipv6_header_len + icmp_header_len);
    store_be16(out + eth_type, ethertype_ipv6);
    uint8_t* ip = out + ethernet_header_len;
    ip[0] = 0x60;
    store_be16(ip + ip6_payload_len, uint16_t(icmp_len));
    ip[ip6_next] = ipproto_icmpv6;
    ip[ip6_hop_limit] = 64;
    std::memcpy(ip + ip6_src, s.src, 16);
    std::memcpy(ip + ip6_dst, offending + ip6_src, 16);
    uint8_t* icmp = ip + ipv6_header_len;
    icmp[0] = s.type;
    icmp[1] = s.code;
    store_be32(icmp + 4, s.rest);
    std::memcpy(icmp + icmp_header_len, offending, quoted);
    const uint64_t sum = pseudo_header_sum(6, ip + ip6_src, ip + ip6_dst, ipproto_icmpv6, icmp_len);
    store_raw16(icmp + 2, checksum_full(icmp, icmp_len, sum));
    return ethernet_header_len + ipv6_header_len + icmp_len;
}

}  // namespace sluice::packet

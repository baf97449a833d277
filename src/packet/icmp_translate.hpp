#pragma once
// ICMP and ICMPv6 errors about a full-NAT flow (RFC 792, RFC 4443, RFC 5508 4.2 for what a NAT
// does with them): the error a backend (or a router behind the LB) sends about a packet the LB
// forwarded, or one a router on the client side sends about a packet the LB sent to a client, is
// found by the packet it quotes and rewritten for the other end of the flow — the outer
// addresses, the quoted addresses, ports and (SYN proxy) sequence number, and every checksum
// involved — so port unreachable reaches a UDP client as ECONNREFUSED and fragmentation needed /
// packet too big reaches the sender whose packets are too large. Pure functions over wire bytes;
// any thread.
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/ndp.hpp"
#include "packet/parse.hpp"
#include "packet/wire.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::packet {

inline constexpr uint8_t icmp_dest_unreachable = 3, icmp_parameter_problem = 12;
inline constexpr uint8_t icmp_frag_needed = 4;  // destination unreachable code (RFC 1191)

// Error types that quote the offending packet: destination unreachable (fragmentation needed
// included), time exceeded, parameter problem; ICMPv6 also packet too big.
inline bool is_icmp_error(uint8_t family, uint8_t type) {
    if (family == 4) return type == 3 || type == 11 || type == 12;
    return type >= icmp6_dest_unreachable && type <= icmp6_parameter_problem;
}

// Where the parts of an error are in its frame (offsets from the frame's start).
struct icmp_error_view {
    uint16_t quoted_ip = 0;      // the quoted IP header
    uint16_t quoted_ip_len = 0;  // its header length (IPv4 IHL; 40 for IPv6)
    uint16_t quoted_l4 = 0;      // the quoted TCP/UDP header
    uint16_t quoted_l4_len = 0;  // bytes of it (and beyond) in the frame: at least 8
    uint8_t protocol = 0;        // TCP or UDP
};

// Reads the error of frame `p` (ip_other, ICMP for IPv4 / ICMPv6 for IPv6, an is_icmp_error
// type): its checksum (when `verify`), and a quoted packet of the same family that is TCP or UDP
// with at least its ports and sequence number (8 bytes) present, not a later fragment, and whose
// source is the error's destination (an error goes back to the sender of what it quotes).
// bad_icmp otherwise.
inline drop_reason read_icmp_error(const uint8_t* frame, const parsed_frame& p, bool verify,
                                   icmp_error_view& v) {
    const uint8_t* ip = frame + p.l3_offset;
    const uint8_t* icmp = frame + p.l4_offset;
    const bool v4 = p.family == address_family::ipv4;
    if (verify) {
        const uint64_t sum =
            v4 ? 0 : pseudo_header_sum(6, ip + ip6_src, ip + ip6_dst, ipproto_icmpv6, p.l4_length);
        if (p.l4_length < icmp_header_len ||
            checksum_fold(checksum_partial(icmp, p.l4_length, sum)) != 0xffff)
            return drop_reason::bad_icmp;
    }
    const unsigned min_ip = v4 ? ipv4_min_header_len : ipv6_header_len;
    if (p.l4_length < icmp_header_len + min_ip + 8) return drop_reason::bad_icmp;
    const uint8_t* q = icmp + icmp_header_len;
    const unsigned avail = p.l4_length - icmp_header_len;
    unsigned qlen;
    if (v4) {
        qlen = unsigned(q[ip4_ver_ihl] & 0x0f) * 4;
        if ((q[ip4_ver_ihl] >> 4) != 4 || qlen < ipv4_min_header_len || qlen + 8 > avail ||
            (load_be16(q + ip4_frag) & 0x1fff) != 0)
            return drop_reason::bad_icmp;
        v.protocol = q[ip4_proto];
        if (std::memcmp(q + ip4_src, ip + ip4_dst, 4) != 0) return drop_reason::bad_icmp;
    } else {
        qlen = ipv6_header_len;
        if ((q[0] >> 4) != 6) return drop_reason::bad_icmp;
        v.protocol = q[ip6_next];
        if (std::memcmp(q + ip6_src, ip + ip6_dst, 16) != 0) return drop_reason::bad_icmp;
    }
    if (v.protocol != ipproto_tcp && v.protocol != ipproto_udp) return drop_reason::bad_icmp;
    v.quoted_ip = uint16_t(p.l4_offset + icmp_header_len);
    v.quoted_ip_len = uint16_t(qlen);
    v.quoted_l4 = uint16_t(v.quoted_ip + qlen);
    v.quoted_l4_len = uint16_t(avail - qlen);
    return drop_reason::none;
}

// The addresses (network order, 4 or 16 bytes by family) and ports (host order) an error is
// given for the other end, and how much to take off the quoted TCP sequence number (the SYN
// proxy's shift of the quoted packet's direction; 0 otherwise).
struct icmp_error_nat {
    const uint8_t* outer_src;
    const uint8_t* outer_dst;
    const uint8_t* quoted_src;
    const uint8_t* quoted_dst;
    uint16_t quoted_sport;
    uint16_t quoted_dport;
    uint32_t seq_sub;
};

// Rewrites the error in place (same family, same length): outer addresses and TTL / hop limit
// (ttl_exceeded, frame untouched, when it would reach 0), the quoted packet's addresses, ports
// and sequence number with its IPv4 header checksum and — when quoted far enough to hold it —
// its TCP/UDP checksum updated, and the outer IPv4 and ICMP checksums recomputed.
inline drop_reason rewrite_icmp_error(uint8_t* frame, const parsed_frame& p,
                                      const icmp_error_view& v, const icmp_error_nat& n) {
    const bool v4 = p.family == address_family::ipv4;
    const unsigned alen = v4 ? 4 : 16;
    const unsigned src_off = v4 ? ip4_src : ip6_src, dst_off = v4 ? ip4_dst : ip6_dst;
    uint8_t* ip = frame + p.l3_offset;
    uint8_t* q = frame + v.quoted_ip;
    uint8_t* l4 = frame + v.quoted_l4;
    if (ip[v4 ? ip4_ttl : ip6_hop_limit] <= 1) return drop_reason::ttl_exceeded;
    uint8_t ports[4];
    store_be16(ports, n.quoted_sport);
    store_be16(ports + 2, n.quoted_dport);
    const bool tcp = v.protocol == ipproto_tcp;
    uint8_t seq[4];
    store_be32(seq, load_be32(l4 + tcp_seq) - (tcp ? n.seq_sub : 0));
    // The quoted L4 checksum, when the quote reaches it (and IPv4 UDP has one).
    const unsigned csum_at = tcp ? tcp_csum : udp_csum;
    if (v.quoted_l4_len >= csum_at + 2 && (tcp || !v4 || load_raw16(l4 + udp_csum) != 0)) {
        uint16_t c = load_raw16(l4 + csum_at);
        c = checksum_update(c, q + src_off, n.quoted_src, alen);
        c = checksum_update(c, q + dst_off, n.quoted_dst, alen);
        c = checksum_update(c, l4, ports, 4);
        if (tcp) c = checksum_update(c, l4 + tcp_seq, seq, 4);
        if (!tcp && c == 0) c = 0xffff;
        store_raw16(l4 + csum_at, c);
    }
    std::memcpy(q + src_off, n.quoted_src, alen);
    std::memcpy(q + dst_off, n.quoted_dst, alen);
    std::memcpy(l4, ports, 4);
    if (tcp) std::memcpy(l4 + tcp_seq, seq, 4);
    if (v4) {
        store_raw16(q + ip4_csum, 0);
        store_raw16(q + ip4_csum, checksum_full(q, v.quoted_ip_len));
    }
    std::memcpy(ip + src_off, n.outer_src, alen);
    std::memcpy(ip + dst_off, n.outer_dst, alen);
    uint8_t* icmp = frame + p.l4_offset;
    store_raw16(icmp + 2, 0);
    if (v4) {
        ip[ip4_ttl] = uint8_t(ip[ip4_ttl] - 1);
        const unsigned ihl = unsigned(p.l4_offset - p.l3_offset);
        store_raw16(ip + ip4_csum, 0);
        store_raw16(ip + ip4_csum, checksum_full(ip, ihl));
        store_raw16(icmp + 2, checksum_full(icmp, p.l4_length));
    } else {
        ip[ip6_hop_limit] = uint8_t(ip[ip6_hop_limit] - 1);
        const uint64_t sum =
            pseudo_header_sum(6, ip + ip6_src, ip + ip6_dst, ipproto_icmpv6, p.l4_length);
        store_raw16(icmp + 2, checksum_full(icmp, p.l4_length, sum));
    }
    return drop_reason::none;
}

}  // namespace sluice::packet

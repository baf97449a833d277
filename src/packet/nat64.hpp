#pragma once
// Header translation between IPv4 and IPv6 for full-NAT flows whose backend is of the other
// family than the client (NAT64: IPv6 client, IPv4 backend; NAT46: the reverse), after RFC 7915
// sections 4.1 and 5.1 for the fields, with the full-NAT addresses and ports of the flow.
// The L4 header and payload stay where they are: the new IP header is written right before the
// L4 header and the Ethernet type before it, so only the frame's start moves (by
// translation_growth). Pure functions over bytes; lcore-safe (touch only the frame).
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/parse.hpp"
#include "packet/rewrite.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

// Bytes the frame grows by (negative: shrinks) when translated to the other family: an IPv4
// header with its options becomes a 40-byte IPv6 header (options are not translated, RFC 7915
// 4.1), an IPv6 header with its extension headers a 20-byte IPv4 header (5.1).
inline int translation_growth(const parsed_frame& p) {
    const int old_len = int(p.l4_offset) - int(p.l3_offset);
    return (p.family == address_family::ipv4 ? int(ipv6_header_len) : int(ipv4_min_header_len)) -
           old_len;
}

// The L3 length of `p` once translated.
inline uint32_t translated_l3_length(const parsed_frame& p) {
    return uint32_t(int(p.l3_length) + translation_growth(p));
}

// An IPv4 UDP datagram without a checksum (0): IPv6 requires one, so translating it needs the
// whole datagram summed (RFC 7915 4.5), not an incremental update.
inline bool needs_full_udp_checksum(const uint8_t* frame, const parsed_frame& p) {
    return p.family == address_family::ipv4 && p.protocol == ipproto_udp &&
           load_raw16(frame + p.l4_offset + udp_csum) == 0;
}

// IPv4 packets NAT64 builds carry DF only when larger than this (RFC 7915 5.1).
inline constexpr uint16_t nat64_df_above = 1260;

namespace detail {

// The TCP/UDP checksum and ports for the new pseudo-header: the old addresses (`old_addrs`,
// `old_len` bytes: source then destination) replaced by t's, the ports by t's. The pseudo-
// header's length and protocol words are the same value in both families.
inline void translate_l4(uint8_t* l4, const parsed_frame& p, const nat_target& t,
                         const uint8_t* old_addrs, unsigned old_len, unsigned new_alen,
                         bool full_sum) {
    const bool tcp = p.protocol == ipproto_tcp;
    uint8_t* csum_at = l4 + (tcp ? tcp_csum : udp_csum);
    store_be16(l4 + l4_sport, t.src_port);
    store_be16(l4 + l4_dport, t.dst_port);
    uint16_t c;
    if (full_sum) {
        // UDP only: its own length field says what the checksum covers.
        const uint16_t len = load_be16(l4 + udp_len);
        store_raw16(csum_at, 0);
        uint64_t sum = pseudo_header_sum(new_alen == 4 ? 4 : 6, t.src, t.dst, p.protocol, len);
        c = uint16_t(~checksum_fold(checksum_partial(l4, len, sum)));
    } else {
        uint8_t old_ports[4], new_ports[4];
        store_be16(old_ports, p.src_port);
        store_be16(old_ports + 2, p.dst_port);
        std::memcpy(new_ports, l4, 4);
        uint8_t new_addrs[32];
        std::memcpy(new_addrs, t.src, new_alen);
        std::memcpy(new_addrs + new_alen, t.dst, new_alen);
        c = checksum_replace(load_raw16(csum_at), old_addrs, old_len, new_addrs, 2 * new_alen);
        c = checksum_update(c, old_ports, new_ports, 4);
    }
    if (!tcp && c == 0) c = 0xffff;  // 0 means "no checksum" for UDP
    store_raw16(csum_at, c);
}

}  // namespace detail

// IPv4 → IPv6 (RFC 7915 4.1): traffic class from the TOS, flow label 0, payload length from
// the total length less the header, next header from the protocol, hop limit = TTL − 1.
// `full_udp_sum`: needs_full_udp_checksum held; the datagram must then be contiguous.
inline drop_reason translate_to_ipv6(uint8_t* frame, const parsed_frame& p, const nat_target& t,
                                     bool full_udp_sum) {
    const uint8_t* ip = frame + p.l3_offset;
    uint8_t* l4 = frame + p.l4_offset;
    if (ip[ip4_ttl] <= 1) return drop_reason::ttl_exceeded;
    const uint8_t tos = ip[1], ttl = uint8_t(ip[ip4_ttl] - 1), proto = ip[ip4_proto];
    uint8_t old_addrs[8];
    std::memcpy(old_addrs, ip + ip4_src, 8);  // source, destination: before they are overwritten
    detail::translate_l4(l4, p, t, old_addrs, 8, 16, full_udp_sum);
    uint8_t* ip6 = l4 - ipv6_header_len;
    ip6[0] = uint8_t(0x60 | tos >> 4);
    ip6[1] = uint8_t((tos & 0x0f) << 4);
    ip6[2] = ip6[3] = 0;
    store_be16(ip6 + ip6_payload_len, p.l4_length);
    ip6[ip6_next] = proto;
    ip6[ip6_hop_limit] = ttl;
    std::memcpy(ip6 + ip6_src, t.src, 16);
    std::memcpy(ip6 + ip6_dst, t.dst, 16);
    store_be16(ip6 - ethernet_header_len + eth_type, ethertype_ipv6);
    return drop_reason::none;
}

// IPv6 → IPv4 (RFC 7915 5.1): TOS from the traffic class, total length from the upper-layer
// length, `id` as identification, MF clear and DF set only above 1260 bytes (a packet an IPv6
// sender sized for the IPv6 minimum MTU of 1280 may still be fragmented on an IPv4 path with a
// smaller MTU; a larger one takes part in path MTU discovery), TTL = hop limit − 1, protocol
// from the upper-layer next header (extension headers are dropped), header checksum computed.
inline drop_reason translate_to_ipv4(uint8_t* frame, const parsed_frame& p, const nat_target& t,
                                     uint16_t id) {
    const uint8_t* ip6 = frame + p.l3_offset;
    uint8_t* l4 = frame + p.l4_offset;
    if (ip6[ip6_hop_limit] <= 1) return drop_reason::ttl_exceeded;
    const uint8_t tclass = uint8_t((ip6[0] & 0x0f) << 4 | ip6[1] >> 4);
    const uint8_t ttl = uint8_t(ip6[ip6_hop_limit] - 1);
    uint8_t old_addrs[32];
    std::memcpy(old_addrs, ip6 + ip6_src, 32);
    detail::translate_l4(l4, p, t, old_addrs, 32, 4, false);
    uint8_t* ip = l4 - ipv4_min_header_len;
    ip[ip4_ver_ihl] = 0x45;
    ip[1] = tclass;
    const uint16_t total = uint16_t(ipv4_min_header_len + p.l4_length);
    store_be16(ip + ip4_total_len, total);
    store_be16(ip + ip4_id, id);
    store_be16(ip + ip4_frag, total > nat64_df_above ? 0x4000 : 0);
    ip[ip4_ttl] = ttl;
    ip[ip4_proto] = p.protocol;
    store_raw16(ip + ip4_csum, 0);
    std::memcpy(ip + ip4_src, t.src, 4);
    std::memcpy(ip + ip4_dst, t.dst, 4);
    store_raw16(ip + ip4_csum, checksum_full(ip, ipv4_min_header_len));
    store_be16(ip - ethernet_header_len + eth_type, ethertype_ipv4);
    return drop_reason::none;
}

}  // namespace sluice::packet

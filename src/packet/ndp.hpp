#pragma once
// IPv6 Neighbor Discovery (RFC 4861) on Ethernet: read a received neighbour solicitation or
// advertisement with the checks section 7.1 asks of a receiver, and build the solicitations
// and advertisements the load balancer sends. IPv6's ARP: the control thread uses these for
// the LB addresses, VIPs and local pool addresses it answers for and the next hops it resolves.
// Pure functions over bytes; any thread.
#include <cstdint>
#include <cstring>
#include <optional>

#include "packet/checksum.hpp"
#include "packet/parse.hpp"
#include "packet/wire.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::packet {

// ICMPv6 types (RFC 4443, RFC 4861).
inline constexpr uint8_t icmp6_dest_unreachable = 1, icmp6_packet_too_big = 2,
                         icmp6_time_exceeded = 3, icmp6_parameter_problem = 4,
                         icmp6_echo_request = 128, icmp6_echo_reply = 129,
                         icmp6_router_solicit = 133, icmp6_router_advert = 134,
                         icmp6_neighbor_solicit = 135, icmp6_neighbor_advert = 136,
                         icmp6_redirect = 137;

// NS/NA body: type, code, checksum, 4 bytes (reserved / R S O flags), the target address, then
// options in units of 8 bytes; the one we send and read is the link-layer address option.
inline constexpr unsigned ndp_body_len = 24;
inline constexpr unsigned ndp_option_link_len = 8;
inline constexpr unsigned ndp_frame_len =
    ethernet_header_len + ipv6_header_len + ndp_body_len + ndp_option_link_len;
inline constexpr uint8_t ndp_opt_source_link = 1, ndp_opt_target_link = 2;
inline constexpr uint8_t ndp_flag_solicited = 0x40, ndp_flag_override = 0x20;

struct ndp_message {
    uint8_t type;       // icmp6_neighbor_solicit or icmp6_neighbor_advert
    uint8_t flags;      // NA: ndp_flag_solicited | ndp_flag_override (R is ignored)
    ip_address source;  // IP source (:: for a DAD solicitation)
    ip_address destination;
    ip_address target;
    bool has_link = false;  // source (NS) or target (NA) link-layer address option present
    uint8_t link[6] = {};
};

inline bool ipv6_multicast(const uint8_t* a) {
    return a[0] == 0xff;
}
inline bool ipv6_unspecified(const uint8_t* a) {
    uint64_t w[2];
    std::memcpy(w, a, 16);
    return (w[0] | w[1]) == 0;
}

// All-nodes (ff02::1) and its MAC: where unsolicited advertisements and answers to duplicate
// address detection go.
inline constexpr uint8_t ipv6_all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0,
                                               0,    0,    0, 0, 0, 0, 0, 1};
inline constexpr uint8_t ipv6_all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};

// The solicited-node multicast address of `target` (ff02::1:ffXX:XXXX) and its MAC
// (33:33:ff:XX:XX:XX, RFC 2464 7).
inline void solicited_node(const uint8_t* target, uint8_t* address, uint8_t* mac) {
    static constexpr uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    std::memcpy(address, prefix, 13);
    std::memcpy(address + 13, target + 13, 3);
    mac[0] = 0x33;
    mac[1] = 0x33;
    std::memcpy(mac + 2, address + 12, 4);
}

// nullopt unless the ICMPv6 message of `p` (parsed as ip_other, protocol 58) is a neighbour
// solicitation or advertisement that passes RFC 4861 7.1.1 / 7.1.2: hop limit 255, code 0,
// checksum, at least 24 bytes, target not multicast, every option of non-zero length inside the
// message; an NS from :: goes to a solicited-node address and carries no source link option; an
// NA to a multicast address is not solicited. The last link-layer option of the right kind wins.
inline std::optional<ndp_message> read_ndp(const uint8_t* frame, const parsed_frame& p) {
    const uint8_t* ip = frame + p.l3_offset;
    const uint8_t* icmp = frame + p.l4_offset;
    if (p.family != address_family::ipv6 || p.protocol != ipproto_icmpv6 ||
        p.l4_length < ndp_body_len || ip[ip6_hop_limit] != 255 || icmp[1] != 0)
        return std::nullopt;
    ndp_message m;
    m.type = icmp[0];
    if (m.type != icmp6_neighbor_solicit && m.type != icmp6_neighbor_advert) return std::nullopt;
    if (!l4_checksum_verifies(6, ip + ip6_src, ip + ip6_dst, ipproto_icmpv6, icmp, p.l4_length))
        return std::nullopt;
    if (ipv6_multicast(icmp + 8)) return std::nullopt;
    m.flags = icmp[4] & (ndp_flag_solicited | ndp_flag_override);
    m.source = ip_address::v6_from_network(ip + ip6_src);
    m.destination = ip_address::v6_from_network(ip + ip6_dst);
    m.target = ip_address::v6_from_network(icmp + 8);
    const uint8_t wanted =
        m.type == icmp6_neighbor_solicit ? ndp_opt_source_link : ndp_opt_target_link;
    for (unsigned at = ndp_body_len; at < p.l4_length;) {
        if (p.l4_length - at < 2 || icmp[at + 1] == 0) return std::nullopt;
        const unsigned length = unsigned(icmp[at + 1]) * 8;
        if (length > p.l4_length - at) return std::nullopt;
        if (icmp[at] == wanted && length >= ndp_option_link_len) {
            m.has_link = true;
            std::memcpy(m.link, icmp + at + 2, 6);
        }
        at += length;
    }
    if (m.type == icmp6_neighbor_solicit && ipv6_unspecified(ip + ip6_src) &&
        (m.has_link || ip[ip6_dst] != 0xff || ip[ip6_dst + 11] != 0x01 || ip[ip6_dst + 12] != 0xff))
        return std::nullopt;
    if (m.type == icmp6_neighbor_advert && ipv6_multicast(ip + ip6_dst) &&
        (m.flags & ndp_flag_solicited))
        return std::nullopt;
    return m;
}

struct ndp_frame_spec {
    uint8_t type;            // icmp6_neighbor_solicit or icmp6_neighbor_advert
    uint8_t flags;           // NA flags
    const uint8_t* dst_mac;  // Ethernet destination
    const uint8_t* src_mac;  // Ethernet source and the link-layer option
    const uint8_t* src_ip;   // 16 bytes
    const uint8_t* dst_ip;   // 16 bytes
    const uint8_t* target;   // 16 bytes
};

// Writes an ndp_frame_len-byte NS or NA with one link-layer option (source for an NS, target for
// an NA) into `out`: hop limit 255, traffic class 0, checksum computed.
inline void write_ndp(uint8_t* out, const ndp_frame_spec& s) {
    std::memcpy(out + eth_dst, s.dst_mac, 6);
    std::memcpy(out + eth_src, s.src_mac, 6);
    store_be16(out + eth_type, ethertype_ipv6);
    uint8_t* ip = out + ethernet_header_len;
    constexpr unsigned icmp_len = ndp_body_len + ndp_option_link_len;
    std::memset(ip, 0, ipv6_header_len + icmp_len);
    ip[0] = 0x60;
    store_be16(ip + ip6_payload_len, icmp_len);
    ip[ip6_next] = ipproto_icmpv6;
    ip[ip6_hop_limit] = 255;
    std::memcpy(ip + ip6_src, s.src_ip, 16);
    std::memcpy(ip + ip6_dst, s.dst_ip, 16);
    uint8_t* icmp = ip + ipv6_header_len;
    icmp[0] = s.type;
    icmp[4] = s.type == icmp6_neighbor_advert ? s.flags : 0;
    std::memcpy(icmp + 8, s.target, 16);
    icmp[ndp_body_len] =
        s.type == icmp6_neighbor_solicit ? ndp_opt_source_link : ndp_opt_target_link;
    icmp[ndp_body_len + 1] = 1;
    std::memcpy(icmp + ndp_body_len + 2, s.src_mac, 6);
    const uint64_t sum = pseudo_header_sum(6, s.src_ip, s.dst_ip, ipproto_icmpv6, icmp_len);
    store_raw16(icmp + 2, checksum_full(icmp, icmp_len, sum));
}

}  // namespace sluice::packet

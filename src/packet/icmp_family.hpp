#pragma once
// ICMP errors about NAT64 / NAT46 flows, translated between ICMPv4 and ICMPv6 (RFC 7915 4.2 and
// 5.2 for the type, code, pointer and MTU; the quoted packet translated as 4.1 / 5.1 do for a
// packet itself): an error one end's side sends about a packet the LB forwarded in that side's
// family reaches the flow's other end in its own family, quoting that end's own packet. The
// error is written whole into a new frame (its length changes by 40 bytes: two IP headers of
// the other size); errors are rare, so clarity wins over rewriting in place. Pure functions over
// bytes; any thread.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/icmp_error.hpp"
#include "packet/icmp_translate.hpp"
#include "packet/wire.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::packet {

// An error's type, code and rest-of-header word (pointer or MTU) in the other family.
struct icmp_mapped {
    uint8_t type = 0, code = 0;
    uint32_t rest = 0;
};

// IPv4 header byte → IPv6 header byte a parameter problem points at (RFC 7915 figure 3); -1
// for fields IPv6 does not have (the error is then dropped).
inline int pointer_4to6(uint32_t p) {
    if (p <= 1) return int(p);
    if (p <= 3) return 4;               // total length → payload length
    if (p == 8) return 7;               // TTL → hop limit
    if (p == 9) return 6;               // protocol → next header
    if (p >= 12 && p <= 15) return 8;   // source address
    if (p >= 16 && p <= 19) return 24;  // destination address
    return -1;
}

// IPv6 header byte → IPv4 header byte (RFC 7915 figure 6); -1 when IPv4 has no such field.
inline int pointer_6to4(uint32_t p) {
    if (p <= 1) return int(p);
    if (p == 4 || p == 5) return 2;
    if (p == 6) return 9;
    if (p == 7) return 8;
    if (p >= 8 && p <= 23) return 12;
    if (p >= 24 && p <= 39) return 16;
    return -1;
}

// ICMPv4 → ICMPv6 (RFC 7915 4.2); false: no equivalent, the error is dropped. Fragmentation
// needed keeps its advertised MTU in `rest` for the caller to adjust.
inline bool map_icmp4_to_6(uint8_t type, uint8_t code, uint32_t rest, icmp_mapped& out) {
    if (type == icmp_dest_unreachable) {
        switch (code) {
            case 0:
            case 1:
            case 5:
            case 6:
            case 7:
            case 8:
            case 11:
            case 12:
                out = {icmp6_dest_unreachable, 0, 0};  // no route to destination
                return true;
            case 2:  // protocol unreachable: parameter problem pointing at the next header
                out = {icmp6_parameter_problem, 1, 6};
                return true;
            case 3:
                out = {icmp6_dest_unreachable, 4, 0};  // port unreachable
                return true;
            case icmp_frag_needed:
                out = {icmp6_packet_too_big, 0, rest & 0xffff};
                return true;
            case 9:
            case 10:
            case 13:
            case 15:
                out = {icmp6_dest_unreachable, 1, 0};  // administratively prohibited
                return true;
            default:
                return false;
        }
    }
    if (type == icmp_time_exceeded) {
        out = {icmp6_time_exceeded, code, 0};
        return code <= 1;
    }
    if (type == icmp_parameter_problem && (code == 0 || code == 2)) {
        const int p = pointer_4to6(rest >> 24);
        out = {icmp6_parameter_problem, 0, uint32_t(p)};
        return p >= 0;
    }
    return false;
}

// ICMPv6 → ICMPv4 (RFC 7915 5.2); false: no equivalent. Packet too big keeps its MTU in `rest`.
inline bool map_icmp6_to_4(uint8_t type, uint8_t code, uint32_t rest, icmp_mapped& out) {
    if (type == icmp6_dest_unreachable) {
        static constexpr int codes[5] = {1, 10, 1, 1, 3};  // host, admin prohibited, port
        if (code > 4) return false;
        out = {icmp_dest_unreachable, uint8_t(codes[code]), 0};
        return true;
    }
    if (type == icmp6_packet_too_big) {
        out = {icmp_dest_unreachable, icmp_frag_needed, rest};
        return true;
    }
    if (type == icmp6_time_exceeded) {
        out = {icmp_time_exceeded, code, 0};
        return code <= 1;
    }
    if (type == icmp6_parameter_problem && code == 1) {  // unrecognised next header
        out = {icmp_dest_unreachable, 2, 0};
        return true;
    }
    if (type == icmp6_parameter_problem && code == 0) {
        const int p = pointer_6to4(rest);
        out = {icmp_parameter_problem, 0, uint32_t(p) << 24};
        return p >= 0;
    }
    return false;
}

// The largest RFC 1191 plateau below `total`: the MTU a fragmentation needed without one (a
// router older than RFC 1191) stands for.
inline uint16_t mtu_plateau_below(uint16_t total) {
    static constexpr uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296};
    for (uint16_t p : plateaus)
        if (p < total) return p;
    return 68;
}

// The MTU a translated packet-too-big / fragmentation-needed announces (RFC 7915 4.2 / 5.2):
// the advertised one adjusted by the header difference, no more than `cap` (what the LB's own
// ports carry, in the new family's terms), IPv4 no less than 68.
inline uint32_t translated_mtu(bool to_v6, uint32_t advertised, uint16_t quoted_total,
                               uint16_t cap) {
    constexpr uint32_t diff = ipv6_header_len - ipv4_min_header_len;
    if (to_v6) {
        const uint32_t v4 = advertised != 0 ? advertised : mtu_plateau_below(quoted_total);
        return std::min<uint32_t>(v4 + diff, cap);
    }
    const uint32_t v4 = advertised > diff + 68 ? advertised - diff : 68;
    return std::max<uint32_t>(std::min<uint32_t>(v4, cap), 68);
}

namespace detail {

// Writes an IP header of the output family at `ip`: for the outer header (protocol ICMP or
// ICMPv6) or the quoted one. `l4_len`: bytes after it; `tos`: TOS / traffic class; `frag`:
// IPv4 flags and offset word.
inline void write_ip_header(uint8_t* ip, bool v4, uint8_t tos, uint8_t ttl, uint8_t proto,
                            const uint8_t* src, const uint8_t* dst, uint16_t l4_len,
                            uint16_t frag) {
    if (v4) {
        std::memset(ip, 0, ipv4_min_header_len);
        ip[ip4_ver_ihl] = 0x45;
        ip[1] = tos;
        store_be16(ip + ip4_total_len, uint16_t(ipv4_min_header_len + l4_len));
        store_be16(ip + ip4_frag, frag);
        ip[ip4_ttl] = ttl;
        ip[ip4_proto] = proto;
        std::memcpy(ip + ip4_src, src, 4);
        std::memcpy(ip + ip4_dst, dst, 4);
        store_raw16(ip + ip4_csum, checksum_full(ip, ipv4_min_header_len));
        return;
    }
    std::memset(ip, 0, ipv6_header_len);
    ip[0] = uint8_t(0x60 | tos >> 4);
    ip[1] = uint8_t((tos & 0x0f) << 4);
    store_be16(ip + ip6_payload_len, l4_len);
    ip[ip6_next] = proto;
    ip[ip6_hop_limit] = ttl;
    std::memcpy(ip + ip6_src, src, 16);
    std::memcpy(ip + ip6_dst, dst, 16);
}

// The quoted TCP/UDP bytes (`len` of them, copied to `l4`) given the other end's ports and
// sequence number, and their checksum — when the quote holds it and it is in use — moved to
// the new pseudo-header (old addresses `old_addrs`, `old_alen` each; new ones from `n`).
inline void rewrite_quoted_l4(uint8_t* l4, unsigned len, uint8_t protocol, bool from_v4,
                              const uint8_t* old_addrs, unsigned old_alen, unsigned new_alen,
                              const icmp_error_nat& n) {
    const bool tcp = protocol == ipproto_tcp;
    uint8_t fields[8];
    store_be16(fields, n.quoted_sport);
    store_be16(fields + 2, n.quoted_dport);
    store_be32(fields + 4, load_be32(l4 + tcp_seq) - (tcp ? n.seq_sub : 0));
    const unsigned csum_at = tcp ? tcp_csum : udp_csum;
    const unsigned changed = tcp ? 8 : 4;
    if (len >= csum_at + 2 && (tcp || !from_v4 || load_raw16(l4 + udp_csum) != 0)) {
        uint8_t new_addrs[32];
        std::memcpy(new_addrs, n.quoted_src, new_alen);
        std::memcpy(new_addrs + new_alen, n.quoted_dst, new_alen);
        uint16_t c = checksum_replace(load_raw16(l4 + csum_at), old_addrs, 2 * old_alen, new_addrs,
                                      2 * new_alen);
        c = checksum_update(c, l4, fields, changed);
        if (!tcp && c == 0) c = 0xffff;
        store_raw16(l4 + csum_at, c);
    }
    std::memcpy(l4, fields, changed);
}

}  // namespace detail

// Writes into `out` (room for icmp6_error_max_len) the error of frame `p` (read by
// read_icmp_error into `v`) in the other family, for the end `n` names, and returns the frame's
// length; 0 with `why` set when it cannot be sent (ttl_exceeded: its TTL / hop limit would
// reach 0; untranslatable: no equivalent type or code). Outer TOS / traffic class and TTL / hop
// limit carried over (less one), IPv4 identification 0; the quote cut to keep the error within
// 576 bytes (IPv4) or 1280 (IPv6). `mtu_cap`: translated_mtu's cap.
inline size_t translate_icmp_error(uint8_t* out, const uint8_t* frame, const parsed_frame& p,
                                   const icmp_error_view& v, const icmp_error_nat& n,
                                   uint16_t mtu_cap, drop_reason& why) {
    const bool from_v4 = p.family == address_family::ipv4, to_v4 = !from_v4;
    const uint8_t* ip = frame + p.l3_offset;
    const uint8_t* icmp = frame + p.l4_offset;
    const uint8_t* q = frame + v.quoted_ip;
    const uint8_t outer_ttl = ip[from_v4 ? ip4_ttl : ip6_hop_limit];
    if (outer_ttl <= 1) {
        why = drop_reason::ttl_exceeded;
        return 0;
    }
    icmp_mapped e;
    const uint32_t rest = load_be32(icmp + 4);
    if (!(from_v4 ? map_icmp4_to_6(icmp[0], icmp[1], rest, e)
                  : map_icmp6_to_4(icmp[0], icmp[1], rest, e))) {
        why = drop_reason::untranslatable;
        return 0;
    }
    // The quoted packet's own fields, before anything is written.
    const uint8_t q_tos = from_v4 ? q[1] : uint8_t((q[0] & 0x0f) << 4 | q[1] >> 4);
    const uint8_t q_ttl = q[from_v4 ? ip4_ttl : ip6_hop_limit];
    const uint16_t q_l4_total = from_v4 ? uint16_t(load_be16(q + ip4_total_len) - v.quoted_ip_len)
                                        : load_be16(q + ip6_payload_len);
    const bool too_big = to_v4 ? e.type == icmp_dest_unreachable && e.code == icmp_frag_needed
                               : e.type == icmp6_packet_too_big;
    if (too_big)
        e.rest = translated_mtu(!to_v4, e.rest, uint16_t(q_l4_total + v.quoted_ip_len), mtu_cap);
    const unsigned ip_len = to_v4 ? ipv4_min_header_len : ipv6_header_len;
    const unsigned alen = to_v4 ? 4 : 16, old_alen = from_v4 ? 4 : 16;
    const size_t max_ip = to_v4 ? icmp_error_max_ip : icmp6_error_max_ip;
    const unsigned l4_copy =
        unsigned(std::min<size_t>(v.quoted_l4_len, max_ip - 2 * ip_len - icmp_header_len));
    const uint16_t icmp_len = uint16_t(icmp_header_len + ip_len + l4_copy);
    std::memset(out, 0, ethernet_header_len);
    store_be16(out + eth_type, to_v4 ? ethertype_ipv4 : ethertype_ipv6);
    uint8_t* oip = out + ethernet_header_len;
    const uint8_t outer_tos = from_v4 ? ip[1] : uint8_t((ip[0] & 0x0f) << 4 | ip[1] >> 4);
    detail::write_ip_header(oip, to_v4, outer_tos, uint8_t(outer_ttl - 1),
                            to_v4 ? ipproto_icmp : ipproto_icmpv6, n.outer_src, n.outer_dst,
                            icmp_len, 0);
    uint8_t* oicmp = oip + ip_len;
    oicmp[0] = e.type;
    oicmp[1] = e.code;
    store_raw16(oicmp + 2, 0);
    store_be32(oicmp + 4, e.rest);
    uint8_t* oq = oicmp + icmp_header_len;
    // A quoted IPv4 packet that drew fragmentation needed had DF set.
    detail::write_ip_header(oq, to_v4, q_tos, q_ttl, v.protocol, n.quoted_src, n.quoted_dst,
                            q_l4_total, too_big ? 0x4000 : 0);
    uint8_t* ol4 = oq + ip_len;
    std::memcpy(ol4, frame + v.quoted_l4, l4_copy);
    uint8_t old_addrs[32];
    std::memcpy(old_addrs, q + (from_v4 ? ip4_src : ip6_src), old_alen);
    std::memcpy(old_addrs + old_alen, q + (from_v4 ? ip4_dst : ip6_dst), old_alen);
    detail::rewrite_quoted_l4(ol4, l4_copy, v.protocol, from_v4, old_addrs, old_alen, alen, n);
    const uint64_t pseudo =
        to_v4 ? 0 : pseudo_header_sum(6, oip + ip6_src, oip + ip6_dst, ipproto_icmpv6, icmp_len);
    store_raw16(oicmp + 2, checksum_full(oicmp, icmp_len, pseudo));
    return ethernet_header_len + ip_len + icmp_len;
}

}  // namespace sluice::packet

#pragma once
// IP fragments (RFC 791 2.3, RFC 8200 4.5): what one fragment says about its datagram, and the
// geometry checks it must pass before it may wait in a reassembly table (RFC 1858, RFC 5722,
// RFC 8200 4.5's 65535-byte limit). Pure functions over bytes: no DPDK, any thread.
#include <cstdint>

#include "packet/wire.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::packet {

struct fragment_view {
    uint8_t family = 4;        // 4 or 6
    uint8_t protocol = 0;      // the datagram's upper-layer protocol
    bool more = false;         // more fragments follow (MF / M flag)
    uint16_t l3_offset = 0;    // IP header in the frame
    uint16_t header_len = 0;   // IPv4 header, or IPv6 header + fragment header (rte_ip_frag l3_len)
    uint32_t offset = 0;       // of this fragment's data in the datagram's payload, bytes
    uint32_t payload_len = 0;  // this fragment's data bytes
    uint32_t id = 0;           // identification (16 bits in IPv4)
};

// A frame parse_frame refused as ipv4_fragment / ipv6_fragment (so the IPv4 header, its total
// length and checksum, or the IPv6 payload length were verified against `len`). Returns none
// when the fragment may be reassembled; the family's fragment reason when Sluice does not
// reassemble it (not TCP/UDP; an IPv6 fragment header behind other extension headers, which
// rte_ip_frag cannot strip); bad_fragment for impossible geometry: no data, a non-last fragment
// whose data is not a multiple of 8, data beyond 65535 bytes, an atomic IPv6 fragment, a first
// fragment that does not hold the whole TCP/UDP header (the ports and flags every later check
// reads), a TCP fragment at offset 8 (RFC 1858's flag-overwriting overlap).
inline drop_reason read_fragment(const uint8_t* frame, uint32_t len, fragment_view& out) {
    out.l3_offset = uint16_t(ethernet_header_len);
    const uint8_t* ip = frame + ethernet_header_len;
    uint32_t l3_end;
    drop_reason not_ours;
    if (load_be16(frame + eth_type) == ethertype_ipv4) {
        not_ours = drop_reason::ipv4_fragment;
        out.family = 4;
        out.header_len = uint16_t((ip[ip4_ver_ihl] & 0x0f) * 4);
        l3_end = load_be16(ip + ip4_total_len);
        const uint16_t frag = load_be16(ip + ip4_frag);
        out.offset = uint32_t(frag & 0x1fff) * 8;
        out.more = frag & 0x2000;
        out.id = load_be16(ip + 4);
        out.protocol = ip[ip4_proto];
    } else {
        not_ours = drop_reason::ipv6_fragment;
        out.family = 6;
        // rte_ip_frag strips a fragment header that directly follows the IPv6 header only.
        if (ip[ip6_next] != ipv6_ext_fragment) return not_ours;
        out.header_len = uint16_t(ipv6_header_len + 8);
        l3_end = ipv6_header_len + load_be16(ip + ip6_payload_len);
        if (l3_end < out.header_len || ethernet_header_len + out.header_len > len)
            return drop_reason::bad_fragment;
        const uint8_t* fh = ip + ipv6_header_len;
        const uint16_t frag = load_be16(fh + 2);
        out.offset = frag & 0xfff8u;
        out.more = frag & 1;
        out.id = load_be32(fh + 4);
        out.protocol = fh[0];
        if (out.offset == 0 && !out.more) return drop_reason::bad_fragment;  // atomic (RFC 8021)
    }
    if (out.protocol != ipproto_tcp && out.protocol != ipproto_udp) return not_ours;
    out.payload_len = l3_end - out.header_len;
    if (out.payload_len == 0 || (out.more && out.payload_len % 8 != 0) ||
        out.offset + out.payload_len > 65535)
        return drop_reason::bad_fragment;
    const uint8_t* l4 = ip + out.header_len;
    if (out.protocol == ipproto_tcp && out.offset == 8) return drop_reason::bad_fragment;
    if (out.offset != 0) return drop_reason::none;
    const uint32_t need = out.protocol == ipproto_udp ? udp_header_len : tcp_min_header_len;
    if (out.payload_len < need) return drop_reason::bad_fragment;
    if (out.protocol == ipproto_tcp && unsigned(l4[tcp_off] >> 4) * 4 > out.payload_len)
        return drop_reason::bad_fragment;
    return drop_reason::none;
}

// Which worker reassembles a datagram: every fragment carries the same source, destination,
// protocol and identification (the reassembly key), so all of them meet on one worker whatever
// queue each arrived on. FNV-1a, then the multiply-shift range reduction the flow owner uses.
inline unsigned fragment_owner(const uint8_t* frame, const fragment_view& f, unsigned workers) {
    const uint8_t* ip = frame + f.l3_offset;
    const uint8_t* addrs = ip + (f.family == 4 ? ip4_src : ip6_src);
    const unsigned n = f.family == 4 ? 8 : 32;
    uint32_t h = 2166136261u;
    for (unsigned i = 0; i < n; ++i) h = (h ^ addrs[i]) * 16777619u;
    const uint32_t tail[2] = {f.id, f.protocol};
    for (uint32_t t : tail)
        for (unsigned i = 0; i < 4; ++i) h = (h ^ uint8_t(t >> (8 * i))) * 16777619u;
    return unsigned((uint64_t(h) * workers) >> 32);
}

}  // namespace sluice::packet

#include "packet/parse.hpp"

#include <algorithm>

#include "packet/checksum.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

namespace {

// `contiguous`: bytes of the frame readable at `frame` (a reassembled datagram continues in
// further mbuf segments): the TCP/UDP header must lie within them.
drop_reason parse_l4(const uint8_t* frame, uint32_t contiguous, parsed_frame& out) {
    const uint8_t* l4 = frame + out.l4_offset;
    const uint32_t head = contiguous - out.l4_offset;
    if (out.protocol == ipproto_tcp) {
        if (out.l4_length < tcp_min_header_len || head < tcp_min_header_len)
            return drop_reason::truncated_tcp;
        unsigned data_offset = unsigned(l4[tcp_off] >> 4) * 4;
        if (data_offset < tcp_min_header_len || data_offset > out.l4_length || data_offset > head)
            return drop_reason::bad_tcp_data_offset;
        out.tcp_flags = l4[tcp_flags_off];
    } else if (out.protocol == ipproto_udp) {
        if (out.l4_length < udp_header_len || head < udp_header_len)
            return drop_reason::truncated_udp;
        uint16_t ulen = load_be16(l4 + udp_len);
        // The UDP length may be shorter than the IP payload (trailing bytes are ignored by
        // receivers) but never longer, and never below the header.
        if (ulen < udp_header_len || ulen > out.l4_length) return drop_reason::bad_udp_length;
    } else {
        out.kind = frame_kind::ip_other;
        return drop_reason::none;
    }
    out.src_port = load_be16(l4 + l4_sport);
    out.dst_port = load_be16(l4 + l4_dport);
    out.kind = frame_kind::ip_l4;
    return drop_reason::none;
}

drop_reason parse_ipv4(const uint8_t* frame, uint32_t contiguous, uint32_t len, parsed_frame& out,
                       bool verify_csum) {
    const uint32_t avail = len - out.l3_offset;
    const uint8_t* ip = frame + out.l3_offset;
    if (contiguous - out.l3_offset < ipv4_min_header_len) return drop_reason::truncated_ipv4;
    if ((ip[ip4_ver_ihl] >> 4) != 4) return drop_reason::bad_ipv4_version;
    unsigned ihl = unsigned(ip[ip4_ver_ihl] & 0x0f) * 4;
    if (ihl < ipv4_min_header_len || ihl > contiguous - out.l3_offset)
        return drop_reason::bad_ipv4_header_length;
    uint16_t total = load_be16(ip + ip4_total_len);
    if (total < ihl || total > avail) return drop_reason::bad_ipv4_total_length;
    if (verify_csum && !ipv4_header_checksum_ok(ip, ihl)) return drop_reason::bad_ipv4_checksum;
    // MF set or a non-zero offset: a fragment. DF alone is fine.
    if (load_be16(ip + ip4_frag) & 0x3fff) return drop_reason::ipv4_fragment;
    out.family = address_family::ipv4;
    out.protocol = ip[ip4_proto];
    out.l3_length = total;
    out.l4_offset = uint16_t(out.l3_offset + ihl);
    out.l4_length = uint16_t(total - ihl);
    return parse_l4(frame, contiguous, out);
}

// Extension headers walked before the upper-layer header (RFC 8200 4.1 order, not enforced):
// hop-by-hop options, destination options and a routing header with no segments left are
// stepped over (their options concern the final destination or a router, not a balancer);
// a routing header with segments left would have us forward to another address, and ESP, AH,
// mobility, HIP and shim6 hide or change what follows: refused. At most max_extension_headers,
// so a chain of empty headers costs a bounded walk.
inline constexpr unsigned max_extension_headers = 4;

drop_reason walk_ipv6_extensions(const uint8_t* ip, uint32_t end, uint8_t& next, uint32_t& offset) {
    for (unsigned n = 0;; ++n) {
        switch (next) {
            case ipv6_ext_hop_by_hop:
            case ipv6_ext_routing:
            case ipv6_ext_destination:
                break;
            case ipv6_ext_fragment:
                return drop_reason::ipv6_fragment;
            case 50:   // ESP
            case 51:   // AH
            case 135:  // mobility
            case 139:  // HIP
            case 140:  // shim6
                return drop_reason::ipv6_extension_header;
            default:
                return drop_reason::none;
        }
        // Hop-by-hop must come first (RFC 8200 4.3); anywhere else a receiver discards it.
        if (n == max_extension_headers || (next == ipv6_ext_hop_by_hop && n != 0))
            return drop_reason::ipv6_extension_header;
        if (end - offset < 8) return drop_reason::ipv6_extension_header;
        const uint32_t length = (uint32_t(ip[offset + 1]) + 1) * 8;
        if (length > end - offset) return drop_reason::ipv6_extension_header;
        if (next == ipv6_ext_routing && ip[offset + 3] != 0)  // segments left
            return drop_reason::ipv6_extension_header;
        next = ip[offset];
        offset += length;
    }
}

drop_reason parse_ipv6(const uint8_t* frame, uint32_t contiguous, uint32_t len, parsed_frame& out) {
    const uint32_t avail = len - out.l3_offset;
    const uint8_t* ip = frame + out.l3_offset;
    if (contiguous - out.l3_offset < ipv6_header_len) return drop_reason::truncated_ipv6;
    if ((ip[0] >> 4) != 6) return drop_reason::bad_ipv6_version;
    uint16_t payload = load_be16(ip + ip6_payload_len);
    if (payload > avail - ipv6_header_len) return drop_reason::bad_ipv6_payload_length;
    out.family = address_family::ipv6;
    out.l3_length = uint16_t(ipv6_header_len + payload);
    uint8_t next = ip[ip6_next];
    uint32_t offset = ipv6_header_len;
    const uint32_t head = std::min<uint32_t>(out.l3_length, contiguous - out.l3_offset);
    if (drop_reason r = walk_ipv6_extensions(ip, head, next, offset); r != drop_reason::none)
        return r;
    out.protocol = next;
    out.l4_offset = uint16_t(out.l3_offset + offset);
    out.l4_length = uint16_t(out.l3_length - offset);
    return parse_l4(frame, contiguous, out);
}

}  // namespace

drop_reason parse_frame(const uint8_t* frame, uint32_t contiguous, uint32_t len, parsed_frame& out,
                        bool verify_ipv4_checksum) {
    if (contiguous > len) contiguous = len;
    if (contiguous < ethernet_header_len) return drop_reason::truncated_ethernet;
    out.l3_offset = ethernet_header_len;
    switch (load_be16(frame + eth_type)) {
        case ethertype_ipv4:
            return parse_ipv4(frame, contiguous, len, out, verify_ipv4_checksum);
        case ethertype_ipv6:
            return parse_ipv6(frame, contiguous, len, out);
        case ethertype_arp:
            if (contiguous - ethernet_header_len < arp_ipv4_len) return drop_reason::bad_arp;
            out.kind = frame_kind::arp;
            return drop_reason::none;
        default:
            return drop_reason::unsupported_ethertype;
    }
}

}  // namespace sluice::packet

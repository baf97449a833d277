#include "packet/parse.hpp"

#include "packet/checksum.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

namespace {

drop_reason parse_l4(const uint8_t* frame, parsed_frame& out) {
    const uint8_t* l4 = frame + out.l4_offset;
    if (out.protocol == ipproto_tcp) {
        if (out.l4_length < tcp_min_header_len) return drop_reason::truncated_tcp;
        unsigned data_offset = unsigned(l4[tcp_off] >> 4) * 4;
        if (data_offset < tcp_min_header_len || data_offset > out.l4_length)
            return drop_reason::bad_tcp_data_offset;
        out.tcp_flags = l4[tcp_flags_off];
    } else if (out.protocol == ipproto_udp) {
        if (out.l4_length < udp_header_len) return drop_reason::truncated_udp;
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

drop_reason parse_ipv4(const uint8_t* frame, uint32_t len, parsed_frame& out, bool verify_csum) {
    const uint32_t avail = len - out.l3_offset;
    const uint8_t* ip = frame + out.l3_offset;
    if (avail < ipv4_min_header_len) return drop_reason::truncated_ipv4;
    if ((ip[ip4_ver_ihl] >> 4) != 4) return drop_reason::bad_ipv4_version;
    unsigned ihl = unsigned(ip[ip4_ver_ihl] & 0x0f) * 4;
    if (ihl < ipv4_min_header_len || ihl > avail) return drop_reason::bad_ipv4_header_length;
    uint16_t total = load_be16(ip + ip4_total_len);
    if (total < ihl || total > avail) return drop_reason::bad_ipv4_total_length;
    if (verify_csum && checksum_fold(checksum_partial(ip, ihl)) != 0xffff)
        return drop_reason::bad_ipv4_checksum;
    // MF set or a non-zero offset: a fragment. DF alone is fine.
    if (load_be16(ip + ip4_frag) & 0x3fff) return drop_reason::ipv4_fragment;
    out.family = address_family::ipv4;
    out.protocol = ip[ip4_proto];
    out.l3_length = total;
    out.l4_offset = uint16_t(out.l3_offset + ihl);
    out.l4_length = uint16_t(total - ihl);
    return parse_l4(frame, out);
}

drop_reason parse_ipv6(const uint8_t* frame, uint32_t len, parsed_frame& out) {
    const uint32_t avail = len - out.l3_offset;
    const uint8_t* ip = frame + out.l3_offset;
    if (avail < ipv6_header_len) return drop_reason::truncated_ipv6;
    uint16_t payload = load_be16(ip + ip6_payload_len);
    if (payload > avail - ipv6_header_len) return drop_reason::bad_ipv6_payload_length;
    out.family = address_family::ipv6;
    out.protocol = ip[ip6_next];
    out.l3_length = uint16_t(ipv6_header_len + payload);
    out.l4_offset = uint16_t(out.l3_offset + ipv6_header_len);
    out.l4_length = payload;
    switch (out.protocol) {
        case 0:
        case 43:
        case 44:
        case 50:
        case 51:
        case 60:
        case 135:
        case 139:
        case 140:
            return drop_reason::ipv6_extension_header;
        default:
            return parse_l4(frame, out);
    }
}

}  // namespace

drop_reason parse_frame(const uint8_t* frame, uint32_t len, parsed_frame& out,
                        bool verify_ipv4_checksum) {
    if (len < ethernet_header_len) return drop_reason::truncated_ethernet;
    out.l3_offset = ethernet_header_len;
    switch (load_be16(frame + eth_type)) {
        case ethertype_ipv4:
            return parse_ipv4(frame, len, out, verify_ipv4_checksum);
        case ethertype_ipv6:
            return parse_ipv6(frame, len, out);
        case ethertype_arp:
            if (len - ethernet_header_len < arp_ipv4_len) return drop_reason::bad_arp;
            out.kind = frame_kind::arp;
            return drop_reason::none;
        default:
            return drop_reason::unsupported_ethertype;
    }
}

}  // namespace sluice::packet

#pragma once
// The SYN proxy's own handshake segments, built in a fresh frame (Ethernet + IPv4/IPv6 + TCP with
// options) with correct IP and TCP checksums: the SYN-ACK that answers a client's SYN with a
// cookie, and the SYN that opens the backend connection once the cookie came back. Ethernet
// addresses are left zero: the sender fills them from its neighbour table (as tcp_reset.hpp).
//
// Options, in a 4-byte aligned layout (Linux's order), only those asked for:
//   MSS (4) · SACK_PERM + TS (2 + 10) or NOP NOP TS (12) or NOP NOP SACK_PERM (4) · NOP WS (4)
// so the TCP header is 24..44 bytes.
//
// Pure functions over bytes, header-only, no allocation; any thread.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/tcp_options.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

inline constexpr unsigned handshake_max_options_len = 20;
inline constexpr unsigned handshake_max_len =
    ethernet_header_len + ipv6_header_len + tcp_min_header_len + handshake_max_options_len;

struct handshake_spec {
    uint8_t family;      // 4 or 6
    const uint8_t* src;  // address bytes, network order (4 or 16 used)
    const uint8_t* dst;
    uint16_t src_port;  // host order
    uint16_t dst_port;
    uint32_t seq;
    uint32_t ack;  // written as given; a SYN (no ACK flag) normally carries 0
    uint16_t window;
    uint16_t mss;
    uint8_t wscale;   // shift count, or no_wscale (0xff): no WS option
    bool sack_ok;     // SACK_PERM option
    bool timestamps;  // TS option with tsval/tsecr
    uint32_t tsval;
    uint32_t tsecr;
};

namespace handshake_detail {

// Writes the options at `o`; returns their length (a multiple of 4).
inline unsigned write_options(uint8_t* o, const handshake_spec& s) {
    unsigned n = 0;
    o[n++] = tcp_option::mss;
    o[n++] = tcp_option::mss_len;
    store_be16(o + n, s.mss);
    n += 2;
    if (s.timestamps) {
        if (s.sack_ok) {
            o[n++] = tcp_option::sack_perm;
            o[n++] = tcp_option::sack_perm_len;
        } else {
            o[n++] = tcp_option::nop;
            o[n++] = tcp_option::nop;
        }
        o[n++] = tcp_option::timestamp;
        o[n++] = tcp_option::timestamp_len;
        store_be32(o + n, s.tsval);
        store_be32(o + n + 4, s.tsecr);
        n += 8;
    } else if (s.sack_ok) {
        o[n++] = tcp_option::nop;
        o[n++] = tcp_option::nop;
        o[n++] = tcp_option::sack_perm;
        o[n++] = tcp_option::sack_perm_len;
    }
    if (s.wscale != no_wscale) {
        o[n++] = tcp_option::nop;
        o[n++] = tcp_option::wscale;
        o[n++] = tcp_option::wscale_len;
        o[n++] = s.wscale;
    }
    return n;
}

inline size_t build(uint8_t* out, const handshake_spec& s, uint8_t flags) {
    const bool v4 = s.family == 4;
    const unsigned l3_len = v4 ? ipv4_min_header_len : ipv6_header_len;
    uint8_t* ip = out + ethernet_header_len;
    uint8_t* tcp = ip + l3_len;
    std::memset(out, 0, ethernet_header_len + l3_len + tcp_min_header_len);
    const unsigned tcp_len = tcp_min_header_len + write_options(tcp + tcp_min_header_len, s);
    const size_t len = ethernet_header_len + l3_len + tcp_len;
    store_be16(out + eth_type, v4 ? ethertype_ipv4 : ethertype_ipv6);

    const unsigned addr_len = v4 ? 4 : 16;
    uint64_t pseudo = checksum_partial(s.src, addr_len);
    pseudo = checksum_partial(s.dst, addr_len, pseudo);
    uint8_t tail[4] = {0, ipproto_tcp, 0, 0};
    store_be16(tail + 2, uint16_t(tcp_len));
    pseudo = checksum_partial(tail, sizeof tail, pseudo);
    if (v4) {
        ip[ip4_ver_ihl] = 0x45;
        store_be16(ip + ip4_total_len, uint16_t(ipv4_min_header_len + tcp_len));
        store_be16(ip + ip4_frag, 0x4000);  // DF
        ip[ip4_ttl] = 64;
        ip[ip4_proto] = ipproto_tcp;
        std::memcpy(ip + ip4_src, s.src, 4);
        std::memcpy(ip + ip4_dst, s.dst, 4);
        store_raw16(ip + ip4_csum, checksum_full(ip, ipv4_min_header_len));
    } else {
        ip[0] = 0x60;
        store_be16(ip + ip6_payload_len, uint16_t(tcp_len));
        ip[ip6_next] = ipproto_tcp;
        ip[ip6_hop_limit] = 64;
        std::memcpy(ip + ip6_src, s.src, 16);
        std::memcpy(ip + ip6_dst, s.dst, 16);
    }
    store_be16(tcp + l4_sport, s.src_port);
    store_be16(tcp + l4_dport, s.dst_port);
    store_be32(tcp + tcp_seq, s.seq);
    store_be32(tcp + tcp_ack, s.ack);
    tcp[tcp_off] = uint8_t((tcp_len / 4) << 4);
    tcp[tcp_flags_off] = flags;
    store_be16(tcp + 14, s.window);
    store_raw16(tcp + tcp_csum, checksum_full(tcp, tcp_len, pseudo));
    return len;
}

}  // namespace handshake_detail

// Write the frame into `out` (room for handshake_max_len bytes) and return its length.
inline size_t build_syn_ack(uint8_t* out, const handshake_spec& s) {
    return handshake_detail::build(out, s, tcp_flag::syn | tcp_flag::ack);
}
inline size_t build_syn(uint8_t* out, const handshake_spec& s) {
    return handshake_detail::build(out, s, tcp_flag::syn);
}

}  // namespace sluice::packet

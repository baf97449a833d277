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

#include "packet/tcp_frame.hpp"
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
    uint8_t options[handshake_max_options_len];
    tcp_frame_spec f{};
    f.family = s.family;
    f.src = s.src;
    f.dst = s.dst;
    f.src_port = s.src_port;
    f.dst_port = s.dst_port;
    f.seq = s.seq;
    f.ack = s.ack;
    f.flags = flags;
    f.window = s.window;
    f.options = options;
    f.options_len = write_options(options, s);
    return build_tcp_frame(out, f);
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

#pragma once
// Test-only builder of Ethernet/IPv4/IPv6/TCP/UDP/ICMP/ARP frames with correct checksums.
// Checksums are computed here by a plain RFC 1071 loop over big-endian words, independently of
// src/packet, so tests can compare the code under test against it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "sluice/ip_address.hpp"

namespace sluice::test {

using bytes = std::vector<uint8_t>;

inline constexpr size_t eth_len = 14;

inline uint16_t get16(const bytes& f, size_t off) {
    return uint16_t(f[off] << 8 | f[off + 1]);
}
inline uint32_t get32(const bytes& f, size_t off) {
    return uint32_t(get16(f, off)) << 16 | get16(f, off + 2);
}
inline void put16(bytes& f, size_t off, uint16_t v) {
    f[off] = uint8_t(v >> 8);
    f[off + 1] = uint8_t(v);
}
inline void put32(bytes& f, size_t off, uint32_t v) {
    put16(f, off, uint16_t(v >> 16));
    put16(f, off + 2, uint16_t(v));
}

// RFC 1071: one's-complement sum of big-endian 16-bit words, odd byte padded with zero, carries
// folded back after every addition. Returns the folded sum (not complemented).
inline uint32_t ones_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i < n; i += 2) {
        uint32_t word = uint32_t(p[i]) << 8 | (i + 1 < n ? p[i + 1] : 0u);
        sum += word;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}
inline uint16_t ones_checksum(const uint8_t* p, size_t n, uint32_t sum = 0) {
    return uint16_t(~ones_sum(p, n, sum));
}

inline std::array<uint8_t, 16> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return {a, b, c, d};
}
// 2001:2::<tail>, from the IPv6 benchmarking range.
inline std::array<uint8_t, 16> v6(uint16_t tail) {
    return {0x20,         0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, uint8_t(tail >> 8),
            uint8_t(tail)};
}

struct frame_spec {
    address_family family = address_family::ipv4;
    uint8_t protocol = 6;  // 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6, anything else: raw payload
    std::array<uint8_t, 16> src = v4(198, 18, 0, 10);
    std::array<uint8_t, 16> dst = v4(198, 18, 0, 1);
    uint16_t src_port = 40000;
    uint16_t dst_port = 80;
    uint8_t ttl = 64;
    uint8_t tcp_flags = 0x10;  // ACK
    uint32_t tcp_seq = 0x01020304;
    uint32_t tcp_ack = 0x0a0b0c0d;
    uint16_t frag = 0;  // IPv4 flags + fragment offset word
    bytes ip_options;   // IPv4 only; length a multiple of 4, at most 40
    bytes tcp_options;  // length a multiple of 4, at most 40
    bytes payload;
    bool udp_checksum = true;  // false: IPv4 UDP sent with checksum 0
    size_t trailer = 0;        // Ethernet padding after the IP packet
};

inline size_t ip_header_len(const frame_spec& s) {
    return s.family == address_family::ipv4 ? 20 + s.ip_options.size() : 40;
}
inline size_t l4_offset(const frame_spec& s) {
    return eth_len + ip_header_len(s);
}
inline size_t l4_header_len(const frame_spec& s) {
    switch (s.protocol) {
        case 6:
            return 20 + s.tcp_options.size();
        case 17:
            return 8;
        case 1:
        case 58:
            return 8;
        default:
            return 0;
    }
}

// Pseudo-header sum (RFC 793 / RFC 768 for IPv4, RFC 8200 section 8.1 for IPv6).
inline uint32_t pseudo_sum(address_family family, const uint8_t* src, const uint8_t* dst,
                           uint8_t protocol, uint32_t l4_length) {
    size_t alen = family == address_family::ipv4 ? 4 : 16;
    uint32_t sum = ones_sum(src, alen);
    sum = ones_sum(dst, alen, sum);
    uint8_t tail[8] = {uint8_t(l4_length >> 24),
                       uint8_t(l4_length >> 16),
                       uint8_t(l4_length >> 8),
                       uint8_t(l4_length),
                       0,
                       0,
                       0,
                       protocol};
    return ones_sum(tail, 8, sum);
}

inline bytes build_frame(const frame_spec& s) {
    const bool is_v4 = s.family == address_family::ipv4;
    const size_t ihl = ip_header_len(s), l4_len = l4_header_len(s) + s.payload.size();
    const size_t l3 = eth_len, l4 = eth_len + ihl;
    bytes f(l4 + l4_len + s.trailer, 0);
    const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x01}, src_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
    for (int i = 0; i < 6; ++i) {
        f[i] = dst_mac[i];
        f[6 + i] = src_mac[i];
    }
    put16(f, 12, is_v4 ? 0x0800 : 0x86dd);
    if (is_v4) {
        f[l3] = uint8_t(0x40 | (ihl / 4));
        put16(f, l3 + 2, uint16_t(ihl + l4_len));
        put16(f, l3 + 4, 0x1234);
        put16(f, l3 + 6, s.frag);
        f[l3 + 8] = s.ttl;
        f[l3 + 9] = s.protocol;
        for (size_t i = 0; i < 4; ++i) {
            f[l3 + 12 + i] = s.src[i];
            f[l3 + 16 + i] = s.dst[i];
        }
        for (size_t i = 0; i < s.ip_options.size(); ++i) f[l3 + 20 + i] = s.ip_options[i];
        put16(f, l3 + 10, ones_checksum(&f[l3], ihl));
    } else {
        f[l3] = 0x60;
        put16(f, l3 + 4, uint16_t(l4_len));
        f[l3 + 6] = s.protocol;
        f[l3 + 7] = s.ttl;
        for (size_t i = 0; i < 16; ++i) {
            f[l3 + 8 + i] = s.src[i];
            f[l3 + 24 + i] = s.dst[i];
        }
    }
    const size_t data = l4 + l4_header_len(s);
    for (size_t i = 0; i < s.payload.size(); ++i) f[data + i] = s.payload[i];
    const uint32_t pseudo =
        pseudo_sum(s.family, s.src.data(), s.dst.data(), s.protocol, uint32_t(l4_len));
    switch (s.protocol) {
        case 6:
            put16(f, l4, s.src_port);
            put16(f, l4 + 2, s.dst_port);
            put32(f, l4 + 4, s.tcp_seq);
            put32(f, l4 + 8, s.tcp_ack);
            f[l4 + 12] = uint8_t((20 + s.tcp_options.size()) / 4 << 4);
            f[l4 + 13] = s.tcp_flags;
            put16(f, l4 + 14, 0xffff);
            for (size_t i = 0; i < s.tcp_options.size(); ++i) f[l4 + 20 + i] = s.tcp_options[i];
            put16(f, l4 + 16, ones_checksum(&f[l4], l4_len, pseudo));
            break;
        case 17: {
            put16(f, l4, s.src_port);
            put16(f, l4 + 2, s.dst_port);
            put16(f, l4 + 4, uint16_t(l4_len));
            uint16_t c = ones_checksum(&f[l4], l4_len, pseudo);
            if (c == 0) c = 0xffff;  // RFC 768: a computed zero is sent as all ones
            if (is_v4 && !s.udp_checksum) c = 0;
            put16(f, l4 + 6, c);
            break;
        }
        case 1:
            f[l4] = 8;  // echo request
            put16(f, l4 + 4, 0x4242);
            put16(f, l4 + 6, 1);
            put16(f, l4 + 2, ones_checksum(&f[l4], l4_len));
            break;
        case 58:
            f[l4] = 128;  // echo request
            put16(f, l4 + 4, 0x4242);
            put16(f, l4 + 6, 1);
            put16(f, l4 + 2, ones_checksum(&f[l4], l4_len, pseudo));
            break;
        default:
            break;
    }
    return f;
}

// Recomputes the IPv4 header checksum after a test edited the header (IHL taken from the frame).
inline void refresh_ipv4_checksum(bytes& f) {
    size_t ihl = size_t(f[eth_len] & 0x0f) * 4;
    if (ihl < 20 || eth_len + ihl > f.size()) return;
    put16(f, eth_len + 10, 0);
    put16(f, eth_len + 10, ones_checksum(&f[eth_len], ihl));
}

// Ethernet/IPv4 ARP request of `len` bytes (42 for a complete one).
inline bytes build_arp(size_t len = 42) {
    bytes f(42, 0);
    for (int i = 0; i < 6; ++i) f[i] = 0xff;
    f[6] = 0x02;
    f[11] = 0x02;
    put16(f, 12, 0x0806);
    put16(f, 14, 1);
    put16(f, 16, 0x0800);
    f[18] = 6;
    f[19] = 4;
    put16(f, 20, 1);
    for (int i = 0; i < 6; ++i) f[22 + i] = f[6 + i];
    const auto spa = v4(198, 18, 0, 10), tpa = v4(198, 18, 0, 1);
    for (int i = 0; i < 4; ++i) {
        f[28 + i] = spa[size_t(i)];
        f[38 + i] = tpa[size_t(i)];
    }
    f.resize(len, 0);
    return f;
}

}  // namespace sluice::test

#pragma once
// Full-NAT rewrite of one parsed frame in place: new source/destination address and port, TTL or
// hop limit decremented, IPv4 header and TCP/UDP checksums updated incrementally (RFC 1624).
// Pure function over bytes; lcore-safe (touches only the frame).
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/parse.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

struct nat_target {
    const uint8_t* src;  // new source address, network order, 4 or 16 bytes by family
    const uint8_t* dst;  // new destination address
    uint16_t src_port;   // new ports, host order
    uint16_t dst_port;
};

// Returns drop_reason::ttl_exceeded (frame untouched) when the TTL/hop limit is 1 or 0.
template <address_family F>
inline drop_reason rewrite_full_nat(uint8_t* frame, const parsed_frame& p, const nat_target& t) {
    constexpr bool v4 = F == address_family::ipv4;
    constexpr unsigned alen = v4 ? 4 : 16;
    constexpr unsigned src_off = v4 ? ip4_src : ip6_src;
    constexpr unsigned dst_off = v4 ? ip4_dst : ip6_dst;
    constexpr unsigned ttl_off = v4 ? ip4_ttl : ip6_hop_limit;
    uint8_t* ip = frame + p.l3_offset;
    uint8_t* l4 = frame + p.l4_offset;
    if (ip[ttl_off] <= 1) return drop_reason::ttl_exceeded;

    // L4 checksum covers the pseudo header (addresses) and the ports.
    const bool is_tcp = p.protocol == ipproto_tcp;
    uint8_t* l4_csum = l4 + (is_tcp ? tcp_csum : udp_csum);
    uint16_t c4 = load_raw16(l4_csum);
    const bool udp_without_checksum = !is_tcp && v4 && c4 == 0;

    uint8_t new_ports[4];
    store_be16(new_ports, t.src_port);
    store_be16(new_ports + 2, t.dst_port);
    // The address change is one delta for both checksums (the IPv4 header's and the L4
    // pseudo-header's).
    uint64_t addresses = checksum_delta(ip + src_off, t.src, alen);
    addresses = checksum_delta(ip + dst_off, t.dst, alen, addresses);
    if (!udp_without_checksum) {
        c4 = checksum_apply(c4, checksum_delta(l4, new_ports, 4, addresses));
        if (!is_tcp && c4 == 0) c4 = 0xffff;  // 0 means "no checksum" for UDP
        store_raw16(l4_csum, c4);
    }
    if constexpr (v4) {
        // TTL shares a 16-bit word with the protocol field.
        const uint16_t old_word = load_raw16(ip + ip4_ttl);
        ip[ip4_ttl] = uint8_t(ip[ip4_ttl] - 1);
        const uint16_t new_word = load_raw16(ip + ip4_ttl);
        const uint64_t ttl = uint64_t(uint16_t(~old_word)) + new_word;
        store_raw16(ip + ip4_csum, checksum_apply(load_raw16(ip + ip4_csum), addresses + ttl));
    } else {
        ip[ttl_off] = uint8_t(ip[ttl_off] - 1);
    }
    std::memcpy(ip + src_off, t.src, alen);
    std::memcpy(ip + dst_off, t.dst, alen);
    std::memcpy(l4, new_ports, 4);
    return drop_reason::none;
}

inline drop_reason rewrite_full_nat(uint8_t* frame, const parsed_frame& p, const nat_target& t) {
    return p.family == address_family::ipv4 ? rewrite_full_nat<address_family::ipv4>(frame, p, t)
                                            : rewrite_full_nat<address_family::ipv6>(frame, p, t);
}

}  // namespace sluice::packet

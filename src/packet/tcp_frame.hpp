#pragma once
// Builds a whole TCP segment frame the load balancer sends on its own behalf (RSTs, the SYN
// proxy's SYN-ACKs and SYNs): Ethernet (addresses left zero: the sender fills them from its
// neighbour table), IPv4 (DF, TTL 64) or IPv6 (hop limit 64), TCP with the given options, and
// correct IP and TCP checksums. Pure function over bytes; any thread.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

inline constexpr unsigned tcp_frame_max_options = 40;

struct tcp_frame_spec {
    uint8_t family;      // 4 or 6
    const uint8_t* src;  // address bytes, network order (4 or 16 used)
    const uint8_t* dst;
    uint16_t src_port;  // host order
    uint16_t dst_port;
    uint32_t seq;
    uint32_t ack;
    uint8_t flags;  // tcp_flag bits
    uint16_t window;
    const uint8_t* options = nullptr;  // already laid out, a multiple of 4 bytes
    unsigned options_len = 0;          // <= tcp_frame_max_options
};

// Writes the frame into `out` (room for Ethernet + IPv6 + 60 bytes of TCP) and returns its
// length.
inline size_t build_tcp_frame(uint8_t* out, const tcp_frame_spec& s) {
    const bool v4 = s.family == 4;
    const unsigned l3_len = v4 ? ipv4_min_header_len : ipv6_header_len;
    const unsigned tcp_len = tcp_min_header_len + s.options_len;
    const size_t len = ethernet_header_len + l3_len + tcp_len;
    std::memset(out, 0, ethernet_header_len + l3_len + tcp_min_header_len);
    store_be16(out + eth_type, v4 ? ethertype_ipv4 : ethertype_ipv6);
    uint8_t* ip = out + ethernet_header_len;
    uint8_t* tcp = ip + l3_len;
    if (s.options_len) std::memcpy(tcp + tcp_min_header_len, s.options, s.options_len);
    const unsigned addr_len = v4 ? 4 : 16;
    // Pseudo-header sum: addresses, protocol, TCP length.
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
    tcp[tcp_flags_off] = s.flags;
    store_be16(tcp + 14, s.window);
    store_raw16(tcp + tcp_csum, checksum_full(tcp, tcp_len, pseudo));
    return len;
}

}  // namespace sluice::packet

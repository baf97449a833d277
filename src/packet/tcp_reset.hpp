#pragma once
// Builds a TCP RST|ACK segment in a fresh frame (Ethernet + IPv4/IPv6 + 20-byte TCP header) with
// correct IP and TCP checksums. Ethernet addresses are left zero: the sender fills them from its
// neighbour table. Pure function over bytes; any thread (workers use it to reset flows).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

inline constexpr unsigned tcp_reset_max_len =
    ethernet_header_len + ipv6_header_len + tcp_min_header_len;

struct tcp_reset_spec {
    uint8_t family;      // 4 or 6
    const uint8_t* src;  // address bytes, network order (4 or 16 used)
    const uint8_t* dst;
    uint16_t src_port;  // host order
    uint16_t dst_port;
    uint32_t seq;  // must equal the receiver's next expected sequence number (RFC 5961)
    uint32_t ack;
    // False: a bare RST, for a receiver whose own sequence numbers the sender does not know (a
    // SYN_RECEIVED peer drops an RST|ACK that acknowledges the wrong number).
    bool with_ack = true;
};

// Writes the frame into `out` (room for tcp_reset_max_len bytes) and returns its length.
inline size_t build_tcp_reset(uint8_t* out, const tcp_reset_spec& r) {
    const bool v4 = r.family == 4;
    const unsigned l3_len = v4 ? ipv4_min_header_len : ipv6_header_len;
    const size_t len = ethernet_header_len + l3_len + tcp_min_header_len;
    std::memset(out, 0, len);
    store_be16(out + eth_type, v4 ? ethertype_ipv4 : ethertype_ipv6);
    uint8_t* ip = out + ethernet_header_len;
    uint8_t* tcp = ip + l3_len;
    const unsigned addr_len = v4 ? 4 : 16;
    // Pseudo-header sum: addresses, protocol, TCP length.
    uint64_t pseudo = checksum_partial(r.src, addr_len);
    pseudo = checksum_partial(r.dst, addr_len, pseudo);
    uint8_t tail[4] = {0, ipproto_tcp, 0, 0};
    store_be16(tail + 2, uint16_t(tcp_min_header_len));
    pseudo = checksum_partial(tail, sizeof tail, pseudo);
    if (v4) {
        ip[ip4_ver_ihl] = 0x45;
        store_be16(ip + ip4_total_len, uint16_t(ipv4_min_header_len + tcp_min_header_len));
        store_be16(ip + ip4_frag, 0x4000);  // DF
        ip[ip4_ttl] = 64;
        ip[ip4_proto] = ipproto_tcp;
        std::memcpy(ip + ip4_src, r.src, 4);
        std::memcpy(ip + ip4_dst, r.dst, 4);
        store_raw16(ip + ip4_csum, checksum_full(ip, ipv4_min_header_len));
    } else {
        ip[0] = 0x60;
        store_be16(ip + ip6_payload_len, uint16_t(tcp_min_header_len));
        ip[ip6_next] = ipproto_tcp;
        ip[ip6_hop_limit] = 64;
        std::memcpy(ip + ip6_src, r.src, 16);
        std::memcpy(ip + ip6_dst, r.dst, 16);
    }
    store_be16(tcp + l4_sport, r.src_port);
    store_be16(tcp + l4_dport, r.dst_port);
    store_be32(tcp + tcp_seq, r.seq);
    store_be32(tcp + tcp_ack, r.ack);
    tcp[tcp_off] = uint8_t((tcp_min_header_len / 4) << 4);
    tcp[tcp_flags_off] = r.with_ack ? tcp_flag::rst | tcp_flag::ack : tcp_flag::rst;
    store_raw16(tcp + tcp_csum, checksum_full(tcp, tcp_min_header_len, pseudo));
    return len;
}

}  // namespace sluice::packet

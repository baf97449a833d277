#pragma once
// ARP (Ethernet/IPv4) frames: read a received one, build requests and replies. Pure functions
// over bytes; the control thread uses them.
#include <cstdint>
#include <cstring>
#include <optional>

#include "packet/wire.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::packet {

inline constexpr unsigned arp_frame_len = ethernet_header_len + arp_ipv4_len;

struct arp_message {
    uint16_t op;
    uint8_t sender_mac[6];
    ip_address sender_ip;
    uint8_t target_mac[6];
    ip_address target_ip;
};

// nullopt unless Ethernet/IPv4 ARP with hlen 6, plen 4 and op request or reply.
inline std::optional<arp_message> read_arp(const uint8_t* frame, uint32_t len) {
    if (len < arp_frame_len) return std::nullopt;
    const uint8_t* a = frame + ethernet_header_len;
    if (load_be16(a + arp_htype) != 1 || load_be16(a + arp_ptype) != ethertype_ipv4 ||
        a[arp_hlen] != 6 || a[arp_plen] != 4)
        return std::nullopt;
    arp_message m;
    m.op = load_be16(a + arp_op);
    if (m.op != arp_op_request && m.op != arp_op_reply) return std::nullopt;
    std::memcpy(m.sender_mac, a + arp_sha, 6);
    m.sender_ip = ip_address::v4_from_network(a + arp_spa);
    std::memcpy(m.target_mac, a + arp_tha, 6);
    m.target_ip = ip_address::v4_from_network(a + arp_tpa);
    return m;
}

// Writes a 42-byte ARP frame into `out`. Requests go to broadcast unless `dst_mac` is given.
inline void write_arp(uint8_t* out, uint16_t op, const uint8_t* dst_mac, const uint8_t* sender_mac,
                      const ip_address& sender_ip, const uint8_t* target_mac,
                      const ip_address& target_ip) {
    static constexpr uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static constexpr uint8_t zero[6] = {};
    std::memcpy(out + eth_dst, dst_mac ? dst_mac : broadcast, 6);
    std::memcpy(out + eth_src, sender_mac, 6);
    store_be16(out + eth_type, ethertype_arp);
    uint8_t* a = out + ethernet_header_len;
    store_be16(a + arp_htype, 1);
    store_be16(a + arp_ptype, ethertype_ipv4);
    a[arp_hlen] = 6;
    a[arp_plen] = 4;
    store_be16(a + arp_op, op);
    std::memcpy(a + arp_sha, sender_mac, 6);
    std::memcpy(a + arp_spa, sender_ip.bytes.data(), 4);
    std::memcpy(a + arp_tha, target_mac ? target_mac : zero, 6);
    std::memcpy(a + arp_tpa, target_ip.bytes.data(), 4);
}

}  // namespace sluice::packet

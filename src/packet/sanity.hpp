#pragma once
// Checks a frame passes before it reaches any flow state or scheduler: TCP flag sets no TCP
// stack sends, a TTL / hop limit forwarding would take to zero, and source addresses no client
// can have. Dropping these first keeps forged frames from creating flows (SYN+FIN, SYN with TTL
// 0), from drawing SYN-ACKs or RSTs towards multicast or our own addresses, and from pinning a
// tuple. Pure functions over wire bytes; any thread.
#include <cstdint>

#include "packet/wire.hpp"

namespace sluice::packet {

// The flag sets a TCP sender uses (as Linux's nf_conntrack `tcp_valid_flags`): SYN, SYN|URG,
// SYN|ACK, RST, RST|ACK, FIN|ACK, FIN|ACK|URG, ACK, ACK|URG. PSH, ECE and CWR are ignored (ECN
// negotiation sets ECE|CWR on a SYN). Everything else — SYN+FIN, SYN+RST, no flag, FIN or URG
// without ACK, FIN+RST — is a scan or a forgery. Bit i of the mask: the set whose
// FIN|SYN|RST|ACK|URG bits are i.
inline constexpr uint8_t tcp_flag_urg = 0x20;
inline constexpr uint8_t tcp_judged_flags =
    tcp_flag::fin | tcp_flag::syn | tcp_flag::rst | tcp_flag::ack | tcp_flag_urg;
inline constexpr uint64_t valid_tcp_flag_sets = [] {
    using namespace tcp_flag;
    const uint8_t sets[] = {
        syn, syn | tcp_flag_urg, syn | ack, rst, rst | ack, fin | ack, fin | ack | tcp_flag_urg,
        ack, ack | tcp_flag_urg};
    uint64_t mask = 0;
    for (uint8_t s : sets) mask |= uint64_t(1) << s;
    return mask;
}();

inline bool valid_tcp_flags(uint8_t flags) {
    return (valid_tcp_flag_sets >> (flags & tcp_judged_flags)) & 1;
}

// The TTL (IPv4) or hop limit (IPv6) of the IP header at `ip`: forwarding a frame whose value
// is 1 or 0 would send it with 0.
inline bool ttl_expires(const uint8_t* ip, uint8_t family) {
    return ip[family == 4 ? ip4_ttl : ip6_hop_limit] <= 1;
}

// A source address no client can have (network order bytes): IPv4 0.0.0.0/8 ("this network"),
// 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast), 240.0.0.0/4 (reserved, and the limited
// broadcast 255.255.255.255); IPv6 :: (unspecified), ::1 (loopback), ff00::/8 (multicast).
inline bool martian_source(const uint8_t* a, uint8_t family) {
    if (family == 4) return a[0] == 0 || a[0] == 127 || a[0] >= 224;
    if (a[0] == 0xff) return true;
    for (unsigned i = 0; i < 15; ++i)
        if (a[i] != 0) return false;
    return a[15] <= 1;
}

// A multicast (or IPv4 limited broadcast) destination: 224.0.0.0/4 and above, ff00::/8. The
// data plane serves no group; the hosts on a segment send MLD reports, router solicitations and
// mDNS there on their own.
inline bool multicast_destination(const uint8_t* a, uint8_t family) {
    return family == 4 ? a[0] >= 224 : a[0] == 0xff;
}

}  // namespace sluice::packet

#pragma once
// ICMP echo (RFC 792) and ICMPv6 echo (RFC 4443 4.1) to a VIP: the request checked and turned
// into its reply in place, so the data plane answers `ping VIP` and `ping -6 VIP` without a new
// mbuf. Pure functions over wire bytes; any thread.
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/ndp.hpp"
#include "packet/parse.hpp"
#include "packet/wire.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::packet {

inline constexpr uint8_t icmp_echo_reply = 0, icmp_echo_request = 8;
inline constexpr uint8_t echo_reply_ttl = 64;

// The ICMP (IPv4, protocol 1) or ICMPv6 (IPv6, protocol 58) message of a frame `p` parsed as
// ip_other: true when it is an echo request (type 8 / 128, code 0) whose checksum verifies over
// the whole message (ICMPv6: with its pseudo-header); `bad` is set to bad_icmp when it is
// shorter than an ICMP header or its checksum does not verify (whatever the type), and left at
// none otherwise.
inline bool is_echo_request(const uint8_t* frame, const parsed_frame& p, drop_reason& bad) {
    const uint8_t* icmp = frame + p.l4_offset;
    const bool v4 = p.family == address_family::ipv4;
    uint64_t sum = 0;
    if (!v4) {
        const uint8_t* ip = frame + p.l3_offset;
        sum = pseudo_header_sum(6, ip + ip6_src, ip + ip6_dst, ipproto_icmpv6, p.l4_length);
    }
    if (p.l4_length < icmp_header_len ||
        checksum_fold(checksum_partial(icmp, p.l4_length, sum)) != 0xffff) {
        bad = drop_reason::bad_icmp;
        return false;
    }
    return icmp[0] == (v4 ? icmp_echo_request : icmp6_echo_request) && icmp[1] == 0;
}

// Turns the echo request of `p` into its reply in place: IP source and destination swapped,
// TTL / hop limit 64, IPv4 identification and options kept, type 0 / 129 (identifier, sequence
// and data as received); checksums updated (swapping the addresses leaves the ICMPv6
// pseudo-header sum as it was). The Ethernet header is the sender's to write (worker::send).
inline void make_echo_reply(uint8_t* frame, const parsed_frame& p) {
    uint8_t* ip = frame + p.l3_offset;
    uint8_t* icmp = frame + p.l4_offset;
    const uint8_t old_type[2] = {icmp[0], icmp[1]};
    if (p.family == address_family::ipv4) {
        uint8_t addr[4];
        std::memcpy(addr, ip + ip4_src, 4);
        std::memcpy(ip + ip4_src, ip + ip4_dst, 4);
        std::memcpy(ip + ip4_dst, addr, 4);
        const uint8_t old_word[2] = {ip[ip4_ttl], ip[ip4_proto]};
        ip[ip4_ttl] = echo_reply_ttl;
        store_raw16(ip + ip4_csum,
                    checksum_update(load_raw16(ip + ip4_csum), old_word, ip + ip4_ttl, 2));
        icmp[0] = icmp_echo_reply;
    } else {
        uint8_t addr[16];
        std::memcpy(addr, ip + ip6_src, 16);
        std::memcpy(ip + ip6_src, ip + ip6_dst, 16);
        std::memcpy(ip + ip6_dst, addr, 16);
        ip[ip6_hop_limit] = echo_reply_ttl;
        icmp[0] = icmp6_echo_reply;
    }
    store_raw16(icmp + 2, checksum_update(load_raw16(icmp + 2), old_type, icmp, 2));
}

}  // namespace sluice::packet

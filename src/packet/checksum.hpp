#pragma once
// Internet checksum: full computation (RFC 1071) and incremental update (RFC 1624, eqn. 3:
// HC' = ~(~HC + ~m + m')). Works on 16-bit words exactly as stored in the frame, so no byte
// swapping is needed: one's-complement sums are byte-order independent.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "packet/wire.hpp"

namespace sluice::packet {

inline uint16_t checksum_fold(uint64_t sum) {
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(sum);
}

// One's-complement sum of `len` bytes (odd length padded with zero), not complemented.
// Summed in 32-bit words (congruent to the 16-bit sum modulo 0xffff; half the additions).
inline uint64_t checksum_partial(const uint8_t* data, size_t len, uint64_t sum = 0) {
    size_t i = 0;
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        std::memcpy(&w, data + i, 4);
        sum += w;
    }
    if (i + 2 <= len) {
        sum += load_raw16(data + i);
        i += 2;
    }
    if (i < len) {
        uint8_t last[2] = {data[i], 0};
        sum += load_raw16(last);
    }
    return sum;
}

// True when an IPv4 header of `ihl` bytes (a multiple of 4, >= 20) verifies. Every received
// IPv4 packet whose NIC did not check it: the common 20-byte header as five loads, no loop.
inline bool ipv4_header_checksum_ok(const uint8_t* ip, unsigned ihl) {
    uint32_t w[5];
    std::memcpy(w, ip, 20);
    uint64_t sum = uint64_t(w[0]) + w[1] + w[2] + w[3] + w[4];
    if (ihl > 20) [[unlikely]]
        sum = checksum_partial(ip + 20, ihl - 20, sum);
    return checksum_fold(sum) == 0xffff;
}

// Complemented checksum ready to store.
inline uint16_t checksum_full(const uint8_t* data, size_t len, uint64_t sum = 0) {
    return uint16_t(~checksum_fold(checksum_partial(data, len, sum)));
}

// RFC 1624 update of a stored checksum when a 16-bit word changes from `old_word` to `new_word`.
inline uint16_t checksum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word) {
    uint64_t sum = uint16_t(~csum) + uint64_t(uint16_t(~old_word)) + new_word;
    return uint16_t(~checksum_fold(sum));
}

// Same for a run of `len` bytes (even) changing from `old_bytes` to `new_bytes`.
inline uint16_t checksum_update(uint16_t csum, const uint8_t* old_bytes, const uint8_t* new_bytes,
                                size_t len) {
    uint64_t sum = uint16_t(~csum);
    for (size_t i = 0; i < len; i += 2) {
        sum += uint16_t(~load_raw16(old_bytes + i));
        sum += load_raw16(new_bytes + i);
    }
    return uint16_t(~checksum_fold(sum));
}

// The one's-complement difference (not folded) that `len` bytes (a multiple of 4) changing from
// `old_bytes` to `new_bytes` make to any checksum covering them, added to `sum`. Summed in 32-bit
// words (congruent to the 16-bit sum modulo 0xffff), so one delta serves several checksums: a
// full-NAT address change moves the IPv4 header's and the TCP/UDP pseudo-header's alike.
inline uint64_t checksum_delta(const uint8_t* old_bytes, const uint8_t* new_bytes, size_t len,
                               uint64_t sum = 0) {
    for (size_t i = 0; i < len; i += 4) {
        uint32_t o, n;
        std::memcpy(&o, old_bytes + i, 4);
        std::memcpy(&n, new_bytes + i, 4);
        sum += uint32_t(~o);
        sum += n;
    }
    return sum;
}

// A stored checksum updated by a delta of checksum_delta (RFC 1624, eqn. 3).
inline uint16_t checksum_apply(uint16_t csum, uint64_t delta) {
    return uint16_t(~checksum_fold(uint64_t(uint16_t(~csum)) + delta));
}

// RFC 1624 update when `old_len` bytes of covered data are replaced by `new_len` others (both
// even): the address fields of a pseudo-header that changes family (NAT64/NAT46).
inline uint16_t checksum_replace(uint16_t csum, const uint8_t* old_bytes, size_t old_len,
                                 const uint8_t* new_bytes, size_t new_len) {
    // In 32-bit words where it can (per translated packet: two 16-byte addresses).
    uint64_t sum = uint16_t(~csum);
    size_t i = 0;
    for (; i + 4 <= old_len; i += 4) {
        uint32_t w;
        std::memcpy(&w, old_bytes + i, 4);
        sum += uint32_t(~w);
    }
    for (; i < old_len; i += 2) sum += uint16_t(~load_raw16(old_bytes + i));
    return uint16_t(~checksum_fold(checksum_partial(new_bytes, new_len, sum)));
}

// One's-complement sum (not folded) of the pseudo-header of an upper-layer message of `l4_len`
// bytes (RFC 768/793 for IPv4, RFC 8200 8.1 for IPv6: TCP, UDP, ICMPv6). Addresses in network
// order (4 bytes for family 4, else 16).
inline uint64_t pseudo_header_sum(uint8_t family, const uint8_t* src, const uint8_t* dst,
                                  uint8_t protocol, size_t l4_len) {
    const size_t alen = family == 4 ? 4 : 16;
    uint64_t sum = checksum_partial(src, alen);
    sum = checksum_partial(dst, alen, sum);
    const uint8_t tail[4] = {0, protocol, uint8_t(l4_len >> 8), uint8_t(l4_len)};
    sum = checksum_partial(tail, 4, sum);
    if (family != 4) {
        const uint8_t high[2] = {uint8_t(l4_len >> 24), uint8_t(l4_len >> 16)};
        sum = checksum_partial(high, 2, sum);
    }
    return sum;
}

// True when the TCP/UDP/ICMPv6 message `l4` (of `l4_len` bytes) verifies under its
// pseudo-header: the one's-complement sum over pseudo-header and message, stored checksum
// included, is 0xffff.
inline bool l4_checksum_verifies(uint8_t family, const uint8_t* src, const uint8_t* dst,
                                 uint8_t protocol, const uint8_t* l4, size_t l4_len) {
    const uint64_t sum = pseudo_header_sum(family, src, dst, protocol, l4_len);
    return checksum_fold(checksum_partial(l4, l4_len, sum)) == 0xffff;
}

}  // namespace sluice::packet

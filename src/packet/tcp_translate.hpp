#pragma once
// In-place translation of one TCP segment spliced by the SYN proxy. The proxy answered the
// client's SYN itself (cookie ISN, its own TSval clock, its own window scale), then opened the
// backend connection with the backend's choices; every later segment is shifted from one
// connection's numbers to the other's: sequence and acknowledgement numbers, SACK block edges,
// TSval/TSecr, and the window field rescaled between the two window-scale factors.
// The TCP checksum is updated incrementally (RFC 1624) for every changed word; the addresses
// and ports are left to the NAT rewrite (packet/rewrite.hpp).
//
// Pure function over bytes, header-only, no allocation; lcore-safe (touches only the segment).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/tcp_options.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

struct tcp_translation {
    uint32_t seq_add = 0;   // added to the sequence number
    uint32_t ack_add = 0;   // added to the acknowledgement number (ACK flag set only)
    uint32_t sack_add = 0;  // added to every SACK block edge (they are acknowledgement numbers)
    uint32_t tsval_add = 0;
    uint32_t tsecr_add = 0;
    uint8_t window_shift_left = 0;  // window field: min(0xffff, (w << left) >> right)
    uint8_t window_shift_right = 0;
};

namespace translate_detail {

// Stores `value` big-endian at tcp + off and folds the change into `csum`. The checksummed words
// are aligned to the start of the TCP header; an option field may sit at an odd offset, so the
// update covers the even-aligned span around it (at most 6 bytes).
inline void store_be32_update(uint8_t* tcp, unsigned off, uint32_t value, uint16_t& csum) {
    const unsigned start = off & ~1u;
    const unsigned span = ((off + 4 + 1) & ~1u) - start;
    uint8_t old_bytes[6];
    std::memcpy(old_bytes, tcp + start, span);
    store_be32(tcp + off, value);
    csum = checksum_update(csum, old_bytes, tcp + start, span);
}

inline void add_be32(uint8_t* tcp, unsigned off, uint32_t delta, uint16_t& csum) {
    if (delta != 0) store_be32_update(tcp, off, load_be32(tcp + off) + delta, csum);
}

}  // namespace translate_detail

// `tcp` points at the TCP header, `l4_length` is header + payload. Returns false, leaving the
// segment untouched, when the data offset or the options are malformed. The window of a SYN
// (never scaled, RFC 7323 section 2.2) is left alone.
inline bool translate_tcp(uint8_t* tcp, unsigned l4_length, const tcp_translation& t) {
    if (l4_length < tcp_min_header_len) return false;
    const unsigned header_len = unsigned(tcp[tcp_off] >> 4) * 4;
    if (header_len < tcp_min_header_len || header_len > l4_length) return false;
    // Validate and locate before writing anything.
    int ts_off = -1, sack_off = -1;
    unsigned sack_len = 0;
    const bool ok =
        for_each_tcp_option(tcp, header_len, [&](uint8_t kind, unsigned off, unsigned len) {
            if (kind == tcp_option::timestamp && ts_off < 0) ts_off = int(off);
            if (kind == tcp_option::sack && sack_off < 0) {
                sack_off = int(off);
                sack_len = len;
            }
        });
    if (!ok) return false;

    using translate_detail::add_be32;
    const uint8_t flags = tcp[tcp_flags_off];
    uint16_t csum = load_raw16(tcp + tcp_csum);
    add_be32(tcp, tcp_seq, t.seq_add, csum);
    if (flags & tcp_flag::ack) add_be32(tcp, tcp_ack, t.ack_add, csum);
    if (sack_off >= 0) {
        for (unsigned e = 2; e < sack_len; e += 4)
            add_be32(tcp, unsigned(sack_off) + e, t.sack_add, csum);
    }
    if (ts_off >= 0) {
        add_be32(tcp, unsigned(ts_off) + 2, t.tsval_add, csum);
        add_be32(tcp, unsigned(ts_off) + 6, t.tsecr_add, csum);
    }
    if (!(flags & tcp_flag::syn) && (t.window_shift_left | t.window_shift_right) != 0) {
        constexpr unsigned window_off = 14;
        const uint64_t w = load_be16(tcp + window_off);
        const unsigned left = std::min<unsigned>(t.window_shift_left, 32);
        const unsigned right = std::min<unsigned>(t.window_shift_right, 63);
        const auto scaled = uint16_t(std::min<uint64_t>(0xffff, (w << left) >> right));
        uint8_t old_word[2] = {tcp[window_off], tcp[window_off + 1]};
        store_be16(tcp + window_off, scaled);
        csum = checksum_update(csum, old_word, tcp + window_off, 2);
    }
    store_raw16(tcp + tcp_csum, csum);
    return true;
}

}  // namespace sluice::packet

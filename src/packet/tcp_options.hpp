#pragma once
// TCP option parsing (RFC 9293 section 3.1, RFC 7323, RFC 2018) over the bytes of one TCP header.
// The SYN proxy reads a client's SYN options (MSS, window scale, SACK-permitted, timestamps) and
// later rewrites timestamps and SACK blocks of spliced segments, so it needs their offsets too.
//
// Strict on purpose: an option whose length byte is < 2 or runs past the header, or a known option
// with a length other than its fixed size (MSS 4, WS 3, SACK_PERM 2, TS 10, SACK 2 + 8n with
// n = 1..4), makes the whole header malformed. Unknown options are skipped by their length.
// EOL ends the list; NOPs are skipped.
//
// Pure functions over bytes, header-only, no allocation; any thread.
#include <cstdint>
#include <cstring>

#include "packet/checksum.hpp"
#include "packet/wire.hpp"

namespace sluice::packet {

inline constexpr unsigned tcp_max_header_len = 60;

namespace tcp_option {
inline constexpr uint8_t eol = 0, nop = 1, mss = 2, wscale = 3, sack_perm = 4, sack = 5,
                         timestamp = 8;
inline constexpr unsigned mss_len = 4, wscale_len = 3, sack_perm_len = 2, timestamp_len = 10;
inline constexpr unsigned sack_block_len = 8, sack_max_blocks = 4;
inline constexpr uint8_t max_wscale = 14;  // RFC 7323 section 2.3: larger values mean 14
}  // namespace tcp_option

inline constexpr uint8_t no_wscale = 0xff;

// Options of a SYN as the SYN proxy cares about them. Defaults are "option absent".
struct syn_options {
    uint16_t mss = 536;          // RFC 9293 default when absent
    uint8_t wscale = no_wscale;  // shift count 0..14, or no_wscale
    bool sack_ok = false;        // SACK-permitted seen
    bool timestamps = false;     // TS option seen; tsval/tsecr valid
    uint32_t tsval = 0;
    uint32_t tsecr = 0;
};

// Calls f(kind, offset, length) for every option other than EOL/NOP, offset counted from the
// start of the TCP header. Returns false when the option list is malformed (see above); f may
// already have been called for earlier options then.
template <class F>
inline bool for_each_tcp_option(const uint8_t* tcp, unsigned header_len, F&& f) {
    if (header_len < tcp_min_header_len || header_len > tcp_max_header_len) return false;
    unsigned i = tcp_min_header_len;
    while (i < header_len) {
        const uint8_t kind = tcp[i];
        if (kind == tcp_option::eol) break;
        if (kind == tcp_option::nop) {
            ++i;
            continue;
        }
        if (i + 1 >= header_len) return false;
        const unsigned len = tcp[i + 1];
        if (len < 2 || i + len > header_len) return false;
        bool size_ok = true;
        switch (kind) {
            case tcp_option::mss:
                size_ok = len == tcp_option::mss_len;
                break;
            case tcp_option::wscale:
                size_ok = len == tcp_option::wscale_len;
                break;
            case tcp_option::sack_perm:
                size_ok = len == tcp_option::sack_perm_len;
                break;
            case tcp_option::timestamp:
                size_ok = len == tcp_option::timestamp_len;
                break;
            case tcp_option::sack:
                size_ok = len > 2 && (len - 2) % tcp_option::sack_block_len == 0 &&
                          (len - 2) / tcp_option::sack_block_len <= tcp_option::sack_max_blocks;
                break;
            default:
                break;
        }
        if (!size_ok) return false;
        f(kind, i, len);
        i += len;
    }
    return true;
}

// Fills `out` (reset to defaults first) from the options of the TCP header at `tcp` whose data
// offset is `header_len` bytes. Returns false when the options are malformed.
inline bool parse_tcp_options(const uint8_t* tcp, unsigned header_len, syn_options& out) {
    out = syn_options{};
    return for_each_tcp_option(tcp, header_len, [&](uint8_t kind, unsigned off, unsigned) {
        const uint8_t* o = tcp + off;
        switch (kind) {
            case tcp_option::mss:
                out.mss = load_be16(o + 2);
                break;
            case tcp_option::wscale:
                out.wscale = o[2] > tcp_option::max_wscale ? tcp_option::max_wscale : o[2];
                break;
            case tcp_option::sack_perm:
                out.sack_ok = true;
                break;
            case tcp_option::timestamp:
                out.timestamps = true;
                out.tsval = load_be32(o + 2);
                out.tsecr = load_be32(o + 6);
                break;
            default:
                break;
        }
    });
}

// Offset of the first option of `kind` (its kind byte), -1 when absent or the list is malformed.
inline int find_tcp_option(const uint8_t* tcp, unsigned header_len, uint8_t kind,
                           unsigned& length) {
    int found = -1;
    unsigned found_len = 0;
    const bool ok =
        for_each_tcp_option(tcp, header_len, [&](uint8_t k, unsigned off, unsigned len) {
            if (k == kind && found < 0) {
                found = int(off);
                found_len = len;
            }
        });
    if (!ok || found < 0) return -1;
    length = found_len;
    return found;
}

// Offset of the timestamp option's kind byte (TSval at +2, TSecr at +6), or -1.
inline int find_timestamp_option(const uint8_t* tcp, unsigned header_len) {
    unsigned len = 0;
    return find_tcp_option(tcp, header_len, tcp_option::timestamp, len);
}

// Offset of the SACK option's kind byte (blocks of two 32-bit edges from +2), or -1. On success
// `length` is the option's length byte (2 + 8 × blocks).
inline int find_sack_option(const uint8_t* tcp, unsigned header_len, unsigned& length) {
    return find_tcp_option(tcp, header_len, tcp_option::sack, length);
}

// Lowers the MSS option of the TCP header at `tcp` (data offset `header_len`) to `clamp` when it
// is larger, updating the TCP checksum incrementally (RFC 1624); true when it changed. A header
// without an MSS option, or with malformed options, is left alone (the receiver then assumes 536,
// or refuses the segment itself). Any thread.
inline bool clamp_mss(uint8_t* tcp, unsigned header_len, uint16_t clamp) {
    unsigned length = 0;
    const int off = find_tcp_option(tcp, header_len, tcp_option::mss, length);
    if (off < 0) return false;
    uint8_t* value = tcp + off + 2;
    const uint16_t old_mss = load_be16(value);
    if (old_mss <= clamp) return false;
    // The checksum sums 16-bit words from the header's start: a value at an odd offset straddles
    // two words, which the one's-complement sum sees as the byte-swapped value.
    uint8_t old_bytes[2] = {value[0], value[1]};
    store_be16(value, clamp);
    uint16_t old_word, new_word;
    if ((off & 1) == 0) {
        std::memcpy(&old_word, old_bytes, 2);
        std::memcpy(&new_word, value, 2);
    } else {
        const uint8_t old_swapped[2] = {old_bytes[1], old_bytes[0]};
        const uint8_t new_swapped[2] = {value[1], value[0]};
        std::memcpy(&old_word, old_swapped, 2);
        std::memcpy(&new_word, new_swapped, 2);
    }
    uint16_t csum;
    std::memcpy(&csum, tcp + tcp_csum, 2);
    csum = checksum_update16(csum, old_word, new_word);
    std::memcpy(tcp + tcp_csum, &csum, 2);
    return true;
}

}  // namespace sluice::packet

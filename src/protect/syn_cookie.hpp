#pragma once
// SYN cookies: the SYN proxy answers a client's SYN without keeping state by encoding what it
// must remember into the SYN-ACK's sequence number (the cookie) and, when the client uses
// timestamps, into the SYN-ACK's TSval. The client's ACK returns both (ack = cookie + 1,
// TSecr = our TSval), and the proxy rebuilds the handshake from them.
//
// Cookie (Linux's layout, our own MAC):
//
//   cookie = H1(tuple) + client_isn + (period << 24) + ((H2(tuple, period) + mss_index) & 0xffffff)
//
// H1 and H2 are SipHash-2-4 under the master key over the client's tuple (family, source and
// destination address as 16 bytes each, source and destination port), each with its own domain
// constant; H2 also hashes the period. H1 hides the tuple-independent parts; the low 24 bits
// carry H2 + mss_index, so validation recovers the period from the top 8 bits, recomputes H2 and
// needs the 22 bits above the 2-bit index to come out zero: a forged ACK for a known period
// passes with probability 2^-22.
//
// Time: period = seconds / 64 on whatever clock the caller keeps (the same on every worker). The
// key never changes; hashing the period into H2 rotates the effective secret every period. A
// cookie made in period p is accepted in periods p and p + 1 only, so it is valid for 64 to
// 128 seconds after the SYN-ACK left; periods are compared modulo 256 (8 bits in the cookie).
//
// What survives the round trip through the client:
//   - MSS: always, as an index into cookie_mss_v4 / cookie_mss_v6 (the largest entry not above
//     the client's MSS).
//   - Window scale and SACK-permitted: only when the client sent the timestamp option. They ride
//     in the low 6 bits of our SYN-ACK's TSval (encode_cookie_tsval) and come back in the ACK's
//     TSecr (decode_cookie_tsecr). Without client timestamps the SYN-ACK must not offer window
//     scaling or SACK: there is nowhere to remember them.
//   - Timestamps themselves: the ACK carries the TS option iff the client sent it in the SYN.
// TSval layout: bits 0..3 the client's window scale (0xf: none), bit 4 SACK-permitted, bit 5
// reserved (0), bits 6..31 the caller's millisecond clock.
//
// Threads: a syn_cookie_secret is immutable after construction and read by any thread; the
// functions are pure, allocation-free and callable per packet from any lcore.
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "flow/flow_key.hpp"
#include "packet/tcp_options.hpp"
#include "protect/siphash.hpp"

namespace sluice::protect {

using packet::syn_options;

inline constexpr uint32_t cookie_period_seconds = 64;  // period = seconds / 64

inline constexpr std::array<uint16_t, 4> cookie_mss_v4 = {536, 1300, 1440, 1460};
inline constexpr std::array<uint16_t, 4> cookie_mss_v6 = {1220, 1280, 1440, 1460};

// The 128-bit master key the cookies are MACed with. Created once at start (control thread).
class syn_cookie_secret {
public:
    explicit syn_cookie_secret(std::span<const uint8_t, 16> key)
        : key_(siphash_key_from_bytes(key.data())) {}

    // 16 bytes from getrandom(2); throws std::system_error if the kernel refuses (startup only).
    static syn_cookie_secret random();

    const siphash_key& key() const { return key_; }

private:
    siphash_key key_;
};

// Index of the largest table entry <= client_mss (0 when none); family 4 or 6.
unsigned cookie_mss_index(uint16_t client_mss, uint8_t family);

// The ISN of our SYN-ACK. `client_key` is the tuple as the client sent it (src = client,
// dst = VIP); `mss_index` < 4 (higher bits are ignored).
uint32_t make_syn_cookie(const syn_cookie_secret& secret, const flow::flow_key& client_key,
                         uint32_t client_isn, uint32_t period, unsigned mss_index);

// Validates the client's ACK: `ack_number` is its acknowledgement number (cookie + 1),
// `client_seq` its sequence number (client_isn + 1). Returns the MSS index, or nullopt when the
// cookie is forged, for another tuple, or older than one period.
std::optional<unsigned> check_syn_cookie(const syn_cookie_secret& secret,
                                         const flow::flow_key& client_key, uint32_t client_seq,
                                         uint32_t ack_number, uint32_t now_period);

// Our SYN-ACK's TSval: `now_ms` with the low 6 bits replaced by the client's window scale and
// SACK-permitted, never above now_ms (mod 2^32) so our clock does not run ahead. Call only when
// the client sent timestamps.
uint32_t encode_cookie_tsval(uint32_t now_ms, const syn_options& client);

// The client's SYN options rebuilt from the ACK's TSecr (our TSval echoed): wscale, sack_ok,
// timestamps = true, and tsecr = the argument (our SYN-ACK's TSval, from which later timestamp
// translation starts). mss is left at its default: the caller takes it from the cookie's index;
// tsval is left 0: the caller takes the ACK's TSval. Call only when the ACK carries the TS option
// (without it, the client offered neither window scaling nor SACK).
syn_options decode_cookie_tsecr(uint32_t tsecr);

// The ISN of the proxy's SYN towards a backend, RFC 6528: F(tuple, key) + a 4 µs clock, with F
// SipHash-2-4 of the tuple (src = the LB's local address and port, dst = the backend's) under
// the master key in its own domain. Full-NAT reuses a tuple for successive connections; the ISN
// then grows with the clock, so a backend still in TIME_WAIT for the previous connection on the
// tuple accepts the new SYN (Linux: tcp_timewait_state_process wants seq after rcv_nxt).
uint32_t backend_isn(const syn_cookie_secret& secret, const flow::flow_key& tuple,
                     uint32_t clock_4us);

}  // namespace sluice::protect

// SYN cookie arithmetic (see syn_cookie.hpp). Pure, allocation-free; any thread.
#include "protect/syn_cookie.hpp"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace sluice::protect {

namespace {

constexpr unsigned period_shift = 24;
constexpr uint32_t low_mask = (1u << period_shift) - 1;  // H2 + mss_index
constexpr uint32_t index_mask = 3;                       // 2-bit MSS index
constexpr uint32_t max_age = 1;                          // periods p and p + 1

// Domain constants keep H1 and H2 independent functions of the same tuple.
constexpr uint8_t domain_h1 = 0xc1;
constexpr uint8_t domain_h2 = 0xc2;
constexpr uint8_t domain_backend_isn = 0xc3;

// Message: src[16] dst[16] sport(be) dport(be) family domain 0 0 | period(le) 0 0 0 0.
// H1 hashes the first 40 bytes, H2 all 48. A v4 address uses only its first 4 bytes.
struct tuple_message {
    uint8_t bytes[48];

    tuple_message(const flow::flow_key& k, uint8_t domain, uint32_t period) {
        std::memset(bytes, 0, sizeof bytes);
        const size_t alen = k.family == 4 ? 4 : 16;
        std::memcpy(bytes, k.src, alen);
        std::memcpy(bytes + 16, k.dst, alen);
        packet::store_be16(bytes + 32, k.src_port);
        packet::store_be16(bytes + 34, k.dst_port);
        bytes[36] = k.family;
        bytes[37] = domain;
        bytes[40] = uint8_t(period);
        bytes[41] = uint8_t(period >> 8);
        bytes[42] = uint8_t(period >> 16);
        bytes[43] = uint8_t(period >> 24);
    }
};

uint32_t hash1(const syn_cookie_secret& s, const flow::flow_key& k) {
    const tuple_message m(k, domain_h1, 0);
    return uint32_t(siphash24(s.key(), m.bytes, 40));
}

uint32_t hash2(const syn_cookie_secret& s, const flow::flow_key& k, uint32_t period) {
    const tuple_message m(k, domain_h2, period);
    return uint32_t(siphash24(s.key(), m.bytes, 48));
}

constexpr unsigned ts_option_bits = 6;
constexpr uint32_t ts_option_mask = (1u << ts_option_bits) - 1;
constexpr uint32_t ts_wscale_mask = 0xf;  // 0xf: the client sent no window scale
constexpr uint32_t ts_sack_bit = 1u << 4;

}  // namespace

syn_cookie_secret syn_cookie_secret::random() {
    uint8_t key[16];
    size_t got = 0;
    while (got < sizeof key) {
        const ssize_t n = getrandom(key + got, sizeof key - got, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "getrandom");
        }
        got += size_t(n);
    }
    return syn_cookie_secret(std::span<const uint8_t, 16>(key));
}

unsigned cookie_mss_index(uint16_t client_mss, uint8_t family) {
    const auto& table = family == 6 ? cookie_mss_v6 : cookie_mss_v4;
    unsigned index = 0;
    for (unsigned i = 1; i < table.size(); ++i)
        if (table[i] <= client_mss) index = i;
    return index;
}

uint32_t make_syn_cookie(const syn_cookie_secret& secret, const flow::flow_key& client_key,
                         uint32_t client_isn, uint32_t period, unsigned mss_index) {
    const uint32_t mac = (hash2(secret, client_key, period) + (mss_index & index_mask)) & low_mask;
    return hash1(secret, client_key) + client_isn + (period << period_shift) + mac;
}

std::optional<unsigned> check_syn_cookie(const syn_cookie_secret& secret,
                                         const flow::flow_key& client_key, uint32_t client_seq,
                                         uint32_t ack_number, uint32_t now_period) {
    const uint32_t cookie = ack_number - 1;
    const uint32_t client_isn = client_seq - 1;
    // What is left is exactly (period << 24) + low 24 bits: the low part never carries.
    const uint32_t rest = cookie - hash1(secret, client_key) - client_isn;
    const uint32_t age = (now_period - (rest >> period_shift)) & (0xffffffffu >> period_shift);
    if (age > max_age) return std::nullopt;
    const uint32_t index = (rest - hash2(secret, client_key, now_period - age)) & low_mask;
    if (index > index_mask) return std::nullopt;  // the 22 MAC bits above the index must be 0
    return index;
}

uint32_t encode_cookie_tsval(uint32_t now_ms, const syn_options& client) {
    uint32_t options = ts_wscale_mask;
    if (client.wscale != packet::no_wscale)
        options = std::min<uint32_t>(client.wscale, packet::tcp_option::max_wscale);
    if (client.sack_ok) options |= ts_sack_bit;
    uint32_t tsval = (now_ms & ~ts_option_mask) | options;
    // Stay at or behind now_ms (serial arithmetic) so the next TSval we send is not older.
    if (int32_t(tsval - now_ms) > 0) tsval -= 1u << ts_option_bits;
    return tsval;
}

syn_options decode_cookie_tsecr(uint32_t tsecr) {
    syn_options out;
    const uint32_t wscale = tsecr & ts_wscale_mask;
    // 15 means "none"; 0..14 are shifts (a forged 15 can only mean none).
    out.wscale = wscale == ts_wscale_mask ? packet::no_wscale : uint8_t(wscale);
    out.sack_ok = (tsecr & ts_sack_bit) != 0;
    out.timestamps = true;
    out.tsecr = tsecr;
    return out;
}

uint32_t backend_isn(const syn_cookie_secret& secret, const flow::flow_key& tuple,
                     uint32_t clock_4us) {
    const tuple_message m(tuple, domain_backend_isn, 0);
    return uint32_t(siphash24(secret.key(), m.bytes, 40)) + clock_4us;
}

}  // namespace sluice::protect

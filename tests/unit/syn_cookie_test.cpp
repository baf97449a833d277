// Unit tests for src/protect/siphash.hpp and syn_cookie.hpp: SipHash-2-4 against the reference
// vectors; cookies round-trip for both families and every MSS index, and are refused for another
// secret, a stale period, or any change of tuple, client sequence or acknowledgement number;
// the TSval carries window scale and SACK-permitted through the client.
#include "protect/syn_cookie.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "protect/siphash.hpp"

using namespace sluice::protect;
using sluice::flow::flow_key;
using sluice::packet::no_wscale;

namespace {

// SipHash-2-4 reference vectors (the paper's appendix and the reference implementation's
// vectors.h): key 00 01 .. 0f, message 00 01 .. (n - 1) for n = 0..63.
constexpr uint64_t siphash_vectors[64] = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

std::array<uint8_t, 16> counting_bytes(uint8_t first = 0) {
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(first + i);
    return b;
}

const syn_cookie_secret& test_secret() {
    static const syn_cookie_secret secret(counting_bytes(0x40));
    return secret;
}

flow_key client_v4() {
    flow_key k;
    std::memset(&k, 0, sizeof k);
    const uint8_t src[4] = {198, 18, 0, 10}, dst[4] = {198, 18, 1, 1};
    std::memcpy(k.src, src, 4);
    std::memcpy(k.dst, dst, 4);
    k.src_port = 40000;
    k.dst_port = 80;
    k.protocol = 6;
    k.family = 4;
    return k;
}

flow_key client_v6() {
    flow_key k;
    std::memset(&k, 0, sizeof k);
    const uint8_t src[16] = {0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    const uint8_t dst[16] = {0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01};
    std::memcpy(k.src, src, 16);
    std::memcpy(k.dst, dst, 16);
    k.src_port = 51234;
    k.dst_port = 443;
    k.protocol = 6;
    k.family = 6;
    return k;
}

// The client's ACK for our SYN-ACK: seq = isn + 1, ack = cookie + 1.
std::optional<unsigned> ack_back(const syn_cookie_secret& secret, const flow_key& k, uint32_t isn,
                                 uint32_t cookie, uint32_t now_period) {
    return check_syn_cookie(secret, k, isn + 1, cookie + 1, now_period);
}

}  // namespace

// ---- SipHash ---------------------------------------------------------------------------------

TEST_CASE("siphash24 matches all 64 reference vectors, incl. the paper's 15-byte example") {
    const auto key_bytes = counting_bytes();
    const siphash_key key = siphash_key_from_bytes(key_bytes.data());
    uint8_t message[64];
    for (unsigned i = 0; i < 64; ++i) message[i] = uint8_t(i);
    for (unsigned n = 0; n < 64; ++n) {
        CAPTURE(n);
        CHECK(siphash24(key, message, n) == siphash_vectors[n]);
    }
    CHECK(siphash24(key, message, 15) == 0xa129ca6149be45e5ull);  // SipHash paper, appendix A
}

// ---- MSS table -------------------------------------------------------------------------------

TEST_CASE("cookie_mss_index picks the largest table entry not above the client's MSS") {
    CHECK(cookie_mss_index(1460, 4) == 3);
    CHECK(cookie_mss_index(9000, 4) == 3);
    CHECK(cookie_mss_index(1459, 4) == 2);
    CHECK(cookie_mss_index(1300, 4) == 1);
    CHECK(cookie_mss_index(1299, 4) == 0);
    CHECK(cookie_mss_index(100, 4) == 0);  // below every entry: index 0
    CHECK(cookie_mss_index(1280, 6) == 1);
    CHECK(cookie_mss_index(1220, 6) == 0);
    CHECK(cookie_mss_index(1440, 6) == 2);
    CHECK(cookie_mss_index(0, 6) == 0);
}

// ---- cookies ---------------------------------------------------------------------------------

TEST_CASE("a cookie round-trips for IPv4 and IPv6 and returns each of the 4 MSS indexes") {
    for (const flow_key& k : {client_v4(), client_v6()}) {
        for (unsigned index = 0; index < 4; ++index) {
            for (uint32_t isn : {0u, 1u, 0x7fffffffu, 0xffffffffu, 0x12345678u}) {
                CAPTURE(int(k.family));
                CAPTURE(index);
                CAPTURE(isn);
                const uint32_t cookie = make_syn_cookie(test_secret(), k, isn, 1000, index);
                const auto got = ack_back(test_secret(), k, isn, cookie, 1000);
                REQUIRE(got.has_value());
                CHECK(*got == index);
            }
        }
    }
}

TEST_CASE("a cookie made with one secret is refused under another") {
    const syn_cookie_secret other(counting_bytes(0x41));
    const auto k = client_v4();
    for (unsigned index = 0; index < 4; ++index) {
        const uint32_t cookie = make_syn_cookie(test_secret(), k, 777, 50, index);
        CHECK_FALSE(ack_back(other, k, 777, cookie, 50).has_value());
    }
    const syn_cookie_secret r1 = syn_cookie_secret::random(), r2 = syn_cookie_secret::random();
    const uint32_t cookie = make_syn_cookie(r1, k, 777, 50, 2);
    CHECK(ack_back(r1, k, 777, cookie, 50) == 2u);
    CHECK_FALSE(ack_back(r2, k, 777, cookie, 50).has_value());
}

TEST_CASE("a cookie is accepted in its own period and the next, refused from age 2 on") {
    const auto k = client_v6();
    for (uint32_t period : {0u, 255u, 256u, 1000u, 0xfffffffeu}) {
        CAPTURE(period);
        const uint32_t cookie = make_syn_cookie(test_secret(), k, 42, period, 3);
        CHECK(ack_back(test_secret(), k, 42, cookie, period) == 3u);
        CHECK(ack_back(test_secret(), k, 42, cookie, period + 1) == 3u);
        for (uint32_t age : {2u, 3u, 100u, 255u, 256u, 257u})
            CHECK_FALSE(ack_back(test_secret(), k, 42, cookie, period + age).has_value());
        CHECK_FALSE(ack_back(test_secret(), k, 42, cookie, period - 1).has_value());  // future
    }
}

TEST_CASE("a cookie is refused when any tuple field, the client seq or the ack number changes") {
    for (const flow_key& good : {client_v4(), client_v6()}) {
        CAPTURE(int(good.family));
        const uint32_t isn = 0xdeadbeef;
        const uint32_t cookie = make_syn_cookie(test_secret(), good, isn, 77, 1);
        REQUIRE(ack_back(test_secret(), good, isn, cookie, 77) == 1u);
        const size_t alen = good.family == 4 ? 4 : 16;
        for (size_t i = 0; i < alen; ++i) {
            CAPTURE(i);
            flow_key k = good;
            k.src[i] ^= 0x01;
            CHECK_FALSE(ack_back(test_secret(), k, isn, cookie, 77).has_value());
            k = good;
            k.dst[i] ^= 0x80;
            CHECK_FALSE(ack_back(test_secret(), k, isn, cookie, 77).has_value());
        }
        flow_key k = good;
        k.src_port ^= 1;
        CHECK_FALSE(ack_back(test_secret(), k, isn, cookie, 77).has_value());
        k = good;
        k.dst_port ^= 0x100;
        CHECK_FALSE(ack_back(test_secret(), k, isn, cookie, 77).has_value());
        k = good;
        k.family = good.family == 4 ? 6 : 4;
        CHECK_FALSE(ack_back(test_secret(), k, isn, cookie, 77).has_value());
        // Client sequence number and acknowledgement number: every single-bit change above the
        // 2-bit index (bits 0..1 are the next test's subject), and whole-cookie swaps.
        for (unsigned bit = 2; bit < 32; ++bit) {
            CAPTURE(bit);
            CHECK_FALSE(
                check_syn_cookie(test_secret(), good, (isn + 1) ^ (1u << bit), cookie + 1, 77)
                    .has_value());
            CHECK_FALSE(
                check_syn_cookie(test_secret(), good, isn + 1, (cookie + 1) ^ (1u << bit), 77)
                    .has_value());
        }
        CHECK_FALSE(ack_back(test_secret(), good, isn, cookie + 4, 77).has_value());
        CHECK_FALSE(ack_back(test_secret(), good, isn - 4, cookie, 77).has_value());
        CHECK_FALSE(ack_back(test_secret(), good, isn, ~cookie, 77).has_value());
        CHECK_FALSE(ack_back(test_secret(), good, isn, cookie ^ 0x00ffff00, 77).has_value());
    }
}

TEST_CASE("seq/ack changes below 4 can only move the MSS index inside 0..3 (index not MACed)") {
    // As in Linux, the index is added to the MAC, not covered by it: whoever saw our SYN-ACK may
    // pick another of the 4 MSS values, which a client can do anyway with its SYN's MSS option.
    // Stepping out of 0..3 breaks the 22 MAC bits.
    const auto k = client_v4();
    const uint32_t isn = 5;
    const uint32_t c0 = make_syn_cookie(test_secret(), k, isn, 9, 0);
    CHECK(ack_back(test_secret(), k, isn, c0 + 3, 9) == 3u);
    CHECK(ack_back(test_secret(), k, isn - 2, c0, 9) == 2u);
    CHECK_FALSE(ack_back(test_secret(), k, isn, c0 - 1, 9).has_value());
    CHECK_FALSE(ack_back(test_secret(), k, isn + 1, c0, 9).has_value());
    const uint32_t c3 = make_syn_cookie(test_secret(), k, isn, 9, 3);
    CHECK_FALSE(ack_back(test_secret(), k, isn, c3 + 1, 9).has_value());
    CHECK_FALSE(ack_back(test_secret(), k, isn - 1, c3, 9).has_value());
}

TEST_CASE("a v4 key's unused address bytes do not enter the cookie") {
    const auto good = client_v4();
    flow_key k = good;
    k.src[8] = 0xaa;
    k.dst[15] = 0x55;
    const uint32_t cookie = make_syn_cookie(test_secret(), good, 9, 3, 0);
    CHECK(ack_back(test_secret(), k, 9, cookie, 3) == 0u);
}

TEST_CASE("distinct tuples get distinct cookies (no structure an attacker could use)") {
    flow_key k = client_v4();
    const uint32_t a = make_syn_cookie(test_secret(), k, 1, 5, 0);
    k.src_port = uint16_t(k.src_port + 1);
    const uint32_t b = make_syn_cookie(test_secret(), k, 1, 5, 0);
    CHECK(a != b);
    CHECK(((a ^ b) & 0xffffff) != 0);
}

// ---- timestamps ------------------------------------------------------------------------------

TEST_CASE("wscale and SACK-permitted survive the TSval/TSecr round trip, incl. no window scale") {
    for (uint8_t wscale : {uint8_t(0), uint8_t(7), uint8_t(14), no_wscale}) {
        for (bool sack : {false, true}) {
            for (uint32_t now : {0u, 63u, 64u, 1000u, 0xffffffffu, 0x12345678u}) {
                CAPTURE(int(wscale));
                CAPTURE(sack);
                CAPTURE(now);
                syn_options client;
                client.wscale = wscale;
                client.sack_ok = sack;
                client.timestamps = true;
                const uint32_t tsval = encode_cookie_tsval(now, client);
                CHECK(int32_t(now - tsval) >= 0);  // never ahead of the clock
                CHECK(now - tsval < 64);
                CHECK((tsval & 0x20) == 0);  // reserved bit
                const syn_options back = decode_cookie_tsecr(tsval);
                CHECK(back.wscale == wscale);
                CHECK(back.sack_ok == sack);
                CHECK(back.timestamps);
                CHECK(back.tsecr == tsval);
            }
        }
    }
}

TEST_CASE("a window scale above 14 is carried as 14 (RFC 7323 section 2.3)") {
    syn_options client;
    client.wscale = 15;
    client.timestamps = true;
    CHECK(decode_cookie_tsecr(encode_cookie_tsval(5000, client)).wscale == 14);
}

TEST_CASE("backend_isn is F(tuple) plus the 4 us clock: it grows on one tuple, differs across") {
    // RFC 6528: a reused full-NAT tuple gets a larger ISN later; another tuple another offset.
    const flow_key tuple = client_v4();
    flow_key other = tuple;
    other.src_port = uint16_t(tuple.src_port + 1);
    const uint32_t at_0 = backend_isn(test_secret(), tuple, 0);
    CHECK(backend_isn(test_secret(), tuple, 250000) == at_0 + 250000);  // one second later
    CHECK(backend_isn(test_secret(), tuple, 0) == at_0);                // a function of the tuple
    CHECK(backend_isn(test_secret(), other, 0) != at_0);
    const syn_cookie_secret another(counting_bytes(0x80));
    CHECK(backend_isn(another, tuple, 0) != at_0);
    // Not the cookie's hash of the same bytes (its own domain).
    CHECK(backend_isn(test_secret(), tuple, 0) != make_syn_cookie(test_secret(), tuple, 0, 0, 0));
}

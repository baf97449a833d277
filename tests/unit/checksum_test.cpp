// Unit tests for src/packet/checksum.hpp and rewrite.hpp: incremental checksum updates and the
// full-NAT rewrite always agree with a full RFC 1071 recomputation (frame_builder.hpp).
#include "packet/checksum.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "frame_builder.hpp"
#include "packet/rewrite.hpp"

using sluice::address_family;
using sluice::drop_reason;
using sluice::drop_reason_name;
using sluice::packet::nat_target;
using sluice::packet::parsed_frame;
using sluice::packet::rewrite_full_nat;
using namespace sluice::test;

namespace {

uint16_t random16(std::mt19937& rng) {
    // A quarter of the draws are the one's-complement corner values.
    switch (rng() % 8) {
        case 0:
            return 0x0000;
        case 1:
            return 0xffff;
        default:
            return uint16_t(rng());
    }
}

bytes random_bytes(std::mt19937& rng, size_t n) {
    bytes b(n);
    for (auto& x : b) x = uint8_t(rng());
    return b;
}

// The checksum as stored by the code under test, read as a big-endian value.
uint16_t stored(const uint8_t* p) {
    return uint16_t(p[0] << 8 | p[1]);
}

std::array<uint8_t, 16> random_address(std::mt19937& rng, address_family family) {
    std::array<uint8_t, 16> a{};
    for (size_t i = 0; i < (family == address_family::ipv4 ? 4u : 16u); ++i) a[i] = uint8_t(rng());
    return a;
}

frame_spec random_spec(std::mt19937& rng, address_family family, uint8_t protocol) {
    frame_spec s;
    s.family = family;
    s.protocol = protocol;
    s.src = random_address(rng, family);
    s.dst = random_address(rng, family);
    s.src_port = uint16_t(rng());
    s.dst_port = uint16_t(rng());
    s.ttl = uint8_t(2 + rng() % 254);
    s.tcp_flags = uint8_t(rng());
    if (family == address_family::ipv4) s.ip_options = random_bytes(rng, 4 * (rng() % 11));
    if (protocol == 6) s.tcp_options = random_bytes(rng, 4 * (rng() % 11));
    s.payload = random_bytes(rng, rng() % 301);  // odd lengths included
    s.trailer = rng() % 4 == 0 ? rng() % 20 : 0;
    return s;
}

parsed_frame layout_of(const frame_spec& s) {
    parsed_frame p;
    p.kind = sluice::packet::frame_kind::ip_l4;
    p.family = s.family;
    p.protocol = s.protocol;
    p.l3_offset = uint16_t(eth_len);
    p.l4_offset = uint16_t(l4_offset(s));
    return p;
}

// The spec of the frame a correct rewrite produces.
frame_spec rewritten(frame_spec s, const std::array<uint8_t, 16>& src,
                     const std::array<uint8_t, 16>& dst, uint16_t sport, uint16_t dport) {
    s.src = src;
    s.dst = dst;
    s.src_port = sport;
    s.dst_port = dport;
    s.ttl = uint8_t(s.ttl - 1);
    return s;
}

size_t l4_checksum_offset(const frame_spec& s) {
    return l4_offset(s) + (s.protocol == 6 ? 16 : 6);
}

// Rewrites a frame built from `s` with random targets and checks it against a fresh build.
void check_random_rewrite(std::mt19937& rng, frame_spec s) {
    bytes f = build_frame(s);
    const auto src = random_address(rng, s.family), dst = random_address(rng, s.family);
    const uint16_t sport = uint16_t(rng()), dport = uint16_t(rng());
    const frame_spec want_spec = rewritten(s, src, dst, sport, dport);
    const bytes want = build_frame(want_spec);
    const nat_target t{src.data(), dst.data(), sport, dport};

    REQUIRE(rewrite_full_nat(f.data(), layout_of(s), t) == drop_reason::none);

    const size_t alen = s.family == address_family::ipv4 ? 4 : 16;
    const size_t src_off = eth_len + (s.family == address_family::ipv4 ? 12 : 8);
    const size_t ttl_off = eth_len + (s.family == address_family::ipv4 ? 8 : 7);
    CHECK(f[ttl_off] == s.ttl - 1);
    CHECK(std::equal(src.begin(), src.begin() + long(alen), f.begin() + long(src_off)));
    CHECK(std::equal(dst.begin(), dst.begin() + long(alen), f.begin() + long(src_off + alen)));
    CHECK(get16(f, l4_offset(s)) == sport);
    CHECK(get16(f, l4_offset(s) + 2) == dport);
    if (s.family == address_family::ipv4)
        CHECK(get16(f, eth_len + 10) == get16(want, eth_len + 10));
    CHECK(get16(f, l4_checksum_offset(s)) == get16(want, l4_checksum_offset(s)));
    CHECK(f == want);  // nothing else changed
}

}  // namespace

TEST_CASE("checksum_full equals the RFC 1071 reference for any length") {
    // Property: on random buffers of 0..300 bytes (odd included) checksum_full == reference.
    std::mt19937 rng(1071);
    for (int i = 0; i < 10000; ++i) {
        bytes b = random_bytes(rng, rng() % 301);
        if (rng() % 16 == 0) std::fill(b.begin(), b.end(), rng() % 2 ? 0xff : 0x00);
        uint8_t out[2];
        sluice::packet::store_raw16(out, sluice::packet::checksum_full(b.data(), b.size()));
        CAPTURE(b.size());
        REQUIRE(stored(out) == ones_checksum(b.data(), b.size()));
    }
}

TEST_CASE("a buffer carrying its own checksum folds to 0xffff") {
    // Property: verification accepts every checksummed buffer and rejects any one-word change.
    std::mt19937 rng(42);
    for (int i = 0; i < 10000; ++i) {
        bytes b = random_bytes(rng, 2 * (2 + rng() % 40));
        size_t c = 2 * (rng() % (b.size() / 2));
        put16(b, c, 0);
        put16(b, c, ones_checksum(b.data(), b.size()));
        using sluice::packet::checksum_fold;
        using sluice::packet::checksum_partial;
        REQUIRE(checksum_fold(checksum_partial(b.data(), b.size())) == 0xffff);
        size_t w = 2 * (rng() % (b.size() / 2));
        uint16_t old = get16(b, w), next = uint16_t(old + 1 + rng() % 0xfffe);
        // 0x0000 and 0xffff are the same one's-complement number.
        if ((old == 0 && next == 0xffff) || (old == 0xffff && next == 0)) continue;
        put16(b, w, next);
        REQUIRE(checksum_fold(checksum_partial(b.data(), b.size())) != 0xffff);
    }
}

TEST_CASE("checksum_update16 equals a full recomputation") {
    // Property: RFC 1624 update == full recomputation for 20000 random single-word changes.
    std::mt19937 rng(1624);
    for (int i = 0; i < 20000; ++i) {
        bytes b = random_bytes(rng, 2 * (3 + rng() % 60));
        // Word 0 stays a fixed non-zero word, like the protocol in a pseudo header: for data that
        // is all zero, 0 and 0xffff are the same one's-complement checksum and either may come out.
        put16(b, 0, 0x0006);
        const size_t words = b.size() / 2;
        const size_t c = 2 * (1 + rng() % (words - 1));
        size_t w = 2 * (1 + rng() % (words - 1));
        if (w == c) w = w + 2 < b.size() ? w + 2 : 2;
        put16(b, w, random16(rng));
        put16(b, c, 0);
        put16(b, c, ones_checksum(b.data(), b.size()));

        const uint16_t old_raw = sluice::packet::load_raw16(&b[w]);
        put16(b, w, random16(rng));
        const uint16_t new_raw = sluice::packet::load_raw16(&b[w]);
        const uint16_t updated =
            sluice::packet::checksum_update16(sluice::packet::load_raw16(&b[c]), old_raw, new_raw);

        put16(b, c, 0);
        const uint16_t want = ones_checksum(b.data(), b.size());
        uint8_t out[2];
        sluice::packet::store_raw16(out, updated);
        CAPTURE(i);
        REQUIRE(stored(out) == want);
    }
}

TEST_CASE("checksum_update over runs of bytes equals a full recomputation, also chained") {
    // Property: 1..8 chained updates of random 2..16-byte runs == full recomputation.
    std::mt19937 rng(8200);
    for (int i = 0; i < 10000; ++i) {
        bytes b = random_bytes(rng, 2 * (12 + rng() % 60));
        const size_t c = 0;  // checksum in the first word; runs start after it
        b.push_back(0x00);   // a fixed non-zero last word (see checksum_update16's test)
        b.push_back(0x11);
        put16(b, c, 0);
        put16(b, c, ones_checksum(b.data(), b.size()));
        uint16_t csum = sluice::packet::load_raw16(&b[c]);
        const int changes = 1 + int(rng() % 8);
        for (int k = 0; k < changes; ++k) {
            const size_t len = 2 * (1 + rng() % 8);
            const size_t off = 2 + 2 * (rng() % ((b.size() - 4 - len) / 2 + 1));
            bytes next(len);
            for (size_t j = 0; j < len; j += 2) {
                uint16_t v = random16(rng);
                next[j] = uint8_t(v >> 8);
                next[j + 1] = uint8_t(v);
            }
            csum = sluice::packet::checksum_update(csum, &b[off], next.data(), len);
            std::copy(next.begin(), next.end(), b.begin() + long(off));
        }
        put16(b, c, 0);
        uint8_t out[2];
        sluice::packet::store_raw16(out, csum);
        CAPTURE(i);
        REQUIRE(stored(out) == ones_checksum(b.data(), b.size()));
    }
}

TEST_CASE("rewrite_full_nat of random IPv4 TCP and UDP frames matches a fresh build") {
    // Property: the rewritten frame is byte-for-byte a fresh build with new addresses/ports, TTL-1.
    std::mt19937 rng(4);
    for (int i = 0; i < 10000; ++i) {
        CAPTURE(i);
        check_random_rewrite(rng, random_spec(rng, address_family::ipv4, i % 2 ? 6 : 17));
    }
}

TEST_CASE("rewrite_full_nat of random IPv6 TCP and UDP frames matches a fresh build") {
    // Property: as for IPv4, with the RFC 8200 pseudo header and the hop limit decremented.
    std::mt19937 rng(6);
    for (int i = 0; i < 10000; ++i) {
        CAPTURE(i);
        check_random_rewrite(rng, random_spec(rng, address_family::ipv6, i % 2 ? 6 : 17));
    }
}

TEST_CASE("an IPv4 UDP checksum of 0 (none) stays 0 through the rewrite") {
    // Property: random checksum-less IPv4 UDP frames keep checksum 0, everything else rewritten.
    std::mt19937 rng(768);
    for (int i = 0; i < 2000; ++i) {
        frame_spec s = random_spec(rng, address_family::ipv4, 17);
        s.udp_checksum = false;
        CAPTURE(i);
        check_random_rewrite(rng, s);
    }
}

TEST_CASE("a UDP checksum that computes to 0 is stored as 0xffff, before and after the rewrite") {
    // Property: a UDP checksum summing to zero is 0xffff after the rewrite, whatever came in.
    std::mt19937 rng(65535);
    for (int i = 0; i < 2000; ++i) {
        const auto family = i % 2 ? address_family::ipv4 : address_family::ipv6;
        frame_spec s = random_spec(rng, family, 17);
        s.payload.resize(std::max<size_t>(s.payload.size(), 2));
        s.payload[0] = s.payload[1] = 0;
        const auto src = random_address(rng, family), dst = random_address(rng, family);
        const uint16_t sport = uint16_t(rng()), dport = uint16_t(rng());
        const bool zero_after = i < 1000;

        // With the word at 0 the other words sum to ~c; adding c makes the sum 0xffff (-0).
        const frame_spec probe = zero_after ? rewritten(s, src, dst, sport, dport) : s;
        const uint16_t c = get16(build_frame(probe), l4_checksum_offset(s));
        const uint16_t x = c == 0xffff ? 0 : c;
        s.payload[0] = uint8_t(x >> 8);
        s.payload[1] = uint8_t(x);

        bytes f = build_frame(s);
        const bytes want = build_frame(rewritten(s, src, dst, sport, dport));
        if (zero_after) REQUIRE(get16(want, l4_checksum_offset(s)) == 0xffff);
        if (!zero_after) REQUIRE(get16(f, l4_checksum_offset(s)) == 0xffff);
        const nat_target t{src.data(), dst.data(), sport, dport};
        REQUIRE(rewrite_full_nat(f.data(), layout_of(s), t) == drop_reason::none);
        CAPTURE(i);
        CHECK(get16(f, l4_checksum_offset(s)) == get16(want, l4_checksum_offset(s)));
        CHECK(f == want);
    }
}

TEST_CASE("TTL or hop limit 1 or 0 is ttl_exceeded and leaves the frame untouched") {
    // Property: TTL 0 and 1 are refused with no byte changed; TTL 2 is rewritten to 1.
    std::mt19937 rng(1);
    for (auto family : {address_family::ipv4, address_family::ipv6}) {
        for (uint8_t protocol : {uint8_t(6), uint8_t(17)}) {
            for (uint8_t ttl : {uint8_t(0), uint8_t(1), uint8_t(2)}) {
                frame_spec s = random_spec(rng, family, protocol);
                s.ttl = ttl;
                bytes f = build_frame(s);
                const bytes before = f;
                const auto src = random_address(rng, family), dst = random_address(rng, family);
                const nat_target t{src.data(), dst.data(), 1, 2};
                drop_reason r = rewrite_full_nat(f.data(), layout_of(s), t);
                CAPTURE(int(ttl));
                if (ttl <= 1) {
                    CHECK(drop_reason_name(r) == "ttl_exceeded");
                    CHECK(f == before);
                } else {
                    CHECK(r == drop_reason::none);
                    CHECK(f == build_frame(rewritten(s, src, dst, 1, 2)));
                }
            }
        }
    }
}

namespace {

// l4_checksum_verifies over the segment of a frame built by frame_builder.hpp.
bool verifies(const bytes& f, const frame_spec& s) {
    const bool v4 = s.family == address_family::ipv4;
    const size_t l3 = eth_len, l4 = l4_offset(s);
    const size_t l4_len = f.size() - s.trailer - l4;
    return sluice::packet::l4_checksum_verifies(
        v4 ? 4 : 6, &f[l3 + (v4 ? 12 : 8)], &f[l3 + (v4 ? 16 : 24)], s.protocol, &f[l4], l4_len);
}

}  // namespace

TEST_CASE("l4_checksum_verifies is true for correct TCP and UDP segments, false after a flip") {
    // Property: a built segment verifies; flipping any one payload or address byte breaks it.
    std::mt19937 rng(1071);
    for (int i = 0; i < 4000; ++i) {
        const auto family = i % 2 ? address_family::ipv4 : address_family::ipv6;
        const uint8_t protocol = (i / 2) % 2 ? 6 : 17;
        frame_spec s = random_spec(rng, family, protocol);
        if (s.payload.empty()) s.payload.push_back(uint8_t(rng()));
        bytes f = build_frame(s);
        CAPTURE(i);
        REQUIRE(verifies(f, s));
        // A byte XOR 0xff changes its word by a non-zero amount below 0xffff: always detected.
        bytes payload_flipped = f;
        payload_flipped[l4_offset(s) + l4_header_len(s) + rng() % s.payload.size()] ^= 0xff;
        CHECK_FALSE(verifies(payload_flipped, s));
        bytes address_flipped = f;
        address_flipped[eth_len + (family == address_family::ipv4 ? 12 : 8) + rng() % 4] ^= 0xff;
        CHECK_FALSE(verifies(address_flipped, s));
    }
}

TEST_CASE("l4_checksum_verifies covers the protocol and the length in the pseudo-header") {
    frame_spec s;
    s.protocol = 17;
    s.payload = {1, 2, 3, 4, 5};
    bytes f = build_frame(s);
    const size_t l4 = l4_offset(s), l4_len = f.size() - l4;
    const uint8_t* src = &f[eth_len + 12];
    const uint8_t* dst = &f[eth_len + 16];
    CHECK(sluice::packet::l4_checksum_verifies(4, src, dst, 17, &f[l4], l4_len));
    CHECK_FALSE(sluice::packet::l4_checksum_verifies(4, src, dst, 6, &f[l4], l4_len));
    CHECK_FALSE(sluice::packet::l4_checksum_verifies(4, src, dst, 17, &f[l4], l4_len - 1));
}

TEST_CASE("l4_checksum_verifies has no exception for UDP checksum 0: callers check it first") {
    // The function only sums (its comment: the total must be 0xffff); a UDP checksum of 0
    // (IPv4 "none") verifies only in the one case where 0 and 0xffff coincide.
    std::mt19937 rng(768);
    int checked = 0;
    for (int i = 0; i < 200; ++i) {
        frame_spec s = random_spec(rng, address_family::ipv4, 17);
        const uint16_t real = get16(build_frame(s), l4_checksum_offset(s));
        s.udp_checksum = false;
        bytes f = build_frame(s);
        REQUIRE(get16(f, l4_checksum_offset(s)) == 0);
        CAPTURE(i);
        CHECK(verifies(f, s) == (real == 0xffff));
        checked += real != 0xffff;
    }
    CHECK(checked > 100);
}

TEST_CASE("l4_checksum_verifies accepts a UDP checksum that computes to 0, sent as 0xffff") {
    // RFC 768: a computed 0 is transmitted as all ones, which sums to 0xffff (-0) as well.
    std::mt19937 rng(769);
    for (int i = 0; i < 200; ++i) {
        const auto family = i % 2 ? address_family::ipv4 : address_family::ipv6;
        frame_spec s = random_spec(rng, family, 17);
        s.payload.resize(std::max<size_t>(s.payload.size(), 2));
        s.payload[0] = s.payload[1] = 0;
        const uint16_t c = get16(build_frame(s), l4_checksum_offset(s));
        const uint16_t x = c == 0xffff ? 0 : c;  // makes the sum over the segment 0xffff
        s.payload[0] = uint8_t(x >> 8);
        s.payload[1] = uint8_t(x);
        bytes f = build_frame(s);
        CAPTURE(i);
        REQUIRE(get16(f, l4_checksum_offset(s)) == 0xffff);
        CHECK(verifies(f, s));
    }
}

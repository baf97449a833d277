// Unit tests for src/packet/fragment.hpp (what a fragment says, which geometry is refused, which
// worker reassembles it) and for parse_frame over a datagram whose bytes continue past the
// first mbuf segment.
#include "packet/fragment.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "packet/parse.hpp"

using sluice::address_family;
using sluice::drop_reason;
using sluice::drop_reason_name;
using sluice::packet::fragment_owner;
using sluice::packet::fragment_view;
using sluice::packet::read_fragment;
using namespace sluice::test;

namespace doctest {
template <>
struct StringMaker<drop_reason> {
    static String convert(drop_reason r) {
        return String(std::string(drop_reason_name(r)).c_str());
    }
};
}  // namespace doctest

namespace {

// An IPv4 UDP (or TCP) frame with `payload` bytes of L4 data and the given flags/offset word.
bytes v4_fragment(uint16_t frag, size_t payload, uint8_t protocol = 17) {
    frame_spec s;
    s.protocol = protocol;
    s.frag = frag;
    s.payload = bytes(payload, 0xab);
    return build_frame(s);
}

// An IPv6 frame whose fragment header (next header `next`, offset/M word `frag`, id 0x01020304)
// directly follows the IPv6 header, carrying `data` bytes.
bytes v6_fragment(uint16_t frag, size_t data, uint8_t next = 17) {
    bytes f(14 + 40 + 8 + data, 0x5a);
    put16(f, 12, 0x86dd);
    f[14] = 0x60;
    put16(f, 18, uint16_t(8 + data));
    f[20] = 44;
    f[21] = 64;
    auto src = v6(0x2), dst = v6(0x10);
    for (size_t i = 0; i < 16; ++i) {
        f[22 + i] = src[i];
        f[38 + i] = dst[i];
    }
    f[54] = next;
    f[55] = 0;
    put16(f, 56, frag);
    put32(f, 58, 0x01020304);
    if (next == 6 && data >= 20) f[62 + 12] = 0x50;  // TCP data offset 5
    return f;
}

drop_reason read(const bytes& f, fragment_view& v) {
    return read_fragment(f.data(), uint32_t(f.size()), v);
}

}  // namespace

TEST_CASE("an IPv4 fragment's offset, length, flags and key are read") {
    // Property: read_fragment reports the fragment as its header states it.
    fragment_view v;
    REQUIRE(read(v4_fragment(0x2000 | 3, 16), v) == drop_reason::none);
    CHECK(v.family == 4);
    CHECK(v.protocol == 17);
    CHECK(v.more);
    CHECK(v.offset == 24);
    CHECK(v.payload_len == 24);  // UDP header + 16
    CHECK(v.header_len == 20);
    CHECK(v.id == 0x1234);
}

TEST_CASE("impossible IPv4 fragment geometry is bad_fragment") {
    // Property: no data, a non-last piece not a multiple of 8, data past 65535, a first piece
    // without the whole L4 header and a TCP piece at offset 8 are all refused.
    fragment_view v;
    CHECK(read(v4_fragment(0x2000 | 1, 1), v) == drop_reason::bad_fragment);  // 9 bytes, MF
    CHECK(read(v4_fragment(8190, 8), v) == drop_reason::bad_fragment);        // 65520 + 16
    CHECK(read(v4_fragment(8189, 8), v) == drop_reason::none);                // ends at 65528
    CHECK(read(v4_fragment(1, 8, 6), v) == drop_reason::bad_fragment);        // TCP at 8
    CHECK(read(v4_fragment(2, 8, 6), v) == drop_reason::none);                // TCP at 16
    bytes tiny = v4_fragment(0x2000, 0);  // a first fragment of 8 bytes: the UDP header only
    CHECK(read(tiny, v) == drop_reason::none);
    bytes tcp_tiny = v4_fragment(0x2000, 4, 6);  // TCP: 24 bytes, data offset 5: whole header
    CHECK(read(tcp_tiny, v) == drop_reason::none);
    tcp_tiny[14 + 20 + 12] = 0x80;  // data offset 8: 32 bytes, more than the fragment holds
    CHECK(read(tcp_tiny, v) == drop_reason::bad_fragment);
}

TEST_CASE("fragments Sluice does not reassemble keep the family's fragment reason") {
    // Property: not TCP/UDP, or an IPv6 fragment header behind another extension header.
    fragment_view v;
    CHECK(read(v4_fragment(0x2000, 16, 1), v) == drop_reason::ipv4_fragment);
    CHECK(read(v6_fragment(0x0001, 16, 58), v) == drop_reason::ipv6_fragment);
    bytes behind = v6_fragment(0x0001, 16);
    behind[20] = 0;  // hop-by-hop first
    CHECK(read(behind, v) == drop_reason::ipv6_fragment);
}

TEST_CASE("an IPv6 fragment's header is read; atomic fragments are refused") {
    // Property: offset, M flag, id and next header come from the fragment header.
    fragment_view v;
    REQUIRE(read(v6_fragment(1448 | 1, 1448), v) == drop_reason::none);
    CHECK(v.family == 6);
    CHECK(v.offset == 1448);
    CHECK(v.more);
    CHECK(v.payload_len == 1448);
    CHECK(v.header_len == 48);
    CHECK(v.id == 0x01020304);
    CHECK(read(v6_fragment(0, 16), v) == drop_reason::bad_fragment);  // atomic (RFC 8021)
    CHECK(read(v6_fragment(1, 4), v) == drop_reason::bad_fragment);   // first without UDP header
}

TEST_CASE("every fragment of a datagram names the same reassembling worker") {
    // Property: the owner depends on addresses, id and protocol, not on offset or length.
    fragment_view a, b;
    REQUIRE(read(v4_fragment(0x2000, 16), a) == drop_reason::none);
    REQUIRE(read(v4_fragment(3, 40), b) == drop_reason::none);
    const bytes fa = v4_fragment(0x2000, 16), fb = v4_fragment(3, 40);
    for (unsigned workers = 1; workers <= 8; ++workers) {
        const unsigned owner = fragment_owner(fa.data(), a, workers);
        CHECK(owner < workers);
        CHECK(owner == fragment_owner(fb.data(), b, workers));
    }
    // Different ids spread over the workers.
    std::vector<unsigned> seen(4, 0);
    for (uint32_t id = 0; id < 256; ++id) {
        a.id = id;
        ++seen[fragment_owner(fa.data(), a, 4)];
    }
    for (unsigned n : seen) CHECK(n > 16);
}

TEST_CASE("parse_frame reads headers from the first segment, lengths from the whole datagram") {
    // Property: a reassembled datagram (contiguous < len) parses when its headers are in the
    // first segment and is refused when its L4 header is not.
    frame_spec s;
    s.protocol = 17;
    s.payload = bytes(3000, 1);
    const bytes f = build_frame(s);
    sluice::packet::parsed_frame p;
    CHECK(sluice::packet::parse_frame(f.data(), 1514, uint32_t(f.size()), p) == drop_reason::none);
    CHECK(p.l3_length == 20 + 8 + 3000);
    CHECK(p.l4_length == 8 + 3000);
    CHECK(sluice::packet::parse_frame(f.data(), 14 + 20 + 4, uint32_t(f.size()), p) ==
          drop_reason::truncated_udp);
    // Without the split, the same length is beyond the frame.
    CHECK(sluice::packet::parse_frame(f.data(), 1514, p) == drop_reason::bad_ipv4_total_length);
}

// Unit tests for src/packet/nat64.hpp and icmp_family.hpp: header translation between IPv4 and
// IPv6 gives, from the Ethernet type on, exactly the frame frame_builder.hpp builds in the other
// family (checksums summed from scratch there), and the ICMP type/code/pointer/MTU maps follow
// RFC 7915's tables.
#include "packet/nat64.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "frame_builder.hpp"
#include "packet/icmp_family.hpp"

using sluice::address_family;
using sluice::drop_reason;
using namespace sluice::packet;
using namespace sluice::test;

namespace {

constexpr size_t headroom = 64;

struct translated {
    bytes frame;  // from the frame's new start
    drop_reason result;
};

// Translates `in` (built by frame_builder) with target addresses/ports of `out`'s spec.
translated translate(const frame_spec& in, const frame_spec& out, uint16_t id) {
    const bytes f = build_frame(in);
    std::vector<uint8_t> buf(headroom + f.size());
    std::memcpy(buf.data() + headroom, f.data(), f.size());
    uint8_t* frame = buf.data() + headroom;
    parsed_frame p;
    REQUIRE(parse_frame(frame, uint32_t(f.size()), p) == drop_reason::none);
    const nat_target t{out.src.data(), out.dst.data(), out.src_port, out.dst_port};
    const int growth = translation_growth(p);
    const drop_reason r = p.family == address_family::ipv4
                              ? translate_to_ipv6(frame, p, t, needs_full_udp_checksum(frame, p))
                              : translate_to_ipv4(frame, p, t, id);
    const uint8_t* start = frame - growth;
    return {bytes(start, start + int(f.size()) + growth), r};
}

// What the translator must produce, from the Ethernet type on (MACs are written later, by TX).
bytes expected(frame_spec out, uint16_t id, uint8_t tos) {
    bytes b = build_frame(out);
    if (out.family == address_family::ipv4) {
        b[15] = tos;
        put16(b, 18, id);
        put16(b, 20, get16(b, 16) > nat64_df_above ? 0x4000 : 0);
        refresh_ipv4_checksum(b);
    } else {
        b[14] = uint8_t(0x60 | tos >> 4);
        b[15] = uint8_t((tos & 0x0f) << 4);
    }
    return b;
}

void compare_from_ethertype(const bytes& got, const bytes& want) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 12; i < got.size(); ++i) {
        INFO("byte " << i);
        CHECK(got[i] == want[i]);
    }
}

}  // namespace

TEST_CASE("IPv4 -> IPv6 and back: every field as RFC 7915 4.1/5.1, checksums as summed anew") {
    std::mt19937 rng(7915);
    for (int round = 0; round < 400; ++round) {
        const bool to_v6 = round % 2 == 0;
        const uint8_t proto = (round / 2) % 2 ? 17 : 6;
        frame_spec in, out;
        in.family = to_v6 ? address_family::ipv4 : address_family::ipv6;
        out.family = to_v6 ? address_family::ipv6 : address_family::ipv4;
        in.protocol = out.protocol = proto;
        in.src = to_v6 ? v4(198, 18, 0, uint8_t(rng())) : v6(uint16_t(rng()));
        in.dst = to_v6 ? v4(198, 18, 0, 10) : v6(0x10);
        out.src = to_v6 ? v6(uint16_t(rng())) : v4(198, 18, 1, uint8_t(rng()));
        out.dst = to_v6 ? v6(0x11) : v4(198, 18, 1, 11);
        in.src_port = uint16_t(rng());
        out.src_port = uint16_t(rng());
        in.dst_port = out.dst_port = 80;
        in.ttl = uint8_t(2 + rng() % 250);
        out.ttl = uint8_t(in.ttl - 1);
        in.payload = bytes(rng() % 1400, uint8_t(rng()));
        out.payload = in.payload;
        if (to_v6 && round % 8 == 0) in.ip_options = bytes(8, 1);  // NOPs: not carried over
        const uint16_t id = uint16_t(rng());
        INFO("round " << round << (to_v6 ? " 4->6 " : " 6->4 ") << int(proto) << " payload "
                      << in.payload.size());
        const translated t = translate(in, out, id);
        REQUIRE(t.result == drop_reason::none);
        compare_from_ethertype(t.frame, expected(out, id, 0));
    }
}

TEST_CASE("an IPv4 UDP datagram without checksum gets a full one as IPv6 (RFC 7915 4.5)") {
    frame_spec in, out;
    in.protocol = out.protocol = 17;
    in.udp_checksum = false;
    in.payload = out.payload = bytes(333, 0x5a);
    out.family = address_family::ipv6;
    out.src = v6(0x10);
    out.dst = v6(0x2);
    out.ttl = 63;
    const translated t = translate(in, out, 0);
    REQUIRE(t.result == drop_reason::none);
    compare_from_ethertype(t.frame, expected(out, 0, 0));
}

TEST_CASE("a TTL or hop limit of 1 is ttl_exceeded, not translated") {
    frame_spec in, out;
    in.ttl = 1;
    out.family = address_family::ipv6;
    CHECK(translate(in, out, 0).result == drop_reason::ttl_exceeded);
}

TEST_CASE("ICMPv4 -> ICMPv6 types and codes follow RFC 7915 4.2") {
    struct row {
        uint8_t type, code;
        bool ok;
        uint8_t type6, code6;
        uint32_t rest6;
    };
    const row rows[] = {
        {3, 0, true, 1, 0, 0},   {3, 1, true, 1, 0, 0},    {3, 2, true, 4, 1, 6},
        {3, 3, true, 1, 4, 0},   {3, 4, true, 2, 0, 1400}, {3, 5, true, 1, 0, 0},
        {3, 9, true, 1, 1, 0},   {3, 13, true, 1, 1, 0},   {3, 14, false, 0, 0, 0},
        {11, 0, true, 3, 0, 0},  {11, 1, true, 3, 1, 0},   {12, 0, true, 4, 0, 7},
        {12, 1, false, 0, 0, 0}, {0, 0, false, 0, 0, 0},   {5, 0, false, 0, 0, 0},
    };
    for (const row& r : rows) {
        INFO("ICMPv4 " << int(r.type) << "/" << int(r.code));
        icmp_mapped m;
        // rest: an MTU of 1400 for fragmentation needed, pointer 8 (TTL) for parameter problem
        const uint32_t rest = r.type == 12 ? 8u << 24 : 1400;
        REQUIRE(map_icmp4_to_6(r.type, r.code, rest, m) == r.ok);
        if (!r.ok) continue;
        CHECK(m.type == r.type6);
        CHECK(m.code == r.code6);
        CHECK(m.rest == r.rest6);
    }
}

TEST_CASE("ICMPv6 -> ICMPv4 types and codes follow RFC 7915 5.2") {
    struct row {
        uint8_t type, code;
        uint32_t rest;
        bool ok;
        uint8_t type4, code4;
        uint32_t rest4;
    };
    const row rows[] = {
        {1, 0, 0, true, 3, 1, 0},         {1, 1, 0, true, 3, 10, 0},
        {1, 3, 0, true, 3, 1, 0},         {1, 4, 0, true, 3, 3, 0},
        {1, 5, 0, false, 0, 0, 0},        {2, 0, 1400, true, 3, 4, 1400},
        {3, 0, 0, true, 11, 0, 0},        {3, 1, 0, true, 11, 1, 0},
        {4, 0, 7, true, 12, 0, 8u << 24}, {4, 0, 24, true, 12, 0, 16u << 24},
        {4, 0, 2, false, 0, 0, 0},        {4, 1, 6, true, 3, 2, 0},
        {4, 2, 0, false, 0, 0, 0},        {128, 0, 0, false, 0, 0, 0},
    };
    for (const row& r : rows) {
        INFO("ICMPv6 " << int(r.type) << "/" << int(r.code) << " rest " << r.rest);
        icmp_mapped m;
        REQUIRE(map_icmp6_to_4(r.type, r.code, r.rest, m) == r.ok);
        if (!r.ok) continue;
        CHECK(m.type == r.type4);
        CHECK(m.code == r.code4);
        CHECK(m.rest == r.rest4);
    }
}

TEST_CASE("parameter problem pointers map field to field and back (RFC 7915 figures 3 and 6)") {
    for (uint32_t p4 : {0u, 1u, 2u, 3u, 8u, 9u, 12u, 15u, 16u, 19u}) {
        const int p6 = pointer_4to6(p4);
        REQUIRE(p6 >= 0);
        const int back = pointer_6to4(uint32_t(p6));
        INFO("IPv4 byte " << p4 << " -> IPv6 byte " << p6 << " -> " << back);
        // The same field: the first byte of the IPv4 field it started in.
        const uint32_t field_start = p4 == 3 ? 2 : p4 >= 12 && p4 <= 15 ? 12 : p4 >= 16 ? 16 : p4;
        CHECK(uint32_t(back) == field_start);
    }
    for (uint32_t p4 : {4u, 5u, 6u, 7u, 10u, 11u, 20u}) CHECK(pointer_4to6(p4) == -1);
    for (uint32_t p6 : {2u, 3u, 40u}) CHECK(pointer_6to4(p6) == -1);
}

TEST_CASE("translated MTUs: +-20 for the header, capped by the LB's ports, floors and plateaus") {
    CHECK(translated_mtu(true, 1400, 1500, 1500) == 1420);
    CHECK(translated_mtu(true, 1492, 1500, 1500) == 1500);    // capped by the IPv6 side
    CHECK(translated_mtu(true, 0, 1500, 9000) == 1492 + 20);  // pre-RFC 1191: the plateau
    CHECK(translated_mtu(true, 0, 576, 1500) == 508 + 20);
    CHECK(translated_mtu(false, 1400, 0, 1500) == 1380);
    CHECK(translated_mtu(false, 1280, 0, 1000) == 1000);  // capped by the IPv4 side
    CHECK(translated_mtu(false, 40, 0, 1500) == 68);      // IPv4's minimum
    CHECK(mtu_plateau_below(68) == 68);
}

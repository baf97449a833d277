// Unit tests for src/packet/parse: every rejection with its drop_reason, and the fields of
// accepted frames.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "packet/parse.hpp"

using sluice::address_family;
using sluice::drop_reason;
using sluice::drop_reason_name;
using sluice::ip_address;
using sluice::packet::frame_kind;
using sluice::packet::parse_frame;
using sluice::packet::parsed_frame;
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

drop_reason parse(const bytes& f, parsed_frame& out, bool verify = true) {
    return parse_frame(f.data(), uint32_t(f.size()), out, verify);
}
drop_reason parse(const bytes& f, bool verify = true) {
    parsed_frame out;
    return parse(f, out, verify);
}
// Parses the first `len` bytes from a buffer of exactly that size, so a sanitizer build catches
// any read past the frame.
drop_reason parse_prefix(const bytes& f, size_t len) {
    bytes cut(f.begin(), f.begin() + long(len));
    parsed_frame out;
    return parse_frame(cut.data(), uint32_t(len), out, true);
}

constexpr size_t ip = eth_len;  // IP header offset in every built frame

frame_spec tcp4() {
    return frame_spec{};
}
frame_spec udp4() {
    frame_spec s;
    s.protocol = 17;
    s.src_port = 5353;
    s.dst_port = 53;
    return s;
}
frame_spec ip6(uint8_t protocol) {
    frame_spec s;
    s.family = address_family::ipv6;
    s.protocol = protocol;
    s.src = v6(0x10);
    s.dst = v6(0x1);
    return s;
}
bytes payload(size_t n) {
    bytes p(n);
    for (size_t i = 0; i < n; ++i) p[i] = uint8_t(i * 7 + 3);
    return p;
}

}  // namespace

TEST_CASE("a frame shorter than an Ethernet header is truncated_ethernet") {
    // Property: every length 0..13 is rejected as truncated_ethernet, 14 is not.
    bytes f = build_frame(tcp4());
    for (size_t n = 0; n < eth_len; ++n)
        CHECK(parse_prefix(f, n) == drop_reason::truncated_ethernet);
    CHECK(parse_prefix(f, eth_len) != drop_reason::truncated_ethernet);
}

TEST_CASE("ethertypes other than IPv4, IPv6 and ARP are unsupported_ethertype") {
    // Property: VLAN tags (802.1Q, 802.1ad), LLDP and any other type are rejected.
    for (uint16_t type : {0x8100, 0x88a8, 0x88cc, 0x0000, 0xffff, 0x0801}) {
        bytes f = build_frame(tcp4());
        put16(f, 12, type);
        CAPTURE(type);
        CHECK(parse(f) == drop_reason::unsupported_ethertype);
    }
}

TEST_CASE("every truncation of an IPv4 frame is rejected by the layer it cuts") {
    // Property: any cut of a valid IPv4 frame is rejected by the IPv4 check of the layer it cuts.
    frame_spec s = tcp4();
    s.ip_options = {1, 1, 1, 0};  // NOP NOP NOP EOL: IHL 6
    s.payload = payload(11);
    bytes f = build_frame(s);
    REQUIRE(parse(f) == drop_reason::none);
    for (size_t n = 0; n < f.size(); ++n) {
        drop_reason want = n < eth_len   ? drop_reason::truncated_ethernet
                           : n < ip + 20 ? drop_reason::truncated_ipv4
                           : n < ip + 24 ? drop_reason::bad_ipv4_header_length
                                         : drop_reason::bad_ipv4_total_length;
        CAPTURE(n);
        CHECK(parse_prefix(f, n) == want);
    }
}

TEST_CASE("an IPv4 header whose version is not 4 is bad_ipv4_version") {
    // Property: every version nibble other than 4 is rejected, header checksum kept valid.
    for (unsigned version = 0; version < 16; ++version) {
        bytes f = build_frame(tcp4());
        f[ip] = uint8_t(version << 4 | 5);
        refresh_ipv4_checksum(f);
        CAPTURE(version);
        CHECK(parse(f) == (version == 4 ? drop_reason::none : drop_reason::bad_ipv4_version));
    }
}

TEST_CASE("IHL below 5 or beyond the frame is bad_ipv4_header_length") {
    // Property: IHL 0..4 and any IHL reaching past the 54-byte frame are rejected, others are not.
    bytes f0 = build_frame(tcp4());
    for (unsigned ihl = 0; ihl < 16; ++ihl) {
        bytes f = f0;
        f[ip] = uint8_t(0x40 | ihl);
        CAPTURE(ihl);
        if (ihl < 5 || ip + ihl * 4 > f.size())
            CHECK(parse(f, false) == drop_reason::bad_ipv4_header_length);
        else
            CHECK(parse(f, false) != drop_reason::bad_ipv4_header_length);
    }
}

TEST_CASE("an IPv4 total length beyond the frame or below the header is bad_ipv4_total_length") {
    // Property: total length t is accepted iff IHL <= t <= bytes after the Ethernet header.
    frame_spec s = udp4();
    s.trailer = 6;  // frame padding: the largest valid total length is 28 + 6
    const bytes f0 = build_frame(s);
    const size_t avail = f0.size() - ip;
    for (unsigned total = 0; total < avail + 8; ++total) {
        bytes f = f0;
        put16(f, ip + 2, uint16_t(total));
        // Keep the UDP length consistent with the shortest valid IP length, so only the IP
        // length decides.
        put16(f, ip + 20 + 4, 8);
        refresh_ipv4_checksum(f);
        CAPTURE(total);
        bool valid = total >= 28 && total <= avail;
        bool ip_valid = total >= 20 && total <= avail;
        drop_reason r = parse(f);
        if (!ip_valid)
            CHECK(r == drop_reason::bad_ipv4_total_length);
        else if (valid)
            CHECK(r == drop_reason::none);
        else
            CHECK(r == drop_reason::truncated_udp);  // IP fine, UDP header cut by the IP length
    }
}

TEST_CASE("a wrong IPv4 header checksum is bad_ipv4_checksum unless verification is off") {
    // Property: any single-bit flip in the checksummed header fails, and parses with verify=false.
    const bytes f0 = build_frame(tcp4());
    REQUIRE(parse(f0) == drop_reason::none);
    for (size_t byte = 1; byte < 20; ++byte) {
        // Skipped: length and fragment words and the protocol, which other checks look at.
        if (byte == 2 || byte == 3 || byte == 6 || byte == 7 || byte == 9) continue;
        for (unsigned bit = 0; bit < 8; ++bit) {
            bytes f = f0;
            f[ip + byte] ^= uint8_t(1u << bit);
            CAPTURE(byte);
            CAPTURE(bit);
            CHECK(parse(f) == drop_reason::bad_ipv4_checksum);
            CHECK(parse(f, false) == drop_reason::none);
        }
    }
}

TEST_CASE("IPv4 fragments are rejected, DF alone is not") {
    // Property: the flags/offset word is accepted iff MF is clear and the offset is zero.
    for (uint16_t frag : {0x0000, 0x4000, 0x2000, 0x0001, 0x00b9, 0x1fff, 0x6000, 0x4001, 0x8000}) {
        frame_spec s = tcp4();
        s.frag = frag;
        bytes f = build_frame(s);
        CAPTURE(frag);
        bool fragment = (frag & 0x3fff) != 0;
        CHECK(parse(f) == (fragment ? drop_reason::ipv4_fragment : drop_reason::none));
    }
}

TEST_CASE("an IP length too short for a TCP header is truncated_tcp") {
    // Property: IPv4 and IPv6 payload lengths 0..19 for TCP are truncated_tcp (frame still long).
    for (unsigned l4 = 0; l4 < 20; ++l4) {
        bytes f = build_frame(tcp4());
        put16(f, ip + 2, uint16_t(20 + l4));
        refresh_ipv4_checksum(f);
        CAPTURE(l4);
        CHECK(parse(f) == drop_reason::truncated_tcp);
        bytes g = build_frame(ip6(6));
        put16(g, ip + 4, uint16_t(l4));
        CHECK(parse(g) == drop_reason::truncated_tcp);
    }
}

TEST_CASE("a TCP data offset below 5 or beyond the segment is bad_tcp_data_offset") {
    // Property: with a 32-byte segment, data offsets 5..8 parse and all others are rejected.
    frame_spec s = tcp4();
    s.tcp_options = {1, 1, 1, 1};
    s.payload = payload(8);  // segment: 24 + 8 = 32 bytes
    const bytes f0 = build_frame(s);
    for (unsigned doff = 0; doff < 16; ++doff) {
        bytes f = f0;
        f[ip + 20 + 12] = uint8_t(doff << 4);
        CAPTURE(doff);
        bool ok = doff >= 5 && doff * 4 <= 32;
        CHECK(parse(f) == (ok ? drop_reason::none : drop_reason::bad_tcp_data_offset));
    }
}

TEST_CASE("an IP length too short for a UDP header is truncated_udp") {
    // Property: IPv4 and IPv6 UDP payload lengths 0..7 are truncated_udp.
    for (unsigned l4 = 0; l4 < 8; ++l4) {
        bytes f = build_frame(udp4());
        put16(f, ip + 2, uint16_t(20 + l4));
        refresh_ipv4_checksum(f);
        CAPTURE(l4);
        CHECK(parse(f) == drop_reason::truncated_udp);
        bytes g = build_frame(ip6(17));
        put16(g, ip + 4, uint16_t(l4));
        CHECK(parse(g) == drop_reason::truncated_udp);
    }
}

TEST_CASE("a UDP length below 8 or beyond the IP payload is bad_udp_length") {
    // Property: with 20 bytes of IP payload, UDP length u is accepted iff 8 <= u <= 20.
    frame_spec s = udp4();
    s.payload = payload(12);
    const bytes f0 = build_frame(s);
    for (unsigned ulen : {0u, 1u, 7u, 8u, 9u, 19u, 20u, 21u, 28u, 0xffffu}) {
        bytes f = f0;
        put16(f, ip + 20 + 4, uint16_t(ulen));
        CAPTURE(ulen);
        bool ok = ulen >= 8 && ulen <= 20;
        CHECK(parse(f) == (ok ? drop_reason::none : drop_reason::bad_udp_length));
        frame_spec s6 = ip6(17);
        s6.payload = payload(12);
        bytes g = build_frame(s6);
        put16(g, ip + 40 + 4, uint16_t(ulen));
        CHECK(parse(g) == (ok ? drop_reason::none : drop_reason::bad_udp_length));
    }
}

TEST_CASE("every truncation of an IPv6 frame is truncated_ipv6 or bad_ipv6_payload_length") {
    // Property: cuts inside the fixed header are truncated_ipv6, later cuts bad payload length.
    frame_spec s = ip6(6);
    s.payload = payload(9);
    bytes f = build_frame(s);
    REQUIRE(parse(f) == drop_reason::none);
    for (size_t n = eth_len; n < f.size(); ++n) {
        CAPTURE(n);
        CHECK(parse_prefix(f, n) ==
              (n < ip + 40 ? drop_reason::truncated_ipv6 : drop_reason::bad_ipv6_payload_length));
    }
}

TEST_CASE("an IPv6 payload length beyond the frame is bad_ipv6_payload_length") {
    // Property: payload length p is accepted iff p fits in the frame (padding allowed).
    frame_spec s = ip6(17);
    s.trailer = 4;
    const bytes f0 = build_frame(s);  // 8 bytes of UDP + 4 of padding
    for (unsigned p = 8; p < 20; ++p) {
        bytes f = f0;
        put16(f, ip + 4, uint16_t(p));
        CAPTURE(p);
        CHECK(parse(f) == (p <= 12 ? drop_reason::none : drop_reason::bad_ipv6_payload_length));
    }
}

TEST_CASE("ARP frames shorter than Ethernet + 28 bytes are bad_arp") {
    // Property: ARP of 14..41 bytes is bad_arp, 42 and longer (padded) is an arp frame.
    for (size_t n = eth_len; n < 42; ++n) {
        CAPTURE(n);
        CHECK(parse(build_arp(n)) == drop_reason::bad_arp);
    }
    for (size_t n : {42u, 60u}) {
        parsed_frame p;
        CHECK(parse(build_arp(n), p) == drop_reason::none);
        CHECK(p.kind == frame_kind::arp);
    }
}

TEST_CASE("a valid IPv4 TCP frame reports offsets, lengths, ports and flags") {
    // Property: for random option/payload sizes the parsed fields equal what was built.
    for (size_t opts : {0u, 4u, 40u}) {
        for (size_t len : {0u, 1u, 100u, 1400u}) {
            frame_spec s = tcp4();
            s.ip_options.assign(opts, 1);        // NOPs
            s.tcp_options = {2, 4, 0x05, 0xb4};  // MSS 1460
            s.payload = payload(len);
            s.tcp_flags = 0x12;  // SYN|ACK
            s.src_port = 65535;
            s.dst_port = 1;
            bytes f = build_frame(s);
            parsed_frame p;
            CAPTURE(opts);
            CAPTURE(len);
            REQUIRE(parse(f, p) == drop_reason::none);
            CHECK(p.kind == frame_kind::ip_l4);
            CHECK(p.family == address_family::ipv4);
            CHECK(p.protocol == 6);
            CHECK(p.tcp_flags == 0x12);
            CHECK(p.l3_offset == 14);
            CHECK(p.l4_offset == 14 + 20 + opts);
            CHECK(p.l3_length == 20 + opts + 24 + len);
            CHECK(p.l4_length == 24 + len);
            CHECK(p.src_port == 65535);
            CHECK(p.dst_port == 1);
        }
    }
}

TEST_CASE("a valid UDP frame of either family reports ports and lengths") {
    // Property: IPv4 and IPv6 UDP give kind ip_l4, the protocol, the ports and the lengths.
    for (auto family : {address_family::ipv4, address_family::ipv6}) {
        frame_spec s = family == address_family::ipv4 ? udp4() : ip6(17);
        s.src_port = 1234;
        s.dst_port = 4321;
        s.payload = payload(33);
        bytes f = build_frame(s);
        parsed_frame p;
        REQUIRE(parse(f, p) == drop_reason::none);
        size_t ihl = family == address_family::ipv4 ? 20 : 40;
        CHECK(p.kind == frame_kind::ip_l4);
        CHECK(p.family == family);
        CHECK(p.protocol == 17);
        CHECK(p.l4_offset == 14 + ihl);
        CHECK(p.l3_length == ihl + 41);
        CHECK(p.l4_length == 41);
        CHECK(p.src_port == 1234);
        CHECK(p.dst_port == 4321);
        CHECK(p.tcp_flags == 0);
    }
}

TEST_CASE("a valid IPv6 TCP frame reports offsets and flags") {
    // Property: IPv6 TCP parses with the L4 header right after the 40-byte header.
    frame_spec s = ip6(6);
    s.tcp_flags = 0x02;
    s.payload = payload(5);
    bytes f = build_frame(s);
    parsed_frame p;
    REQUIRE(parse(f, p) == drop_reason::none);
    CHECK(p.kind == frame_kind::ip_l4);
    CHECK(p.family == address_family::ipv6);
    CHECK(p.l4_offset == 54);
    CHECK(p.l3_length == 65);
    CHECK(p.l4_length == 25);
    CHECK(p.tcp_flags == 0x02);
    CHECK(p.src_port == s.src_port);
    CHECK(p.dst_port == s.dst_port);
}

TEST_CASE("ICMP and ICMPv6 are ip_other with the L4 offset set") {
    // Property: non TCP/UDP protocols are accepted as ip_other, offsets right, no ports.
    frame_spec s4 = tcp4();
    s4.protocol = 1;
    s4.ip_options = {1, 1, 1, 1, 1, 1, 1, 0};
    s4.payload = payload(20);
    parsed_frame p;
    REQUIRE(parse(build_frame(s4), p) == drop_reason::none);
    CHECK(p.kind == frame_kind::ip_other);
    CHECK(p.protocol == 1);
    CHECK(p.l4_offset == 14 + 28);
    CHECK(p.l4_length == 28);
    CHECK(p.src_port == 0);
    CHECK(p.dst_port == 0);

    frame_spec s6 = ip6(58);
    parsed_frame q;
    REQUIRE(parse(build_frame(s6), q) == drop_reason::none);
    CHECK(q.kind == frame_kind::ip_other);
    CHECK(q.family == address_family::ipv6);
    CHECK(q.l4_offset == 54);
    CHECK(q.l4_length == 8);
}

TEST_CASE("Ethernet padding beyond the IP length is ignored") {
    // Property: lengths come from the IP header, whatever the (garbage) padding after it.
    for (size_t pad : {1u, 6u, 18u, 64u}) {
        for (auto family : {address_family::ipv4, address_family::ipv6}) {
            frame_spec s = family == address_family::ipv4 ? tcp4() : ip6(6);
            s.trailer = pad;
            bytes f = build_frame(s);
            for (size_t i = f.size() - pad; i < f.size(); ++i) f[i] = 0xa5;
            parsed_frame p;
            CAPTURE(pad);
            REQUIRE(parse(f, p) == drop_reason::none);
            CHECK(p.l3_length == f.size() - 14 - pad);
            CHECK(p.l4_length == 20);
        }
    }
}

TEST_CASE("frame_src and frame_dst return the IP addresses of either family") {
    // Property: the addresses read back equal the ones the frame was built with.
    frame_spec s = tcp4();
    s.src = v4(198, 18, 7, 9);
    s.dst = v4(198, 19, 255, 1);
    s.ip_options = {1, 1, 1, 0};
    bytes f = build_frame(s);
    parsed_frame p;
    REQUIRE(parse(f, p) == drop_reason::none);
    CHECK(sluice::packet::frame_src(f.data(), p) == ip_address::v4(0xc612'0709));
    CHECK(sluice::packet::frame_dst(f.data(), p) == ip_address::v4(0xc613'ff01));

    frame_spec s6 = ip6(17);
    s6.src = v6(0xbeef);
    s6.dst = v6(0x0001);
    bytes g = build_frame(s6);
    REQUIRE(parse(g, p) == drop_reason::none);
    CHECK(sluice::packet::frame_src(g.data(), p) == ip_address::v6_from_network(s6.src.data()));
    CHECK(sluice::packet::frame_dst(g.data(), p) == ip_address::v6_from_network(s6.dst.data()));
    CHECK(sluice::packet::frame_src(g.data(), p).to_string() == "2001:2::beef");
}

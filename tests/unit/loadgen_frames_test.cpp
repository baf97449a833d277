// Unit tests for perf/loadgen/frames: the generator's TCP and UDP frames parse with sluiced's
// parse_frame and carry checksums that verify under an independent RFC 1071 sum (frame_builder);
// a frame rewritten as the balancer's full-NAT rewrites it (src/packet/rewrite.hpp) is accepted
// on the server side, and the reply rewritten back on the client side, in both families; every
// corrupted header byte is refused with its verdict; addresses and ports off the side's ranges
// are named.
#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "frame_builder.hpp"
#include "loadgen/frames.hpp"
#include "packet/parse.hpp"
#include "packet/rewrite.hpp"

using namespace sluice::loadgen;
using sluice::address_family;
using sluice::drop_reason;
using sluice::ip_address;
using sluice::packet::nat_target;
using sluice::packet::parse_frame;
using sluice::packet::parsed_frame;
using sluice::packet::rewrite_full_nat;
using sluice::test::ones_sum;
using sluice::test::pseudo_sum;

namespace {

using bytes = std::vector<uint8_t>;
constexpr uint8_t syn = tcp_flag::syn, ack = tcp_flag::ack, psh = tcp_flag::psh;

ip_address addr(const char* text) {
    return *ip_address::parse(text);
}

// One lab: client C (range), VIP V, LB local L (range), backend B (range), per family.
struct lab {
    client_side_expectation client;
    server_side_expectation server;
};
lab make_lab(bool v4) {
    lab l;
    l.client.vip = addr(v4 ? "198.18.1.1" : "2001:2::1:1");
    l.client.vip_port = 80;
    l.client.clients = {addr(v4 ? "198.18.0.10" : "2001:2::10"), 4};
    l.client.client_ports = {40000, 1000};
    l.server.local = {addr(v4 ? "198.18.2.1" : "2001:2::2:1"), 2};
    l.server.backends = {addr(v4 ? "198.18.3.5" : "2001:2::3:5"), 3};
    l.server.backend_port = 8080;
    return l;
}

// Client C+1:40007 -> VIP, and backend B+2 -> local L+1:5555.
frame_ends client_ends(const lab& l) {
    return {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}, l.client.clients.at(1), l.client.vip, 40007,
            l.client.vip_port};
}
frame_ends server_ends(const lab& l) {
    return {{2, 0, 0, 0, 0, 3},   {2, 0, 0, 0, 0, 4},    l.server.backends.at(2),
            l.server.local.at(1), l.server.backend_port, 5555};
}

bytes tcp_frame(const frame_ends& e, const tcp_fields& t, const payload_stamp* stamp = nullptr) {
    bytes f(2048);
    const size_t n = build_tcp_frame(f.data(), f.size(), e, t, stamp);
    REQUIRE(n > 0);
    f.resize(n);
    return f;
}
bytes udp_frame(const frame_ends& e, uint32_t payload, const payload_stamp* stamp = nullptr) {
    bytes f(2048);
    const size_t n = build_udp_frame(f.data(), f.size(), e, payload, stamp);
    REQUIRE(n > 0);
    f.resize(n);
    return f;
}

// The frame's checksums under the test helper's own RFC 1071 loop (not src/packet's code).
bool checksums_verify_independently(const bytes& f) {
    parsed_frame p;
    REQUIRE(parse_frame(f.data(), uint32_t(f.size()), p, false) == drop_reason::none);
    const bool v4 = p.family == address_family::ipv4;
    const uint8_t* ip = &f[p.l3_offset];
    if (v4 && ones_sum(ip, 20) != 0xffff) return false;
    const uint8_t* src = ip + (v4 ? 12 : 8);
    const uint8_t* dst = ip + (v4 ? 16 : 24);
    const uint32_t pseudo = pseudo_sum(p.family, src, dst, p.protocol, p.l4_length);
    return ones_sum(&f[p.l4_offset], p.l4_length, pseudo) == 0xffff;
}

// What the balancer's full-NAT does to a frame (the worker's own rewrite code).
void full_nat(bytes& f, const ip_address& src, const ip_address& dst, uint16_t sport,
              uint16_t dport) {
    parsed_frame p;
    REQUIRE(parse_frame(f.data(), uint32_t(f.size()), p) == drop_reason::none);
    const nat_target t{src.bytes.data(), dst.bytes.data(), sport, dport};
    REQUIRE(rewrite_full_nat(f.data(), p, t) == drop_reason::none);
}

}  // namespace

TEST_CASE("TCP frames parse with parse_frame and their IP and TCP checksums verify") {
    for (bool v4 : {true, false}) {
        const lab l = make_lab(v4);
        for (uint16_t mss : {uint16_t(0), uint16_t(1460)}) {
            for (uint32_t payload : {0u, 1u, 15u, 16u, 17u, 1400u}) {
                CAPTURE(v4);
                CAPTURE(mss);
                CAPTURE(payload);
                const tcp_fields t{
                    {0x01020304, 0xa0b0c0d0, uint8_t(psh | ack), payload}, 29200, mss};
                const payload_stamp stamp{7, 123456789};
                const bytes f = tcp_frame(client_ends(l), t, &stamp);
                parsed_frame p;
                REQUIRE(parse_frame(f.data(), uint32_t(f.size()), p) == drop_reason::none);
                CHECK(p.kind == sluice::packet::frame_kind::ip_l4);
                CHECK(p.family == (v4 ? address_family::ipv4 : address_family::ipv6));
                CHECK((p.src_port == 40007 && p.dst_port == 80));
                CHECK(p.l4_length == 20 + (mss ? 4 : 0) + payload);
                CHECK(checksums_verify_independently(f));
                CHECK(f[0] == 2);
                CHECK(f[5] == 2);   // destination MAC
                CHECK(f[11] == 1);  // source MAC
            }
        }
    }
}

TEST_CASE("UDP datagrams parse and verify; a computed zero checksum goes out as 0xffff") {
    for (bool v4 : {true, false}) {
        const lab l = make_lab(v4);
        for (uint32_t payload : {0u, 3u, 16u, 999u}) {
            const bytes f = udp_frame(client_ends(l), payload);
            parsed_frame p;
            REQUIRE(parse_frame(f.data(), uint32_t(f.size()), p) == drop_reason::none);
            CHECK(p.protocol == 17);
            CHECK(p.l4_length == 8 + payload);
            CHECK(checksums_verify_independently(f));
        }
        // Search a stamp whose datagram sums to zero: it must be sent as 0xffff, never 0.
        bool found = false;
        for (uint32_t c = 0; c < (1u << 20) && !found; ++c) {
            const payload_stamp stamp{c, 0};
            const bytes f = udp_frame(client_ends(l), 16, &stamp);
            const size_t csum = f.size() - 16 - 2;
            if (f[csum] == 0xff && f[csum + 1] == 0xff) {
                found = true;
                CHECK(checksums_verify_independently(f));
                received_frame r;
                CHECK(check_client_frame(f.data(), uint32_t(f.size()), l.client, r) ==
                      frame_verdict::wrong_address);  // checksum fine; sent by the client
            }
        }
        CHECK(found);
    }
}

TEST_CASE(
    "the stamp carries connection index, sequence number and send time in their widths; short "
    "or foreign payloads: none") {
    uint8_t payload[20] = {};
    const payload_stamp s{0xfedcba, 0x456789abcdefull, 0x123456};
    write_stamp(payload, sizeof payload, s);
    CHECK(read_stamp(payload, sizeof payload) == s);
    CHECK(read_stamp(payload, stamp_len) == s);
    // Wider values keep their low 24 (index, sequence) and 48 (time) bits.
    const payload_stamp wide{0xfffedcba, 0x0123456789abcdefull, 0xab123456};
    write_stamp(payload, sizeof payload, wide);
    CHECK(read_stamp(payload, sizeof payload) == s);
    write_stamp(payload, sizeof payload, s);
    CHECK_FALSE(read_stamp(payload, stamp_len - 1).has_value());
    payload[0] ^= 1;  // not the magic word
    CHECK_FALSE(read_stamp(payload, sizeof payload).has_value());
    uint8_t short_payload[15] = {};
    write_stamp(short_payload, sizeof short_payload, s);  // no room: nothing written
    for (uint8_t b : short_payload) CHECK(b == 0);
}

TEST_CASE(
    "a client SYN rewritten by full-NAT is accepted on the server side; the rewritten "
    "reply on the client side") {
    for (bool v4 : {true, false}) {
        CAPTURE(v4);
        const lab l = make_lab(v4);
        const frame_ends c = client_ends(l);
        const payload_stamp stamp{42, 987654321};
        bytes f = tcp_frame(c, {{1000, 0, syn, 0}, 65535, 1460});
        // The balancer: client -> VIP becomes local L+1:5555 -> backend B+2:8080.
        full_nat(f, l.server.local.at(1), l.server.backends.at(2), 5555, 8080);
        received_frame r;
        REQUIRE(check_server_frame(f.data(), uint32_t(f.size()), l.server, r) == frame_verdict::ok);
        CHECK((r.tcp.seq == 1000 && r.tcp.flags == syn && r.tcp.payload_len == 0));
        CHECK((r.mss == 1460 && r.window == 65535));
        CHECK((r.address_offset == 1 && r.backend_offset == 2 && r.port_offset == 5555));
        CHECK_FALSE(r.stamp.has_value());

        // The server answers with data, the balancer rewrites it back towards the client.
        bytes reply = tcp_frame(server_ends(l), {{5000, 1001, uint8_t(psh | ack), 100}}, &stamp);
        full_nat(reply, l.client.vip, c.src, 80, 40007);
        REQUIRE(check_client_frame(reply.data(), uint32_t(reply.size()), l.client, r) ==
                frame_verdict::ok);
        CHECK((r.tcp.seq == 5000 && r.tcp.ack == 1001 && r.tcp.payload_len == 100));
        CHECK((r.address_offset == 1 && r.port_offset == 7));
        CHECK(r.stamp == stamp);
        CHECK(r.payload_offset + 100 == reply.size());

        // UDP the same way.
        bytes u = udp_frame(c, 64, &stamp);
        full_nat(u, l.server.local.at(0), l.server.backends.at(0), 6000, 8080);
        REQUIRE(check_server_frame(u.data(), uint32_t(u.size()), l.server, r) == frame_verdict::ok);
        CHECK((r.protocol == l4_protocol::udp && r.tcp.payload_len == 64 && r.stamp == stamp));
    }
}

TEST_CASE("corrupted bytes get their verdict: IP header, TCP header, payload, not IP, ICMP") {
    const lab l = make_lab(true);
    const bytes good = tcp_frame(client_ends(l), {{1, 2, uint8_t(psh | ack), 32}});
    auto verdict = [&](const bytes& f) {
        received_frame r;
        return check_server_frame(f.data(), uint32_t(f.size()), l.server, r);
    };
    auto flipped = [&](size_t at, uint8_t mask = 0x01) {
        bytes f = good;
        f[at] ^= mask;
        return f;
    };
    constexpr size_t ip = 14, tcp = 34;
    CHECK(verdict(flipped(12, 0x10)) == frame_verdict::not_ip);           // ethertype 0x1800
    CHECK(verdict(flipped(ip, 0x10)) == frame_verdict::malformed);        // version 5
    CHECK(verdict(flipped(ip + 8)) == frame_verdict::bad_ip_checksum);    // TTL
    CHECK(verdict(flipped(ip + 12)) == frame_verdict::bad_ip_checksum);   // source address
    CHECK(verdict(flipped(ip + 10)) == frame_verdict::bad_ip_checksum);   // the checksum itself
    CHECK(verdict(flipped(tcp + 4)) == frame_verdict::bad_l4_checksum);   // seq
    CHECK(verdict(flipped(tcp + 16)) == frame_verdict::bad_l4_checksum);  // the checksum itself
    CHECK(verdict(flipped(good.size() - 1)) == frame_verdict::bad_l4_checksum);  // payload
    CHECK(verdict(bytes(good.begin(), good.begin() + 10)) == frame_verdict::not_ip);
    CHECK(verdict(bytes(good.begin(), good.begin() + 40)) == frame_verdict::malformed);
    CHECK(verdict(sluice::test::build_arp()) == frame_verdict::not_ip);
    sluice::test::frame_spec icmp;
    icmp.protocol = 1;
    CHECK(verdict(sluice::test::build_frame(icmp)) == frame_verdict::wrong_protocol);

    // IPv6: no header checksum; the addresses are covered by the TCP/UDP pseudo-header.
    const lab l6 = make_lab(false);
    const bytes g6 = udp_frame(client_ends(l6), 20);
    received_frame r;
    bytes f6 = g6;
    f6[14 + 8 + 15] ^= 0x01;  // source address
    CHECK(check_client_frame(f6.data(), uint32_t(f6.size()), l6.client, r) ==
          frame_verdict::bad_l4_checksum);
    f6 = g6;
    f6[14 + 40 + 6] = 0;  // UDP checksum 0: the generator always sends one
    f6[14 + 40 + 7] = 0;
    CHECK(check_client_frame(f6.data(), uint32_t(f6.size()), l6.client, r) ==
          frame_verdict::bad_l4_checksum);
}

TEST_CASE("every single-bit flip in the checksummed bytes of a frame is refused, never ok") {
    for (bool v4 : {true, false}) {
        const lab l = make_lab(v4);
        for (bool udp : {false, true}) {
            const bytes good = udp ? udp_frame(client_ends(l), 24)
                                   : tcp_frame(client_ends(l), {{1, 2, ack, 24}, 100, 1400});
            // IPv4: the whole IP header on; IPv6: from the addresses on (version, traffic class,
            // flow label and hop limit are covered by no checksum).
            const size_t first = v4 ? 14 : 14 + 8;
            for (size_t at = first; at < good.size(); ++at) {
                for (unsigned bit = 0; bit < 8; ++bit) {
                    bytes f = good;
                    f[at] ^= uint8_t(1u << bit);
                    received_frame r;
                    const frame_verdict v =
                        check_server_frame(f.data(), uint32_t(f.size()), l.server, r);
                    CAPTURE(v4);
                    CAPTURE(udp);
                    CAPTURE(at);
                    CAPTURE(bit);
                    CHECK(v != frame_verdict::ok);
                    CHECK(v != frame_verdict::wrong_address);  // refused before the addresses
                }
            }
        }
    }
}

TEST_CASE("a malformed TCP option list with a valid checksum is malformed; MSS is read back") {
    const lab l = make_lab(true);
    bytes f = tcp_frame(client_ends(l), {{1, 0, syn, 0}, 1000, 536});
    received_frame r;
    full_nat(f, l.server.local.at(0), l.server.backends.at(0), 7000, 8080);
    REQUIRE(check_server_frame(f.data(), uint32_t(f.size()), l.server, r) == frame_verdict::ok);
    CHECK(r.mss == 536);
    constexpr size_t tcp = 34;
    f[tcp + 21] = 9;  // MSS option length 9: runs past the header
    sluice::test::put16(f, tcp + 16, 0);
    sluice::test::put16(f, tcp + 16,
                        sluice::test::ones_checksum(
                            &f[tcp], 24, pseudo_sum(address_family::ipv4, &f[26], &f[30], 6, 24)));
    CHECK(checksums_verify_independently(f));
    CHECK(check_server_frame(f.data(), uint32_t(f.size()), l.server, r) ==
          frame_verdict::malformed);
}

TEST_CASE("addresses and ports off the side's expectation: wrong_address, then wrong_port") {
    for (bool v4 : {true, false}) {
        const lab l = make_lab(v4);
        const lab other = make_lab(!v4);
        received_frame r;
        auto client_verdict = [&](const frame_ends& e) {
            const bytes f = tcp_frame(e, {{1, 2, ack, 0}});
            return check_client_frame(f.data(), uint32_t(f.size()), l.client, r);
        };
        auto server_verdict = [&](const frame_ends& e) {
            const bytes f = tcp_frame(e, {{1, 2, ack, 0}});
            return check_server_frame(f.data(), uint32_t(f.size()), l.server, r);
        };
        // A client-side reply: VIP:80 -> C+3:40999.
        frame_ends c{{}, {}, l.client.vip, l.client.clients.at(3), 80, 40999};
        CHECK(client_verdict(c) == frame_verdict::ok);
        CHECK((r.address_offset == 3 && r.port_offset == 999));
        frame_ends e = c;
        e.src = l.client.clients.at(0);  // not from the VIP
        CHECK(client_verdict(e) == frame_verdict::wrong_address);
        e = c;
        e.dst = l.client.clients.at(4);  // past the range
        CHECK(client_verdict(e) == frame_verdict::wrong_address);
        e = c;
        e.src_port = 81;
        CHECK(client_verdict(e) == frame_verdict::wrong_port);
        e = c;
        e.dst_port = 41000;  // past the port range
        CHECK(client_verdict(e) == frame_verdict::wrong_port);
        e = {{}, {}, other.client.vip, other.client.clients.at(0), 80, 40000};
        CHECK(client_verdict(e) == frame_verdict::wrong_address);  // the other family

        // A server-side frame: L+1:3000 -> B+2:8080.
        frame_ends s{{}, {}, l.server.local.at(1), l.server.backends.at(2), 3000, 8080};
        CHECK(server_verdict(s) == frame_verdict::ok);
        e = s;
        e.src = l.client.vip;  // not an LB local address
        CHECK(server_verdict(e) == frame_verdict::wrong_address);
        e = s;
        e.dst = l.server.local.at(0);  // not a backend
        CHECK(server_verdict(e) == frame_verdict::wrong_address);
        e = s;
        e.dst_port = 8081;
        CHECK(server_verdict(e) == frame_verdict::wrong_port);
    }
}

TEST_CASE("address and port ranges: offsets inside, none outside, no carry past 32 bits") {
    const address_range r4{addr("10.0.0.250"), 10};
    CHECK(r4.valid());
    CHECK(r4.at(9) == addr("10.0.1.3"));
    CHECK(r4.offset_of(addr("10.0.1.3")) == 9u);
    CHECK_FALSE(r4.offset_of(addr("10.0.1.4")).has_value());
    CHECK_FALSE(r4.offset_of(addr("10.0.0.249")).has_value());
    CHECK_FALSE(r4.offset_of(addr("2001:2::a00:fa")).has_value());
    CHECK_FALSE((address_range{addr("255.255.255.250"), 7}.valid()));
    CHECK((address_range{addr("255.255.255.250"), 6}.valid()));
    CHECK_FALSE((address_range{addr("10.0.0.1"), 0}.valid()));

    const address_range r6{addr("2001:2::fffe"), 4};
    CHECK(r6.valid());
    CHECK_FALSE((address_range{addr("2001:2::ffff:fffe"), 3}.valid()));  // no carry into byte 11
    CHECK(r6.at(3) == addr("2001:2::1:1"));
    CHECK(r6.offset_of(addr("2001:2::1:1")) == 3u);
    CHECK_FALSE(r6.offset_of(addr("2001:3::1:1")).has_value());  // another /96

    const port_range p{65000, 536};
    CHECK(p.valid());
    CHECK(p.offset_of(65535) == 535u);
    CHECK_FALSE(p.offset_of(64999).has_value());
    CHECK_FALSE((port_range{65000, 537}.valid()));
    CHECK_FALSE((port_range{1, 0}.valid()));
}

TEST_CASE("building refuses what cannot be built: no room, mixed families, IP length > 65535") {
    const lab l = make_lab(true);
    const frame_ends e = client_ends(l);
    uint8_t small[100];
    CHECK(build_tcp_frame(small, 54, e, {{1, 2, ack, 0}}) == 54);
    CHECK(build_tcp_frame(small, 53, e, {{1, 2, ack, 0}}) == 0);
    CHECK(build_udp_frame(small, sizeof small, e, 100) == 0);
    frame_ends mixed = e;
    mixed.dst = make_lab(false).client.vip;
    CHECK(build_tcp_frame(small, sizeof small, mixed, {{1, 2, ack, 0}}) == 0);
    std::vector<uint8_t> big(70000);
    CHECK(build_udp_frame(big.data(), big.size(), e, 65535 - 28) > 0);
    CHECK(build_udp_frame(big.data(), big.size(), e, 65535 - 27) == 0);
    CHECK(build_tcp_frame(big.data(), big.size(), e, {{1, 2, ack, 65535 - 39}}) == 0);
}

TEST_CASE("every frame verdict has its own name for the generator's counters") {
    std::set<std::string> names;
    for (unsigned v = 0; v < unsigned(frame_verdict::count); ++v) {
        const std::string name = verdict_name(frame_verdict(v));
        CHECK(name != "?");
        names.insert(name);
    }
    CHECK(names.size() == unsigned(frame_verdict::count));
}

// Unit tests for the IPv6 pieces of src/packet: the extension-header walk of parse_frame,
// neighbour discovery (ndp.hpp), ICMPv6 echo (icmp_echo.hpp) and ICMPv6 errors (icmp_error.hpp).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "frame_builder.hpp"
#include "packet/icmp_echo.hpp"
#include "packet/icmp_error.hpp"
#include "packet/ndp.hpp"
#include "packet/parse.hpp"

using sluice::address_family;
using sluice::drop_reason;
using sluice::drop_reason_name;
using sluice::ip_address;
using namespace sluice::packet;
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

constexpr size_t ip = eth_len;

frame_spec tcp6() {
    frame_spec s;
    s.family = address_family::ipv6;
    s.src = v6(0x10);
    s.dst = v6(0x1);
    s.payload = bytes(12, 0x5a);
    return s;
}

struct extension {
    uint8_t type;
    size_t length = 8;          // a multiple of 8
    uint8_t segments_left = 0;  // routing headers
};

// `f` (an IPv6 frame without extension headers) with `chain` inserted after the fixed header,
// in order. The upper-layer checksum does not change: it covers the upper-layer length only.
bytes with_extensions(bytes f, const std::vector<extension>& chain) {
    uint8_t upper = f[ip + 6];
    bytes inserted;
    for (size_t i = 0; i < chain.size(); ++i) {
        bytes h(chain[i].length, 0);
        h[0] = i + 1 < chain.size() ? chain[i + 1].type : upper;
        h[1] = uint8_t(chain[i].length / 8 - 1);
        if (chain[i].type == ipv6_ext_routing) h[3] = chain[i].segments_left;
        inserted.insert(inserted.end(), h.begin(), h.end());
    }
    if (!chain.empty()) f[ip + 6] = chain[0].type;
    f.insert(f.begin() + long(ip + 40), inserted.begin(), inserted.end());
    put16(f, ip + 4, uint16_t(get16(f, ip + 4) + inserted.size()));
    return f;
}

drop_reason parse(const bytes& f, parsed_frame& p) {
    return parse_frame(f.data(), uint32_t(f.size()), p, true);
}

}  // namespace

TEST_CASE("hop-by-hop, destination options and a finished routing header are walked") {
    // Property: with 1..4 such headers (any mix, hop-by-hop first) the TCP header is found
    // after them, ports and lengths right.
    const bytes base = build_frame(tcp6());
    const std::vector<std::vector<extension>> chains = {
        {{ipv6_ext_hop_by_hop}},
        {{ipv6_ext_destination, 16}},
        {{ipv6_ext_routing, 24, 0}},
        {{ipv6_ext_hop_by_hop}, {ipv6_ext_destination}},
        {{ipv6_ext_hop_by_hop}, {ipv6_ext_routing}, {ipv6_ext_destination, 32}},
        {{ipv6_ext_hop_by_hop}, {ipv6_ext_destination}, {ipv6_ext_routing}, {ipv6_ext_destination}},
    };
    for (const auto& chain : chains) {
        size_t ext = 0;
        for (const auto& e : chain) ext += e.length;
        parsed_frame p;
        CAPTURE(chain.size());
        CAPTURE(ext);
        REQUIRE(parse(with_extensions(base, chain), p) == drop_reason::none);
        CHECK(p.kind == frame_kind::ip_l4);
        CHECK(p.protocol == 6);
        CHECK(p.l4_offset == eth_len + 40 + ext);
        CHECK(p.l4_length == 20 + 12);
        CHECK(p.l3_length == 40 + ext + 32);
        CHECK(p.src_port == 40000);
        CHECK(p.dst_port == 80);
    }
}

TEST_CASE("extension headers that hide or redirect the payload are refused by reason") {
    // Property: fragments are ipv6_fragment; ESP, AH, mobility, HIP, shim6, a routing header
    // with segments left, hop-by-hop not first, more than 4 headers, and a header running past
    // the payload are ipv6_extension_header.
    const bytes base = build_frame(tcp6());
    parsed_frame p;
    CHECK(parse(with_extensions(base, {{ipv6_ext_fragment}}), p) == drop_reason::ipv6_fragment);
    CHECK(parse(with_extensions(base, {{ipv6_ext_hop_by_hop}, {ipv6_ext_fragment}}), p) ==
          drop_reason::ipv6_fragment);
    for (uint8_t t : {50, 51, 135, 139, 140}) {
        CAPTURE(int(t));
        CHECK(parse(with_extensions(base, {{t}}), p) == drop_reason::ipv6_extension_header);
    }
    CHECK(parse(with_extensions(base, {{ipv6_ext_routing, 8, 1}}), p) ==
          drop_reason::ipv6_extension_header);
    CHECK(parse(with_extensions(base, {{ipv6_ext_destination}, {ipv6_ext_hop_by_hop}}), p) ==
          drop_reason::ipv6_extension_header);
    const std::vector<extension> five(5, extension{ipv6_ext_destination});
    CHECK(parse(with_extensions(base, five), p) == drop_reason::ipv6_extension_header);
    bytes overrun = with_extensions(base, {{ipv6_ext_destination}});
    overrun[ip + 40 + 1] = 200;  // 1608 bytes claimed
    CHECK(parse(overrun, p) == drop_reason::ipv6_extension_header);
    bytes short_payload = build_frame(tcp6());
    short_payload[ip + 6] = ipv6_ext_destination;
    put16(short_payload, ip + 4, 4);  // fewer than 8 bytes for the header
    CHECK(parse(short_payload, p) == drop_reason::ipv6_extension_header);
}

TEST_CASE("an IPv6 header whose version is not 6 is bad_ipv6_version") {
    // Property: versions 0..15 except 6 are refused before anything else is read.
    bytes f = build_frame(tcp6());
    parsed_frame p;
    for (unsigned v = 0; v < 16; ++v) {
        f[ip] = uint8_t(v << 4);
        CAPTURE(v);
        CHECK(parse(f, p) == (v == 6 ? drop_reason::none : drop_reason::bad_ipv6_version));
    }
}

namespace {

const uint8_t lb_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x07};

ip_address addr6(const char* text) {
    return *ip_address::parse(text);
}

bytes ndp_frame(const ndp_frame_spec& s) {
    bytes f(ndp_frame_len);
    write_ndp(f.data(), s);
    return f;
}

}  // namespace

TEST_CASE("a solicitation we write reads back, to the solicited-node group") {
    // Property: write_ndp's NS parses as IPv6/ICMPv6, verifies, goes to ff02::1:ffXX:XXXX at
    // 33:33:ffXX:XXXX and carries our MAC as the source link-layer option.
    const ip_address target = addr6("2001:2:0:1::11"), source = addr6("2001:2:0:1::1");
    uint8_t group[16], group_mac[6];
    solicited_node(target.bytes.data(), group, group_mac);
    CHECK(addr6("ff02::1:ff00:11") == ip_address::v6_from_network(group));
    const uint8_t want_mac[6] = {0x33, 0x33, 0xff, 0, 0, 0x11};
    CHECK(bytes(group_mac, group_mac + 6) == bytes(want_mac, want_mac + 6));
    bytes f = ndp_frame({icmp6_neighbor_solicit, 0, group_mac, lb_mac, source.bytes.data(), group,
                         target.bytes.data()});
    parsed_frame p;
    REQUIRE(parse(f, p) == drop_reason::none);
    CHECK(p.kind == frame_kind::ip_other);
    auto m = read_ndp(f.data(), p);
    REQUIRE(m);
    CHECK(m->type == icmp6_neighbor_solicit);
    CHECK(m->source == source);
    CHECK(m->target == target);
    CHECK(m->has_link);
    CHECK(bytes(m->link, m->link + 6) == bytes(lb_mac, lb_mac + 6));
    CHECK(bytes(f.begin(), f.begin() + 6) == bytes(want_mac, want_mac + 6));
}

TEST_CASE("an advertisement we write reads back with its flags and target link option") {
    // Property: write_ndp's NA keeps solicited/override and the target link-layer option.
    const ip_address vip = addr6("2001:2::10"), client = addr6("2001:2::2");
    bytes f = ndp_frame({icmp6_neighbor_advert, ndp_flag_solicited | ndp_flag_override, peer_mac,
                         lb_mac, vip.bytes.data(), client.bytes.data(), vip.bytes.data()});
    parsed_frame p;
    REQUIRE(parse(f, p) == drop_reason::none);
    auto m = read_ndp(f.data(), p);
    REQUIRE(m);
    CHECK(m->type == icmp6_neighbor_advert);
    CHECK(m->flags == (ndp_flag_solicited | ndp_flag_override));
    CHECK(m->target == vip);
    CHECK(m->destination == client);
    CHECK(bytes(m->link, m->link + 6) == bytes(lb_mac, lb_mac + 6));
}

TEST_CASE("neighbour discovery that RFC 4861 7.1 says to discard is not read") {
    // Property: hop limit != 255, code != 0, bad checksum, multicast target, a zero-length
    // option, an option past the end, DAD with a source link option, and a solicited NA to a
    // multicast address are each refused.
    const ip_address target = addr6("2001:2:0:1::11"), source = addr6("2001:2:0:1::1");
    uint8_t group[16], group_mac[6];
    solicited_node(target.bytes.data(), group, group_mac);
    const bytes good = ndp_frame({icmp6_neighbor_solicit, 0, group_mac, lb_mac, source.bytes.data(),
                                  group, target.bytes.data()});
    const size_t icmp = ip + 40;
    auto reseal = [&](bytes& f) {
        put16(f, icmp + 2, 0);
        uint32_t sum = pseudo_sum(address_family::ipv6, &f[ip + 8], &f[ip + 24], 58,
                                  uint32_t(f.size() - icmp));
        put16(f, icmp + 2, ones_checksum(&f[icmp], f.size() - icmp, sum));
    };
    auto refused = [](const bytes& f) {
        parsed_frame p;
        if (parse(f, p) != drop_reason::none) return true;
        return !read_ndp(f.data(), p).has_value();
    };
    CHECK(!refused(good));
    bytes f = good;
    f[ip + 7] = 254;
    CHECK(refused(f));
    f = good;
    f[icmp + 1] = 1;
    reseal(f);
    CHECK(refused(f));
    f = good;
    f[icmp + 2] ^= 1;
    CHECK(refused(f));
    f = good;
    f[icmp + 8] = 0xff;
    reseal(f);
    CHECK(refused(f));
    f = good;
    f[icmp + 25] = 0;  // option length 0
    reseal(f);
    CHECK(refused(f));
    f = good;
    f[icmp + 25] = 2;  // 16 bytes, only 8 left
    reseal(f);
    CHECK(refused(f));
    f = good;
    std::fill(f.begin() + long(ip + 8), f.begin() + long(ip + 24), 0);  // DAD, with an option
    reseal(f);
    CHECK(refused(f));
    const ip_address all_nodes = addr6("ff02::1");
    bytes na = ndp_frame({icmp6_neighbor_advert, ndp_flag_solicited, peer_mac, lb_mac,
                          target.bytes.data(), all_nodes.bytes.data(), target.bytes.data()});
    CHECK(refused(na));
}

TEST_CASE("an ICMPv6 echo request becomes its reply in place, checksum valid") {
    // Property: addresses swapped, hop limit 64, type 129, identifier/sequence/data kept and
    // the ICMPv6 checksum verifies under the new pseudo-header.
    frame_spec s = tcp6();
    s.protocol = 58;
    s.payload = bytes(24, 0x33);
    bytes f = build_frame(s);
    const size_t icmp = ip + 40;
    f[icmp] = icmp6_echo_request;
    put32(f, icmp + 4, 0x12340007);
    put16(f, icmp + 2, 0);
    put16(f, icmp + 2,
          ones_checksum(&f[icmp], f.size() - icmp,
                        pseudo_sum(address_family::ipv6, &f[ip + 8], &f[ip + 24], 58,
                                   uint32_t(f.size() - icmp))));
    parsed_frame p;
    REQUIRE(parse(f, p) == drop_reason::none);
    drop_reason bad = drop_reason::none;
    REQUIRE(is_echo_request(f.data(), p, bad));
    const bytes before = f;
    make_echo_reply(f.data(), p);
    CHECK(bytes(&f[ip + 8], &f[ip + 24]) == bytes(&before[ip + 24], &before[ip + 40]));
    CHECK(bytes(&f[ip + 24], &f[ip + 40]) == bytes(&before[ip + 8], &before[ip + 24]));
    CHECK(f[ip + 7] == 64);
    CHECK(f[icmp] == icmp6_echo_reply);
    CHECK(get32(f, icmp + 4) == 0x12340007);
    CHECK(ones_checksum(&f[icmp], f.size() - icmp,
                        pseudo_sum(address_family::ipv6, &f[ip + 8], &f[ip + 24], 58,
                                   uint32_t(f.size() - icmp))) == 0);
    f[icmp + 9] ^= 0x40;
    CHECK(!is_echo_request(f.data(), p, bad));
    CHECK(bad == drop_reason::bad_icmp);
}

TEST_CASE("an ICMPv6 error quotes the packet within 1280 bytes, checksum valid") {
    // Property: the error goes from our address to the offender's source, hop limit 64, quotes
    // min(length, 1232) bytes of the offending packet and its checksum verifies.
    const ip_address ours = addr6("2001:2::1");
    for (size_t payload_len : {12u, 1400u}) {
        frame_spec s = tcp6();
        s.payload = bytes(payload_len, 0x42);
        const bytes off = build_frame(s);
        const size_t length = off.size() - ip;
        bytes out(icmp6_error_max_len);
        const size_t n = build_icmp_error_v6(
            out.data(), {icmp6_time_exceeded, 0, 0, ours.bytes.data()}, &off[ip], length);
        const size_t quoted = std::min<size_t>(length, 1232);
        CAPTURE(payload_len);
        CHECK(n == eth_len + 40 + 8 + quoted);
        out.resize(n);
        parsed_frame p;
        REQUIRE(parse(out, p) == drop_reason::none);
        CHECK(p.protocol == 58);
        CHECK(out[ip + 7] == 64);
        CHECK(ip_address::v6_from_network(&out[ip + 8]) == ours);
        CHECK(bytes(&out[ip + 24], &out[ip + 40]) == bytes(&off[ip + 8], &off[ip + 24]));
        CHECK(out[ip + 40] == icmp6_time_exceeded);
        CHECK(bytes(&out[ip + 48], &out[ip + 48 + quoted]) == bytes(&off[ip], &off[ip + quoted]));
        CHECK(ones_checksum(&out[ip + 40], n - ip - 40,
                            pseudo_sum(address_family::ipv6, &out[ip + 8], &out[ip + 24], 58,
                                       uint32_t(n - ip - 40))) == 0);
    }
}

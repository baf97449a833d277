// Unit tests for packet/sanity.hpp: which TCP flag sets, TTLs and source addresses a frame may
// carry before it reaches flow state, checked exhaustively where the domain is small.
#include "packet/sanity.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace sluice;
using namespace sluice::packet;

namespace {

constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20,
                  ece = 0x40, cwr = 0x80;

}  // namespace

TEST_CASE("exactly nf_conntrack's nine flag sets are valid, whatever PSH, ECE and CWR say") {
    const std::set<uint8_t> valid = {syn,       syn | urg,       syn | ack, rst,      rst | ack,
                                     fin | ack, fin | ack | urg, ack,       ack | urg};
    for (unsigned f = 0; f < 256; ++f) {
        const uint8_t judged = uint8_t(f & (fin | syn | rst | ack | urg));
        CAPTURE(f);
        CHECK(valid_tcp_flags(uint8_t(f)) == (valid.count(judged) == 1));
    }
}

TEST_CASE("scans and forgeries have invalid flag sets; ECN and PSH variants of valid ones pass") {
    CHECK_FALSE(valid_tcp_flags(syn | fin));
    CHECK_FALSE(valid_tcp_flags(syn | rst));
    CHECK_FALSE(valid_tcp_flags(0));
    CHECK_FALSE(valid_tcp_flags(fin));
    CHECK_FALSE(valid_tcp_flags(fin | psh | urg));
    CHECK_FALSE(valid_tcp_flags(ece | cwr));
    CHECK(valid_tcp_flags(syn | ece | cwr));
    CHECK(valid_tcp_flags(syn | ack | ece));
    CHECK(valid_tcp_flags(fin | psh | ack));
    CHECK(valid_tcp_flags(rst | psh | ack));
}

TEST_CASE("a TTL or hop limit of 0 or 1 expires on forwarding; 2 does not") {
    uint8_t v4[20] = {0x45};
    uint8_t v6[40] = {0x60};
    for (unsigned ttl = 0; ttl < 256; ++ttl) {
        v4[ip4_ttl] = uint8_t(ttl);
        v6[ip6_hop_limit] = uint8_t(ttl);
        CAPTURE(ttl);
        CHECK(ttl_expires(v4, 4) == (ttl <= 1));
        CHECK(ttl_expires(v6, 6) == (ttl <= 1));
    }
}

TEST_CASE("IPv4 martian sources are 0/8, 127/8 and 224/3; every other first octet is not") {
    for (unsigned first = 0; first < 256; ++first) {
        const uint8_t a[4] = {uint8_t(first), 1, 2, 3};
        CAPTURE(first);
        CHECK(martian_source(a, 4) == (first == 0 || first == 127 || first >= 224));
    }
    const uint8_t broadcast[4] = {255, 255, 255, 255}, client[4] = {198, 18, 0, 2};
    CHECK(martian_source(broadcast, 4));
    CHECK_FALSE(martian_source(client, 4));
}

TEST_CASE("IPv6 martian sources are ::, ::1 and ff00::/8; global and link-local ones are not") {
    uint8_t a[16] = {};
    CHECK(martian_source(a, 6));  // ::
    a[15] = 1;
    CHECK(martian_source(a, 6));  // ::1
    a[15] = 2;
    CHECK_FALSE(martian_source(a, 6));  // ::2 (deprecated IPv4-compatible, not martian here)
    const uint8_t multicast[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    const uint8_t global[16] = {0x20, 0x01, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    const uint8_t link_local[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    CHECK(martian_source(multicast, 6));
    CHECK_FALSE(martian_source(global, 6));
    CHECK_FALSE(martian_source(link_local, 6));
    const uint8_t ones_at_start[16] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK_FALSE(martian_source(ones_at_start, 6));
}

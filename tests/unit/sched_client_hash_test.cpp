// Unit tests of src/sched/client_hash.hpp: which fields client_hash reads, and pinned values.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>

#include "sched/client_hash.hpp"

using namespace sluice::sched;

TEST_CASE("client_hash covers exactly what the selector names") {
    // Property: src-ip ignores ports, destination and protocol; src-ip-port ignores all but the
    // source address and port; the 5-tuple uses every field; the seed changes every hash.
    const uint8_t a[4] = {10, 0, 0, 1};
    const uint8_t b[4] = {10, 0, 0, 2};
    const uint8_t vip[4] = {192, 0, 2, 1};
    const uint8_t vip2[4] = {192, 0, 2, 2};
    auto h = [](hash_selector k, const uint8_t* s, const uint8_t* d, uint16_t sp, uint16_t dp,
                uint8_t pr,
                uint64_t seed = 1) { return client_hash(k, s, d, 4, sp, dp, pr, seed); };
    using enum hash_selector;

    CHECK(h(src_ip, a, vip, 1000, 80, 6) == h(src_ip, a, vip2, 2000, 443, 17));
    CHECK(h(src_ip, a, vip, 1000, 80, 6) != h(src_ip, b, vip, 1000, 80, 6));

    CHECK(h(src_ip_port, a, vip, 1000, 80, 6) == h(src_ip_port, a, vip2, 1000, 443, 17));
    CHECK(h(src_ip_port, a, vip, 1000, 80, 6) != h(src_ip_port, a, vip, 1001, 80, 6));
    CHECK(h(src_ip_port, a, vip, 1000, 80, 6) != h(src_ip_port, b, vip, 1000, 80, 6));

    const uint64_t base = h(five_tuple, a, vip, 1000, 80, 6);
    CHECK(base != h(five_tuple, b, vip, 1000, 80, 6));
    CHECK(base != h(five_tuple, a, vip2, 1000, 80, 6));
    CHECK(base != h(five_tuple, a, vip, 1001, 80, 6));
    CHECK(base != h(five_tuple, a, vip, 1000, 81, 6));
    CHECK(base != h(five_tuple, a, vip, 1000, 80, 17));

    for (hash_selector k : {src_ip, src_ip_port, five_tuple}) {
        CHECK(h(k, a, vip, 1000, 80, 6, 1) != h(k, a, vip, 1000, 80, 6, 2));
        CHECK(h(k, a, vip, 1000, 80, 6, 1) == h(k, a, vip, 1000, 80, 6, 1));
    }
}

TEST_CASE("client_hash reads 4 bytes for IPv4 and all 16 for IPv6") {
    // Property: an IPv4 address and the IPv6 address with the same leading bytes differ; IPv4
    // ignores bytes past the fourth; every IPv6 byte counts.
    uint8_t v6[16] = {1, 2, 3, 4};
    const uint8_t vip6[16] = {0x20, 0x01, 0x0d, 0xb8};
    const uint8_t vip4[4] = {192, 0, 2, 1};
    const uint64_t as_v4 = client_hash(hash_selector::src_ip, v6, vip4, 4, 1, 2, 6, 0);
    const uint64_t as_v6 = client_hash(hash_selector::src_ip, v6, vip6, 6, 1, 2, 6, 0);
    CHECK(as_v4 != as_v6);
    v6[15] = 1;
    CHECK(client_hash(hash_selector::src_ip, v6, vip4, 4, 1, 2, 6, 0) == as_v4);
    CHECK(client_hash(hash_selector::src_ip, v6, vip6, 6, 1, 2, 6, 0) != as_v6);
    for (int byte = 0; byte < 16; ++byte) {
        uint8_t other[16] = {};
        other[byte] = 0x80;
        uint8_t zero[16] = {};
        CHECK(client_hash(hash_selector::five_tuple, other, vip6, 6, 1, 2, 6, 0) !=
              client_hash(hash_selector::five_tuple, zero, vip6, 6, 1, 2, 6, 0));
        CHECK(client_hash(hash_selector::five_tuple, zero, other, 6, 1, 2, 6, 0) !=
              client_hash(hash_selector::five_tuple, zero, vip6, 6, 1, 2, 6, 0));
    }
}

TEST_CASE("client_hash and backend_key are stable across builds and processes") {
    // Property: fixed inputs give pinned values, so LB instances of any build agree on backends.
    const uint8_t src[4] = {198, 51, 100, 7};
    const uint8_t dst[4] = {203, 0, 113, 1};
    CHECK(client_hash(hash_selector::five_tuple, src, dst, 4, 51000, 443, 6, 42) ==
          0x4c9b8ea046c1094bull);
    CHECK(backend_key(dst, 4, 8080) == 0x0bfcb4059154d59bull);
    const uint8_t src6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7};
    const uint8_t dst6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    CHECK(client_hash(hash_selector::five_tuple, src6, dst6, 6, 51000, 443, 6, 42) ==
          0x1919b3cfad052f28ull);
    CHECK(backend_key(dst, 4, 8080) != backend_key(dst, 4, 8081));
    CHECK(backend_key(src, 4, 8080) != backend_key(dst, 4, 8080));
}

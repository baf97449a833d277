// Unit tests for src/flow/tuple_pool: fresh tuples first (distinct, spread over addresses, from a
// seeded start), then the one released longest ago once it has rested reuse_after ticks; clean
// releases at once; groups independent; in-use counters; tick wrap-around.
#include "flow/tuple_pool.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <utility>
#include <vector>

using sluice::flow::local_tuple;
using sluice::flow::tuple_pool;

namespace {

constexpr unsigned addresses = 2;
constexpr uint16_t first_port = 1000;
constexpr uint32_t span = 4;
constexpr uint32_t total = addresses * span;
constexpr uint32_t reuse = 10;

std::pair<unsigned, unsigned> key(local_tuple t) {
    return {t.address, t.port};
}

bool same(local_tuple a, local_tuple b) {
    return key(a) == key(b);
}

// Acquires every fresh tuple of `group` at `now`, requiring each acquisition to succeed.
std::vector<local_tuple> drain(tuple_pool& pool, uint32_t group, uint32_t now, uint32_t n = total) {
    std::vector<local_tuple> out;
    for (uint32_t i = 0; i < n; ++i) {
        local_tuple t{};
        REQUIRE(pool.acquire(group, now, t));
        out.push_back(t);
    }
    return out;
}

}  // namespace

TEST_CASE("fresh tuples of a group are distinct and in range until addresses x span are out") {
    tuple_pool pool(addresses, first_port, span, 1, reuse, 7);
    auto got = drain(pool, 0, 0);
    std::set<std::pair<unsigned, unsigned>> seen;
    for (local_tuple t : got) {
        CHECK(t.address < addresses);
        CHECK(t.port >= first_port);
        CHECK(t.port < first_port + span);
        seen.insert(key(t));
    }
    CHECK(seen.size() == total);
}

TEST_CASE("consecutive fresh tuples alternate over the addresses") {
    tuple_pool pool(addresses, first_port, span, 1, reuse, 3);
    auto got = drain(pool, 0, 0);
    for (size_t i = 1; i < got.size(); ++i) {
        CAPTURE(i);
        CHECK(got[i].address != got[i - 1].address);
    }
}

TEST_CASE("the fresh walk's start depends on the seed, and only on it") {
    std::set<std::pair<unsigned, unsigned>> firsts;
    for (uint64_t seed = 1; seed <= 8; ++seed) {
        tuple_pool a(4, first_port, 1000, 1, reuse, seed), b(4, first_port, 1000, 1, reuse, seed);
        local_tuple ta{}, tb{};
        REQUIRE(a.acquire(0, 0, ta));
        REQUIRE(b.acquire(0, 0, tb));
        CHECK(same(ta, tb));  // same seed, same start
        firsts.insert(key(ta));
    }
    // 8 seeds over 4000 tuples: a constant start would give one value.
    CHECK(firsts.size() >= 6);
}

TEST_CASE("acquire fails when every tuple of the group is in use") {
    tuple_pool pool(addresses, first_port, span, 1, reuse, 1);
    drain(pool, 0, 0);
    local_tuple t{};
    CHECK_FALSE(pool.acquire(0, 0, t));
    CHECK_FALSE(pool.acquire(0, 1000000, t));  // time does not help: nothing was released
}

TEST_CASE("a dirty release rests reuse_after ticks before it is handed out again") {
    tuple_pool pool(addresses, first_port, span, 1, reuse, 1);
    auto got = drain(pool, 0, 0);
    pool.release(0, got[3], 100, false);
    local_tuple t{};
    CHECK_FALSE(pool.acquire(0, 100, t));
    CHECK_FALSE(pool.acquire(0, 100 + reuse - 1, t));
    REQUIRE(pool.acquire(0, 100 + reuse, t));
    CHECK(same(t, got[3]));
    CHECK_FALSE(pool.acquire(0, 100 + reuse, t));  // it was the only one
}

TEST_CASE("dirty releases come back in release order (the one rested longest first)") {
    tuple_pool pool(addresses, first_port, span, 1, reuse, 1);
    auto got = drain(pool, 0, 0);
    pool.release(0, got[5], 10, false);
    pool.release(0, got[1], 11, false);
    pool.release(0, got[6], 12, false);
    local_tuple t{};
    CHECK_FALSE(pool.acquire(0, 10 + reuse - 1, t));
    REQUIRE(pool.acquire(0, 10 + reuse, t));
    CHECK(same(t, got[5]));
    CHECK_FALSE(pool.acquire(0, 10 + reuse, t));  // got[1] is not ready before 11 + reuse
    REQUIRE(pool.acquire(0, 100, t));
    CHECK(same(t, got[1]));
    REQUIRE(pool.acquire(0, 100, t));
    CHECK(same(t, got[6]));
}

TEST_CASE("a clean release is handed out at once") {
    tuple_pool pool(addresses, first_port, span, 1, reuse, 1);
    auto got = drain(pool, 0, 50);
    pool.release(0, got[2], 50, true);
    local_tuple t{};
    REQUIRE(pool.acquire(0, 50, t));
    CHECK(same(t, got[2]));
}

TEST_CASE("a clean release goes in front of older dirty releases, ready or not") {
    tuple_pool pool(addresses, first_port, span, 1, reuse, 1);
    auto got = drain(pool, 0, 0);
    pool.release(0, got[0], 0, false);  // ready at `reuse`
    pool.release(0, got[7], 20, true);  // released later, but clean
    local_tuple t{};
    REQUIRE(pool.acquire(0, 20, t));
    CHECK(same(t, got[7]));
    REQUIRE(pool.acquire(0, 20, t));
    CHECK(same(t, got[0]));
    // And a clean one jumps a dirty one that is still resting.
    pool.release(0, got[0], 30, false);
    pool.release(0, got[7], 31, true);
    REQUIRE(pool.acquire(0, 31, t));
    CHECK(same(t, got[7]));
    CHECK_FALSE(pool.acquire(0, 31, t));
}

TEST_CASE("groups are independent: one group exhausted or resting leaves the others whole") {
    tuple_pool pool(addresses, first_port, span, 3, reuse, 9);
    auto g0 = drain(pool, 0, 0);
    local_tuple t{};
    CHECK_FALSE(pool.acquire(0, 0, t));
    auto g1 = drain(pool, 1, 0);  // all of group 1 is still fresh
    CHECK_FALSE(pool.acquire(1, 0, t));
    // Releasing into group 0 does not make group 1 acquire.
    pool.release(0, g0[0], 0, true);
    CHECK_FALSE(pool.acquire(1, 0, t));
    REQUIRE(pool.acquire(0, 0, t));
    CHECK(same(t, g0[0]));
    // Group 2 is untouched: its fresh tuples are distinct among themselves.
    auto g2 = drain(pool, 2, 0);
    std::set<std::pair<unsigned, unsigned>> seen;
    for (local_tuple x : g2) seen.insert(key(x));
    CHECK(seen.size() == total);
}

TEST_CASE("in_use counts acquired tuples per address over all groups") {
    tuple_pool pool(addresses, first_port, span, 2, reuse, 1);
    CHECK(pool.addresses() == addresses);
    CHECK(pool.capacity_per_address() == uint64_t(span) * 2);
    CHECK(pool.in_use(0) == 0);
    CHECK(pool.in_use(1) == 0);
    auto first = drain(pool, 0, 0, 3);
    unsigned on0 = 0;
    for (local_tuple t : first) on0 += t.address == 0;
    CHECK(pool.in_use(0) == on0);
    CHECK(pool.in_use(1) == 3 - on0);
    drain(pool, 0, 0, total - 3);
    drain(pool, 1, 0);
    CHECK(pool.in_use(0) == 2 * span);
    CHECK(pool.in_use(1) == 2 * span);
    pool.release(0, first[0], 0, false);  // dirty and clean releases both count down
    pool.release(1, first[1], 0, true);   // the count is per address, not per group
    uint32_t expect[addresses] = {2 * span, 2 * span};
    --expect[first[0].address];
    --expect[first[1].address];
    CHECK(pool.in_use(0) == expect[0]);
    CHECK(pool.in_use(1) == expect[1]);
}

TEST_CASE("resting works across the 2^32 tick wrap-around") {
    tuple_pool pool(addresses, first_port, span, 1, reuse, 1);
    const uint32_t near_end = 0xfffffffau;  // ready tick wraps to 4
    auto got = drain(pool, 0, near_end);
    pool.release(0, got[4], near_end, false);
    local_tuple t{};
    CHECK_FALSE(pool.acquire(0, near_end, t));
    CHECK_FALSE(pool.acquire(0, 0xffffffffu, t));
    CHECK_FALSE(pool.acquire(0, 0, t));
    CHECK_FALSE(pool.acquire(0, 3, t));
    REQUIRE(pool.acquire(0, 4, t));
    CHECK(same(t, got[4]));
}

// Unit tests for src/route: longest-prefix routes, the lock-free neighbour table and the
// neighbour resolution state machine.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "route/neighbor_resolver.hpp"
#include "route/neighbor_table.hpp"
#include "route/route_table.hpp"

using sluice::ip_address;
using sluice::ip_prefix;
using sluice::route::neighbor_resolver;
using sluice::route::neighbor_table;
using sluice::route::no_neighbor;
using sluice::route::route_table;
using status = neighbor_resolver::status;

namespace doctest {
template <>
struct StringMaker<status> {
    static String convert(status s) { return sluice::route::neighbor_status_name(s); }
};
}  // namespace doctest

namespace {

ip_address addr(const char* text) {
    return *ip_address::parse(text);
}
ip_prefix prefix(const char* text) {
    return *ip_prefix::parse(text);
}

std::array<uint8_t, 6> mac_of(uint32_t n) {
    return {0x02, uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n), 0x5a};
}

constexpr uint64_t ms = 1'000'000, sec = 1'000'000'000;

}  // namespace

// ---- route_table ----

TEST_CASE("the longest matching prefix wins") {
    // Property: lookup == brute-force longest match (first added on ties) for random prefixes.
    std::mt19937 rng(1812);
    for (int trial = 0; trial < 200; ++trial) {
        route_table rt;
        std::vector<ip_prefix> prefixes;
        for (uint16_t port = 0; port < 12; ++port) {
            // Inside 198.18.0.0/15 so prefixes overlap often.
            uint32_t a = 0xc6120000u | (rng() & 0x1ffff);
            uint8_t len = uint8_t(15 + rng() % 18);
            ip_prefix p{ip_address::v4(a), len};
            prefixes.push_back(p);
            rt.add_connected(p, port);
        }
        REQUIRE(rt.finish());
        for (int i = 0; i < 200; ++i) {
            ip_address dst = ip_address::v4(0xc6120000u | (rng() & 0x1ffff));
            int best = -1;
            for (size_t k = 0; k < prefixes.size(); ++k)
                if (prefixes[k].contains(dst) &&
                    (best < 0 || prefixes[k].length > prefixes[size_t(best)].length))
                    best = int(k);
            auto hop = rt.lookup(dst);
            CAPTURE(dst.to_string());
            if (best < 0) {
                CHECK(!hop.has_value());
            } else {
                REQUIRE(hop.has_value());
                CHECK(hop->port == uint16_t(best));
                CHECK(hop->address == dst);
            }
        }
    }
}

TEST_CASE("connected routes resolve to the destination, static routes to their gateway") {
    // Property: next hop is the destination if on-link, else the gateway on the gateway's port.
    route_table rt;
    rt.add_connected(prefix("198.18.0.1/24"), 0);  // host bits set, as in port addresses
    rt.add_connected(prefix("198.18.1.1/24"), 1);
    rt.add_static(prefix("198.18.128.0/17"), addr("198.18.1.254"));
    rt.add_static(prefix("0.0.0.0/0"), addr("198.18.0.254"));
    REQUIRE(rt.finish());

    auto a = rt.lookup(addr("198.18.0.77"));
    REQUIRE(a);
    CHECK(a->port == 0);
    CHECK(a->address == addr("198.18.0.77"));

    auto b = rt.lookup(addr("198.18.200.9"));
    REQUIRE(b);
    CHECK(b->port == 1);
    CHECK(b->address == addr("198.18.1.254"));

    auto c = rt.lookup(addr("198.19.5.5"));
    REQUIRE(c);
    CHECK(c->port == 0);
    CHECK(c->address == addr("198.18.0.254"));

    CHECK(!rt.lookup(addr("2001:2::1")));  // no IPv6 route at all
}

TEST_CASE("a static route whose gateway is not on-link fails finish") {
    // Property: finish() fails when a gateway is in no connected subnet of its family.
    route_table off_link;
    off_link.add_connected(prefix("198.18.0.0/24"), 0);
    off_link.add_static(prefix("198.18.64.0/24"), addr("198.18.1.1"));
    CHECK(!off_link.finish());

    route_table recursive;
    recursive.add_connected(prefix("198.18.0.0/24"), 0);
    recursive.add_static(prefix("198.18.1.0/24"), addr("198.18.0.1"));
    recursive.add_static(prefix("198.18.2.0/24"), addr("198.18.1.1"));
    CHECK(!recursive.finish());

    route_table v6_gateway;  // an IPv6 gateway is never inside an IPv4 subnet
    v6_gateway.add_connected(prefix("198.18.0.0/24"), 0);
    v6_gateway.add_static(prefix("0.0.0.0/0"), addr("2001:2::1"));
    CHECK(!v6_gateway.finish());
}

TEST_CASE("IPv6 prefixes are matched longest first and kept apart from IPv4") {
    // Property: IPv6 routes match only IPv6 addresses, longest first, and never IPv4 ones.
    route_table rt;
    rt.add_connected(prefix("2001:2::1/64"), 2);
    rt.add_connected(prefix("2001:2:0:1::1/64"), 3);
    rt.add_connected(prefix("198.18.0.1/24"), 0);
    rt.add_static(prefix("2001:2:0:100::/56"), addr("2001:2:0:1::fe"));
    rt.add_static(prefix("::/0"), addr("2001:2::fe"));
    REQUIRE(rt.finish());

    auto on_link = rt.lookup(addr("2001:2::99"));
    REQUIRE(on_link);
    CHECK(on_link->port == 2);
    CHECK(on_link->address == addr("2001:2::99"));

    auto via56 = rt.lookup(addr("2001:2:0:1ab::5"));
    REQUIRE(via56);
    CHECK(via56->port == 3);
    CHECK(via56->address == addr("2001:2:0:1::fe"));

    auto deflt = rt.lookup(addr("2001:2:ffff::1"));
    REQUIRE(deflt);
    CHECK(deflt->port == 2);
    CHECK(deflt->address == addr("2001:2::fe"));

    CHECK(!rt.lookup(addr("198.19.0.1")));
    auto v4 = rt.lookup(addr("198.18.0.5"));
    REQUIRE(v4);
    CHECK(v4->port == 0);
}

// ---- neighbor_table ----

TEST_CASE("neighbour slots are found by (port, address) and carry a MAC once set") {
    // Property: one stable slot per (port, address); MAC absent, then set, then invalidated.
    neighbor_table t(64);
    CHECK(t.capacity() == 64);
    std::vector<uint32_t> slots;
    for (uint32_t i = 0; i < 40; ++i) {
        uint16_t port = uint16_t(i % 3);
        ip_address a = i % 2 ? ip_address::v4(0xc6120000u + i)
                             : *ip_address::parse("2001:2::" + std::to_string(i));
        CHECK(t.find(port, a) == no_neighbor);
        uint32_t s = t.find_or_add(port, a);
        REQUIRE(s != no_neighbor);
        CHECK(t.find_or_add(port, a) == s);
        CHECK(t.find(port, a) == s);
        CHECK(t.used(s));
        CHECK(t.port(s) == port);
        CHECK(t.address(s) == a);
        uint8_t out[6];
        CHECK(!t.mac(s, out));
        slots.push_back(s);
    }
    CHECK(std::set<uint32_t>(slots.begin(), slots.end()).size() == slots.size());
    // Same address on another port is another neighbour.
    CHECK(t.find(7, ip_address::v4(0xc6120001u)) == no_neighbor);

    for (uint32_t i = 0; i < slots.size(); ++i) t.set_mac(slots[i], mac_of(i).data());
    for (uint32_t i = 0; i < slots.size(); ++i) {
        uint8_t out[6];
        REQUIRE(t.mac(slots[i], out));
        CHECK(std::equal(out, out + 6, mac_of(i).begin()));
    }
    // An all-zero MAC is still a valid, resolved MAC.
    const uint8_t zero[6] = {};
    t.set_mac(slots[0], zero);
    uint8_t out[6] = {1, 1, 1, 1, 1, 1};
    CHECK(t.mac(slots[0], out));
    CHECK(std::equal(out, out + 6, zero));
    t.invalidate(slots[1]);
    CHECK(!t.mac(slots[1], out));
    CHECK(t.find(t.port(slots[1]), t.address(slots[1])) == slots[1]);  // slot kept
}

TEST_CASE("want flags are taken exactly once") {
    // Property: take_wanted is true once after any number of want calls, then false.
    neighbor_table t(8);
    uint32_t a = t.find_or_add(0, addr("198.18.0.1")), b = t.find_or_add(0, addr("198.18.0.2"));
    CHECK(!t.take_wanted(a));
    t.want(a);
    t.want(a);
    t.want(a);
    CHECK(!t.take_wanted(b));
    CHECK(t.take_wanted(a));
    CHECK(!t.take_wanted(a));
    t.want(a);
    CHECK(t.take_wanted(a));
}

TEST_CASE("a full neighbour table returns no_neighbor for new keys and keeps the old ones") {
    // Property: a full table refuses new keys with no_neighbor and still resolves the old ones.
    neighbor_table t(13);
    REQUIRE(t.capacity() == 16);
    std::vector<uint32_t> slots;
    for (uint32_t i = 0; i < 16; ++i) {
        uint32_t s = t.find_or_add(1, ip_address::v4(0xc6120100u + i));
        REQUIRE(s != no_neighbor);
        slots.push_back(s);
    }
    CHECK(t.find_or_add(1, ip_address::v4(0xc61201ffu)) == no_neighbor);
    CHECK(t.find(1, ip_address::v4(0xc61201ffu)) == no_neighbor);
    for (uint32_t i = 0; i < 16; ++i) {
        CHECK(t.find(1, ip_address::v4(0xc6120100u + i)) == slots[i]);
        CHECK(t.find_or_add(1, ip_address::v4(0xc6120100u + i)) == slots[i]);
    }
}

TEST_CASE("a reader thread sees what a writer thread published, never a torn MAC") {
    // Property: a concurrent reader finds every published neighbour and never a torn MAC.
    constexpr uint32_t count = 2000;
    neighbor_table t(4096);
    std::atomic<uint32_t> published{0};
    std::atomic<bool> writer_done{false};
    std::atomic<uint32_t> errors{0};

    auto mac_a = [](uint32_t i) { return mac_of(i); };
    auto mac_b = [](uint32_t i) { return mac_of(~i); };
    auto address = [](uint32_t i) { return ip_address::v4(0xc6120000u + i); };

    std::thread writer([&] {
        for (uint32_t i = 0; i < count; ++i) {
            uint32_t s = t.find_or_add(0, address(i));
            if (s == no_neighbor) {
                ++errors;
                break;
            }
            t.set_mac(s, mac_a(i).data());
            published.store(i + 1, std::memory_order_release);
            // Keep rewriting earlier entries so the reader races with MAC updates.
            uint32_t j = i / 2;
            uint32_t sj = t.find(0, address(j));
            t.set_mac(sj, (i % 2 ? mac_b(j) : mac_a(j)).data());
        }
        writer_done.store(true, std::memory_order_release);
    });
    std::thread reader([&] {
        uint32_t seen_all = 0;
        for (uint32_t iter = 0; iter < 200000 && seen_all < 3; ++iter) {
            bool done = writer_done.load(std::memory_order_acquire);
            uint32_t p = published.load(std::memory_order_acquire);
            uint32_t i = iter % (p + 1 < count ? p + 1 : count);  // includes one not yet published
            uint32_t s = t.find(0, address(i));
            if (s == no_neighbor) {
                if (i < p) ++errors;  // published before we looked: must be found
                continue;
            }
            uint8_t out[6];
            if (!t.mac(s, out)) {
                if (i < p) ++errors;  // MAC set before publication
                continue;
            }
            auto a = mac_a(i), b = mac_b(i);
            if (!std::equal(out, out + 6, a.begin()) && !std::equal(out, out + 6, b.begin()))
                ++errors;
            if (done && p == count && i == count - 1) ++seen_all;
        }
    });
    writer.join();
    reader.join();
    CHECK(errors.load() == 0);
    CHECK(published.load() == count);
}

// ---- neighbor_resolver ----

namespace {

struct resolver_fixture {
    explicit resolver_fixture(sluice::config::neighbor_config c = {30, 100, 3})
        : cfg(c), table(64), resolver(table, cfg) {}
    sluice::config::neighbor_config cfg;
    neighbor_table table;
    neighbor_resolver resolver;
    std::vector<std::pair<uint64_t, uint32_t>> sent;  // (time, slot)
    std::vector<std::tuple<uint32_t, status, status>> transitions;

    void tick(uint64_t now) {
        resolver.tick(
            now, [&](uint32_t slot) { sent.emplace_back(now, slot); },
            [&](uint32_t slot, status from, status to) {
                transitions.emplace_back(slot, from, to);
            });
    }
    // Ticks every `step` from `from` to `to` inclusive.
    void run(uint64_t from, uint64_t to, uint64_t step) {
        for (uint64_t now = from; now <= to; now += step) tick(now);
    }
    std::vector<uint64_t> sent_times(uint32_t slot) const {
        std::vector<uint64_t> out;
        for (auto& [t, s] : sent)
            if (s == slot) out.push_back(t);
        return out;
    }
};

}  // namespace

TEST_CASE("a pinned next hop sends `retries` requests spaced by the retry interval, then fails") {
    // Property: `retries` requests one interval apart, then failed, a pause, then a new round.
    for (uint32_t retries : {1u, 3u, 5u}) {
        CAPTURE(retries);
        resolver_fixture fx({30, 100, retries});
        const uint64_t step = 10 * ms, interval = 100 * ms;
        uint32_t s = fx.table.find_or_add(0, addr("198.18.0.254"));
        fx.resolver.pin(s, 0);
        CHECK(fx.resolver.state(s) == status::incomplete);

        fx.run(0, interval * retries - step, step);
        auto times = fx.sent_times(s);
        REQUIRE(times.size() == retries);
        for (uint32_t k = 0; k < retries; ++k) CHECK(times[k] == k * interval);
        CHECK(fx.resolver.state(s) == status::incomplete);

        fx.tick(interval * retries);
        CHECK(fx.resolver.state(s) == status::failed);
        REQUIRE(fx.transitions.size() == 1);
        CHECK(fx.transitions[0] == std::tuple{s, status::incomplete, status::failed});

        // The pause: at least one retry interval without requests, then a new round.
        const uint64_t failed_at = interval * retries;
        fx.run(failed_at + step, failed_at + 4 * interval * retries, step);
        times = fx.sent_times(s);
        REQUIRE(times.size() > retries);
        const uint64_t resumed = times[retries];
        CHECK(resumed >= failed_at + interval);
        CHECK(resumed <= failed_at + interval * retries + 2 * step);
        CHECK(times.size() >= 2 * retries);
        for (uint32_t k = 1; k < retries; ++k)
            CHECK(times[retries + k] - times[retries + k - 1] == interval);
        CHECK(!fx.resolver.pinned_resolved());
    }
}

TEST_CASE("confirm makes a slot reachable with its MAC readable by workers") {
    // Property: confirm gives reachable, a readable MAC, silence until refresh; pinned_resolved.
    resolver_fixture fx;
    uint32_t a = fx.table.find_or_add(0, addr("198.18.0.254"));
    uint32_t b = fx.table.find_or_add(1, addr("198.18.1.10"));
    CHECK(fx.resolver.pinned_resolved());  // nothing pinned yet
    fx.resolver.pin(a, 0);
    fx.resolver.pin(b, 0);
    fx.tick(0);
    CHECK(fx.sent.size() == 2);
    CHECK(!fx.resolver.pinned_resolved());

    const auto mac = mac_of(0xabcdef01);
    fx.resolver.confirm(a, mac.data(), 50 * ms);
    CHECK(fx.resolver.state(a) == status::reachable);
    uint8_t out[6];
    REQUIRE(fx.table.mac(a, out));
    CHECK(std::equal(out, out + 6, mac.begin()));
    CHECK(!fx.resolver.pinned_resolved());  // b still incomplete

    fx.resolver.confirm(b, mac_of(2).data(), 60 * ms);
    CHECK(fx.resolver.pinned_resolved());
    const size_t before = fx.sent.size();
    fx.run(100 * ms, 20 * sec, 100 * ms);  // < 3/4 of 30 s
    CHECK(fx.sent.size() == before);
    CHECK(fx.resolver.state(a) == status::reachable);
}

TEST_CASE("a reachable pinned next hop is refreshed at 3/4 reachable_time and expires at it") {
    // Property: refreshes start at 3/4 reachable_time; expiry at reachable_time unless answered.
    resolver_fixture fx({40, 500, 3});  // refresh at 30 s, expiry at 40 s
    uint32_t s = fx.table.find_or_add(0, addr("198.18.0.254"));
    fx.resolver.pin(s, 0);
    fx.resolver.confirm(s, mac_of(1).data(), 0);
    fx.run(sec, 40 * sec - 100 * ms, 100 * ms);
    auto times = fx.sent_times(s);
    REQUIRE(!times.empty());
    CHECK(times.front() >= 30 * sec);
    CHECK(times.front() < 30 * sec + 100 * ms + 1);
    for (size_t k = 1; k < times.size(); ++k) CHECK(times[k] - times[k - 1] == 500 * ms);
    uint8_t out[6];
    CHECK(fx.table.mac(s, out));
    CHECK(fx.resolver.state(s) == status::reachable);

    fx.tick(40 * sec);
    CHECK(!fx.table.mac(s, out));
    CHECK(fx.resolver.state(s) == status::incomplete);
    REQUIRE(!fx.transitions.empty());
    CHECK(fx.transitions.back() == std::tuple{s, status::reachable, status::incomplete});
    const size_t n = fx.sent.size();
    fx.tick(40 * sec + 100 * ms);
    CHECK(fx.sent.size() == n + 1);  // resolution starts over at once

    // A reply to a refresh keeps the entry reachable past the old deadline.
    resolver_fixture fy({40, 500, 3});
    uint32_t r = fy.table.find_or_add(0, addr("198.18.0.254"));
    fy.resolver.pin(r, 0);
    fy.resolver.confirm(r, mac_of(1).data(), 0);
    fy.run(sec, 31 * sec, sec);
    REQUIRE(!fy.sent.empty());
    fy.resolver.confirm(r, mac_of(2).data(), 31 * sec);
    fy.run(32 * sec, 60 * sec, sec);
    CHECK(fy.resolver.state(r) == status::reachable);
    REQUIRE(fy.table.mac(r, out));
    CHECK(std::equal(out, out + 6, mac_of(2).begin()));
}

TEST_CASE("a learned neighbour goes stale and is re-resolved only when wanted") {
    // Property: a learned entry is never refreshed, goes stale, and resolves again only if wanted.
    resolver_fixture fx({30, 100, 3});
    uint32_t s = fx.table.find_or_add(0, addr("198.18.0.33"));
    fx.resolver.confirm(s, mac_of(3).data(), 0);
    CHECK(fx.resolver.state(s) == status::reachable);
    CHECK(fx.resolver.pinned_resolved());  // learned slots do not count
    fx.run(sec, 30 * sec - sec, sec);
    CHECK(fx.sent.empty());
    uint8_t out[6];
    CHECK(fx.table.mac(s, out));

    fx.tick(30 * sec);
    CHECK(fx.resolver.state(s) == status::stale);
    CHECK(!fx.table.mac(s, out));
    fx.run(31 * sec, 120 * sec, sec);
    CHECK(fx.sent.empty());
    CHECK(fx.resolver.state(s) == status::stale);

    fx.table.want(s);
    fx.tick(121 * sec);
    CHECK(fx.sent_times(s) == std::vector<uint64_t>{121 * sec});
    CHECK(fx.resolver.state(s) == status::incomplete);
    fx.resolver.confirm(s, mac_of(4).data(), 121 * sec + ms);
    CHECK(fx.resolver.state(s) == status::reachable);
    REQUIRE(fx.table.mac(s, out));
    CHECK(std::equal(out, out + 6, mac_of(4).begin()));
}

TEST_CASE("an unpinned failed neighbour stays failed until asked again") {
    // Property: an unpinned slot fails after `retries` requests and restarts only when requested.
    resolver_fixture fx({30, 100, 2});
    uint32_t s = fx.table.find_or_add(0, addr("198.18.0.44"));
    fx.resolver.request(s, 0);
    fx.run(0, 10 * sec, 50 * ms);
    CHECK(fx.sent_times(s) == std::vector<uint64_t>{0, 100 * ms});
    CHECK(fx.resolver.state(s) == status::failed);
    fx.resolver.request(s, 10 * sec + 1);
    CHECK(fx.resolver.state(s) == status::incomplete);
    fx.tick(10 * sec + 50 * ms);
    CHECK(fx.sent_times(s).size() == 3);
}

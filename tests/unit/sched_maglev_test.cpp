// Unit tests of src/sched/maglev.hpp: Maglev tables' shares, rebuilds, determinism and lookups.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <random>
#include <stdexcept>
#include <vector>

#include "sched/client_hash.hpp"
#include "sched/maglev.hpp"

using namespace sluice::sched;

namespace {

constexpr uint32_t table_size = 65537;

std::vector<maglev_backend> equal_backends(uint32_t n, uint64_t salt = 0) {
    std::vector<maglev_backend> b;
    for (uint32_t i = 0; i < n; ++i) {
        const uint8_t addr[4] = {10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)};
        b.push_back({backend_key(addr, 4, uint16_t(8080 + salt)), 1});
    }
    return b;
}

std::vector<uint64_t> owned(const maglev_table& t, size_t backends) {
    std::vector<uint64_t> count(backends, 0);
    for (uint32_t owner : t.entries()) {
        REQUIRE(owner < backends);
        ++count[owner];
    }
    return count;
}

}  // namespace

TEST_CASE("maglev gives equal backends equal shares") {
    // Property: N equal backends each own 0.99..1.01 of M/N entries (M = 65537).
    for (uint32_t n : {3u, 10u, 100u, 1000u}) {
        CAPTURE(n);
        const maglev_table t = maglev_table::build(equal_backends(n), table_size, 1);
        REQUIRE(t.size() == table_size);
        const double fair = double(table_size) / n;
        for (uint64_t c : owned(t, n)) {
            CHECK(c >= 0.99 * fair);
            CHECK(c <= 1.01 * fair);
        }
    }
}

TEST_CASE("maglev with equal weights is the paper's population") {
    // Property: build() equals a direct transcription of the pseudo-code of section 3.4 (full
    // permutation lists, one entry per backend per turn in order), with offset and skip from
    // splitmix64's first two outputs seeded with key ^ seed (pinned: tables must not change
    // between versions, or LB instances running different versions disagree).
    auto splitmix = [](uint64_t x) {
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
    };
    const uint64_t golden = 0x9e3779b97f4a7c15ull;
    for (uint32_t m : {7u, 251u, 4099u}) {
        for (uint32_t n : {1u, 2u, 5u, 13u}) {
            for (uint32_t weight : {1u, 7u}) {
                std::vector<maglev_backend> b = equal_backends(n, m);
                for (maglev_backend& x : b) x.weight = weight;
                const uint64_t seed = m * 31 + n;
                std::vector<std::vector<uint32_t>> permutation(n);
                for (uint32_t i = 0; i < n; ++i) {
                    const uint64_t offset = splitmix((b[i].key ^ seed) + golden) % m;
                    const uint64_t skip = splitmix((b[i].key ^ seed) + 2 * golden) % (m - 1) + 1;
                    for (uint64_t j = 0; j < m; ++j)
                        permutation[i].push_back(uint32_t((offset + j * skip) % m));
                }
                std::vector<uint32_t> next(n, 0);
                std::vector<uint32_t> entry(m, no_backend);
                for (uint32_t filled = 0;;) {
                    for (uint32_t i = 0; i < n; ++i) {
                        uint32_t c = permutation[i][next[i]];
                        while (entry[c] != no_backend) c = permutation[i][++next[i]];
                        entry[c] = i;
                        ++next[i];
                        if (++filled == m) goto done;
                    }
                }
            done:
                CAPTURE(m);
                CAPTURE(n);
                CHECK(maglev_table::build(b, m, seed).entries() == entry);
            }
        }
    }
}

TEST_CASE("maglev rebuild after a removal moves only the removed backend's entries") {
    // Property: removing (or draining to weight 0) one of N backends keeps every other entry's
    // owner; the moved share is the removed backend's, about 1/N; survivors stay balanced.
    std::mt19937 rng(3);
    for (uint32_t n : {3u, 10u, 100u, 1000u}) {
        for (bool drain : {false, true}) {
            CAPTURE(n);
            CAPTURE(drain);
            const std::vector<maglev_backend> before = equal_backends(n);
            const maglev_table old = maglev_table::build(before, table_size, 9);
            const uint32_t gone = rng() % n;
            std::vector<maglev_backend> after = before;
            std::vector<uint32_t> new_index(n);  // old index -> new index
            if (drain) {
                after[gone].weight = 0;
                for (uint32_t i = 0; i < n; ++i) new_index[i] = i;
            } else {
                after.erase(after.begin() + gone);
                for (uint32_t i = 0; i < n; ++i) new_index[i] = i < gone ? i : i - 1;
            }
            const maglev_table t = maglev_table::rebuild(old, before, after, table_size, 9);
            REQUIRE(t.size() == table_size);
            uint64_t moved = 0;
            for (uint32_t e = 0; e < table_size; ++e) {
                const uint32_t was = old.entries()[e];
                if (was == gone) {
                    ++moved;
                    if (drain) REQUIRE(t.entries()[e] != gone);
                } else {
                    REQUIRE(t.entries()[e] == new_index[was]);
                }
            }
            CHECK(std::fabs(double(moved) / table_size - 1.0 / n) <= 0.01);
            const double fair = double(table_size) / (n - 1);
            std::vector<uint64_t> count = owned(t, after.size());
            for (uint32_t i = 0; i < after.size(); ++i) {
                if (after[i].weight == 0) {
                    CHECK(count[i] == 0);
                    continue;
                }
                CHECK(std::fabs(double(count[i]) - fair) <= 2.0);
            }
        }
    }
}

TEST_CASE("maglev shares follow the weights") {
    // Property: weights 1:2:3 own 1/6, 2/6, 3/6 of the table to within 1%, before and after a
    // rebuild that removes the weight-2 backend (then 1/4, 3/4).
    std::vector<maglev_backend> b = equal_backends(3);
    b[0].weight = 1;
    b[1].weight = 2;
    b[2].weight = 3;
    const maglev_table t = maglev_table::build(b, table_size, 4);
    std::vector<uint64_t> count = owned(t, 3);
    for (uint32_t i = 0; i < 3; ++i)
        CHECK(std::fabs(double(count[i]) / table_size - (i + 1) / 6.0) <= 0.01);

    std::vector<maglev_backend> after = {b[0], b[2]};
    count = owned(maglev_table::rebuild(t, b, after, table_size, 4), 2);
    CHECK(std::fabs(double(count[0]) / table_size - 0.25) <= 0.01);
    CHECK(std::fabs(double(count[1]) / table_size - 0.75) <= 0.01);
}

TEST_CASE("maglev shares are within one entry of exact for any weights") {
    // Property: every backend owns M * w / W entries to within one, for random and extremely
    // skewed weights (one of 65535 among 999 of 1: the small ones still get about one entry each,
    // not all in one late round that the table is too full to finish).
    std::mt19937 rng(8);
    std::vector<std::vector<uint32_t>> sets = {{1, 1000}, {65535}, {1, 2, 3}};
    std::vector<uint32_t> skewed(1000, 1);
    skewed[0] = 65535;
    sets.push_back(skewed);
    for (int i = 0; i < 20; ++i) {
        std::vector<uint32_t> w(1 + rng() % 200);
        for (uint32_t& x : w) x = rng() % 10 == 0 ? 0 : 1 + rng() % (i % 2 ? 100 : 65535);
        sets.push_back(w);
    }
    for (const std::vector<uint32_t>& weights : sets) {
        std::vector<maglev_backend> b = equal_backends(uint32_t(weights.size()));
        double total = 0;
        for (uint32_t i = 0; i < b.size(); ++i) total += b[i].weight = weights[i];
        if (total == 0) continue;
        const std::vector<uint64_t> count = owned(maglev_table::build(b, table_size, 6), b.size());
        for (uint32_t i = 0; i < b.size(); ++i) {
            CAPTURE(weights.size());
            CAPTURE(i);
            CHECK(std::fabs(double(count[i]) - table_size * weights[i] / total) < 1.0);
        }
    }
}

TEST_CASE("maglev rebuild falls back to a full build when shares change") {
    // Property: adding a backend or changing a weight, size or seed gives exactly build()'s table.
    const std::vector<maglev_backend> before = equal_backends(10);
    const maglev_table old = maglev_table::build(before, table_size, 2);
    std::vector<maglev_backend> added = equal_backends(11);
    CHECK(maglev_table::rebuild(old, before, added, table_size, 2).entries() ==
          maglev_table::build(added, table_size, 2).entries());
    std::vector<maglev_backend> reweighted = before;
    reweighted[4].weight = 3;
    CHECK(maglev_table::rebuild(old, before, reweighted, table_size, 2).entries() ==
          maglev_table::build(reweighted, table_size, 2).entries());
    CHECK(maglev_table::rebuild(old, before, before, 65521, 2).entries() ==
          maglev_table::build(before, 65521, 2).entries());
    CHECK(maglev_table::rebuild(old, before, before, table_size, 3).entries() ==
          maglev_table::build(before, table_size, 3).entries());
    // Nothing changed: nothing moves.
    CHECK(maglev_table::rebuild(old, before, before, table_size, 2).entries() == old.entries());
}

TEST_CASE("maglev tables are deterministic and the seed perturbs them") {
    // Property: the same input builds the identical table twice; another seed moves most entries.
    const std::vector<maglev_backend> b = equal_backends(100);
    const maglev_table one = maglev_table::build(b, table_size, 77);
    const maglev_table two = maglev_table::build(b, table_size, 77);
    CHECK(one.entries() == two.entries());
    const maglev_table other = maglev_table::build(b, table_size, 78);
    uint64_t differ = 0;
    for (uint32_t e = 0; e < table_size; ++e) differ += one.entries()[e] != other.entries()[e];
    CHECK(differ > table_size * 9 / 10);  // ~99/100 expected for unrelated tables
}

TEST_CASE("is_prime") {
    // Property: agrees with known primes and composites, at both ends of the 32-bit range.
    for (uint32_t p : {2u, 3u, 5u, 13u, 251u, 65521u, 65537u, 655373u, 4294967291u})
        CHECK(is_prime(p));
    for (uint32_t c : {0u, 1u, 4u, 9u, 15u, 65535u, 65536u, 65539u * 3u, 4294967295u, 4294836225u})
        CHECK_FALSE(is_prime(c));
    CHECK_THROWS_AS(maglev_table::build(equal_backends(3), 65536, 0), std::invalid_argument);
}

TEST_CASE("maglev lookup spreads flows over entries and returns valid backends") {
    // Property: client hashes of 2^20 consecutive IPv4 clients land on the 65537 entries like
    // uniform draws (chi-square within 5 standard deviations of its mean M-1), and per backend
    // in proportion to the table's shares; every answer is a valid index.
    const uint32_t n = 10;
    const maglev_table t = maglev_table::build(equal_backends(n), table_size, 5);
    std::vector<uint64_t> table_share = owned(t, n);
    std::vector<uint64_t> per_entry(table_size, 0);
    std::vector<uint64_t> per_backend(n, 0);
    const uint32_t clients = 1u << 20;
    const uint8_t vip[4] = {192, 0, 2, 1};
    for (uint32_t c = 0; c < clients; ++c) {
        const uint32_t ip = 0x0a000000 + c;
        const uint8_t src[4] = {uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8),
                                uint8_t(ip)};
        const uint64_t h = client_hash(hash_selector::src_ip, src, vip, 4, 40000, 80, 6, 0);
        const uint64_t slot = (h >> 32) * table_size >> 32;  // lookup()'s reduction
        ++per_entry[slot];
        const uint32_t pick = t.lookup(h);
        REQUIRE(pick == t.entries()[slot]);
        REQUIRE(pick < n);
        ++per_backend[pick];
    }
    const double expect = double(clients) / table_size;
    double chi = 0;
    for (uint64_t got : per_entry) chi += (got - expect) * (got - expect) / expect;
    const double df = table_size - 1;
    CHECK(std::fabs(chi - df) <= 5 * std::sqrt(2 * df));
    chi = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const double want = double(clients) * table_share[i] / table_size;
        chi += (per_backend[i] - want) * (per_backend[i] - want) / want;
    }
    CHECK(chi < 27.9);  // chi-square, 9 degrees of freedom, p = 0.001
}

TEST_CASE("maglev without weighted backends answers no_backend") {
    // Property: no backends, all weight 0, or a default table: every lookup gives no_backend.
    std::vector<maglev_backend> zero = equal_backends(4);
    for (maglev_backend& b : zero) b.weight = 0;
    for (const maglev_table& t :
         {maglev_table{}, maglev_table::build({}, table_size, 0),
          maglev_table::build(zero, table_size, 0),
          maglev_table::rebuild(maglev_table::build(equal_backends(4), table_size, 0),
                                equal_backends(4), zero, table_size, 0)}) {
        CHECK(t.size() == 0);
        for (uint64_t h : {0ull, 1ull, 0xdeadbeefcafef00dull, ~0ull})
            CHECK(t.lookup(h) == no_backend);
    }
}

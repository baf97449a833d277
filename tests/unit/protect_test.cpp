// Unit tests for src/protect/: token bucket arithmetic (rate, burst, gaps, a clock going back,
// splitting over workers), the per-source limiter (independence, bounded size, eviction), and
// Hyperscan payload rules (compile errors naming the rule, matching within the first N bytes).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "protect/rule_set.hpp"
#include "protect/source_limiter.hpp"
#include "protect/token_bucket.hpp"

using namespace sluice::protect;

namespace {

constexpr uint64_t ns_per_s = 1'000'000'000;  // a nanosecond clock
constexpr uint64_t tsc_hz = 2'500'000'000;    // a 2.5 GHz TSC

// Takes attempted at `now` until one fails; how many succeeded (capped at `limit`).
uint64_t drain(token_bucket& bucket, uint64_t now, uint64_t limit = 1'000'000) {
    uint64_t n = 0;
    while (n < limit && bucket.take(now)) ++n;
    return n;
}

// Attempts `per_tick` takes every `step` ticks over [start, end): how many succeeded.
uint64_t offered(token_bucket& bucket, uint64_t start, uint64_t end, uint64_t step,
                 uint64_t per_tick) {
    uint64_t n = 0;
    for (uint64_t t = start; t < end; t += step)
        for (uint64_t i = 0; i < per_tick; ++i) n += bucket.take(t) ? 1 : 0;
    return n;
}

}  // namespace

// ---- token bucket ----------------------------------------------------------------------------

TEST_CASE("a full bucket passes exactly `burst` events back to back, then none") {
    token_bucket bucket(bucket_params::per_second(100, 20, ns_per_s));
    CHECK(bucket.available(1000) == 20);
    CHECK(drain(bucket, 1000) == 20);
    CHECK_FALSE(bucket.take(1000));
    CHECK(bucket.available(1000) == 0);
}

TEST_CASE("burst 0 means a burst of the rate") {
    token_bucket bucket(bucket_params::per_second(50, 0, ns_per_s));
    CHECK(drain(bucket, 7) == 50);
}

TEST_CASE("an empty bucket refills one token per 1/rate, not earlier") {
    token_bucket bucket(bucket_params::per_second(100, 5, ns_per_s));  // one per 10 ms
    REQUIRE(drain(bucket, 0) == 5);
    CHECK_FALSE(bucket.take(10'000'000 - 1));
    CHECK(bucket.take(10'000'000));
    CHECK_FALSE(bucket.take(10'000'000));
    // 35 ms later: 3 more (the half token stays for later).
    CHECK(drain(bucket, 45'000'000) == 3);
    CHECK(bucket.take(50'000'000));
}

TEST_CASE("a saturating load gets burst + rate × time, to within one event") {
    // 1000/s with burst 10 on a TSC clock, offered 5 events every 100 µs for 2 s.
    token_bucket bucket(bucket_params::per_second(1000, 10, tsc_hz));
    uint64_t passed = offered(bucket, 0, 2 * tsc_hz, tsc_hz / 10000, 5);
    CHECK(passed >= 10 + 2000 - 2);
    CHECK(passed <= 10 + 2000 + 2);
}

TEST_CASE("a rate above the clock's frequency is exact (sub-tick intervals)") {
    // 3 tokens per ns; burst 3: every ns exactly 3 pass.
    token_bucket bucket(bucket_params::per_second(3 * ns_per_s, 3, ns_per_s));
    CHECK(drain(bucket, 100) == 3);
    CHECK(drain(bucket, 101) == 3);
    CHECK(drain(bucket, 102) == 3);
    // A fractional rate per tick: 1.5 per ns gives 2, 1, 2, 1, … (burst 2: a bucket of 1 could
    // never hold the half token, and would pass 1 per ns).
    token_bucket half(bucket_params::per_second(3 * ns_per_s / 2, 2, ns_per_s));
    CHECK(drain(half, 1) == 2);
    CHECK(drain(half, 2) == 1);
    CHECK(drain(half, 3) == 2);
    uint64_t passed = offered(half, 4, 2004, 1, 4);
    CHECK(passed >= 2999);
    CHECK(passed <= 3001);
}

TEST_CASE("a long gap refills up to burst, never beyond") {
    token_bucket bucket(bucket_params::per_second(1000, 10, tsc_hz));
    REQUIRE(drain(bucket, 5) == 10);
    CHECK(drain(bucket, 5 + 3600 * tsc_hz) == 10);  // an hour later
    // A gap as long as the clock allows: no overflow, still exactly burst.
    CHECK(drain(bucket, UINT64_MAX) == 10);
}

TEST_CASE("a clock stepping back by up to one bucket time never grants a token") {
    const uint64_t interval = ns_per_s / 100;  // 100/s, burst 4: bucket time 40 ms
    token_bucket bucket(bucket_params::per_second(100, 4, ns_per_s));
    const uint64_t t0 = 1000 * ns_per_s;
    REQUIRE(drain(bucket, t0) == 4);
    // 40 ms back (the most this rule covers): empty there, and back on the original timeline
    // the refill is exactly the monotonic one: the 40 ms are not counted twice.
    CHECK_FALSE(bucket.take(t0 - 4 * interval));
    CHECK_FALSE(bucket.take(t0 - interval));
    CHECK_FALSE(bucket.take(t0 + interval - 1));
    CHECK(bucket.take(t0 + interval));
    CHECK_FALSE(bucket.take(t0 + interval));
    // A half-used bucket: a step back leaves it no fuller than it was.
    token_bucket half(bucket_params::per_second(100, 4, ns_per_s));
    REQUIRE(drain(half, t0, 2) == 2);
    CHECK(half.available(t0 - interval) == 1);
    CHECK(drain(half, t0 - interval) == 1);
    CHECK(drain(half, t0) == 1);  // 2 + 1 + 1: the burst of 4 at t0, no more
}

TEST_CASE("a clock reset far back re-anchors the bucket as empty instead of stalling it") {
    const uint64_t interval = ns_per_s / 100;
    token_bucket bucket(bucket_params::per_second(100, 4, ns_per_s));
    const uint64_t t0 = 1000 * ns_per_s;
    REQUIRE(drain(bucket, t0) == 4);
    // Reset to near 0: empty as of the new time, one token one interval later, then the rate.
    const uint64_t t1 = 3;
    CHECK_FALSE(bucket.take(t1));
    CHECK(bucket.available(t1) == 0);
    CHECK_FALSE(bucket.take(t1 + interval - 1));
    CHECK(bucket.take(t1 + interval));
    CHECK_FALSE(bucket.take(t1 + interval));
    CHECK(drain(bucket, t1 + 100 * interval) == 4);
    // Jumping forward to the old timeline again gains at most one burst.
    CHECK(drain(bucket, t0) <= 4);
}

TEST_CASE("rate 0 is unlimited") {
    auto params = bucket_params::per_second(0, 5, ns_per_s);
    CHECK(params.unlimited());
    token_bucket bucket(params);
    CHECK(drain(bucket, 0, 100000) == 100000);
    token_bucket none;
    CHECK(none.take(0));
}

TEST_CASE("splitting over N workers gives each rate/N and burst/N, summing to the limit") {
    const uint32_t workers = 4;
    auto params = bucket_params::per_second(1000, 100, tsc_hz, workers);
    uint64_t burst = 0, total = 0;
    for (uint32_t w = 0; w < workers; ++w) {
        token_bucket bucket(params);
        uint64_t first = drain(bucket, 0);
        CHECK(first == 25);
        burst += first;
        // 10 s of saturating load on this worker: 25 + 250/s × 10 s.
        total += first + offered(bucket, 1, 10 * tsc_hz, tsc_hz / 1000, 2);
    }
    CHECK(burst == 100);
    CHECK(total >= 100 + 10000 - 2 * workers);
    CHECK(total <= 100 + 10000 + 2 * workers);
}

TEST_CASE("a split keeps fractional rates and gives every worker at least one token of burst") {
    // 3/s over 4 workers: 0.75/s each (one per 4/3 s), burst 1 each (3/4 rounds up to 1).
    auto params = bucket_params::per_second(3, 3, ns_per_s, 4);
    token_bucket bucket(params);
    CHECK(drain(bucket, 0) == 1);
    const uint64_t interval = 4 * ns_per_s / 3;  // 1333333333.3 ns: the token comes at +1
    CHECK_FALSE(bucket.take(interval - 1));
    CHECK(bucket.take(interval + 1));
    // Offered every 1 ms for 300 s: 0.75/s, i.e. 225 events (a bucket of 1 keeps no fraction
    // between attempts, so each wait rounds up to the next 1 ms: -0.1%).
    uint64_t passed = 2 + offered(bucket, interval + 2, 300 * ns_per_s, ns_per_s / 1000, 1);
    CHECK(passed >= 224);
    CHECK(passed <= 226);
    // Burst 10 over 4: 2 each (rounded down).
    token_bucket b10(bucket_params::per_second(100, 10, ns_per_s, 4));
    CHECK(drain(b10, 0) == 2);
}

// ---- source limiter ----------------------------------------------------------------------------

namespace {

source_key v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    const uint8_t addr[4] = {a, b, c, d};
    return source_key::v4(addr);
}

source_key v6(uint16_t last) {
    uint8_t addr[16] = {0x20, 0x01, 0x00, 0x02};
    addr[14] = uint8_t(last >> 8);
    addr[15] = uint8_t(last);
    return source_key::v6(addr);
}

}  // namespace

TEST_CASE("each source has its own bucket: one source over its limit leaves the others alone") {
    source_limiter limiter(1024, bucket_params::per_second(10, 3, ns_per_s), 42);
    auto a = v4(198, 18, 0, 1), b = v4(198, 18, 0, 2), c = v6(1);
    for (int i = 0; i < 3; ++i) CHECK(limiter.take(a, 100));
    CHECK_FALSE(limiter.take(a, 100));
    CHECK_FALSE(limiter.take(a, 100));
    for (int i = 0; i < 3; ++i) CHECK(limiter.take(b, 100));
    for (int i = 0; i < 3; ++i) CHECK(limiter.take(c, 100));
    CHECK_FALSE(limiter.take(b, 100));
    // a refills at its rate: one more after 100 ms.
    CHECK(limiter.take(a, 100 + ns_per_s / 10));
    CHECK(limiter.size() == 3);
    CHECK(limiter.stats().evictions == 0);
}

TEST_CASE("IPv4 and IPv6 sources are distinct keys; IPv4 is stored mapped") {
    const uint8_t four[4] = {198, 18, 0, 1};
    const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1};
    const uint8_t other[16] = {0xc6, 0x12, 0, 1};  // 198.18.0.1's bytes at the start of an IPv6
    CHECK(source_key::v4(four) == source_key::v6(mapped));
    CHECK_FALSE(source_key::v4(four) == source_key::v6(other));
    CHECK(source_key::of(*sluice::ip_address::parse("198.18.0.1")) == source_key::v4(four));
    source_limiter limiter(64, bucket_params::per_second(1, 1, ns_per_s), 1);
    CHECK(limiter.take(source_key::v4(four), 0));
    CHECK_FALSE(limiter.take(source_key::v4(four), 0));
    CHECK(limiter.take(source_key::v6(other), 0));
}

TEST_CASE("the table never grows beyond its capacity; full sets evict and count it") {
    source_limiter limiter(1000, bucket_params::per_second(1, 1, ns_per_s), 7);
    CHECK(limiter.capacity() == 1000);
    // 5000 distinct sources, all within one second: every one is still being limited.
    for (uint32_t i = 0; i < 5000; ++i)
        CHECK(limiter.take(v4(10, uint8_t(i >> 8), uint8_t(i), 1), 0));
    CHECK(limiter.size() <= limiter.capacity());
    const auto& stats = limiter.stats();
    CHECK(stats.inserts == limiter.size());
    CHECK(stats.inserts + stats.reclaims + stats.evictions == 5000);
    CHECK(stats.evictions >= 4000);
    CHECK(stats.reclaims == 0);
    // With a memory budget of its own: the same, in the caller's memory.
    const uint32_t capacity = 130;
    CHECK(source_limiter::memory_bytes(capacity) == 33 * 128);  // rounded up to whole sets
    std::vector<std::byte> memory(source_limiter::memory_bytes(capacity) + 64);
    void* aligned = memory.data();
    size_t space = memory.size();
    REQUIRE(std::align(64, source_limiter::memory_bytes(capacity), aligned, space));
    source_limiter external(
        {static_cast<std::byte*>(aligned), source_limiter::memory_bytes(capacity)}, capacity,
        bucket_params::per_second(1, 1, ns_per_s), 7);
    CHECK(external.capacity() == 132);
    for (uint32_t i = 0; i < 1000; ++i) external.take(v4(10, 0, uint8_t(i >> 8), uint8_t(i)), 0);
    CHECK(external.size() <= 132);
    CHECK(external.stats().evictions > 0);
}

TEST_CASE("two candidate sets per source: a table 75% full of limited sources evicts < 1%") {
    source_limiter limiter(65536, bucket_params::per_second(1, 1, ns_per_s), 11);
    const uint32_t sources = 65536 / 4 * 3;
    auto source = [](uint32_t i) { return v4(10, uint8_t(i >> 16), uint8_t(i >> 8), uint8_t(i)); };
    for (uint32_t i = 0; i < sources; ++i) limiter.take(source(i), 0);
    // One candidate set per source would leave ~11% without an entry (Poisson, 3 per set of 4).
    CHECK(limiter.stats().evictions < sources / 100);
    // And the rest are all still there: every one of them is limited now.
    uint32_t limited = 0;
    for (uint32_t i = 0; i < sources; ++i) limited += limiter.take(source(i), 0) ? 0 : 1;
    CHECK(limited >= sources - 2 * sources / 100);
}

TEST_CASE("a full set replaces the fullest bucket: idle sources go, a limited source stays") {
    // One set of 4: every source lands in it.
    source_limiter limiter(4, bucket_params::per_second(1, 2, ns_per_s), 3);
    REQUIRE(limiter.capacity() == 4);
    auto attacker = v4(198, 18, 9, 9);
    CHECK(limiter.take(attacker, 0));
    CHECK(limiter.take(attacker, 0));
    CHECK_FALSE(limiter.take(attacker, 0));  // limited: its TAT is the furthest ahead
    for (uint8_t i = 1; i <= 3; ++i) CHECK(limiter.take(v4(198, 18, 0, i), 0));
    CHECK(limiter.size() == 4);
    // 10 s later every other bucket is full again: new sources reuse those entries without loss.
    for (uint8_t i = 4; i <= 6; ++i) CHECK(limiter.take(v4(198, 18, 0, i), 10 * ns_per_s));
    CHECK(limiter.stats().reclaims == 3);
    CHECK(limiter.stats().evictions == 0);
    // Still at 0 s: the new sources evict each other (one token used, TAT 1 s) rather than the
    // attacker (TAT 2 s)...
    source_limiter hot(4, bucket_params::per_second(1, 2, ns_per_s), 3);
    CHECK(hot.take(attacker, 0));
    CHECK(hot.take(attacker, 0));
    for (uint8_t i = 1; i <= 20; ++i) CHECK(hot.take(v4(198, 18, 1, i), 0));
    CHECK(hot.stats().evictions == 17);
    // ...so it is still limited: its entry survived.
    CHECK_FALSE(hot.take(attacker, 0));
}

TEST_CASE("an evicted source starts over with a full bucket") {
    source_limiter limiter(4, bucket_params::per_second(1, 1, ns_per_s), 5);
    auto first = v4(198, 18, 2, 1);
    CHECK(limiter.take(first, 0));
    CHECK_FALSE(limiter.take(first, 0));
    // Four newer sources with emptier buckets (taken later, so TAT later) push it out.
    for (uint8_t i = 2; i <= 5; ++i) CHECK(limiter.take(v4(198, 18, 2, i), 1000));
    CHECK(limiter.stats().evictions == 1);
    CHECK(limiter.take(first, 2000));  // forgotten: full again
}

TEST_CASE("clear() forgets every source; unlimited parameters never touch the table") {
    source_limiter limiter(64, bucket_params::per_second(1, 1, ns_per_s), 9);
    auto a = v4(198, 18, 3, 1);
    CHECK(limiter.take(a, 0));
    CHECK_FALSE(limiter.take(a, 0));
    limiter.clear();
    CHECK(limiter.size() == 0);
    CHECK(limiter.take(a, 0));
    source_limiter open(64, bucket_params{}, 9);
    for (int i = 0; i < 100; ++i) CHECK(open.take(a, 0));
    CHECK(open.size() == 0);
}

// ---- payload rules -----------------------------------------------------------------------------

namespace {

rule_set compiled(std::vector<std::string> patterns, uint32_t inspect = 256) {
    auto out = rule_set::compile(patterns, inspect);
    std::string errors;
    for (const auto& e : out.errors) errors += e.to_string() + "\n";
    REQUIRE_MESSAGE(out.ok(), errors);
    return std::move(out.rules);
}

rule_scratch scratch_for(const rule_set& rules) {
    rule_scratch scratch;
    std::string error;
    REQUIRE_MESSAGE(scratch.fit(rules, error), error);
    return scratch;
}

rule_match scan(const rule_set& rules, rule_scratch& scratch, std::string_view payload) {
    return rules.match(scratch, reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
}

}  // namespace

TEST_CASE("a pattern that does not compile is an error naming its index and pattern") {
    std::vector<std::string> patterns{"GET /admin", "GET (/admin", "ok", "a{2,1}"};
    auto out = rule_set::compile(patterns, 256);
    REQUIRE(out.errors.size() == 2);  // every bad rule, not only the first
    CHECK(out.errors[0].rule == 1u);
    CHECK(out.errors[0].pattern == "GET (/admin");
    CHECK(out.errors[0].message.find("parenthesis") != std::string::npos);
    CHECK(out.errors[0].to_string().rfind("rule[1] 'GET (/admin': ", 0) == 0);
    CHECK(out.errors[1].rule == 3u);
    CHECK(out.errors[1].pattern == "a{2,1}");
    CHECK(out.rules.empty());
}

TEST_CASE("a pattern matching the empty payload, or containing NUL, is refused") {
    auto empty = rule_set::compile(std::vector<std::string>{"x", "a*"}, 256);
    REQUIRE(empty.errors.size() == 1);
    CHECK(empty.errors[0].rule == 1u);
    CHECK(empty.errors[0].message.find("empty") != std::string::npos);
    auto nul = rule_set::compile(std::vector<std::string>{std::string("a\0b", 3)}, 256);
    REQUIRE(nul.errors.size() == 1);
    CHECK(nul.errors[0].rule == 0u);
    CHECK(nul.errors[0].message.find("NUL") != std::string::npos);
}

TEST_CASE("match reports the lowest-numbered matching rule, or no match") {
    auto rules = compiled({"^GET /admin", "passwd", "GET", "\\x00\\x01"});
    auto scratch = scratch_for(rules);
    CHECK(rules.size() == 4);
    auto m = scan(rules, scratch, "GET /admin HTTP/1.1\r\n");
    CHECK(m.status == match_status::matched);
    CHECK(m.rule == 0);                                                 // rules 0 and 2 both match
    CHECK(scan(rules, scratch, "GET /etc/passwd HTTP/1.1").rule == 1);  // 1 and 2 match
    // Not the first match in the payload: rule 2 ends after rule 1 here, and rule 1 still wins.
    CHECK(scan(rules, scratch, "passwd GET").rule == 1);
    CHECK(scan(rules, scratch, "GET passwd").rule == 1);
    CHECK(scan(rules, scratch, "POST /GET").rule == 2);
    CHECK(scan(rules, scratch, "HEAD / HTTP/1.1").status == match_status::no_match);
    CHECK(scan(rules, scratch, std::string_view("\x05\x00\x01", 3)).rule == 3);
    CHECK(scan(rules, scratch, "").status == match_status::no_match);
    // `^` is the start of the payload, and `.` matches any byte, newlines included.
    CHECK(scan(rules, scratch, "x GET /admin").rule == 2);
    auto dot = compiled({"a.b"});
    auto dot_scratch = scratch_for(dot);
    CHECK(scan(dot, dot_scratch, "a\nb").status == match_status::matched);
}

TEST_CASE("only the first inspect_bytes bytes are scanned") {
    auto rules = compiled({"EVIL"}, 16);
    CHECK(rules.inspect_bytes() == 16);
    auto scratch = scratch_for(rules);
    std::string payload(12, '.');
    CHECK(scan(rules, scratch, payload + "EVIL").status == match_status::matched);    // bytes 12-15
    CHECK(scan(rules, scratch, payload + ".EVIL").status == match_status::no_match);  // ends at 16
    CHECK(scan(rules, scratch, std::string(300, '.') + "EVIL").status == match_status::no_match);
    auto wide = compiled({"EVIL"}, 512);
    auto wide_scratch = scratch_for(wide);
    CHECK(scan(wide, wide_scratch, std::string(300, '.') + "EVIL").status == match_status::matched);
}

TEST_CASE("scratch: clones serve other threads; an unfitted scratch is a scan error, not a crash") {
    auto rules = compiled({"abc"});
    auto big = compiled({"x[0-9]{3}y", "hello", "w.r.d"});
    rule_scratch prototype;
    std::string error;
    REQUIRE(prototype.fit(rules, error));
    REQUIRE(prototype.fit(big, error));  // one scratch for every set of a snapshot
    auto clone = prototype.clone(error);
    REQUIRE(clone);
    CHECK(scan(rules, *clone, "xxabc").status == match_status::matched);
    CHECK(scan(big, *clone, "__x123y").rule == 0);
    CHECK(scan(big, prototype, "hello world").rule == 1);
    rule_scratch unfitted;
    CHECK(scan(rules, unfitted, "abc").status == match_status::scan_error);
    // An empty rule set needs no scratch and matches nothing.
    rule_set none;
    CHECK(scan(none, unfitted, "abc").status == match_status::no_match);
    auto empty = rule_set::compile({}, 256);
    CHECK(empty.ok());
    CHECK(empty.rules.empty());
}

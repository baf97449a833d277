// Cost of the attack-protection checks a worker runs (src/protect/): one token-bucket take (per
// new connection, or per packet for packets_per_second), one per-source limiter take (hit; miss
// that inserts; miss that evicts), and one payload rule scan (per new connection's first payload)
// on 64- and 256-byte payloads, matching or not. Times come from a 2.5 GHz-like tick counter
// advanced by the benchmark itself, so no clock read is measured. Run:
//   build/perf/protect_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "protect/rule_set.hpp"
#include "protect/source_limiter.hpp"
#include "protect/token_bucket.hpp"

namespace {

using namespace sluice::protect;

constexpr uint64_t ticks_per_second = 2'500'000'000;

// Every take passes: 10 M/s, and the clock moves 1000 ticks (400 ns) per take.
void token_bucket_pass(benchmark::State& state) {
    token_bucket bucket(bucket_params::per_second(10'000'000, 64, ticks_per_second));
    uint64_t now = 0;
    for (auto _ : state) {
        now += 1000;
        benchmark::DoNotOptimize(bucket.take(now));
    }
}

// Every take fails: an empty bucket (1/s) under a flood.
void token_bucket_refuse(benchmark::State& state) {
    token_bucket bucket(bucket_params::per_second(1, 1, ticks_per_second));
    uint64_t now = 1;
    bucket.take(now);
    for (auto _ : state) {
        ++now;
        benchmark::DoNotOptimize(bucket.take(now));
    }
}

std::vector<source_key> distinct_sources(size_t n, uint32_t salt) {
    std::vector<source_key> keys;
    keys.reserve(n);
    std::mt19937 rng(salt);
    for (size_t i = 0; i < n; ++i) {
        const uint32_t a = rng();
        const uint8_t addr[4] = {uint8_t(a >> 24), uint8_t(a >> 16), uint8_t(a >> 8), uint8_t(a)};
        keys.push_back(source_key::v4(addr));
    }
    return keys;
}

// Known sources, visited in random order: the table holds range(0) of them in 65536 entries.
void source_limiter_hit(benchmark::State& state) {
    const size_t sources = size_t(state.range(0));
    source_limiter limiter(65536, bucket_params::per_second(100, 100, ticks_per_second), 1);
    auto keys = distinct_sources(sources, 2);
    for (const auto& key : keys) limiter.take(key, 0);
    std::vector<uint32_t> order(1 << 16);
    std::mt19937 rng(3);
    for (auto& i : order) i = uint32_t(rng() % sources);
    uint64_t now = 0;
    size_t i = 0;
    for (auto _ : state) {
        now += 1000;
        benchmark::DoNotOptimize(limiter.take(keys[order[i++ & 0xffff]], now));
    }
    state.counters["evictions"] = double(limiter.stats().evictions);
}

// Every take is a new source that finds a free entry, in a table of range(0) entries (2 MiB
// and 32 MiB): cleared, untimed, before it is 90% full.
void source_limiter_insert(benchmark::State& state) {
    const auto capacity = uint32_t(state.range(0));
    source_limiter limiter(capacity, bucket_params::per_second(100, 100, ticks_per_second), 1);
    auto keys = distinct_sources(1 << 20, 4);
    uint64_t now = 0;
    size_t i = 0;
    for (auto _ : state) {
        if (limiter.size() >= capacity / 10 * 9) [[unlikely]] {
            state.PauseTiming();
            limiter.clear();
            state.ResumeTiming();
        }
        now += 1000;
        benchmark::DoNotOptimize(limiter.take(keys[i++ & ((1 << 20) - 1)], now));
    }
    state.counters["evictions"] = double(limiter.stats().evictions);
}

// Every take is a new source in a full table of limited sources: each one evicts.
void source_limiter_evict(benchmark::State& state) {
    const uint32_t capacity = 65536;
    source_limiter limiter(capacity, bucket_params::per_second(1, 1, ticks_per_second), 1);
    auto keys = distinct_sources(1 << 20, 5);
    size_t i = 0;
    for (auto _ : state) benchmark::DoNotOptimize(limiter.take(keys[i++ & ((1 << 20) - 1)], 1));
    state.counters["evict_share"] =
        double(limiter.stats().evictions) /
        double(limiter.stats().evictions + limiter.stats().inserts + limiter.stats().reclaims + 1);
}

// Ten rules of the kind a VIP in front of web servers carries.
const std::vector<std::string>& web_rules() {
    static const std::vector<std::string> rules{
        "^(GET|POST|HEAD) /admin",
        "^[A-Z]+ [^ ]*\\.\\./",
        "(?i)union\\s+select",
        "(?i)<script",
        "/etc/passwd",
        "(?i)\\bcmd\\.exe\\b",
        "\\$\\{jndi:",
        "^[A-Z]+ /[^ ]*%00",
        "(?i)user-agent:\\s*(sqlmap|nikto|masscan)",
        "^PROPFIND ",
    };
    return rules;
}

// An HTTP request cut to `length` bytes; `evil` puts "${jndi:" (rule 6) in its URL.
std::string request(size_t length, bool evil) {
    std::string text = evil ? "GET /search?q=${jndi:ldap://x} HTTP/1.1\r\n"
                            : "GET /static/app/main.css?v=20240101 HTTP/1.1\r\n";
    text +=
        "Host: www.example.test\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 "
        "Firefox/115.0\r\nAccept: text/css,*/*;q=0.1\r\nAccept-Language: en-US,en;q=0.5\r\n"
        "Accept-Encoding: gzip, deflate, br\r\nConnection: keep-alive\r\nReferer: "
        "https://www.example.test/index.html\r\nCookie: "
        "session=0123456789abcdef0123456789abcdef\r\n"
        "Sec-Fetch-Dest: style\r\nSec-Fetch-Mode: no-cors\r\n\r\n";
    text.resize(length, 'x');
    return text;
}

void rule_scan(benchmark::State& state) {
    const size_t length = size_t(state.range(0));
    const bool evil = state.range(1) != 0;
    auto compiled = rule_set::compile(web_rules(), 256);
    if (!compiled.ok()) {
        state.SkipWithError(compiled.errors[0].to_string().c_str());
        return;
    }
    rule_scratch scratch;
    std::string error;
    if (!scratch.fit(compiled.rules, error)) {
        state.SkipWithError(error.c_str());
        return;
    }
    const std::string payload = request(length, evil);
    const auto* bytes = reinterpret_cast<const uint8_t*>(payload.data());
    for (auto _ : state) benchmark::DoNotOptimize(compiled.rules.match(scratch, bytes, length));
    auto verdict = compiled.rules.match(scratch, bytes, length);
    if ((verdict.status == match_status::matched) != evil) state.SkipWithError("wrong verdict");
    state.SetBytesProcessed(int64_t(state.iterations() * length));
}

}  // namespace

BENCHMARK(token_bucket_pass);
BENCHMARK(token_bucket_refuse);
BENCHMARK(source_limiter_hit)->Arg(1024)->Arg(49152);
BENCHMARK(source_limiter_insert)->Arg(65536)->Arg(1 << 20);
BENCHMARK(source_limiter_evict);
BENCHMARK(rule_scan)
    ->ArgNames({"bytes", "match"})
    ->Args({64, 0})
    ->Args({256, 0})
    ->Args({64, 1})
    ->Args({256, 1});

BENCHMARK_MAIN();

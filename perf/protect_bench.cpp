// Cost of the attack-protection checks a worker runs (src/protect/): one token-bucket take (per
// new connection, or per packet for packets_per_second), one per-source limiter take (hit; miss
// that inserts; miss that evicts), and one payload rule scan (per new connection's first payload)
// on 64- and 256-byte payloads, matching or not. Times come from a 2.5 GHz-like tick counter
// advanced by the benchmark itself, so no clock read is measured. The SYN proxy's stateless
// answer (options parse + SYN cookie + SYN-ACK build, per SYN) and its cookie check (per ACK)
// report ns, TSC cycles and answers or checks per second on one core. Run:
//   build/perf/protect_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "flow/flow_key.hpp"
#include "packet/parse.hpp"
#include "packet/syn_proxy_frames.hpp"
#include "packet/tcp_options.hpp"
#include "protect/rule_set.hpp"
#include "protect/source_limiter.hpp"
#include "protect/syn_cookie.hpp"
#include "protect/token_bucket.hpp"

namespace {

using namespace sluice::protect;

constexpr uint64_t ticks_per_second = 2'500'000'000;

// SkipWithError alone leaves the exit status 0; the smoke test must fail on a wrong verdict.
int failed_benchmarks = 0;
void fail(benchmark::State& state, const char* why) {
    ++failed_benchmarks;
    state.SkipWithError(why);
}

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
        fail(state, compiled.errors[0].to_string().c_str());
        return;
    }
    rule_scratch scratch;
    std::string error;
    if (!scratch.fit(compiled.rules, error)) {
        fail(state, error.c_str());
        return;
    }
    const std::string payload = request(length, evil);
    const auto* bytes = reinterpret_cast<const uint8_t*>(payload.data());
    for (auto _ : state) benchmark::DoNotOptimize(compiled.rules.match(scratch, bytes, length));
    auto verdict = compiled.rules.match(scratch, bytes, length);
    if ((verdict.status == match_status::matched) != evil) fail(state, "wrong verdict");
    state.SetBytesProcessed(int64_t(state.iterations() * length));
}

// ---- SYN proxy: cookie answers and cookie checks ---------------------------------------------

uint64_t read_tsc() {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return 0;
#endif
}

// Per-answer figures next to Google Benchmark's time column: TSC cycles, time and rate.
void report_per_item(benchmark::State& state, uint64_t tsc_ticks, const char* rate_name) {
    const double n = double(state.iterations());
    state.counters["cycles"] = n > 0 ? double(tsc_ticks) / n : 0;
    state.counters["time"] =
        benchmark::Counter(n, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters[rate_name] = benchmark::Counter(n, benchmark::Counter::kIsRate);
}

constexpr size_t syn_count = 4096;  // distinct SYNs, visited in order (power of two)
constexpr size_t frame_stride = 128;
constexpr uint32_t bench_period = 27'000'000;  // ~54 years of 64-second periods
constexpr uint32_t bench_now_ms = 0x5a5a5a5a;

// 4096 distinct client SYNs to one VIP, as Linux sends them (MSS, SACK_PERM, TS, NOP WS 7),
// from distinct addresses and ports of the family's benchmarking range; parsed once.
struct syn_corpus {
    std::vector<uint8_t> frames = std::vector<uint8_t>(syn_count * frame_stride);
    std::vector<sluice::packet::parsed_frame> parsed =
        std::vector<sluice::packet::parsed_frame>(syn_count);
    std::vector<uint32_t> lengths = std::vector<uint32_t>(syn_count);

    explicit syn_corpus(uint8_t family) {
        using namespace sluice::packet;
        std::mt19937 rng(11);
        uint8_t vip[16] = {0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x01};
        if (family == 4) {
            const uint8_t v4[4] = {198, 18, 1, 1};
            std::memcpy(vip, v4, 4);
        }
        for (size_t i = 0; i < syn_count; ++i) {
            uint8_t client[16] = {0x20, 0x01, 0, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
            if (family == 4) {
                const uint8_t v4[4] = {198, 19, uint8_t(i >> 8), uint8_t(i)};
                std::memcpy(client, v4, 4);
            } else {
                client[14] = uint8_t(i >> 8);
                client[15] = uint8_t(i);
            }
            handshake_spec s{};
            s.family = family;
            s.src = client;
            s.dst = vip;
            s.src_port = uint16_t(32768 + rng() % 28000);
            s.dst_port = 443;
            s.seq = uint32_t(rng());
            s.window = 64240;
            s.mss = family == 4 ? 1460 : 1440;
            s.wscale = 7;
            s.sack_ok = true;
            s.timestamps = true;
            s.tsval = uint32_t(rng());
            uint8_t* frame = &frames[i * frame_stride];
            lengths[i] = uint32_t(build_syn(frame, s));
            if (parse_frame(frame, lengths[i], parsed[i]) != sluice::drop_reason::none)
                std::abort();
        }
    }
};

const syn_cookie_secret& bench_secret() {
    static const syn_cookie_secret secret = syn_cookie_secret::random();
    return secret;
}

// The stateless answer to one parsed SYN: read its options, make the cookie, build the SYN-ACK
// (window scale and SACK only with timestamps, see syn_cookie.hpp). Returns the frame length.
size_t answer_syn(const syn_cookie_secret& secret, const uint8_t* frame,
                  const sluice::packet::parsed_frame& p, uint8_t* out) {
    using namespace sluice::packet;
    const uint8_t* tcp = frame + p.l4_offset;
    syn_options client;
    if (!parse_tcp_options(tcp, unsigned(tcp[tcp_off] >> 4) * 4, client)) return 0;
    const sluice::flow::flow_key key = sluice::flow::make_flow_key(frame, p);
    const unsigned index = cookie_mss_index(client.mss, key.family);
    const uint32_t isn = load_be32(tcp + tcp_seq);
    handshake_spec s{};
    s.family = key.family;
    s.src = key.dst;
    s.dst = key.src;
    s.src_port = key.dst_port;
    s.dst_port = key.src_port;
    s.seq = make_syn_cookie(secret, key, isn, bench_period, index);
    s.ack = isn + 1;
    s.window = 65535;
    s.mss = (key.family == 4 ? cookie_mss_v4 : cookie_mss_v6)[index];
    s.timestamps = client.timestamps;
    s.wscale = client.timestamps && client.wscale != no_wscale ? 7 : no_wscale;
    s.sack_ok = client.timestamps && client.sack_ok;
    s.tsval = client.timestamps ? encode_cookie_tsval(bench_now_ms, client) : 0;
    s.tsecr = client.tsval;
    return build_syn_ack(out, s);
}

// The answer must carry a cookie the client's ACK gets accepted with, one period later, giving
// back the MSS index of the SYN's MSS option.
bool answer_valid(const uint8_t* syn, const sluice::packet::parsed_frame& p, const uint8_t* answer,
                  size_t len) {
    using namespace sluice::packet;
    parsed_frame q;
    if (len == 0 || parse_frame(answer, uint32_t(len), q) != sluice::drop_reason::none)
        return false;
    const uint8_t* tcp = syn + p.l4_offset;
    syn_options client;
    if (!parse_tcp_options(tcp, unsigned(tcp[tcp_off] >> 4) * 4, client)) return false;
    const auto key = sluice::flow::make_flow_key(syn, p);
    const uint32_t cookie = load_be32(answer + q.l4_offset + tcp_seq);
    const uint32_t isn = load_be32(tcp + tcp_seq);
    const auto index = check_syn_cookie(bench_secret(), key, isn + 1, cookie + 1, bench_period + 1);
    return index == cookie_mss_index(client.mss, key.family);
}

// "SYN-cookie answers per second per core": SYN already parsed by the worker (parse_frame), then
// options, cookie and SYN-ACK; range(1) = 1 puts parse_frame in the loop too.
void syn_cookie_answer(benchmark::State& state) {
    const syn_corpus corpus(uint8_t(state.range(0)));
    const bool with_parse = state.range(1) != 0;
    alignas(64) static uint8_t out[32][sluice::packet::handshake_max_len + 2];
    const syn_cookie_secret& secret = bench_secret();
    size_t i = 0, len = 0;
    const uint64_t tsc0 = read_tsc();
    for (auto _ : state) {
        const size_t k = i++ & (syn_count - 1);
        const uint8_t* frame = &corpus.frames[k * frame_stride];
        sluice::packet::parsed_frame parsed;
        const sluice::packet::parsed_frame* p = &corpus.parsed[k];
        if (with_parse) {
            benchmark::DoNotOptimize(sluice::packet::parse_frame(frame, corpus.lengths[k], parsed));
            p = &parsed;
        }
        len = answer_syn(secret, frame, *p, out[k & 31]);
        benchmark::DoNotOptimize(len);
    }
    const uint64_t tsc1 = read_tsc();
    report_per_item(state, tsc1 - tsc0, "answers/s");
    const size_t last = (i - 1) & (syn_count - 1);
    if (!answer_valid(&corpus.frames[last * frame_stride], corpus.parsed[last], out[last & 31],
                      len))
        fail(state, "SYN-ACK cookie does not validate");
}

// Cookie check of the client's ACK: range(1) = 1 genuine ACKs (accepted, two SipHashes),
// 0 forged ones with random acknowledgement numbers (an ACK flood; refused, mostly after one).
void syn_cookie_check(benchmark::State& state) {
    const syn_corpus corpus(uint8_t(state.range(0)));
    const bool genuine = state.range(1) != 0;
    struct ack_case {
        sluice::flow::flow_key key;
        uint32_t seq, ack;
    };
    std::vector<ack_case> acks(syn_count);
    std::mt19937 rng(13);
    for (size_t k = 0; k < syn_count; ++k) {
        const uint8_t* frame = &corpus.frames[k * frame_stride];
        const auto& p = corpus.parsed[k];
        const uint32_t isn =
            sluice::packet::load_be32(frame + p.l4_offset + sluice::packet::tcp_seq);
        acks[k].key = sluice::flow::make_flow_key(frame, p);
        acks[k].seq = isn + 1;
        acks[k].ack = genuine
                          ? make_syn_cookie(bench_secret(), acks[k].key, isn, bench_period, 3) + 1
                          : uint32_t(rng());
    }
    const syn_cookie_secret& secret = bench_secret();
    size_t i = 0, accepted = 0;
    const uint64_t tsc0 = read_tsc();
    for (auto _ : state) {
        const ack_case& a = acks[i++ & (syn_count - 1)];
        const auto index = check_syn_cookie(secret, a.key, a.seq, a.ack, bench_period + 1);
        accepted += index.has_value() ? 1 : 0;
        benchmark::DoNotOptimize(index);
    }
    const uint64_t tsc1 = read_tsc();
    report_per_item(state, tsc1 - tsc0, "checks/s");
    const size_t expected = genuine ? size_t(state.iterations()) : 0;
    // A forged ACK passes with probability ~2^-29: none expected in a benchmark run.
    if (accepted != expected) fail(state, "wrong cookie verdict");
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
BENCHMARK(syn_cookie_answer)
    ->ArgNames({"family", "parse"})
    ->Args({4, 0})
    ->Args({6, 0})
    ->Args({4, 1});
BENCHMARK(syn_cookie_check)
    ->ArgNames({"family", "genuine"})
    ->Args({4, 1})
    ->Args({6, 1})
    ->Args({4, 0});

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return failed_benchmarks == 0 ? 0 : 1;
}

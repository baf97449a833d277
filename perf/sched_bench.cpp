// Cost of one scheduler decision (src/sched/) per backend count, and of a Maglev table build.
// rr/wrr/lc/wlc run once per new flow; Maglev lookup could run per packet. Inputs: weights
// 1..100, loads random (lc/wlc), eligibility reading a per-backend connection count against a
// limit never reached (the data plane's max_connections check), Maglev hashes from client_hash
// of distinct clients, so lookups hit random entries of the 256 KB table. Run:
//   build/perf/sched_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "dataplane/conn_counts.hpp"
#include "sched/client_hash.hpp"
#include "sched/least_connections.hpp"
#include "sched/maglev.hpp"
#include "sched/round_robin.hpp"
#include "sched/smooth_wrr.hpp"

namespace {

using namespace sluice::sched;

struct backends {
    std::vector<uint32_t> weights;
    std::vector<uint32_t> active;
    std::vector<uint32_t> inactive;
    std::vector<uint32_t> max_connections;

    explicit backends(uint32_t n) : weights(n), active(n), inactive(n), max_connections(n) {
        std::mt19937 rng(n);
        for (uint32_t i = 0; i < n; ++i) {
            weights[i] = 1 + rng() % 100;
            active[i] = rng() % 10000;
            inactive[i] = rng() % 1000;
            max_connections[i] = 1000000;
        }
    }
    bool eligible(uint32_t i) const { return active[i] + inactive[i] < max_connections[i]; }
    uint64_t overhead(uint32_t i) const { return conn_overhead(active[i], inactive[i]); }
};

void rr(benchmark::State& state) {
    const backends b(uint32_t(state.range(0)));
    uint32_t cursor = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            pick_round_robin(b.weights, cursor, [&](uint32_t i) { return b.eligible(i); }));
    }
}

void wrr(benchmark::State& state) {
    const backends b(uint32_t(state.range(0)));
    std::vector<int64_t> current(b.weights.size(), 0);
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            pick_smooth_wrr(b.weights, current, [&](uint32_t i) { return b.eligible(i); }));
    }
}

void least_connections(benchmark::State& state, bool weighted) {
    const backends b(uint32_t(state.range(0)));
    uint32_t start = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(pick_least_connections(
            b.weights, weighted, start++, [&](uint32_t i) { return b.overhead(i); },
            [&](uint32_t i) { return b.eligible(i); }));
    }
}
void lc(benchmark::State& state) {
    least_connections(state, false);
}
void wlc(benchmark::State& state) {
    least_connections(state, true);
}

// wlc as the data plane runs it: each backend's load is the sum of every worker's own counts
// (dataplane::sum_connections over per-worker conn_counts arrays, indexed by backend id). The
// difference to `wlc` above is the price of seeing the other workers' counts.
void wlc_across_workers(benchmark::State& state) {
    const uint32_t n = uint32_t(state.range(0));
    const unsigned workers = unsigned(state.range(1));
    const backends b(n);
    std::vector<std::unique_ptr<sluice::dataplane::conn_counts>> counts;
    std::vector<const sluice::dataplane::conn_counts*> views;
    std::mt19937 rng(7);
    for (unsigned w = 0; w < workers; ++w) {
        counts.push_back(std::make_unique<sluice::dataplane::conn_counts>());
        for (uint32_t id = 0; id < n; ++id) {
            counts.back()->add(id * 13 % sluice::model::max_backends, true, int32_t(rng() % 5000));
            counts.back()->add(id * 13 % sluice::model::max_backends, false, int32_t(rng() % 500));
        }
        views.push_back(counts.back().get());
    }
    uint32_t start = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(pick_least_connections(
            b.weights, true, start++,
            [&](uint32_t i) {
                auto t =
                    sluice::dataplane::sum_connections(views, i * 13 % sluice::model::max_backends);
                return conn_overhead(t.active, t.inactive);
            },
            [](uint32_t) { return true; }));
    }
}

std::vector<maglev_backend> maglev_backends(uint32_t n) {
    std::vector<maglev_backend> out;
    for (uint32_t i = 0; i < n; ++i) {
        const uint8_t addr[4] = {10, 1, uint8_t(i >> 8), uint8_t(i)};
        out.push_back({backend_key(addr, 4, 8080), 1});
    }
    return out;
}

void maglev_lookup(benchmark::State& state) {
    const maglev_table table =
        maglev_table::build(maglev_backends(uint32_t(state.range(0))), 65537, 0);
    std::vector<uint64_t> hashes(1 << 16);  // 512 KB of hashes: random table entries
    const uint8_t vip[4] = {192, 0, 2, 1};
    for (uint32_t c = 0; c < hashes.size(); ++c) {
        const uint8_t src[4] = {100, 64, uint8_t(c >> 8), uint8_t(c)};
        hashes[c] = client_hash(hash_selector::src_ip, src, vip, 4, 0, 0, 6, 0);
    }
    size_t k = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(table.lookup(hashes[k++ & (hashes.size() - 1)]));
    }
}

// 4096 random clients, so nothing about the input is constant-folded.
void client_hash_five_tuple(benchmark::State& state) {
    const uint8_t family = uint8_t(state.range(0));
    std::vector<uint8_t> addrs(4096 * 16);
    std::mt19937 rng(1);
    for (uint8_t& byte : addrs) byte = uint8_t(rng());
    const uint8_t vip[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    uint32_t k = 0;
    for (auto _ : state) {
        const uint8_t* src = &addrs[(k & 4095) * 16];
        benchmark::DoNotOptimize(
            client_hash(hash_selector::five_tuple, src, vip, family, uint16_t(k), 443, 6, 0));
        ++k;
    }
}

void maglev_build(benchmark::State& state) {
    const std::vector<maglev_backend> b = maglev_backends(uint32_t(state.range(0)));
    const uint32_t size = uint32_t(state.range(1));
    for (auto _ : state) benchmark::DoNotOptimize(maglev_table::build(b, size, 0));
}

// 1000 backends weighted 1..100, and a skewed set: one of weight 65535 among 999 of weight 1.
void maglev_build_weighted(benchmark::State& state) {
    std::vector<maglev_backend> b = maglev_backends(1000);
    std::mt19937 rng(2);
    for (maglev_backend& x : b) x.weight = 1 + rng() % 100;
    for (auto _ : state) benchmark::DoNotOptimize(maglev_table::build(b, 65537, 0));
}
void maglev_build_skewed(benchmark::State& state) {
    std::vector<maglev_backend> b = maglev_backends(1000);
    b[0].weight = 65535;
    for (auto _ : state) benchmark::DoNotOptimize(maglev_table::build(b, 65537, 0));
}

// Removing one of the backends: the reload path.
void maglev_rebuild(benchmark::State& state) {
    const std::vector<maglev_backend> before = maglev_backends(uint32_t(state.range(0)));
    const std::vector<maglev_backend> after(before.begin() + 1, before.end());
    const uint32_t size = uint32_t(state.range(1));
    const maglev_table old = maglev_table::build(before, size, 0);
    for (auto _ : state)
        benchmark::DoNotOptimize(maglev_table::rebuild(old, before, after, size, 0));
}

}  // namespace

BENCHMARK(rr)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(wrr)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(lc)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(wlc)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(wlc_across_workers)
    ->Args({10, 1})
    ->Args({10, 2})
    ->Args({10, 4})
    ->Args({100, 2})
    ->Args({1000, 2});
BENCHMARK(maglev_lookup)->Arg(10)->Arg(100)->Arg(1000);
BENCHMARK(client_hash_five_tuple)->Arg(4)->Arg(6);
BENCHMARK(maglev_build)
    ->Args({10, 65537})
    ->Args({100, 65537})
    ->Args({1000, 65537})
    ->Unit(benchmark::kMillisecond);
BENCHMARK(maglev_build_weighted)->Unit(benchmark::kMillisecond);
BENCHMARK(maglev_build_skewed)->Unit(benchmark::kMillisecond);
BENCHMARK(maglev_rebuild)->Args({1000, 65537})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();

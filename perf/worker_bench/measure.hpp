// The measured loop: bursts of prepared frames through the RX rings, the step (the worker's
// poll, or the baseline's RX→TX), the TX rings drained. Benchmark thread only.
#pragma once

#include <cstdint>
#include <vector>

#include "harness.hpp"
#include "scenarios.hpp"
#include "traffic.hpp"

namespace sluice::worker_bench {

struct measured {
    uint64_t packets = 0;
    uint64_t loop_cycles = 0;  // the whole loop: harness and step
    uint64_t step_cycles = 0;  // the step alone (worker poll, or the baseline's RX→TX)
    double cpu_seconds = 0;    // CPU time of this thread during the loop (the rest: preempted)
    uint64_t injected[2] = {};
    uint64_t sent[2] = {};
    uint64_t by_worker[max_bench_workers] = {};  // scaling rows: frames injected per worker
};

void add(measured& sum, const measured& m);

// How long the loop runs: until `max_packets` were injected (a multiple of the burst) or
// `max_cycles` have passed.
struct loop_limits {
    uint64_t max_packets;
    uint64_t max_cycles;
};

// Sees each frame the measured loop takes from the TX rings, before it is freed: tcp_cps's SYN
// pass learns the local ports from it (its cost is the harness's, outside the worker step). A
// plain function pointer; the other scenarios have none.
struct output_tap {
    void (*see)(void* context, uint8_t port, const rte_mbuf* m) = nullptr;
    void* context = nullptr;
};

// One run of the measured loop over `t` with the scenario's step.
measured measure(harness& h, const traffic& t, step_kind step, loop_limits limits,
                 output_tap tap = {});

// established_bucket: the figures of the slices with the limit (`with`) and without (`without`),
// and the per-pair differences (with - without) in ns per packet.
struct alternating {
    measured with, without;
    unsigned pairs = 0;
    double bucket_ns = 0, bucket_step_ns = 0;     // medians over the pairs
    double bucket_ns_min = 0, bucket_ns_max = 0;  // the spread of the pairs' differences
};

// The same runtime, flows and frames measured in `pairs` pairs of slices without and with the
// limit (a reload of `configs[0]` / `configs[1]` before each slice, in ABBA order), each slice
// `limits` of its own.
// A scaling row's loop (measure_workers.cpp): workers 1..N-1 launched on their lcores, each
// frame fed to its owner's queue (t.queue), worker 0 polled inline after each burst; the others
// stopped afterwards, what they left queued is the caller's pump.
measured measure_workers(harness& h, const traffic& t, loop_limits limits);

alternating measure_alternating(harness& h, const traffic& t, const parsed_config (&configs)[2],
                                unsigned pairs, loop_limits limits);

}  // namespace sluice::worker_bench

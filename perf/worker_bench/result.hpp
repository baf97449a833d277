// One scenario's result and the figures derived from it (printed by report.cpp). Benchmark
// thread only.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "bench_runtime.hpp"
#include "measure.hpp"
#include "scenarios.hpp"

namespace sluice::worker_bench {

struct result {
    const scenario* sc = nullptr;
    double tsc_hz = 1;
    measured m;
    // established_bucket: m has the slices with the packet limit, `plain` those without; the
    // differences (with - without) in ns per packet, the median over the pairs of slices.
    measured plain;
    unsigned pairs = 0;
    double bucket_ns = 0, bucket_step_ns = 0;
    double bucket_ns_min = 0, bucket_ns_max = 0;  // the spread of the pairs' differences
    uint64_t new_flows = 0;
    // tcp_cps: whole connections (m sums the passes), and each pass (connections.cpp's order).
    uint64_t connections = 0;
    std::vector<measured> passes;
    double setup_seconds = 0;
    std::string error;

    // Figures are 0 when nothing was measured (a failed scenario).
    static double finite(double v) { return std::isfinite(v) ? v : 0; }
    double mpps() const { return finite(double(m.packets) / seconds() / 1e6); }
    double seconds() const { return double(m.loop_cycles) / tsc_hz; }
    // Share of the loop's wall time this thread was on a CPU: below ~0.95 the machine was busy
    // and every figure of the row is inflated by the time other processes took.
    double cpu_share() const { return finite(m.cpu_seconds / seconds()); }
    double ns_per_packet() const { return finite(seconds() * 1e9 / double(m.packets)); }
    double cycles_per_packet() const { return finite(double(m.loop_cycles) / double(m.packets)); }
    double step_cycles_per_packet() const {
        return finite(double(m.step_cycles) / double(m.packets));
    }
    double step_mpps() const { return finite(tsc_hz / step_cycles_per_packet() / 1e6); }
    double flows_per_second() const { return finite(double(new_flows) / seconds()); }
    double step_flows_per_second() const {
        return finite(double(new_flows) / (double(m.step_cycles) / tsc_hz));
    }
    double connections_per_second() const { return finite(double(connections) / seconds()); }
    double step_connections_per_second() const {
        return finite(double(connections) / (double(m.step_cycles) / tsc_hz));
    }
    double bytes_per_flow() const {
        return sc->capacity ? double(flow_table_bytes(sc->capacity)) / double(sc->capacity) : 0;
    }
};

// Records a failed check (the first one is the result's error).
inline void fail(result& r, const std::string& e) {
    if (r.error.empty()) r.error = e;
}

// Runs one scenario: its runtime, setup, measurement and checks (run.cpp). Throws when setup
// fails; a failed check is the result's error.
result run_scenario(harness& h, const scenario& sc, const options& o);

}  // namespace sluice::worker_bench

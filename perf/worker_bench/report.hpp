// The report: the table printed as scenarios finish, the protection and new-flow summaries,
// the scenario list and the JSON file (perf/run.sh and perf/plot.sh read it; docs quote the
// lines). Benchmark thread only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "result.hpp"
#include "scenarios.hpp"

namespace sluice::worker_bench {

// The facts of the run the header line and the JSON file state.
struct run_facts {
    std::string cpu_model;
    long cpus = 0;
    uint64_t tsc_hz = 0;
    uint64_t eal_mb = 0;
    uint64_t page_bytes = 0;  // EAL memory's pages: 4 KiB (--no-huge) or hugepages (--huge)
};
run_facts describe_run(uint64_t tsc_hz, uint64_t eal_mb, uint64_t page_bytes);

void print_header(const run_facts& f);
void print_row(const result& r, double baseline_mpps);
void print_skipped(const scenario& s);
void print_failed(const scenario& s, const std::string& error);
// After the table: the protection figures, the new-flow ratios and the scenario list.
void print_summary(const std::vector<scenario>& scenarios, const std::vector<result>& results,
                   double baseline_mpps);
void write_json(const std::string& path, const std::vector<scenario>& scenarios,
                const std::vector<result>& results, double baseline_mpps, const options& o,
                const run_facts& f);

}  // namespace sluice::worker_bench

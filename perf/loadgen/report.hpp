#pragma once
// What sluice-loadgen prints: one line per trial while it runs (and, when asked, one per second
// of a trial: text on stderr, JSON lines in a file), then a table row per scenario (frame size,
// NDR and PDR, latency at the NDR, reordered frames) and a JSON document with every trial, its
// verdict counts and latency percentiles, and the soak's result with its seconds. perf/hil.sh
// reads the JSON of several runs and prints one RFC 2544-style table.
//
// Threads: the main lcore, after (or between) trials; the per-second lines from inside a trial,
// on the same lcore (the engine's sink), once a second.
#include <cstdio>
#include <string>
#include <vector>

#include "engine.hpp"
#include "options.hpp"
#include "per_second.hpp"
#include "rate_search.hpp"

namespace sluice::loadgen {

// A soak: one long trial at a fixed rate, its seconds kept for the report.
struct soak_report {
    bool ran = false;
    double rate_pps = 0;
    bool rate_from_ndr = false;  // else --rate
    double ndr_pps = 0;          // when from the NDR: the NDR (median) and the share taken
    double ndr_fraction = 0;
    size_t trial = 0;  // its index in run_report::trials
    std::vector<second_record> seconds;
};

struct run_report {
    std::string scenario;
    const options* opt = nullptr;
    uint32_t usable_flows = 0;
    unsigned frame_len = 0;           // the paced frames' length, Ethernet header to payload
    std::vector<trial_stats> trials;  // in the order they ran
    bool searched = false;
    repeated_search search;  // when searched
    period_counts totals;    // trials and the phases around them
    soak_report soak;
};

// Bytes of the paced frames of the mode (Ethernet, IPv4, TCP or UDP, payload; no FCS).
unsigned paced_frame_len(const options& o);

// The trial whose latency a result reports: the last full-duration trial at the NDR (the
// single trial of a fixed-rate run); nullptr when there is none.
const trial_stats* ndr_trial(const run_report& r);

void print_trial(std::FILE* out, unsigned number, const trial_stats& t);
void print_summary(std::FILE* out, const run_report& r);
std::string report_json(const run_report& r);
// One second: "second T (trial N): offered .. received .. lost .. reordered .. p99 .. us".
void print_second(std::FILE* out, const second_record& s);
// One second as one line of JSON (with the newline).
std::string second_json_line(const std::string& scenario, const second_record& s);
// The soak's line: rate, duration, offered, received, lost, reordered, seconds with loss.
void print_soak(std::FILE* out, const run_report& r);

}  // namespace sluice::loadgen

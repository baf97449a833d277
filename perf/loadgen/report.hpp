#pragma once
// What sluice-loadgen prints: one line per trial while it runs, then a table row per scenario
// (frame size, NDR and PDR, latency at the NDR) and a JSON document with every trial, its
// verdict counts and latency percentiles. perf/hil.sh reads the JSON of several runs and
// prints one RFC 2544-style table.
//
// Threads: the main thread, after (or between) trials.
#include <cstdio>
#include <string>
#include <vector>

#include "engine.hpp"
#include "options.hpp"
#include "rate_search.hpp"

namespace sluice::loadgen {

struct run_report {
    std::string scenario;
    const options* opt = nullptr;
    uint32_t usable_flows = 0;
    unsigned frame_len = 0;           // the paced frames' length, Ethernet header to payload
    std::vector<trial_stats> trials;  // in the order they ran
    bool searched = false;
    repeated_search search;  // when searched
    period_counts totals;    // trials and the phases around them
};

// Bytes of the paced frames of the mode (Ethernet, IPv4, TCP or UDP, payload; no FCS).
unsigned paced_frame_len(const options& o);

// The trial whose latency a result reports: the last full-duration trial at the NDR (the
// single trial of a fixed-rate run); nullptr when there is none.
const trial_stats* ndr_trial(const run_report& r);

void print_trial(std::FILE* out, unsigned number, const trial_stats& t);
void print_summary(std::FILE* out, const run_report& r);
std::string report_json(const run_report& r);

}  // namespace sluice::loadgen

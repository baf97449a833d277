#pragma once
// NDR / PDR search over the offered rate, after CSIT's MLRsearch (RFC 2544 throughput with a
// loss goal): short trials bracket and bisect the rate, one trial at the full duration confirms
// it, and a failed confirmation continues the search at the full duration. docs/hil.md states
// the algorithm for operators; the rules are repeated where the code applies them.
//
// Threads: a search runs on one thread (the generator's control thread) and calls the trial
// function there, one trial at a time; nothing here is shared, two searches may run on two
// threads if their trial functions allow it.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sluice::loadgen {

// What one trial counted: packets the generator sent, and packets that came back through the
// device under test.
struct trial_counts {
    uint64_t offered = 0;
    uint64_t received = 0;
};

// Offers traffic at `rate_pps` for `duration_s` seconds and counts; may block for the trial.
using trial_function = std::function<trial_counts(double rate_pps, double duration_s)>;

struct search_config {
    double max_rate_pps = 0;        // line rate: the highest rate ever offered
    double min_rate_pps = 0;        // a goal that fails here is reported as not found
    double resolution = 0.005;      // done when upper - lower <= resolution * upper
    double pdr_loss_ratio = 0.005;  // PDR's goal; NDR's is 0 (nothing lost)
    double trial_duration_s = 1;    // the short trials that bracket and bisect
    double final_duration_s = 30;   // confirmation, and every trial after a failed one
    double initial_step = 0.02;     // first relative bracketing step; doubles per step
    double start_rate_pps = 0;      // a previous result to start from; 0: the line rate
    unsigned max_trials = 60;       // NDR and PDR together; the search stops when spent
};

// Empty when the configuration is usable, else why not (for the operator).
std::string search_config_error(const search_config& config);

// (offered - received) / offered, clamped to [0, 1]; a trial that offered nothing lost all.
double loss_ratio(trial_counts counts);

enum class search_goal : uint8_t { ndr, pdr };
enum class trial_phase : uint8_t {
    search,        // short trial while bracketing or bisecting
    confirmation,  // full-duration trial of the short trials' result
    after_failed,  // full-duration trial after a confirmation failed
};
const char* goal_name(search_goal goal);
const char* phase_name(trial_phase phase);

// One trial as a report prints it; the goal is the one being searched when it ran (later goals
// read every earlier trial too).
struct trial_record {
    double rate_pps = 0;
    double duration_s = 0;
    trial_counts counts;
    double loss_ratio = 0;
    search_goal goal = search_goal::ndr;
    trial_phase phase = trial_phase::search;
};

struct goal_result {
    double rate_pps = 0;   // highest rate that met the goal at the full duration; 0: none
    double upper_pps = 0;  // lowest rate that failed above it (0: the line rate passed)
    bool found = false;    // rate_pps is a confirmed rate >= min_rate_pps
    // The search ended by its own rule (narrower than the resolution and confirmed, the line
    // rate confirmed, or the minimum rate failed), not because the trial budget ran out.
    bool complete = false;
};

struct search_result {
    std::string error;  // the configuration's fault: no trial was run
    goal_result ndr;
    goal_result pdr;
    std::vector<trial_record> trials;
};

// What the trials of one duration class (short: phase search; full: the other phases) say
// about a goal of at most `max_loss` lost: the highest rate that met it and the lowest that
// failed. A trial counts unless it contradicts a newer one (a pass at or above a newer failure,
// a failure at or below a newer pass): noise and drift are settled in favour of the latest
// measurement, and older trials still narrow the bracket where they agree. Hence lower < upper.
struct rate_bounds {
    bool has_lower = false;
    bool has_upper = false;
    double lower = 0;
    double upper = 0;
    double upper_loss = 0;  // loss ratio of the trial that set `upper`
};
rate_bounds bounds_of(const std::vector<trial_record>& trials, double max_loss, bool full_duration);

// NDR first, then PDR from all trials so far. Calls `trial` at most config.max_trials times.
search_result search_rates(const trial_function& trial, const search_config& config);

struct rate_spread {
    double min = 0;
    double median = 0;  // the middle run, or the mean of the two middle ones
    double max = 0;
};

struct repeated_search {
    std::string error;
    std::vector<search_result> runs;
    rate_spread ndr;  // over the runs' rate_pps, 0 for a run that found none
    rate_spread pdr;
};

// `runs` whole searches, each after the first starting from the previous run's NDR (when it
// found one), as CSIT repeats a search to show its spread.
repeated_search search_repeatedly(const trial_function& trial, const search_config& config,
                                  unsigned runs);

// Min, median and max of `values` (all 0 when empty).
rate_spread spread_of(std::vector<double> values);

}  // namespace sluice::loadgen

// NDR / PDR search (rate_search.hpp; the algorithm in prose: docs/hil.md).
#include "rate_search.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace sluice::loadgen {

namespace {

// How a narrowing phase ended.
enum class narrow_end { narrowed, line_rate, below_min, out_of_budget };

class searcher {
public:
    searcher(const trial_function& trial, const search_config& config, search_result& result)
        : trial_(trial), config_(config), result_(result) {}

    goal_result find(search_goal goal);

private:
    narrow_end narrow(search_goal goal, trial_phase phase);
    double next_rate(const rate_bounds& b);
    void run(double rate, search_goal goal, trial_phase phase);
    bool budget_left() const { return result_.trials.size() < config_.max_trials; }
    double max_loss(search_goal goal) const {
        return goal == search_goal::ndr ? 0.0 : config_.pdr_loss_ratio;
    }
    double step(unsigned k) const { return config_.initial_step * std::ldexp(1.0, int(k)); }

    const trial_function& trial_;
    const search_config& config_;
    search_result& result_;
    // Consecutive bracketing steps in one direction (the step doubles with each).
    unsigned steps_up_ = 0;
    unsigned steps_down_ = 0;
    double max_loss_ = 0;  // of the goal being searched
};

void searcher::run(double rate, search_goal goal, trial_phase phase) {
    trial_record t;
    t.rate_pps = rate;
    t.duration_s =
        phase == trial_phase::search ? config_.trial_duration_s : config_.final_duration_s;
    t.counts = trial_(rate, t.duration_s);
    t.loss_ratio = loss_ratio(t.counts);
    t.goal = goal;
    t.phase = phase;
    result_.trials.push_back(t);
}

// The next rate to try given the bracket so far: the midpoint of a closed bracket, else an
// exponential step away from the one known side, else the starting rate.
double searcher::next_rate(const rate_bounds& b) {
    const double lo = config_.min_rate_pps, hi = config_.max_rate_pps;
    if (b.has_lower && b.has_upper) {
        steps_up_ = steps_down_ = 0;
        return (b.lower + b.upper) / 2;
    }
    if (b.has_lower) {
        steps_down_ = 0;
        return std::min(hi, b.lower * (1 + step(steps_up_++)));
    }
    if (b.has_upper) {
        steps_up_ = 0;
        double rate = b.upper / (1 + step(steps_down_));
        // The first step down may jump to what the failed trial forwarded (MLRsearch's initial
        // estimate from the line-rate trial): under overload a device forwards about its limit.
        if (steps_down_++ == 0) rate = std::min(rate, b.upper * (1 - b.upper_loss));
        return std::max(lo, rate);
    }
    const double start = config_.start_rate_pps > 0 ? config_.start_rate_pps : hi;
    return std::clamp(start, lo, hi);
}

// Trials of one duration class until the goal's bracket is narrower than the resolution, the
// line rate passes, the minimum rate fails, or the trial budget is spent.
narrow_end searcher::narrow(search_goal goal, trial_phase phase) {
    const bool full = phase != trial_phase::search;
    steps_up_ = steps_down_ = 0;
    for (;;) {
        const rate_bounds b = bounds_of(result_.trials, max_loss_, full);
        if (b.has_lower && b.lower >= config_.max_rate_pps) return narrow_end::line_rate;
        if (!b.has_lower && b.has_upper && b.upper <= config_.min_rate_pps) {
            return narrow_end::below_min;
        }
        if (b.has_lower && b.has_upper && b.upper - b.lower <= config_.resolution * b.upper) {
            return narrow_end::narrowed;
        }
        if (!budget_left()) return narrow_end::out_of_budget;
        run(next_rate(b), goal, phase);
    }
}

// One goal: narrow with short trials, confirm at the full duration, and if that fails narrow
// again with full-duration trials only (the failed confirmation is their first upper bound).
goal_result searcher::find(search_goal goal) {
    max_loss_ = max_loss(goal);
    goal_result r;
    narrow_end end = narrow(goal, trial_phase::search);
    if (end == narrow_end::below_min) r.complete = true;
    if (end == narrow_end::below_min || end == narrow_end::out_of_budget) return r;

    const rate_bounds short_bounds = bounds_of(result_.trials, max_loss_, false);
    const double candidate = short_bounds.lower;
    // Earlier full-duration trials (the NDR search's, for PDR) may decide without a new trial:
    // a pass at or above the candidate confirms it, a failure at or below it refutes it (a
    // full-duration result outranks the short trials').
    const rate_bounds full_before = bounds_of(result_.trials, max_loss_, true);
    bool confirmed = full_before.has_lower && full_before.lower >= candidate;
    const bool refuted = full_before.has_upper && full_before.upper <= candidate;
    if (!confirmed && !refuted) {
        if (!budget_left()) return r;
        run(candidate, goal, trial_phase::confirmation);
        confirmed = result_.trials.back().loss_ratio <= max_loss_;
    }
    if (confirmed) {
        r.rate_pps = candidate;
        r.upper_pps = short_bounds.has_upper ? short_bounds.upper : 0;
        r.found = r.complete = true;
        return r;
    }

    end = narrow(goal, trial_phase::after_failed);
    const rate_bounds full = bounds_of(result_.trials, max_loss_, true);
    r.complete = end != narrow_end::out_of_budget;
    if (full.has_lower) {
        r.rate_pps = full.lower;
        r.found = true;
    }
    r.upper_pps = full.has_upper ? full.upper : 0;
    return r;
}

}  // namespace

// Read newest first, so that a trial is skipped exactly when a newer one contradicts it.
rate_bounds bounds_of(const std::vector<trial_record>& trials, double max_loss, bool full) {
    rate_bounds b;
    for (auto t = trials.rbegin(); t != trials.rend(); ++t) {
        if ((t->phase != trial_phase::search) != full) continue;
        const double rate = t->rate_pps;
        if (t->loss_ratio <= max_loss) {
            if (b.has_upper && rate >= b.upper) continue;
            if (!b.has_lower || rate > b.lower) b.lower = rate;
            b.has_lower = true;
        } else {
            if (b.has_lower && rate <= b.lower) continue;
            if (!b.has_upper || rate < b.upper) {
                b.upper = rate;
                b.upper_loss = t->loss_ratio;
            }
            b.has_upper = true;
        }
    }
    return b;
}

double loss_ratio(trial_counts counts) {
    if (counts.offered == 0) return 1.0;
    if (counts.received >= counts.offered) return 0.0;  // duplicates do not offset losses
    return double(counts.offered - counts.received) / double(counts.offered);
}

const char* goal_name(search_goal goal) {
    return goal == search_goal::ndr ? "NDR" : "PDR";
}

const char* phase_name(trial_phase phase) {
    switch (phase) {
        case trial_phase::search:
            return "search";
        case trial_phase::confirmation:
            return "confirmation";
        case trial_phase::after_failed:
            return "after-failed-confirmation";
    }
    return "?";
}

std::string search_config_error(const search_config& c) {
    auto positive = [](double v) { return std::isfinite(v) && v > 0; };
    if (!positive(c.max_rate_pps)) return "max_rate_pps must be a positive number";
    if (!positive(c.min_rate_pps) || c.min_rate_pps > c.max_rate_pps) {
        return "min_rate_pps must be positive and at most max_rate_pps";
    }
    if (!(c.resolution > 0 && c.resolution < 1)) return "resolution must be in (0, 1)";
    if (!(c.pdr_loss_ratio >= 0 && c.pdr_loss_ratio < 1)) {
        return "pdr_loss_ratio must be in [0, 1)";
    }
    if (!positive(c.trial_duration_s) || !positive(c.final_duration_s)) {
        return "trial durations must be positive";
    }
    if (!positive(c.initial_step)) return "initial_step must be positive";
    if (!(std::isfinite(c.start_rate_pps) && c.start_rate_pps >= 0)) {
        return "start_rate_pps must be 0 (none) or positive";
    }
    if (c.max_trials < 2) return "max_trials must allow a trial and its confirmation";
    return {};
}

search_result search_rates(const trial_function& trial, const search_config& config) {
    search_result result;
    result.error = search_config_error(config);
    if (!result.error.empty()) return result;
    searcher s(trial, config, result);
    result.ndr = s.find(search_goal::ndr);
    result.pdr = s.find(search_goal::pdr);
    return result;
}

rate_spread spread_of(std::vector<double> values) {
    rate_spread s;
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    s.min = values.front();
    s.max = values.back();
    s.median = n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    return s;
}

repeated_search search_repeatedly(const trial_function& trial, const search_config& config,
                                  unsigned runs) {
    repeated_search out;
    out.error = search_config_error(config);
    if (out.error.empty() && runs == 0) out.error = "runs must be at least 1";
    if (!out.error.empty()) return out;
    search_config next = config;
    std::vector<double> ndr, pdr;
    for (unsigned i = 0; i < runs; ++i) {
        out.runs.push_back(search_rates(trial, next));
        const search_result& r = out.runs.back();
        ndr.push_back(r.ndr.rate_pps);
        pdr.push_back(r.pdr.rate_pps);
        if (r.ndr.found) next.start_rate_pps = r.ndr.rate_pps;
    }
    out.ndr = spread_of(std::move(ndr));
    out.pdr = spread_of(std::move(pdr));
    return out;
}

}  // namespace sluice::loadgen

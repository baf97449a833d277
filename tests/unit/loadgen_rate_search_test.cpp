// Unit tests for perf/loadgen/rate_search: given a loss function, the NDR/PDR search converges
// to the right rates within its resolution (step, overload, noisy and duration-dependent
// devices, a confirmation that fails once), its trial count stays bounded, its trials are
// recorded as run, repeated searches start from the previous NDR and report min/median/max.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "loadgen/rate_search.hpp"

using sluice::loadgen::bounds_of;
using sluice::loadgen::loss_ratio;
using sluice::loadgen::search_config;
using sluice::loadgen::search_goal;
using sluice::loadgen::search_rates;
using sluice::loadgen::search_repeatedly;
using sluice::loadgen::search_result;
using sluice::loadgen::spread_of;
using sluice::loadgen::trial_counts;
using sluice::loadgen::trial_function;
using sluice::loadgen::trial_phase;
using sluice::loadgen::trial_record;

namespace {

constexpr double line_rate = 10e6;
constexpr double resolution = 0.005;
constexpr double pdr_loss = 0.005;

search_config config() {
    search_config c;
    c.max_rate_pps = line_rate;
    c.min_rate_pps = 10e3;
    c.resolution = resolution;
    c.pdr_loss_ratio = pdr_loss;
    c.trial_duration_s = 1;
    c.final_duration_s = 30;
    c.max_trials = 200;  // the search's own rule ends these runs, not the budget
    return c;
}

// The counts of a trial at `rate` for `duration` that loses the fraction `loss` (at least one
// packet when loss > 0, so any loss fails NDR).
trial_counts counts(double rate, double duration, double loss) {
    const auto offered = uint64_t(std::llround(rate * duration));
    uint64_t lost = loss > 0 ? uint64_t(std::ceil(double(offered) * loss)) : 0;
    lost = std::min(lost, offered);
    return {offered, offered - lost};
}

// Loses nothing up to `ndr`, `mid_loss` (within PDR's goal) up to `pdr`, `high_loss` above.
trial_function step_device(double ndr, double pdr, double mid_loss = 0.002,
                           double high_loss = 0.05) {
    return [=](double rate, double duration) {
        const double loss = rate <= ndr ? 0 : rate <= pdr ? mid_loss : high_loss;
        return counts(rate, duration, loss);
    };
}

// Forwards at most `capacity` pps and drops the excess: NDR = capacity, PDR = capacity / 0.995.
trial_function overload_device(double capacity) {
    return [=](double rate, double duration) {
        return counts(rate, duration, rate <= capacity ? 0 : 1 - capacity / rate);
    };
}

// `rate` is no more than `truth` and no more than `res` below it (relative).
void check_within(double rate, double truth, double res = resolution) {
    CAPTURE(rate);
    CAPTURE(truth);
    CHECK(rate <= truth * (1 + 1e-9));
    CHECK(rate >= truth * (1 - res));
}

// Some full-duration trial at exactly `rate` met the goal `max_loss`.
bool confirmed_at(const search_result& r, double rate, double max_loss) {
    return std::any_of(r.trials.begin(), r.trials.end(), [&](const trial_record& t) {
        return t.phase != trial_phase::search && t.rate_pps == rate && t.loss_ratio <= max_loss;
    });
}

}  // namespace

TEST_CASE("step loss: NDR and PDR land within the resolution below the true rates, confirmed") {
    const double cases[][2] = {{3.1e6, 4.2e6}, {123e3, 125e3}, {9.9e6, 9.98e6}, {20e3, 8e6}};
    for (const auto& [ndr, pdr] : cases) {
        CAPTURE(ndr);
        const search_result r = search_rates(step_device(ndr, pdr), config());
        REQUIRE(r.error.empty());
        CHECK(r.ndr.found);
        CHECK(r.ndr.complete);
        CHECK(r.pdr.found);
        CHECK(r.pdr.complete);
        check_within(r.ndr.rate_pps, ndr);
        check_within(r.pdr.rate_pps, pdr);
        CHECK(r.ndr.upper_pps > ndr);
        CHECK(r.pdr.upper_pps > pdr);
        CHECK(confirmed_at(r, r.ndr.rate_pps, 0));
        CHECK(confirmed_at(r, r.pdr.rate_pps, pdr_loss));
    }
}

TEST_CASE("overload: NDR is the capacity, PDR capacity / (1 - 0.005), each within resolution") {
    for (double capacity : {2.5e6, 7.77e6, 50e3}) {
        CAPTURE(capacity);
        const search_result r = search_rates(overload_device(capacity), config());
        check_within(r.ndr.rate_pps, capacity);
        check_within(r.pdr.rate_pps, capacity / (1 - pdr_loss));
    }
}

TEST_CASE("no loss at line rate: both rates are the line rate after one short and one long trial") {
    const search_result r = search_rates(step_device(line_rate, line_rate), config());
    CHECK(r.ndr.rate_pps == line_rate);
    CHECK(r.pdr.rate_pps == line_rate);
    CHECK(r.ndr.upper_pps == 0);
    CHECK(r.pdr.found);
    REQUIRE(r.trials.size() == 2);  // PDR reuses NDR's confirmation
    CHECK(r.trials[0].phase == trial_phase::search);
    CHECK(r.trials[1].phase == trial_phase::confirmation);
}

TEST_CASE("loss even at the minimum rate: nothing found, the search complete, no rate reported") {
    const search_config c = config();
    const search_result r = search_rates(step_device(0, 0, 0.5, 0.5), c);
    CHECK_FALSE(r.ndr.found);
    CHECK(r.ndr.complete);
    CHECK(r.ndr.rate_pps == 0);
    CHECK_FALSE(r.pdr.found);
    CHECK(r.pdr.complete);
    // It got to the minimum and no lower.
    double lowest = line_rate;
    for (const auto& t : r.trials) lowest = std::min(lowest, t.rate_pps);
    CHECK(lowest == c.min_rate_pps);
}

TEST_CASE("noisy threshold (seeded): NDR within the resolution of the band the noise spans") {
    // Each trial's limit is 4 Mpps +- 0.2%: a result must pass some trial and be near a failure.
    constexpr double limit = 4e6, noise = 0.002;
    for (unsigned seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        std::uniform_real_distribution<double> jitter(-noise, noise);
        auto device = [&](double rate, double duration) {
            return counts(rate, duration, rate <= limit * (1 + jitter(rng)) ? 0 : 0.01);
        };
        const search_result r = search_rates(device, config());
        CHECK(r.ndr.found);
        CHECK(r.ndr.rate_pps <= limit * (1 + noise));
        CHECK(r.ndr.rate_pps >= limit * (1 - noise) * (1 - resolution));
        CHECK(r.trials.size() <= 60);
    }
}

TEST_CASE("noisy loss above capacity (seeded): NDR is the capacity, PDR within the noise band") {
    // Above 3 Mpps the device drops its excess plus up to 0.1% more at random, so PDR's true
    // rate lies between capacity / (1 - 0.004) and capacity / (1 - 0.005).
    constexpr double capacity = 3e6, extra = 0.001;
    for (unsigned seed = 1; seed <= 20; ++seed) {
        CAPTURE(seed);
        std::mt19937 rng(seed);
        std::uniform_real_distribution<double> more(0, extra);
        auto device = [&](double rate, double duration) {
            return counts(rate, duration, rate <= capacity ? 0 : 1 - capacity / rate + more(rng));
        };
        const search_result r = search_rates(device, config());
        check_within(r.ndr.rate_pps, capacity);
        CHECK(r.pdr.rate_pps <= capacity / (1 - pdr_loss) * (1 + 1e-9));
        CHECK(r.pdr.rate_pps >= capacity / (1 - pdr_loss + extra) * (1 - resolution));
    }
}

TEST_CASE("a confirmation that fails once: full-duration trials step down and confirm a rate") {
    // A transient: the first full-duration trial loses one packet whatever its rate.
    constexpr double limit = 5e6;
    bool failed_once = false;
    auto device = [&](double rate, double duration) {
        trial_counts c = counts(rate, duration, rate <= limit ? 0 : 0.01);
        if (duration == 30 && !failed_once) {
            failed_once = true;
            c.received = std::min(c.received, c.offered - 1);
        }
        return c;
    };
    const search_result r = search_rates(device, config());
    REQUIRE(failed_once);
    size_t failed_at = r.trials.size();
    for (size_t i = 0; i < r.trials.size(); ++i) {
        if (r.trials[i].phase == trial_phase::confirmation && r.trials[i].loss_ratio > 0) {
            failed_at = i;
            break;
        }
    }
    REQUIRE(failed_at < r.trials.size());
    const double first_confirmation = r.trials[failed_at].rate_pps;
    // Every NDR trial after it runs at the full duration, below the failed rate.
    for (size_t i = failed_at + 1; i < r.trials.size(); ++i) {
        if (r.trials[i].goal != search_goal::ndr) break;
        CHECK(r.trials[i].phase == trial_phase::after_failed);
        CHECK(r.trials[i].duration_s == 30);
        CHECK(r.trials[i].rate_pps < first_confirmation);
    }
    CHECK(r.ndr.found);
    CHECK(r.ndr.complete);
    CHECK(r.ndr.rate_pps < first_confirmation);
    CHECK(r.ndr.upper_pps == first_confirmation);
    CHECK(confirmed_at(r, r.ndr.rate_pps, 0));
    // Within the resolution of the failed confirmation, which was within it of the limit.
    CHECK(r.ndr.rate_pps >= first_confirmation * (1 - resolution));
    check_within(r.ndr.rate_pps, limit, 2 * resolution);
}

TEST_CASE("a device that sustains 3% less than it bursts: NDR is the sustained limit") {
    // Short trials pass up to 6 Mpps, full-duration ones only up to 5.82 Mpps: every
    // confirmation at the short trials' result fails, the full-duration search finds the limit.
    constexpr double burst = 6e6, sustained = 5.82e6;
    auto device = [&](double rate, double duration) {
        return counts(rate, duration, rate <= (duration < 10 ? burst : sustained) ? 0 : 0.02);
    };
    const search_result r = search_rates(device, config());
    CHECK(r.ndr.found);
    CHECK(r.ndr.complete);
    check_within(r.ndr.rate_pps, sustained);
    check_within(r.pdr.rate_pps, sustained);
    // PDR does not confirm again where a full-duration trial already failed: one confirmation.
    CHECK(std::count_if(r.trials.begin(), r.trials.end(), [](const trial_record& t) {
              return t.phase == trial_phase::confirmation;
          }) == 1);
    CHECK(r.trials.size() <= 20);
}

TEST_CASE("a device that slows down after passing: the confirmation catches the drift") {
    // 8 Mpps for the first four trials, 4 Mpps after: the short trials' passes above 4 Mpps are
    // stale, the confirmation fails, the full-duration search finds the new limit.
    int trials = 0;
    auto device = [&](double rate, double duration) {
        const double limit = ++trials <= 4 ? 8e6 : 4e6;
        return counts(rate, duration, rate <= limit ? 0 : 0.01);
    };
    search_config c = config();
    c.start_rate_pps = 7e6;
    const search_result r = search_rates(device, c);
    REQUIRE(r.trials.size() > 4);
    CHECK(r.trials[0].loss_ratio == 0);  // 7 Mpps passed before the drift
    check_within(r.ndr.rate_pps, 4e6);
    CHECK(r.ndr.complete);
    CHECK(confirmed_at(r, r.ndr.rate_pps, 0));
}

TEST_CASE("bounds_of: a newer trial overrules an older one it contradicts, agreeing ones count") {
    auto t = [](double rate, double loss, trial_phase phase = trial_phase::search) {
        trial_record r;
        r.rate_pps = rate;
        r.loss_ratio = loss;
        r.phase = phase;
        return r;
    };
    // Passes at 8 and 7, then a failure at 7.5: the pass at 8 is overruled, 7 still counts.
    auto b = bounds_of({t(8e6, 0), t(7e6, 0), t(7.5e6, 0.01)}, 0, false);
    CHECK(b.has_lower);
    CHECK(b.lower == 7e6);
    CHECK(b.has_upper);
    CHECK(b.upper == 7.5e6);
    CHECK(b.upper_loss == 0.01);
    // A failure at 5, then a pass at 6: the failure is overruled, no upper bound is left.
    b = bounds_of({t(5e6, 0.01), t(6e6, 0)}, 0, false);
    CHECK(b.lower == 6e6);
    CHECK_FALSE(b.has_upper);
    // The same trials in the other order: the newer failure at 5 overrules the pass at 6.
    b = bounds_of({t(6e6, 0), t(5e6, 0.01)}, 0, false);
    CHECK_FALSE(b.has_lower);
    CHECK(b.upper == 5e6);
    // The goal decides pass and fail: 0.3% loss passes PDR's 0.5%, fails NDR.
    b = bounds_of({t(5e6, 0.003)}, pdr_loss, false);
    CHECK((b.has_lower && !b.has_upper));
    b = bounds_of({t(5e6, 0.003)}, 0, false);
    CHECK((!b.has_lower && b.has_upper));
    // Durations are separate: a full-duration failure does not bound the short trials.
    const std::vector<trial_record> mixed = {t(6e6, 0), t(5e6, 0.01, trial_phase::confirmation),
                                             t(4e6, 0, trial_phase::after_failed)};
    b = bounds_of(mixed, 0, false);
    CHECK((b.lower == 6e6 && !b.has_upper));
    b = bounds_of(mixed, 0, true);
    CHECK((b.lower == 4e6 && b.upper == 5e6));
}

TEST_CASE("the trial count stays bounded: at most 35 trials for limits across a 1000:1 range") {
    size_t most = 0;
    for (int i = 0; i <= 40; ++i) {
        // Limits spread log-uniformly from just above the minimum to just below the line rate.
        const double ndr = 10.1e3 * std::pow(990.0, i / 40.0);
        const double pdr = std::min(line_rate, ndr * 1.3);
        CAPTURE(ndr);
        const search_result r = search_rates(step_device(ndr, pdr), config());
        CHECK(r.ndr.complete);
        CHECK(r.pdr.complete);
        check_within(r.ndr.rate_pps, ndr);
        check_within(r.pdr.rate_pps, pdr);
        most = std::max(most, r.trials.size());
    }
    CAPTURE(most);
    CHECK(most <= 35);
}

TEST_CASE("a device that passes or fails at random never gets more than max_trials trials") {
    std::mt19937 rng(99);
    auto coin = [&](double rate, double duration) {
        return counts(rate, duration, rng() % 2 ? 0 : 0.5);
    };
    search_config c = config();
    c.max_trials = 25;
    for (int run = 0; run < 20; ++run) {
        const search_result r = search_rates(coin, c);
        CHECK(r.trials.size() <= 25);
        if (r.ndr.found) CHECK(confirmed_at(r, r.ndr.rate_pps, 0));
    }
}

TEST_CASE("a trial budget too small ends the search early and says it is not complete") {
    search_config c = config();
    c.max_trials = 5;
    const search_result r = search_rates(step_device(123e3, 456e3), c);
    CHECK(r.trials.size() == 5);
    CHECK_FALSE(r.ndr.complete);
    CHECK_FALSE(r.ndr.found);
    CHECK_FALSE(r.pdr.complete);
}

TEST_CASE("invalid configurations are refused with a reason and no trial is run") {
    int calls = 0;
    auto device = [&](double rate, double duration) {
        ++calls;
        return counts(rate, duration, 0);
    };
    auto refused = [&](search_config c) {
        const search_result r = search_rates(device, c);
        return !r.error.empty() && r.trials.empty();
    };
    search_config c = config();
    c.max_rate_pps = 0;
    CHECK(refused(c));
    c = config();
    c.min_rate_pps = 2 * line_rate;
    CHECK(refused(c));
    c = config();
    c.min_rate_pps = 0;
    CHECK(refused(c));
    c = config();
    c.resolution = 0;
    CHECK(refused(c));
    c = config();
    c.pdr_loss_ratio = 1;
    CHECK(refused(c));
    c = config();
    c.final_duration_s = 0;
    CHECK(refused(c));
    c = config();
    c.max_trials = 1;
    CHECK(refused(c));
    c = config();
    c.max_rate_pps = NAN;
    CHECK(refused(c));
    CHECK(calls == 0);
    CHECK(search_repeatedly(device, config(), 0).error != "");
}

TEST_CASE("trials are recorded as run: rate, duration by phase, counts and loss ratio") {
    std::vector<std::pair<double, double>> calls;
    const trial_function inner = step_device(2e6, 3e6);
    auto device = [&](double rate, double duration) {
        calls.emplace_back(rate, duration);
        return inner(rate, duration);
    };
    const search_result r = search_rates(device, config());
    REQUIRE(calls.size() == r.trials.size());
    bool saw_pdr = false;
    for (size_t i = 0; i < calls.size(); ++i) {
        const trial_record& t = r.trials[i];
        CHECK(t.rate_pps == calls[i].first);
        CHECK(t.duration_s == calls[i].second);
        CHECK(t.duration_s == (t.phase == trial_phase::search ? 1 : 30));
        CHECK(t.loss_ratio == loss_ratio(t.counts));
        CHECK(t.rate_pps >= 10e3);
        CHECK(t.rate_pps <= line_rate);
        // NDR's trials come first, then PDR's.
        if (t.goal == search_goal::pdr) saw_pdr = true;
        if (saw_pdr) CHECK(t.goal == search_goal::pdr);
    }
    CHECK(r.trials.front().rate_pps == line_rate);  // no start rate: the line rate first
}

TEST_CASE("a start rate from a previous result is tried first and saves trials") {
    search_config c = config();
    const search_result cold = search_rates(step_device(2e6, 3e6), c);
    c.start_rate_pps = cold.ndr.rate_pps;
    const search_result warm = search_rates(step_device(2e6, 3e6), c);
    CHECK(warm.trials.front().rate_pps == cold.ndr.rate_pps);
    CHECK(warm.trials.size() < cold.trials.size());
    check_within(warm.ndr.rate_pps, 2e6);
}

TEST_CASE("loss_ratio: nothing offered is total loss, more received than offered is none") {
    CHECK(loss_ratio({0, 0}) == 1.0);
    CHECK(loss_ratio({100, 101}) == 0.0);
    CHECK(loss_ratio({100, 100}) == 0.0);
    CHECK(loss_ratio({200, 199}) == doctest::Approx(0.005));
}

TEST_CASE("spread_of: min, max, middle value of an odd count, mean of the middle two of even") {
    auto s = spread_of({5, 1, 3});
    CHECK(s.min == 1);
    CHECK(s.median == 3);
    CHECK(s.max == 5);
    s = spread_of({4, 1, 3, 10});
    CHECK(s.median == 3.5);
    s = spread_of({});
    CHECK(s.min == 0);
    CHECK(s.median == 0);
    CHECK(s.max == 0);
}

TEST_CASE(
    "repeated search: K runs, each after the first starts at the previous NDR, spread of all") {
    std::mt19937 rng(5);
    std::uniform_real_distribution<double> jitter(-0.01, 0.01);
    constexpr double limit = 1.5e6;
    auto device = [&](double rate, double duration) {
        return counts(rate, duration, rate <= limit * (1 + jitter(rng)) ? 0 : 0.1);
    };
    const auto rep = search_repeatedly(device, config(), 5);
    REQUIRE(rep.error.empty());
    REQUIRE(rep.runs.size() == 5);
    std::vector<double> ndr;
    for (size_t i = 0; i < rep.runs.size(); ++i) {
        ndr.push_back(rep.runs[i].ndr.rate_pps);
        if (i > 0) CHECK(rep.runs[i].trials.front().rate_pps == rep.runs[i - 1].ndr.rate_pps);
    }
    std::sort(ndr.begin(), ndr.end());
    CHECK(rep.ndr.min == ndr.front());
    CHECK(rep.ndr.median == ndr[2]);
    CHECK(rep.ndr.max == ndr.back());
    CHECK(rep.ndr.min >= limit * 0.99 * (1 - resolution));
    CHECK(rep.ndr.max <= limit * 1.01);
    CHECK(rep.pdr.min >= rep.ndr.min);
}

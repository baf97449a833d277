#pragma once
// Per-second rates for the status page from counter deltas, kept between requests: each request
// samples the counters, and a sample at least `min_interval` after the last one kept becomes the
// new reference. Rates are over the last two kept samples, so a page polling every second shows
// the last second's rates however many browsers poll (a poll sooner than `min_interval` reuses
// the rates of the last full window). Control thread only (it serves the HTTP requests).
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "metrics/status_view.hpp"

namespace sluice::metrics {

class status_rates {
public:
    explicit status_rates(uint64_t min_interval_ns = 1'000'000'000) : min_ns_(min_interval_ns) {}

    // Samples `v`'s counters at `now_ns` (CLOCK_MONOTONIC) and fills its rate fields.
    void apply(status_view& v, uint64_t now_ns);

private:
    using sample = std::map<std::string, uint64_t>;  // counter key -> value
    std::optional<double> rate(const std::string& key) const;

    uint64_t min_ns_;
    uint64_t earlier_ns_ = 0, latest_ns_ = 0;
    sample earlier_, latest_;
    bool have_latest_ = false, have_earlier_ = false;
};

}  // namespace sluice::metrics

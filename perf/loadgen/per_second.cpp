// Per-second reports of a trial (per_second.hpp has the attribution rule and the threads).
#include "per_second.hpp"

#include <utility>

namespace sluice::loadgen {

second_series::second_series() {
    cur_.latency = std::make_unique<latency_histogram>();
    prev_.latency = std::make_unique<latency_histogram>();
}

void second_series::begin(bucket& b, uint64_t start_ns) {
    b.start_ns = start_ns;
    b.offered = b.received = b.reordered = 0;
    b.latency->reset();
}

void second_series::start(unsigned trial, uint64_t start_ns) {
    trial_ = trial;
    start_ns_ = start_ns;
    next_ns_ = start_ns + second_ns;
    offered_mark_ = 0;
    has_prev_ = false;
    begin(cur_, start_ns);
    begin(prev_, start_ns);
}

second_record second_series::record_of(const bucket& b, uint64_t end_ns) const {
    second_record r;
    r.trial = trial_;
    r.t_s = double(b.start_ns - start_ns_) / double(second_ns);
    r.span_s = double(end_ns > b.start_ns ? end_ns - b.start_ns : 0) / double(second_ns);
    r.offered = b.offered;
    r.received = b.received;
    r.lost = b.offered > b.received ? b.offered - b.received : 0;
    r.reordered = b.reordered;
    r.latency_samples = b.latency->count();
    r.latency_p99_ns = b.latency->percentile(99);
    return r;
}

std::optional<second_record> second_series::advance(uint64_t offered_total) {
    cur_.offered = offered_total - offered_mark_;
    offered_mark_ = offered_total;
    std::optional<second_record> done;
    if (has_prev_) done = record_of(prev_, cur_.start_ns);
    std::swap(prev_, cur_);
    has_prev_ = true;
    begin(cur_, next_ns_);
    next_ns_ += second_ns;
    return done;
}

std::vector<second_record> second_series::finish(uint64_t offered_total, uint64_t end_ns) {
    cur_.offered = offered_total - offered_mark_;
    offered_mark_ = offered_total;
    std::vector<second_record> out;
    if (has_prev_) out.push_back(record_of(prev_, cur_.start_ns));
    const bool any = cur_.offered || cur_.received || cur_.latency->count();
    if (end_ns > cur_.start_ns || any) out.push_back(record_of(cur_, end_ns));
    next_ns_ = UINT64_MAX;
    return out;
}

}  // namespace sluice::loadgen

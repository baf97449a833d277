#pragma once
// Per-second reports of a trial (docs/hil.md, "Per-second reports"): for each second of the
// trial, the frames offered in it, how many of those arrived, were lost and arrived out of
// order, and the p99 latency of its latency samples.
//
// A received frame counts in the second it was *sent* in, read from its stamp (frames.hpp), not
// the second it arrived in: counted by arrival, a frame in flight across a boundary would show as
// lost in one second and as a surplus in the next. Hence a second is reported one second after
// it ends (its frames had a whole second to arrive; later ones count in the second after it),
// the last two when the trial (with its grace period) ends. A frame without a send time (an
// unstamped TCP segment, a stamp without a latency sample with --sample-every) counts in the
// current second. cps: the received quantity is completed connections, counted in the second
// the connection was opened in. Offered frames are counted by the engine; the series takes the
// trial's running total once per second and charges the difference to the second that ends.
//
// The sums over a trial's seconds equal the trial's offered and received, except the trial's
// `short_of_rate` shortfall (not sent, so in no second); `lost` is clamped at 0 per second as
// the trial's loss is (copies do not offset losses).
//
// Threads: owned by the generator lcore that runs the trial; the hot path (received, reordered,
// latency) is one compare and an increment; due() is one compare per loop; advance() runs once
// per second from the same lcore. No locks, no shared state.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "latency_histogram.hpp"

namespace sluice::loadgen {

struct second_record {
    unsigned trial = 0;  // the trial's number in the run, from 1
    double t_s = 0;      // start of the second, seconds since the trial's start
    double span_s = 1;   // its length: 1, except the last of a trial
    uint64_t offered = 0;
    uint64_t received = 0;   // of the frames sent in this second (cps: connections opened)
    uint64_t lost = 0;       // offered - received, 0 when received >= offered
    uint64_t reordered = 0;  // of the received ones, out of order (flow_order.hpp)
    uint64_t latency_samples = 0;
    uint64_t latency_p99_ns = 0;
};

class second_series {
public:
    static constexpr uint64_t second_ns = 1000000000;

    second_series();

    // Starts the series of a trial: its second 0 begins at `start_ns`.
    void start(unsigned trial, uint64_t start_ns);

    // A frame (cps: a completed connection) sent (opened) at `sent_ns` arrived; 0: time unknown.
    void received(uint64_t sent_ns) { at(sent_ns).received++; }
    void reordered(uint64_t sent_ns) { at(sent_ns).reordered++; }
    void latency(uint64_t sent_ns, uint64_t ns) { at(sent_ns).latency->record(ns); }

    // Whether `now_ns` is past the end of the current second: call advance().
    bool due(uint64_t now_ns) const { return now_ns >= next_ns_; }
    // Ends the current second, charging it the offered frames since the last call
    // (`offered_total`: the trial's running count). Returns the second before it, now complete,
    // if there is one. After a stall, call again while due().
    std::optional<second_record> advance(uint64_t offered_total);
    // The trial is over at `end_ns`: the remaining one or two seconds (the last one partial).
    std::vector<second_record> finish(uint64_t offered_total, uint64_t end_ns);

private:
    struct bucket {
        uint64_t start_ns = 0;
        uint64_t offered = 0;
        uint64_t received = 0;
        uint64_t reordered = 0;
        std::unique_ptr<latency_histogram> latency;
    };

    bucket& at(uint64_t sent_ns) {
        return sent_ns == 0 || sent_ns >= cur_.start_ns || !has_prev_ ? cur_ : prev_;
    }
    second_record record_of(const bucket& b, uint64_t end_ns) const;
    void begin(bucket& b, uint64_t start_ns);

    bucket cur_;
    bucket prev_;  // the second before cur_, still taking late frames
    bool has_prev_ = false;
    unsigned trial_ = 0;
    uint64_t start_ns_ = 0;
    uint64_t next_ns_ = UINT64_MAX;  // end of cur_; UINT64_MAX: no trial running
    uint64_t offered_mark_ = 0;      // the running offered count at cur_'s start
};

}  // namespace sluice::loadgen

#pragma once
// TSC pacing of the generator's offered packets: a trial offers `rate` packets per second,
// released in bursts of at most `burst` whenever the clock has passed their due times, so the
// long-run rate is exact whatever the loop's period, and a loop that falls behind catches up
// at most one burst per call (the backlog shows as offered < rate × duration, which the trial
// reports as the generator's limit, not as the device's loss).
//
// Threads: one pacer per sending lcore, used only by it. Pure arithmetic on a caller-given
// clock, so the unit tests drive it with made-up ticks.
#include <algorithm>
#include <cstdint>

namespace sluice::loadgen {

class pacer {
public:
    // `hz`: ticks per second of the clock; `rate`: packets per second (> 0); `start`: the tick
    // of the first packet's due time.
    pacer(double hz, double rate, uint64_t start, unsigned burst = 32)
        : interval_(hz / rate), start_(start), burst_(burst) {}

    // Packets due at `now` and not yet released, at most one burst; the caller sends them and
    // reports how many with taken() (fewer when its TX ring was full: they stay due).
    unsigned due(uint64_t now) const {
        if (now < start_) return 0;
        const double elapsed = double(now - start_);
        const uint64_t total = uint64_t(elapsed / interval_) + 1;
        if (total <= released_) return 0;
        return unsigned(std::min<uint64_t>(total - released_, burst_));
    }
    void taken(unsigned n) { released_ += n; }
    uint64_t released() const { return released_; }
    // The tick at which the next packet is due (for a loop that wants to sleep or stop).
    uint64_t next_due() const { return start_ + uint64_t(double(released_) * interval_); }

private:
    double interval_;  // ticks between two packets
    uint64_t start_;
    unsigned burst_;
    uint64_t released_ = 0;
};

}  // namespace sluice::loadgen

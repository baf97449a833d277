#pragma once
// The rise/fall hysteresis of one backend (HAProxy's model): an up backend goes down after `fall`
// consecutive failed checks, a down one comes up after `rise` consecutive successful ones. A
// result of the other kind resets the run, so a flapping backend keeps its state. Pure: no
// clock, no I/O. Control thread only; not thread-safe.
#include <cstdint>

namespace sluice::health {

class health_state {
public:
    // rise and fall >= 1 (0 is treated as 1).
    health_state(uint32_t rise, uint32_t fall, bool initially_up);

    // One check's outcome; true when it changed the state.
    bool record(bool ok);
    // Passive detection: down now, and up again only after `rise` consecutive successes from
    // here. True when it changed the state (it was up).
    bool force_down();
    // New thresholds (reload); state and runs are kept and judged by them from the next result.
    void set_thresholds(uint32_t rise, uint32_t fall);

    bool up() const { return up_; }
    uint32_t consecutive_successes() const { return successes_; }
    uint32_t consecutive_failures() const { return failures_; }
    uint32_t rise() const { return rise_; }
    uint32_t fall() const { return fall_; }

private:
    uint32_t rise_;
    uint32_t fall_;
    bool up_;
    uint32_t successes_ = 0;  // the current run; 0 while failing
    uint32_t failures_ = 0;   // the current run; 0 while succeeding
};

}  // namespace sluice::health

#include "health/health_state.hpp"

#include <algorithm>

namespace sluice::health {

health_state::health_state(uint32_t rise, uint32_t fall, bool initially_up)
    : rise_(std::max(rise, 1u)), fall_(std::max(fall, 1u)), up_(initially_up) {}

bool health_state::record(bool ok) {
    if (ok) {
        failures_ = 0;
        if (successes_ < UINT32_MAX) ++successes_;
        if (!up_ && successes_ >= rise_) {
            up_ = true;
            return true;
        }
        return false;
    }
    successes_ = 0;
    if (failures_ < UINT32_MAX) ++failures_;
    if (up_ && failures_ >= fall_) {
        up_ = false;
        return true;
    }
    return false;
}

bool health_state::force_down() {
    bool was_up = up_;
    up_ = false;
    successes_ = 0;
    return was_up;
}

void health_state::set_thresholds(uint32_t rise, uint32_t fall) {
    rise_ = std::max(rise, 1u);
    fall_ = std::max(fall, 1u);
}

}  // namespace sluice::health

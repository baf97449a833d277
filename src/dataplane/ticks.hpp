#pragma once
// The workers' coarse clock: flow timeouts, aging and the SYN proxy's retransmissions count in
// these ticks (derived from the TSC once per loop pass).
#include <cstdint>

namespace sluice::dataplane {

inline constexpr uint32_t ticks_per_second = 8;  // flow aging resolution: 125 ms

}  // namespace sluice::dataplane

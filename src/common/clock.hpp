#pragma once
// The control plane's clock: CLOCK_MONOTONIC in nanoseconds (deadlines, probe timing, rates).
// Any thread. Workers use the TSC instead.
#include <time.h>

#include <cstdint>

namespace sluice {

inline uint64_t monotonic_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

}  // namespace sluice

#pragma once
// Round-robin over the backends that take new flows (weight > 0). Pure function over a backend
// snapshot; the cursor is per worker (no shared state, no lock).
#include <cstdint>
#include <span>

namespace sluice::sched {

inline constexpr uint32_t no_backend = 0xffffffff;

// `weights[i]` is backend i's weight; `eligible(i)` says whether backend i may take a new flow now
// (e.g. below max_connections). Returns the chosen index or no_backend and advances `cursor` past
// it. O(n) only while skipping weight-0 or ineligible backends. Any thread; the cursor is the
// caller's.
template <class Eligible>  // bool(uint32_t index)
inline uint32_t pick_round_robin(std::span<const uint32_t> weights, uint32_t& cursor,
                                 Eligible&& eligible) {
    const uint32_t n = uint32_t(weights.size());
    for (uint32_t tried = 0; tried < n; ++tried) {
        uint32_t i = cursor < n ? cursor : 0;
        cursor = i + 1;
        if (weights[i] > 0 && eligible(i)) return i;
    }
    return no_backend;
}

inline uint32_t pick_round_robin(std::span<const uint32_t> weights, uint32_t& cursor) {
    return pick_round_robin(weights, cursor, [](uint32_t) { return true; });
}

}  // namespace sluice::sched

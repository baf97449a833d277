#pragma once
// Smooth weighted round-robin, as nginx's ngx_http_upstream_get_peer: a backend of weight w out of
// a total W is picked w times in every W picks, interleaved with the others instead of in one
// burst ({5,1,1} gives a a b a c a a, not a a a a a b c). Pure function; the `current` credits are
// per worker per VIP (no shared state, no lock).
#include <cstdint>
#include <span>

#include "sched/round_robin.hpp"  // no_backend

namespace sluice::sched {

// Every pick adds each eligible backend's weight to its `current` credit, picks the largest credit
// (the first on ties) and takes the total eligible weight off the winner, so credits always sum to
// zero over the eligible backends. Weight-0 and ineligible backends are skipped and keep their
// credit. `current` is sized like `weights` and zeroed at start. A weight change applies from the
// next pick; credit earned under the old weights drains over the following picks, so zero
// `current` along with the change when the next cycle must follow the new weights exactly.
// Returns the chosen index or no_backend. O(n) per pick. Any thread; `current` is the caller's.
template <class Eligible>  // bool(uint32_t index)
inline uint32_t pick_smooth_wrr(std::span<const uint32_t> weights, std::span<int64_t> current,
                                Eligible&& eligible) {
    const uint32_t n = uint32_t(weights.size() < current.size() ? weights.size() : current.size());
    uint32_t best = no_backend;
    int64_t total = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (weights[i] == 0 || !eligible(i)) continue;
        current[i] += weights[i];
        total += weights[i];
        if (best == no_backend || current[i] > current[best]) best = i;
    }
    if (best != no_backend) current[best] -= total;
    return best;
}

}  // namespace sluice::sched

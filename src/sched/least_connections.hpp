#pragma once
// Least connections (IPVS lc) and weighted least connections (IPVS wlc). Pure function over a
// backend snapshot; the caller supplies each backend's load and eligibility as callables so the
// counters can live wherever the data plane keeps them.
#include <cstdint>
#include <span>

#include "sched/round_robin.hpp"  // no_backend

namespace sluice::sched {

// IPVS's ip_vs_dest_conn_overhead: an established flow costs far more than one in SYN/TIME_WAIT.
inline constexpr uint64_t conn_overhead(uint64_t active, uint64_t inactive) {
    return active * 256 + inactive;
}

// lc: the backend with the least overhead(i). wlc: the least overhead(i) / weight(i), compared as
// overhead(a) * weight(b) < overhead(b) * weight(a) — no division, and products in 128 bits so
// any 64-bit overhead times a 32-bit weight is exact. Weight-0 and ineligible backends are
// skipped. The scan starts at `start` (taken modulo the backend count) and only a strictly smaller
// load replaces the best, so among equal backends the first from `start` wins: a caller that
// rotates `start` (e.g. a per-worker counter) spreads new flows over tied backends instead of
// sending them all to index 0 until its count moves. Returns the chosen index or no_backend.
// O(n) per pick. Any thread.
template <class Overhead, class Eligible>  // uint64_t(uint32_t index), bool(uint32_t index)
inline uint32_t pick_least_connections(std::span<const uint32_t> weights, bool weighted,
                                       uint32_t start, Overhead&& overhead, Eligible&& eligible) {
    __extension__ using u128 = unsigned __int128;
    const uint32_t n = uint32_t(weights.size());
    if (n == 0) return no_backend;
    uint32_t i = start < n ? start : start % n;
    uint32_t best = no_backend;
    uint64_t best_overhead = 0;
    uint32_t best_weight = 1;
    for (uint32_t left = n; left > 0; --left, i = i + 1 < n ? i + 1 : 0) {
        const uint32_t w = weights[i];
        if (w == 0 || !eligible(i)) continue;
        const uint64_t oh = overhead(i);
        const bool less =
            weighted ? u128(oh) * best_weight < u128(best_overhead) * w : oh < best_overhead;
        if (best == no_backend || less) {
            best = i;
            best_overhead = oh;
            best_weight = w;
        }
    }
    return best;
}

}  // namespace sluice::sched

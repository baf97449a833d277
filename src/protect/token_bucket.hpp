#pragma once
// A token bucket over events (new connections, packets), in the GCRA form (ITU-T I.371's
// "virtual scheduling"): instead of a token count and a last-refill time, a bucket stores one
// value, the theoretical arrival time (TAT) at which it would be full again. A take at `now`
//
//   - succeeds when TAT <= now + tau, and then moves TAT to max(TAT, now) + interval;
//   - fails otherwise, leaving the bucket untouched.
//
// interval = one token's worth of time (ticks_per_second / rate) and tau = (burst - 1) × interval,
// so `burst` takes succeed back to back from a full bucket and then one every `interval`. This is
// exactly a token bucket with capacity `burst` refilled at `rate` per second, computed lazily at
// check time from the caller's clock, with no division, multiplication or clock read per check:
// one 128-bit compare, one add.
//
// Time is whatever the caller counts in (TSC cycles, nanoseconds): the parameters are built for
// its frequency once, and `now` is passed to every take. Times are fixed point with 32 fractional
// bits of a tick, so rates above the tick frequency (1.5 tokens per ns) and sub-tick intervals
// stay exact to 2^-32 tick per token.
//
// Time jumps: after any gap, however long, TAT <= now and the bucket is full (burst), never more.
// A clock that goes backwards (mixed-up clocks: a worker's own TSC never does) is handled by the
// size of the step, measured against the bucket time B = tau + interval (the time an empty
// bucket takes to fill):
//   - a step back by X <= B never grants a token a monotonic clock would not have: the bucket
//     looks emptier by X and waits at most X;
//   - a larger step (a clock reset) re-anchors the bucket as empty at the new time, so it refills
//     from there instead of stalling until the clock catches up; should the clock later jump
//     forward again, the bucket can have gained at most one extra burst.
// Both only on the rejecting path: the accepting path is two compares and an add.
//
// Pure, header-only, no allocation. A bucket (state) belongs to one thread; parameters are
// immutable and may be shared.
#include <algorithm>
#include <cstdint>

namespace sluice::protect {

__extension__ using uint128 = unsigned __int128;

// Fixed-point times: ticks × 2^32.
inline constexpr unsigned fraction_bits = 32;

// Immutable per limit: how fast a bucket refills and how much it holds. Build with
// bucket_params::per_second(); default = unlimited.
struct bucket_params {
    uint128 interval = 0;  // time per token (fixed point); 0 = unlimited
    uint128 tau = 0;       // (burst - 1) × interval: how far TAT may run ahead of now

    bool unlimited() const { return interval == 0; }
    bool operator==(const bucket_params&) const = default;

    // `rate` tokens per second (0 = unlimited), at most `burst` at once (0 = the rate), measured
    // by a clock of `ticks_per_second`, of which this bucket enforces a 1/`share` part (`share`
    // workers enforcing one limit: see split below). Any thread; not per packet (divides).
    static bucket_params per_second(uint64_t rate, uint64_t burst, uint64_t ticks_per_second,
                                    uint32_t share = 1);
};

// Splitting one limit over N workers (share = N). A limit shared by every worker (a VIP's new
// connections per second) could be one bucket behind an atomic, but then every new connection on
// every core writes the same cache line: the contention the hot-path rules forbid. Instead each
// worker enforces rate/N with burst/N (at least 1 token: a bucket must be able to pass one event).
// The rate is split exactly (fractional rates are fine in fixed point), so with traffic spread
// evenly over the workers (the flow hash does that for many clients) the VIP gets the configured
// rate and burst. The price:
//   - a worker cannot borrow another's unused tokens: with uneven traffic (few flows, one hot
//     client whose flows hash to one core) the VIP admits less, down to rate/N when one worker
//     sees everything;
//   - burst/N is rounded down to whole tokens, and is at least 1 per worker, so a burst smaller
//     than N admits up to N at once.
// Per-source limits are split the same way, since one client's connections hash to every worker.
inline bucket_params bucket_params::per_second(uint64_t rate, uint64_t burst,
                                               uint64_t ticks_per_second, uint32_t share) {
    bucket_params p;
    if (rate == 0) return p;
    share = std::max<uint32_t>(share, 1);
    if (burst == 0) burst = rate;
    // interval = ticks_per_second × share / rate ticks. Inputs up to 2^64 × 2^32 × 2^32 would
    // overflow 128 bits, so the clock and share are capped far above anything real (2^40 Hz,
    // 2^20 workers); rounding down makes the bucket faster by < 2^-32 tick per token.
    uint128 ticks = std::min<uint64_t>(ticks_per_second, uint64_t(1) << 40);
    uint128 workers = std::min<uint32_t>(share, uint32_t(1) << 20);
    p.interval = std::max<uint128>(((ticks * workers) << fraction_bits) / rate, 1);
    // Whole tokens per worker: floor(burst / share), at least 1, at most 2^32 (so tau < 2^125).
    uint64_t tokens = std::clamp<uint64_t>(burst / uint64_t(workers), 1, uint64_t(1) << 32);
    p.tau = p.interval * (tokens - 1);
    return p;
}

// One bucket's mutable state: the theoretical arrival time, fixed point. Zero = full at any
// time >= 0.
struct bucket_state {
    uint128 tat = 0;
};

// The check. `now` in the parameters' ticks. Owner thread only; per event.
inline bool take(bucket_state& state, const bucket_params& params, uint64_t now) {
    if (params.unlimited()) return true;
    const uint128 t = uint128(now) << fraction_bits;
    uint128 tat = state.tat;
    if (tat > t) {
        const uint128 ahead = tat - t;
        if (ahead > params.tau) {
            // Empty. A monotonic clock keeps ahead <= B = tau + interval; beyond 2B the clock
            // stepped back by more than B: empty as of now (see above).
            const uint128 bucket_time = params.tau + params.interval;
            if (ahead > 2 * bucket_time) state.tat = t + bucket_time;
            return false;
        }
    } else {
        tat = t;  // full: a gap of any length refills up to burst, never beyond
    }
    state.tat = tat + params.interval;
    return true;
}

// Whole tokens a take at `now` could use: burst when full. For tests and status, not per event
// (divides).
inline uint64_t available(const bucket_state& state, const bucket_params& params, uint64_t now) {
    if (params.unlimited()) return UINT64_MAX;
    const uint128 t = uint128(now) << fraction_bits;
    const uint128 limit = t + params.tau + params.interval;  // TAT of a full bucket + interval
    if (state.tat >= limit) return 0;
    const uint128 room = limit - std::max(state.tat, t);
    return uint64_t(room / params.interval);
}

// A bucket with its own parameters: one limit enforced by one thread (a worker's share of a
// VIP's rate).
class token_bucket {
public:
    token_bucket() = default;  // unlimited
    explicit token_bucket(const bucket_params& params) : params_(params) {}

    // Owner thread only; per event.
    bool take(uint64_t now) { return protect::take(state_, params_, now); }
    uint64_t available(uint64_t now) const { return protect::available(state_, params_, now); }
    const bucket_params& params() const { return params_; }
    // Full again (e.g. after the limit changed).
    void reset() { state_ = {}; }

private:
    bucket_params params_;
    bucket_state state_;
};

}  // namespace sluice::protect

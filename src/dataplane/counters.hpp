#pragma once
// Per-core counters. Each struct is written by exactly one thread (its worker, or the control
// thread) and read by the control/telemetry threads when stats are requested; summing happens at
// read time. Relaxed atomics compile to plain loads and stores on x86 (no lock prefix), so a
// counter bump costs what a plain increment does, without a data race.
#include <atomic>
#include <cstdint>
#include <memory>

#include "model/ids.hpp"
#include "sluice/counters.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::dataplane {

using counter = std::atomic<uint64_t>;

// Owner thread only.
inline void bump(counter& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline uint64_t read(const counter& c) {
    return c.load(std::memory_order_relaxed);
}

// The counters are declared in sluice/counters.hpp; here they become one field each.
#define SLUICE_X(key, ...) counter key{0};
struct alignas(64) worker_counters {
    SLUICE_WORKER_COUNTERS(SLUICE_X)
    counter drops[drop_reason_count]{};

    void drop(drop_reason r) { bump(drops[unsigned(r)]); }
    // A copy in table order (any thread; relaxed reads).
    worker_values values() const;
};

struct alignas(64) control_counters {
    SLUICE_CONTROL_COUNTERS(SLUICE_X)
    control_values values() const;
};
#undef SLUICE_X

// Drops per VIP and reason (the SLUICE_VIP_DROP_REASONS of sluice/drop_reason.hpp), one row per
// VIP id: 23 counters × max_vips ≈ 750 KiB per worker, touched only by drops. Written by the
// owning worker, read by the control thread (sluice_vip_drops_total).
class vip_drop_counts {
public:
    vip_drop_counts() : rows_(new counter[size_t(model::max_vips) * vip_drop_reason_count]()) {}
    void add(uint16_t vip, uint8_t slot) {
        bump(rows_[size_t(vip) * vip_drop_reason_count + slot]);
    }
    uint64_t at(uint16_t vip, unsigned slot) const {
        return read(rows_[size_t(vip) * vip_drop_reason_count + slot]);
    }

private:
    std::unique_ptr<counter[]> rows_;
};

#define SLUICE_X(key, ...) out[decltype(out)::index::key] = read(key);
inline worker_values worker_counters::values() const {
    worker_values out;
    SLUICE_WORKER_COUNTERS(SLUICE_X)
    return out;
}
inline control_values control_counters::values() const {
    control_values out;
    SLUICE_CONTROL_COUNTERS(SLUICE_X)
    return out;
}
#undef SLUICE_X

}  // namespace sluice::dataplane

#pragma once
// Connections per backend, counted per worker as IPVS does: active = TCP established, inactive =
// every other state (UDP flows are inactive). Each worker writes only its own array (relaxed
// stores, no lock prefix); a worker that schedules a new flow with lc/wlc or checks
// max_connections sums every worker's entry for the candidate backends. Those reads touch other
// workers' lines once per new flow and backend, never per established packet.
#include <atomic>
#include <cstdint>
#include <memory>
#include <span>

#include "control/backend_registry.hpp"
#include "sluice/counters.hpp"

namespace sluice::dataplane {

struct conn_count {
    std::atomic<uint32_t> active{0};
    std::atomic<uint32_t> inactive{0};
    std::atomic<uint32_t> half_open{0};  // TCP flows in SYN_SENT or SYN_RECV (also inactive)
    // Traffic of the backend's flows, counted per packet by the owning worker (the table of
    // sluice/counters.hpp: connections_total, packets_to_backend, …).
#define SLUICE_X(key, ...) std::atomic<uint64_t> key{0};
    SLUICE_BACKEND_COUNTERS(SLUICE_X)
#undef SLUICE_X
    // Passive health detection: connects the backend answered (SYN-ACK) and did not (RST, or no
    // SYN-ACK within the VIP's connect timeout). Counted only for VIPs with passive detection.
    std::atomic<uint64_t> connects_ok{0};
    std::atomic<uint64_t> connects_failed{0};
};

class conn_counts {
public:
    conn_counts() : counts_(new conn_count[model::max_backends]) {}

    // Owner worker only.
    // Release (a plain store on x86): a flow's last reads of its endpoint row happen before the
    // count that lets the control thread recycle its backend id (flow/endpoints.hpp).
    void add(uint32_t id, bool active, int32_t delta) {
        std::atomic<uint32_t>& c = active ? counts_[id].active : counts_[id].inactive;
        c.store(c.load(std::memory_order_relaxed) + uint32_t(delta), std::memory_order_release);
    }
    void add_half_open(uint32_t id, int32_t delta) {
        std::atomic<uint32_t>& c = counts_[id].half_open;
        c.store(c.load(std::memory_order_relaxed) + uint32_t(delta), std::memory_order_relaxed);
    }
    // Owner worker only: one packet of `bytes` to (or from) the backend.
    void traffic(uint32_t id, bool to_backend, uint32_t bytes) {
        conn_count& c = counts_[id];
        bump(to_backend ? c.packets_to_backend : c.packets_from_backend, 1);
        bump(to_backend ? c.bytes_to_backend : c.bytes_from_backend, bytes);
    }
    void connection(uint32_t id) { bump(counts_[id].connections_total, 1); }
    void connect_result(uint32_t id, bool ok) {
        bump(ok ? counts_[id].connects_ok : counts_[id].connects_failed, 1);
    }
    // Any thread.
    const conn_count& at(uint32_t id) const { return counts_[id]; }
    // This worker's traffic counters of a backend, in table order.
    backend_values traffic_of(uint32_t id) const {
        backend_values out;
#define SLUICE_X(key, ...) \
    out[backend_counter::key] = counts_[id].key.load(std::memory_order_relaxed);
        SLUICE_BACKEND_COUNTERS(SLUICE_X)
#undef SLUICE_X
        return out;
    }
    // Acquire (a plain load on x86), pairing with add's release.
    uint32_t active(uint32_t id) const {
        return counts_[id].active.load(std::memory_order_acquire);
    }
    uint32_t inactive(uint32_t id) const {
        return counts_[id].inactive.load(std::memory_order_acquire);
    }
    uint32_t half_open(uint32_t id) const {
        return counts_[id].half_open.load(std::memory_order_relaxed);
    }

private:
    static void bump(std::atomic<uint64_t>& c, uint64_t n) {
        c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::unique_ptr<conn_count[]> counts_;
};

// Totals over all workers. Any thread.
struct conn_totals {
    uint64_t active = 0;
    uint64_t inactive = 0;
    uint64_t half_open = 0;
};
inline conn_totals sum_connections(std::span<const conn_counts* const> workers, uint32_t id) {
    conn_totals t;
    for (const conn_counts* w : workers) {
        t.active += w->active(id);
        t.inactive += w->inactive(id);
        t.half_open += w->half_open(id);
    }
    return t;
}

}  // namespace sluice::dataplane

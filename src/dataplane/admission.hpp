#pragma once
// Admission of a new flow on one worker, as pure code over the snapshot, the connection counts
// and the tuple pools: no rte_mbuf, no EAL (tests/unit/admission_test.cpp runs it without).
//   1. limits: [vip.limits] and half-open limits (refusals counted per reason in the VIP's
//      guard_worker);
//   2. the scheduler's pick among the backends with weight > 0 and room (max_connections,
//      max_half_open_per_backend), with this worker's scheduler state per VIP id;
//   3. the full-NAT source tuple from the backend's pool and group; when none is ready, an early
//      drop of a flow that hands one back at once (frees_tuple_of) and a second try.
// The worker (stages/new_flow.cpp) routes, inserts into the flow table and evicts. Worker lcore
// only (one admission per worker), except the constructor.
#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/conn_counts.hpp"
#include "flow/flow_table.hpp"
#include "flow/tuple_pool.hpp"
#include "model/snapshot.hpp"
#include "sched/round_robin.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::dataplane {

// What admission says about a new flow: a backend (index into vip.backends), or why not.
struct admission_verdict {
    uint32_t backend = sched::no_backend;
    drop_reason refused = drop_reason::none;
    bool reset = false;  // answer the client's SYN with an RST (action = "reset", all_down)
};

class admission {
public:
    // `all_conns`: every worker's connection counts (lc/wlc, max_connections, half-open).
    admission(unsigned worker_index, std::span<const conn_counts* const> all_conns)
        : index_(worker_index), all_conns_(all_conns) {}

    // A new snapshot: its VIPs' scheduler state starts afresh (backends and weights may have
    // changed). Sized to the highest VIP id once, not per snapshot.
    void sync(const model::snapshot& s);

    // Steps 1 and 2 for a new flow `key` of `vip` at TSC `now_tsc` (token buckets).
    admission_verdict admit(const model::vip_entry& vip, const flow::flow_key& key,
                            uint64_t now_tsc);
    // Step 1 alone: false with the refusal counted in the VIP's guard_worker.
    bool within_limits(const model::vip_entry& vip, const flow::flow_key& key, uint64_t now_tsc);
    // Step 2 alone: an index into vip.backends, or sched::no_backend.
    uint32_t pick_backend(const model::vip_entry& vip, const flow::flow_key& key);

    // Step 3: a tuple of `pool` for backend `be` (none: no_local_address). When none is ready,
    // early_drop(pred) may evict one flow that `pred` accepts (see frees_tuple_of) and return
    // whether it did; then one more try, else local_port_exhausted.
    template <class EarlyDrop>
    static drop_reason acquire_tuple(flow::tuple_pool* pool, const flow::endpoint_table& endpoints,
                                     const model::backend_entry& be, address_family family,
                                     uint32_t now_tick, flow::local_tuple& out,
                                     EarlyDrop&& early_drop);
    // Whether evicting `e` hands a tuple of backend `be`'s group back at once: a half-open flow
    // of the same egress port, family and group (the backend never completed it, or gets an
    // RST); a flow whose backend keeps TIME_WAIT would free nothing usable.
    // `ep`: the row of e's backend id.
    static bool frees_tuple_of(const flow::flow_entry& e, const flow::flow_endpoint& ep,
                               const model::backend_entry& be);

private:
    bool has_room(const model::vip_entry& vip, const model::backend_entry& b) const;
    model::guard_worker& guard_of(const model::vip_entry& vip) const {
        return *vip.protect.guard->workers[index_];
    }

    unsigned index_;
    std::span<const conn_counts* const> all_conns_;
    // Scheduler state by VIP id.
    std::vector<uint32_t> rr_cursor_;
    std::vector<std::vector<int64_t>> wrr_current_;
    uint32_t lc_start_ = 0;
};

template <class EarlyDrop>
drop_reason admission::acquire_tuple(flow::tuple_pool* pool, const flow::endpoint_table& endpoints,
                                     const model::backend_entry& be, address_family family,
                                     uint32_t now_tick, flow::local_tuple& out,
                                     EarlyDrop&& early_drop) {
    if (!pool || be.address.family != family) return drop_reason::no_local_address;
    const uint32_t group = be.tuple_group;
    if (pool->acquire(group, now_tick, out)) return drop_reason::none;
    auto pred = [&be, &endpoints](const flow::flow_entry& e) {
        return frees_tuple_of(e, endpoints[e.backend_id], be);
    };
    if (early_drop(pred) && pool->acquire(group, now_tick, out)) return drop_reason::none;
    return drop_reason::local_port_exhausted;
}

}  // namespace sluice::dataplane

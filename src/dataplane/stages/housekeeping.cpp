// Housekeeping, once per poll pass: control's commands, the tick (flow expiry, the SYN proxy's
// clocks), the SYN proxy's due retransmissions, the RCU quiescent state. Worker lcore only.
#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"

namespace sluice::dataplane {

using flow::flow_entry;
using model::snapshot;

void worker::housekeeping(const snapshot& s) {
    run_commands(s);
    uint32_t tick = uint32_t((rte_rdtsc() - tsc_start_) / tsc_per_tick_);
    if (tick != now_tick_) {
        now_tick_ = tick;
        proxy_.set_clocks(rte_rdtsc());
        uint32_t n = flows_->expire(tick, [&](flow_entry& f) { wind_down(s, f); });
        if (n) bump(counters.flows_expired, n);
    }
    reassembly_.expire(now_tsc_);
    proxy_.retransmit_due(now_tick_, [&](uint32_t i) { send_backend_syn(s, flows_->at(i)); });
    counters.flows_active.store(flows_->size(), std::memory_order_relaxed);
    if (qsbr_) rte_rcu_qsbr_quiescent(qsbr_, setup_.index);
}

}  // namespace sluice::dataplane

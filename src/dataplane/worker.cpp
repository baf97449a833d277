// The worker's construction and its lcore loop. What it does to a packet is in stages/, one
// file per stage in the packet's order (src/dataplane/meson.build lists them).
#include "dataplane/worker.hpp"

#include <rte_cycles.h>
#include <rte_lcore.h>
#include <sys/prctl.h>

namespace sluice::dataplane {

using model::snapshot;

local_port_plan local_port_plan::make(uint16_t min, uint16_t max, unsigned workers) {
    local_port_plan p;
    p.min = min;
    p.workers = workers;
    p.per_worker = (uint32_t(max) - min + 1) / workers;
    p.magic = ((uint64_t(1) << 32) + p.per_worker - 1) / p.per_worker;
    return p;
}

worker::worker(const worker_setup& setup, flow::flow_table* flows,
               const std::atomic<const snapshot*>* snapshot, route::neighbor_table* neighbors,
               rte_rcu_qsbr* qsbr, conn_counts* conns,
               std::span<const conn_counts* const> all_conns)
    : setup_(setup),
      flows_(flows),
      snapshot_(snapshot),
      neighbors_(neighbors),
      qsbr_(qsbr),
      tsc_start_(rte_rdtsc()),
      tsc_per_tick_(setup.tsc_hz / ticks_per_second),
      conns_(conns),
      all_conns_(all_conns),
      admission_(setup.index, all_conns),
      reassembly_(setup.fragment_max_datagrams, setup.fragment_timeout_tsc, &counters),
      proxy_(setup.cookie_secret, setup.proxy_max_held, setup.tsc_hz, flows, &counters) {
    proxy_.set_clocks(rte_rdtsc());
}

int worker::lcore_main(void* self) {
    auto* w = static_cast<worker*>(self);
    // Short sleeps in backoff mode should be short: the default 50 µs slack would add latency.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    if (w->qsbr_) rte_rcu_qsbr_thread_online(w->qsbr_, w->setup_.index);
    unsigned idle = 0;
    while (!w->stopping_) {
        // Busy share (sluice_worker_cycles_total): two TSC reads per pass, none per packet.
        const uint64_t start = rte_rdtsc();
        const unsigned handled = w->poll_once();
        const uint64_t end = rte_rdtsc();
        bump(handled ? w->counters.busy_cycles : w->counters.idle_cycles, end - start);
        if (handled > 0) {
            idle = 0;
            continue;
        }
        if (w->setup_.idle == config::idle_policy::spin) continue;
        // Backoff: a few pause-polls first (cheap, keeps latency low under light load), then
        // micro-sleeps so a shared machine keeps its CPU for the lab's own processes.
        if (++idle < 64) {
            rte_pause();
        } else {
            rte_delay_us_sleep(idle < 1024 ? 10 : 50);
        }
        bump(w->counters.idle_cycles, rte_rdtsc() - end);
    }
    w->flush_tx();
    if (w->qsbr_) rte_rcu_qsbr_thread_offline(w->qsbr_, w->setup_.index);
    return 0;
}

}  // namespace sluice::dataplane

#pragma once
// The running data plane's read side: counters and gauges summed over workers, ports and the
// control thread at read time, for show stats, telemetry, /metrics and the control API. Reads of
// the workers' counters are relaxed (statistics only). Any thread unless a method says
// otherwise, once the runtime has started; the runtime owns it and the things it reads.
#include <rte_mempool.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "control/control_plane.hpp"
#include "dataplane/conn_counts.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/link_watch.hpp"
#include "dataplane/worker.hpp"
#include "flow/tuple_pool.hpp"
#include "metrics/metrics_view.hpp"
#include "model/snapshot.hpp"
#include "sluice/config.hpp"

namespace sluice::dataplane {

// Per worker, per port, per family (IPv4, IPv6): full-NAT source tuples (may be null).
using port_tuple_pools = std::array<std::array<std::unique_ptr<flow::tuple_pool>, 2>, max_ports>;

class readings {
public:
    // What the runtime owns and the readings read; each outlives the readings.
    struct sources {
        const config::config& cfg;  // as started: ports and flow capacity
        const std::vector<std::unique_ptr<worker>>& workers;
        const std::vector<const conn_counts*>& conns;
        const std::vector<port_tuple_pools>& tuple_pools;
        const std::vector<model::port_info>& ports;
        const control_counters& ctl;
        const std::vector<std::pair<int, rte_mempool*>>& pools;  // packet pools, per socket
        const link_watch& links;
        const std::atomic<const model::snapshot*>& snapshot;
        const std::unique_ptr<control::control_plane>& control;
    };
    explicit readings(const sources& s) : src_(s) {}

    // A backend id's connections and traffic counters (sluice/counters.hpp) over all workers.
    conn_totals connections(uint32_t id) const { return sum_connections(src_.conns, id); }
    backend_values traffic(uint32_t id) const;
    // New connections per second of a backend id, over the last full second sampled.
    double connection_rate(uint32_t id) const { return rate_[id]; }
    // Samples every backend's connection count once a second. Control thread (control_poll).
    void sample_rates(uint64_t now_ns);

    // Each worker's counters and drop reasons.
    std::vector<metrics::worker_metrics> workers() const;
    // Totals over workers plus control and port counters, named as in the telemetry and docs.
    std::vector<std::pair<std::string, uint64_t>> stats() const;
    std::string stats_json() const;
    // A started port's NIC counters and link state (rte_eth_stats, rte_eth_link).
    port_values port_counters(size_t port_index) const;
    // The driver's extended statistics of a started port (rte_eth_xstats), name → value.
    std::vector<std::pair<std::string, uint64_t>> port_xstats(size_t port_index) const;
    // A protected VIP's refusals, rule matches and source table, summed over workers.
    metrics::protect_metrics protection_of(const model::vip_entry& vip) const;
    // Full-NAT source tuples per (port, local address), in use and free, summed over workers.
    std::vector<metrics::local_tuple_metrics> local_tuples() const;
    // The VIPs' drops by reason, summed over workers; only the (VIP, reason) pairs counted.
    std::vector<metrics::vip_drop_metrics> vip_drops(const model::snapshot& s) const;
    std::vector<std::pair<std::string, uint64_t>> vip_drops_of(const model::vip_entry& vip) const;
    // Everything /metrics exposes, summed now. Control thread (reads the snapshot and health).
    metrics::metrics_view metrics() const;
    // The control thread's own counters (ARP, kernel path, exception budgets).
    const control_counters& control() const { return src_.ctl; }

private:
    std::vector<metrics::backend_metrics> backends(const model::snapshot& s) const;

    sources src_;
    uint64_t last_rate_ns_ = 0;
    std::vector<uint64_t> rate_prev_ = std::vector<uint64_t>(model::max_backends, 0);
    std::vector<double> rate_ = std::vector<double>(model::max_backends, 0.0);
    std::vector<double> max_rate_ = std::vector<double>(model::max_backends, 0.0);
};

}  // namespace sluice::dataplane

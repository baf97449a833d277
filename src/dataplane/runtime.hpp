#pragma once
// The running data plane: mempool, ports, flow tables, rings, workers, the published snapshot,
// and the control thread's duties (ARP, neighbour resolution, RCU reclamation, stats).
// Created and driven by the main (control) lcore; workers run on their own lcores.
// Implemented in runtime.cpp, neighbor_frames.cpp (ARP) and stats.cpp; the exception rings'
// intake is exception_path.hpp.
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/backend_registry.hpp"
#include "control/snapshot_builder.hpp"
#include "dataplane/command_channel.hpp"
#include "dataplane/conn_counts.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/exception_path.hpp"
#include "dataplane/health_checks.hpp"
#include "dataplane/kernel_path.hpp"
#include "dataplane/worker.hpp"
#include "metrics/metrics_view.hpp"
#include "route/neighbor_resolver.hpp"
#include "route/neighbor_table.hpp"
#include "sluice/config.hpp"

namespace sluice::dataplane {

class runtime {
public:
    explicit runtime(config::config cfg);
    ~runtime();

    // Sets up pools, ports, tables, rings and workers and publishes the first snapshot.
    // Throws std::runtime_error naming what failed. EAL must be initialised.
    void start();
    // Launches the worker lcores (not used by packet tests, which drive workers directly).
    void launch_workers();
    // One pass of the control thread's duties. Control thread only.
    void control_poll();
    // Applies a new configuration without a restart: builds a snapshot and publishes it with RCU.
    // Refuses (returns the reason, old config keeps serving) when something that needs a restart
    // changed (dataplane, ports, flows, neighbor) or the snapshot cannot be built. Control thread.
    std::string reload(const config::config& next);

    // Operator state of a backend (drain, disable, remove); applied by the next apply(). Control
    // thread.
    model::backend_admin admin_of(const control::backend_identity& who) const;
    void set_admin(const control::backend_identity& who, model::backend_admin a);
    // Resets every flow of these backend ids on every worker (RST to both sides for TCP) and
    // counts them under `why`: a reset command to each worker, which sweeps its table in slices
    // once it runs the current snapshot. Control thread.
    void reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why);
    // Ids of this backend in the current snapshot (empty when it is not configured).
    std::vector<uint32_t> backend_ids_of(const control::backend_identity& who) const;
    // drain --timeout: flows still open `after_ns` from now are reset, unless the backend is
    // enabled again before. Control thread.
    void set_drain_deadline(const control::backend_identity& who, uint64_t after_ns);
    std::optional<uint64_t> drain_deadline_in(const control::backend_identity& who) const;
    // Copies of up to `limit` flows of the backend ids `ids` (all flows when empty) from every
    // worker, for show flows: a list command to each worker, which copies in slices between
    // bursts. `done` gets the flows (error "") from a later control pass, or an error: at once
    // when another listing is running, later when the workers did not answer within
    // `max_wait_ms`. Control thread.
    struct listed_flow {
        unsigned worker;
        flow::flow_entry flow;
        double expires_in_s;
    };
    using flows_listed = std::function<void(const std::string& error,
                                            const std::vector<listed_flow>& flows, bool truncated)>;
    void list_flows(const std::vector<uint32_t>& ids, uint32_t limit, flows_listed done,
                    unsigned max_wait_ms = 2000);
    // Commands sent to workers and not yet completed (resets, listings). Control thread.
    unsigned commands_outstanding() const;
    // Takes the workers' completed commands (part of control_poll; also for a caller waiting on
    // a listing outside the loop). Control thread.
    void collect_commands();
    // Connection and traffic totals of a backend id over all workers. Any thread.
    conn_totals connections(uint32_t id) const { return sum_connections(conn_views_, id); }
    // A backend id's traffic counters (sluice/counters.hpp) summed over workers. Any thread.
    backend_values traffic(uint32_t id) const;
    // New connections per second of a backend id, measured over the last full second.
    double connection_rate(uint32_t id) const { return rate_[id]; }
    // Per-worker counters, for show stats and metrics. Any thread.
    const worker_counters& worker_stats(unsigned w) const { return workers_[w]->counters; }
    uint64_t reloads_ok() const { return reloads_ok_; }
    uint64_t reloads_failed() const { return reloads_failed_; }
    void count_reload(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }
    // Stops the worker lcores and waits for them; counters stay readable. Idempotent.
    void stop_workers();
    // Stops workers, releases ports, rings, tables and pools. Idempotent.
    void shutdown();

    bool neighbors_ready() const { return resolver_->pinned_resolved(); }
    std::string unresolved_neighbors() const;
    // Totals over workers plus control counters, named as in the telemetry and the docs.
    std::vector<std::pair<std::string, uint64_t>> stats() const;
    std::string stats_json() const;
    // A started port's NIC counters and link state (rte_eth_stats, rte_eth_link). Any thread.
    port_values port_counters(size_t port_index) const;
    // Everything /metrics exposes, summed now. Control thread.
    metrics::metrics_view metrics() const;
    // A protected VIP's refusals, rule matches and source table, summed over workers. Control.
    metrics::protect_metrics protection_of(const model::vip_entry& vip) const;
    // Full-NAT source tuples per (port, local address), in use and free, summed over workers.
    // Reads the pools' relaxed in-use counters; any thread while the runtime is up.
    std::vector<metrics::local_tuple_metrics> local_tuples() const;
    unsigned worker_count() const { return unsigned(workers_.size()); }
    worker& worker_at(unsigned i) { return *workers_[i]; }
    const model::snapshot& current_snapshot() const { return *snapshot_.load(); }
    const config::config& configuration() const { return cfg_; }
    control_counters& ctl_counters() { return ctl_; }
    // Replaces where kernel-bound frames go (the TAPs): a test's slow or counting sink. Control.
    void set_kernel_sink(exception_path::kernel_sink sink) {
        exception_.set_kernel_sink(std::move(sink));
    }
    // The last control pass's exception-path work (frames handled, budgets run out). Control.
    const exception_path::pass_result& last_exception_pass() const { return last_exception_; }
    // Health of a backend id, for show backends and metrics (nullopt: not watched). Control.
    std::optional<health::target_status> health_status(uint32_t id) const {
        return health_ ? health_->status(id) : std::nullopt;
    }

private:
    void create_pool();
    void configure_port(size_t index);
    // An ARP frame or a resolution request from a worker's neighbour ring. Takes the mbuf.
    void handle_neighbor_frame(rte_mbuf* m, uint64_t now_ns);
    // Returns true for an ARP reply (the caller hands it on to the kernel).
    bool handle_arp(const model::snapshot& s, uint16_t port_index, rte_mbuf* m, uint64_t now_ns);
    void send_arp_request(uint32_t slot);
    void transmit(uint16_t port_index, rte_mbuf* m);
    void reclaim_snapshots(bool wait);
    void publish(std::unique_ptr<model::snapshot> next);
    void pin_next_hops(const model::snapshot& s);
    void enforce_drain_deadlines(uint64_t now_ns);
    void apply_health(uint64_t now_ns);

    config::config cfg_;
    rte_mempool* pool_ = nullptr;
    std::vector<model::port_info> ports_;
    std::unique_ptr<route::neighbor_table> neighbors_;
    std::unique_ptr<route::neighbor_resolver> resolver_;
    std::atomic<const model::snapshot*> snapshot_{nullptr};
    struct retired {
        const model::snapshot* snap;
        uint64_t token;
    };
    std::vector<retired> retired_;
    rte_rcu_qsbr* qsbr_ = nullptr;
    std::vector<void*> flow_memory_;
    std::vector<void*> proxy_memory_;  // per worker, once a VIP uses the SYN proxy
    void ensure_proxy_state(const model::snapshot& s);
    protect::syn_cookie_secret cookie_secret_ = protect::syn_cookie_secret::random();
    std::vector<std::unique_ptr<flow::flow_table>> flow_tables_;
    // Per worker, per port, per family (IPv4, IPv6): full-NAT source tuples (may be null).
    using port_tuple_pools =
        std::array<std::array<std::unique_ptr<flow::tuple_pool>, 2>, max_ports>;
    std::vector<port_tuple_pools> tuple_pools_;
    void create_tuple_pools(unsigned w, const local_port_plan& plan);
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<std::unique_ptr<conn_counts>> conns_;
    std::vector<const conn_counts*> conn_views_;
    control::backend_registry registry_;
    std::map<control::backend_identity, model::backend_admin> admin_;
    std::map<control::backend_identity, uint64_t> drain_deadlines_;  // monotonic ns
    command_channel commands_;
    struct flow_listing {
        uint64_t tag;
        unsigned waiting;  // workers still copying
        uint64_t deadline_ns;
        uint32_t limit;
        std::vector<std::unique_ptr<worker_command>> parts;  // by worker, once completed
        flows_listed done;
    };
    std::optional<flow_listing> listing_;
    uint64_t listing_tag_ = 0;
    void on_completed(unsigned w, std::unique_ptr<worker_command> c);
    void finish_listing(const std::string& error);
    uint64_t reloads_ok_ = 0;
    uint64_t reloads_failed_ = 0;
    uint64_t last_removal_check_ns_ = 0;
    uint64_t last_rate_ns_ = 0;
    std::vector<uint64_t> rate_prev_ = std::vector<uint64_t>(model::max_backends, 0);
    std::vector<double> rate_ = std::vector<double>(model::max_backends, 0.0);
    void sample_rates(uint64_t now_ns);
    // Logs when syn_proxy = "auto" VIPs engage or release (workers decide; control reports).
    void watch_syn_proxy(uint64_t now_ns);
    uint64_t last_proxy_check_ns_ = 0;
    std::map<std::string, unsigned> proxy_engaged_;  // VIP name -> workers engaged, last look
    void finish_removals(uint64_t now_ns);
    uint64_t generation_ = 0;
    std::vector<worker_setup> setups_;
    std::vector<rte_ring*> rings_;
    control_counters ctl_;
    kernel_path kernel_;
    exception_path exception_{ctl_};  // after ctl_, which it counts in
    std::unique_ptr<health_checks> health_;
    control::health_lookup health_lookup(uint64_t now_ns) const;
    // Worker count and TSC rate for the VIPs' token buckets (control/protection_builder.hpp).
    control::guard_setup guard_setup() const;
    exception_path::pass_result last_exception_;
    bool launched_ = false;
    bool started_ = false;
};

}  // namespace sluice::dataplane

#pragma once
// The running data plane: mempool, ports, flow tables, rings, workers, the published snapshot,
// and the control thread's data-plane duties (ARP, neighbour resolution, RCU reclamation, the
// exception path, stats). Configuration, operator state and health decisions belong to the
// control plane (control/control_plane.hpp), which the runtime owns and serves as its
// dataplane_sink.
// Created and driven by the main (control) lcore; workers run on their own lcores.
// Implemented in runtime.cpp and neighbor_frames.cpp (ARP); its read side is readings.hpp, its
// requests to the workers worker_requests.hpp, the exception rings' intake exception_path.hpp.
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

#include "control/control_plane.hpp"
#include "control/dataplane_sink.hpp"
#include "control/dataplane_view.hpp"
#include "control/snapshot_builder.hpp"
#include "dataplane/conn_counts.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/exception_path.hpp"
#include "dataplane/flow_steering.hpp"
#include "dataplane/kernel_path.hpp"
#include "dataplane/link_watch.hpp"
#include "dataplane/readings.hpp"
#include "dataplane/worker.hpp"
#include "dataplane/worker_requests.hpp"
#include "metrics/metrics_view.hpp"
#include "model/port_nic.hpp"
#include "packet/ndp.hpp"
#include "route/neighbor_resolver.hpp"
#include "route/neighbor_table.hpp"
#include "sluice/config.hpp"

namespace sluice::dataplane {

// Data room of the packet pool's mbufs: a whole frame of the largest [[port]] mtu in one
// segment, at least DPDK's default (port_setup.cpp).
uint32_t mbuf_buffer_size(const std::vector<config::port_config>& ports);
// The packet pool of a NUMA socket (-1: the control lcore's), created on first use.
using pool_of_socket = std::function<rte_mempool*(int socket)>;

class runtime final : public control::dataplane_sink {
public:
    explicit runtime(config::config cfg);
    ~runtime() override;

    // Sets up pools, ports, tables, rings and workers, creates the control plane (with health
    // checks) and publishes the first snapshot. Throws std::runtime_error naming what failed.
    // EAL must be initialised.
    void start();
    // Called by start() with the new control plane before it publishes its first snapshot:
    // sluiced restores the operator's saved admin states there, so no flow ever reaches a
    // backend that was drained before a restart. Set before start(); control thread.
    void before_first_snapshot(std::function<void(control::control_plane&)> hook) {
        before_first_snapshot_ = std::move(hook);
    }
    // Launches the worker lcores (not used by packet tests, which drive workers directly).
    void launch_workers();
    // One pass of the control thread's duties, the control plane's included. Control thread.
    void control_poll();
    // Configuration, reloads, operator state, health (valid once start() returned). Control
    // thread.
    control::control_plane& control() { return *control_; }
    const control::control_plane& control() const { return *control_; }

    // dataplane_sink (control thread). reset_flows: a reset command to each worker, which
    // sweeps its table in slices once it runs the current snapshot (RST to both sides for TCP).
    build_resources resources() override;
    const model::snapshot* current() const override { return snapshot_.load(); }
    void publish(std::unique_ptr<model::snapshot> next, const config::config& cfg) override;
    void reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why) override;
    uint64_t open_flows(uint32_t id) const override;
    control::connect_outcomes connects(uint32_t id) const override;
    bool ids_quiescent() const override;

    // Requests to the workers over their command rings: flow listings, outstanding commands,
    // their completions (also taken by control_poll). Control thread.
    worker_requests& requests() { return requests_; }
    // Counters and gauges summed over workers, ports and control (readings.hpp).
    const dataplane::readings& readings() const { return readings_; }
    // What each [[port]]'s device runs with (by port index; sub-ports repeat their device's).
    const std::vector<model::port_nic>& port_nics() const { return nics_; }
    const std::vector<model::port_info>& port_infos() const { return ports_; }
    const config::config& started_config() const { return cfg_; }
    unsigned mbuf_pools() const { return unsigned(socket_pools_.size()); }
    // Stops the worker lcores and waits for them; counters stay readable. Idempotent.
    void stop_workers();
    // Stops workers, releases ports, rings, tables and pools. Idempotent.
    void shutdown();

    // Gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6, override) for each
    // port's own addresses and the VIPs inside its subnets, so neighbours that cached another
    // MAC for them (a standby that took over, a replaced NIC) update at once (RFC 5227 2.3,
    // RFC 4861 7.2.6). Once, after start. Control thread. neighbor_frames.cpp.
    void announce_addresses();
    bool neighbors_ready() const { return resolver_->pinned_resolved(); }
    std::string unresolved_neighbors() const;
    unsigned worker_count() const { return unsigned(workers_.size()); }
    worker& worker_at(unsigned i) { return *workers_[i]; }
    // Replaces where kernel-bound frames go (the TAPs): a test's slow or counting sink. Control.
    void set_kernel_sink(exception_path::kernel_sink sink) {
        exception_.set_kernel_sink(std::move(sink));
    }
    // The last control pass's exception-path work (frames handled, budgets run out). Control.
    const exception_path::pass_result& last_exception_pass() const { return last_exception_; }

private:
    void create_pool();
    // Every [[port]]'s device configured and started once (port_setup.cpp); ports_ filled in
    // config order, VLAN sub-ports sharing their device's. Control thread, at start.
    void configure_ports();
    // True when an earlier [[port]] has this port's device (a VLAN sub-port of it).
    bool shares_device(size_t index) const;
    // An ARP or NDP frame or a resolution request from a worker's neighbour ring. Takes the
    // mbuf. neighbor_frames.cpp.
    void handle_neighbor_frame(rte_mbuf* m, uint64_t now_ns);
    // Return true for an ARP reply / neighbour advertisement (the caller hands it on to the
    // kernel).
    bool handle_arp(const model::snapshot& s, uint16_t port_index, rte_mbuf* m, uint64_t now_ns);
    bool handle_ndp(const model::snapshot& s, uint16_t port_index, rte_mbuf* m, uint64_t now_ns);
    // Confirms `ip` at `mac` when on-link on the port: a tracked neighbour, or a new one when
    // `may_add` (it asked for one of our addresses).
    void learn_neighbor(const model::snapshot& s, uint16_t port_index, const ip_address& ip,
                        const uint8_t* mac, bool may_add, uint64_t now_ns);
    // One ARP frame from the port's MAC / one NS or NA, through worker 0's control ring; false
    // (control_tx_dropped) without an mbuf.
    bool send_arp(uint16_t port_index, uint16_t op, const uint8_t* dst_mac,
                  const ip_address& sender_ip, const uint8_t* target_mac,
                  const ip_address& target_ip);
    bool send_ndp(uint16_t port_index, const packet::ndp_frame_spec& spec);
    // ARP request (IPv4) or neighbour solicitation (IPv6) for a neighbour table slot.
    void send_neighbor_request(uint32_t slot);
    void transmit(uint16_t port_index, rte_mbuf* m);
    void reclaim_snapshots(bool wait);
    void pin_next_hops(const model::snapshot& s, const std::vector<config::route_config>& routes);

    config::config cfg_;  // as started: the parts a reload may change are the control plane's
    // One packet pool per NUMA socket that has a port or a worker (created on first use): RX
    // queues fill from their device's socket, workers allocate from their lcore's. pool_ is the
    // control lcore's socket's (ARP, the exception path).
    rte_mempool* pool_for(int socket);
    std::vector<std::pair<int, rte_mempool*>> socket_pools_;
    rte_mempool* pool_ = nullptr;
    rte_mempool* indirect_pool_ = nullptr;  // egress fragmentation (worker_setup)
    std::vector<model::port_info> ports_;
    std::vector<model::port_nic> nics_;  // parallel to ports_
    link_watch links_;
    flow_steering steering_;
    // Installs the reply-steering rules of each device (port_setup.cpp), after the ports started.
    void steer_replies(const local_port_plan& plan);
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
    // At shutdown, after the workers stopped: frees the client segments the SYN proxy holds.
    void free_held_segments();
    protect::syn_cookie_secret cookie_secret_ = protect::syn_cookie_secret::random();
    flow::endpoint_table endpoints_;  // what each backend id stands for, for every worker's flows
    std::vector<std::unique_ptr<flow::flow_table>> flow_tables_;
    // Per worker, per port, per family (IPv4, IPv6): full-NAT source tuples (may be null).
    std::vector<port_tuple_pools> tuple_pools_;  // readings.hpp
    void create_tuple_pools(unsigned w, const local_port_plan& plan);
    void create_flow_table(unsigned w, int socket);  // on the worker lcore's NUMA socket
    void describe_endpoints(const model::snapshot& s);
    worker_setup make_setup(unsigned w, const local_port_plan& plan, uint64_t tsc_hz,
                            rte_mempool* pool) const;
    void create_rings();  // handoff, control and kernel rings; after the workers exist
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<std::unique_ptr<conn_counts>> conns_;
    std::vector<const conn_counts*> conn_views_;
    // Logs when syn_proxy = "auto" VIPs engage or release (workers decide; control reports).
    void watch_syn_proxy(uint64_t now_ns);
    uint64_t last_proxy_check_ns_ = 0;
    std::map<std::string, unsigned> proxy_engaged_;  // VIP name -> workers engaged, last look
    std::vector<worker_setup> setups_;
    std::vector<rte_ring*> rings_;
    control_counters ctl_;
    kernel_path kernel_;
    exception_path exception_{ctl_};  // after ctl_, which it counts in
    std::unique_ptr<control::control_plane> control_;
    std::function<void(control::control_plane&)> before_first_snapshot_;
    worker_requests requests_{workers_};
    dataplane::readings readings_{{cfg_, workers_, conn_views_, tuple_pools_, ports_, ctl_,
                                   socket_pools_, links_, snapshot_, control_}};
    // Worker count and TSC rate for the VIPs' token buckets (control/protection_builder.hpp).
    control::guard_setup guard_setup() const;
    exception_path::pass_result last_exception_;
    bool launched_ = false;
    bool started_ = false;
};

}  // namespace sluice::dataplane

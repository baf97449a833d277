#pragma once
// A point-in-time copy of everything /metrics exposes, assembled by the control thread from the
// per-core counters (summed at read time) and the current snapshot. Pure data: the Prometheus
// formatter turns it into text without touching the data plane.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sluice/counters.hpp"

namespace sluice::metrics {

struct backend_metrics {
    std::string vip;                   // VIP name
    std::string backend;               // "ADDR:PORT"
    std::string state;                 // up | draining | drained | disabled | removing
    bool up = true;                    // takes new flows (state up, health up and weight > 0)
    std::string health = "unchecked";  // up | down | unchecked (no probes)
    // Health check results by kind (ok, refused, timeout, bad_status, malformed, error) and
    // up/down transitions; empty / 0 when unchecked.
    std::vector<std::pair<std::string, uint64_t>> checks;
    uint64_t state_changes = 0;
    uint32_t weight = 0;
    uint64_t active = 0;
    uint64_t inactive = 0;
    // The most new connections the backend took in one second since start (sampled each second).
    uint64_t max_connection_rate = 0;
    backend_values traffic;  // connections_total, packets_to_backend, … (sluice/counters.hpp)
};

struct worker_metrics {
    unsigned worker = 0;
    worker_values counters;                               // sluice/counters.hpp
    std::vector<std::pair<std::string, uint64_t>> drops;  // reason → count, every reason listed
};

// Packets to a VIP dropped for one reason (the reasons of SLUICE_VIP_DROP_REASONS), all workers.
struct vip_drop_metrics {
    std::string vip;
    std::string reason;
    uint64_t count = 0;
};

// A data port's NIC counters and link (port_counter rows of sluice/counters.hpp).
struct port_metrics {
    std::string port;  // port name
    port_values counters;
    // The driver's extended statistics (rte_eth_xstats): name → value, in the driver's order.
    std::vector<std::pair<std::string, uint64_t>> xstats;
};

// A VIP's attack protection ([vip.limits], [[vip.rule]]): summed over workers.
struct protect_metrics {
    std::string vip;
    std::vector<std::pair<std::string, uint64_t>> refused;  // refusal reason → count
    struct rule {
        std::string name;
        std::string action;  // drop | reset
        uint64_t matches = 0;
    };
    std::vector<rule> rules;
    bool source_table = false;       // a per-source limit is configured
    uint64_t source_entries = 0;     // addresses tracked (all workers)
    uint64_t source_evictions = 0;   // still-limited sources forgotten for lack of room
    std::string syn_proxy = "off";   // off | on | auto
    uint64_t proxy_engaged = 0;      // workers answering SYNs with cookies now
    uint64_t proxy_engagements = 0;  // auto: times a worker engaged
};

// Full-NAT source tuples of one local address of a port, summed over workers. A tuple is in use
// while a flow holds it; free ones include those still resting (reuse_after) before reuse.
struct local_tuple_metrics {
    std::string port;     // port name
    std::string address;  // local address
    uint64_t in_use = 0;
    uint64_t free = 0;
};

struct metrics_view {
    std::vector<backend_metrics> backends;
    std::vector<protect_metrics> protection;  // VIPs with limits or rules only
    std::vector<worker_metrics> workers;
    std::vector<vip_drop_metrics> vip_drops;  // non-zero (VIP, reason) pairs only
    control_values control;                   // the control thread's counters
    std::vector<port_metrics> ports;
    // Per (port, local address) with full-NAT source tuples.
    std::vector<local_tuple_metrics> local_tuples;
    uint64_t flow_table_capacity = 0;  // all workers
    uint64_t mbufs_in_use = 0;
    uint64_t mbufs_total = 0;
    uint64_t config_generation = 0;
    uint64_t reloads_total = 0;          // reloads applied
    uint64_t reload_failures_total = 0;  // reloads refused
};

}  // namespace sluice::metrics

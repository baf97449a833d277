#pragma once
// What the control API (control_api.hpp) reads from the data plane besides the control plane's
// state — per-backend connection and traffic counts, worker counters, source tuples, protection
// counters, the published snapshot — and asks of it: flow listings and flow resets.
// dataplane::runtime_view implements it over the running data plane. Control thread only.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "flow/flow_table.hpp"
#include "metrics/metrics_view.hpp"
#include "model/ids.hpp"
#include "model/port_nic.hpp"
#include "model/snapshot.hpp"
#include "sluice/counters.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::control {

// A [[port]] as `sluicectl show ports` reports it.
struct port_status {
    std::string name;
    std::string device;  // as configured
    uint16_t dpdk_port = 0;
    std::string mac;
    uint16_t mtu = 0;
    uint16_t vlan = 0;
    model::port_nic nic;  // its device's settings (shared by sub-ports)
    std::string link;     // e.g. "up, 10 Gbps, full-duplex, autoneg", "down"
    port_values counters;
};

// What `sluicectl show info` reports about the data plane.
struct dataplane_facts {
    std::string dpdk_version;
    uint64_t flows = 0;
    uint64_t flow_capacity = 0;
    uint64_t mbufs_in_use = 0;
    uint64_t mbufs_total = 0;
    unsigned mbuf_pools = 0;  // one per NUMA socket in use
};

class dataplane_view {
public:
    virtual ~dataplane_view() = default;

    virtual std::vector<port_status> port_statuses() const = 0;
    virtual dataplane_facts facts() const = 0;

    // Connections of a backend id over all workers (IPVS's active = TCP established, inactive =
    // every other state; half_open = SYN_SENT or SYN_RECV, counted in inactive too).
    struct connections {
        uint64_t active = 0;
        uint64_t inactive = 0;
        uint64_t half_open = 0;
    };
    virtual connections connections_of(uint32_t id) const = 0;
    // A backend id's traffic counters summed over workers.
    virtual backend_values traffic(uint32_t id) const = 0;
    // New connections per second of a backend id over the last full second.
    virtual double connection_rate(uint32_t id) const = 0;
    virtual const model::snapshot& current_snapshot() const = 0;
    virtual unsigned worker_count() const = 0;
    // Totals over workers plus control counters, named as in telemetry and the docs.
    virtual std::vector<std::pair<std::string, uint64_t>> totals() const = 0;
    virtual std::vector<metrics::worker_metrics> workers() const = 0;
    virtual std::vector<metrics::local_tuple_metrics> local_tuples() const = 0;
    virtual metrics::protect_metrics protection_of(const model::vip_entry& vip) const = 0;
    // Packets to the VIP dropped, by reason (sluice_vip_drops_total's), reasons that counted only.
    virtual std::vector<std::pair<std::string, uint64_t>> vip_drops_of(
        const model::vip_entry& vip) const = 0;

    struct listed_flow {
        unsigned worker;
        flow::flow_entry flow;
        flow::flow_key client;  // client → VIP
        flow::flow_key reply;   // backend → the full-NAT source (local) address
        double expires_in_s;
    };
    struct flow_list {
        std::vector<listed_flow> flows;
        bool truncated = false;
    };
    using flows_listed = std::function<void(const result<flow_list>& listed)>;
    // Copies of up to `limit` flows of the backend ids `ids` (all flows when empty) from every
    // worker. `done` gets them from a later control pass, or an error: at once when another
    // listing is running, later when the workers did not answer in time.
    virtual void list_flows(const std::vector<uint32_t>& ids, uint32_t limit,
                            flows_listed done) = 0;
    // Takes the workers' completed commands: a caller outside the control loop waiting for a
    // listing calls it until `done` ran.
    virtual void collect_commands() = 0;
    // Resets every flow of these backend ids on every worker, counted under `why`.
    virtual void reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why) = 0;
};

}  // namespace sluice::control

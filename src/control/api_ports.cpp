#include "control/api_ports.hpp"

#include <unistd.h>

namespace sluice::control {

using nlohmann::json;

namespace {

json nic_json(const model::port_nic& n) {
    return {{"driver", n.driver},
            {"numa_socket", n.socket},
            {"rx_queues", n.rx_queues},
            {"tx_queues", n.tx_queues},
            {"rx_descriptors", n.rx_descriptors},
            {"tx_descriptors", n.tx_descriptors},
            {"rss", n.rss},
            {"rx_checksum_offload", n.rx_checksum},
            {"vlan_strip", n.vlan_strip},
            {"vlan_insert", n.vlan_insert},
            {"link_interrupt", n.lsc_interrupt},
            {"steering", n.steering},
            {"steering_rules", n.steering_rules}};
}

}  // namespace

json ports_json(const dataplane_view& dp) {
    json out = json::array();
    for (const port_status& p : dp.port_statuses()) {
        json counters = json::object();
        for (size_t k = 0; k < port_counter_count; ++k)
            counters[std::string(port_counter_defs[k].key)] = p.counters.v[k];
        out.push_back({{"name", p.name},
                       {"device", p.device},
                       {"dpdk_port", p.dpdk_port},
                       {"mac", p.mac},
                       {"mtu", p.mtu},
                       {"vlan", p.vlan},
                       {"link", p.link},
                       {"link_up", p.counters[port_counter::link_up] != 0},
                       {"nic", nic_json(p.nic)},
                       {"counters", counters}});
    }
    return out;
}

json info_json(const dataplane_view& dp, const control_plane& plane,
               const metrics::process_info& process, const std::string& config_path,
               uint64_t now_unix_s) {
    const dataplane_facts f = dp.facts();
    const uint64_t started = process.start_time_seconds;
    return {{"version", process.version},
            {"dpdk", f.dpdk_version},
            {"pid", uint64_t(getpid())},
            {"started", started},
            {"uptime_s", started && now_unix_s >= started ? now_unix_s - started : 0},
            {"config", config_path},
            {"config_generation", dp.current_snapshot().generation},
            {"reloads", plane.reloads_ok()},
            {"reload_failures", plane.reloads_failed()},
            {"workers", dp.worker_count()},
            {"ports", dp.port_statuses().size()},
            {"vips", plane.configuration().vips.size()},
            {"flows", f.flows},
            {"flow_capacity", f.flow_capacity},
            {"mbufs_in_use", f.mbufs_in_use},
            {"mbufs_total", f.mbufs_total},
            {"mbuf_pools", f.mbuf_pools}};
}

}  // namespace sluice::control

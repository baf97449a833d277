#include "dataplane/runtime_view.hpp"

#include <rte_ether.h>
#include <rte_version.h>

#include <cstring>
#include <string>
#include <utility>

#include "dataplane/link_watch.hpp"

namespace sluice::dataplane {

control::dataplane_view::connections runtime_view::connections_of(uint32_t id) const {
    const conn_totals t = rt_.readings().connections(id);
    return {t.active, t.inactive, t.half_open};
}

std::vector<metrics::worker_metrics> runtime_view::workers() const {
    return rt_.readings().workers();
}

std::vector<control::port_status> runtime_view::port_statuses() const {
    std::vector<control::port_status> out;
    const auto& ports = rt_.port_infos();
    for (size_t i = 0; i < ports.size(); ++i) {
        control::port_status p;
        p.name = rt_.started_config().ports[i].name;
        p.device = rt_.started_config().ports[i].device;
        p.dpdk_port = ports[i].dpdk_port;
        char mac[RTE_ETHER_ADDR_FMT_SIZE];
        rte_ether_addr a;
        std::memcpy(a.addr_bytes, ports[i].mac.data(), 6);
        rte_ether_format_addr(mac, sizeof mac, &a);
        p.mac = mac;
        p.mtu = ports[i].mtu;
        p.vlan = ports[i].vlan;
        p.nic = rt_.port_nics()[i];
        p.link = link_description(p.dpdk_port);
        p.counters = rt_.readings().port_counters(i);
        out.push_back(std::move(p));
    }
    return out;
}

control::dataplane_facts runtime_view::facts() const {
    control::dataplane_facts f;
    f.dpdk_version = rte_version();
    const metrics::metrics_view v = rt_.readings().metrics();
    f.flows = 0;
    for (const auto& w : v.workers) f.flows += w.counters[worker_counter::flows_active];
    f.flow_capacity = v.flow_table_capacity;
    f.mbufs_in_use = v.mbufs_in_use;
    f.mbufs_total = v.mbufs_total;
    f.mbuf_pools = rt_.mbuf_pools();
    return f;
}

void runtime_view::list_flows(const std::vector<uint32_t>& ids, uint32_t limit, flows_listed done) {
    rt_.requests().list_flows(ids, limit, std::move(done));
}

}  // namespace sluice::dataplane

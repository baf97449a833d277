// Port start-up: each DPDK device configured and started once, with the settings every [[port]]
// on it needs — RSS over the workers' queues, VLAN strip/insert offloads when the NIC has them
// and some port of it is tagged, the largest `mtu` of its ports — and one model::port_info per
// [[port]] in config order. Several [[port]]s on one device are its VLAN sub-ports (config
// validation: same device string, distinct vlans): they share the device's queues and MAC and
// the workers tell their frames apart by VID (stages/vlan.cpp). Control thread, at start only.
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <stdexcept>

#include "common/log.hpp"
#include "dataplane/dpdk_error.hpp"
#include "dataplane/runtime.hpp"

namespace sluice::dataplane {

namespace {

// What the ports of a started device share.
struct started_device {
    uint16_t id = 0;
    std::array<uint8_t, 6> mac{};
    uint16_t mtu = 1500;        // the device's MTU once started
    uint16_t unset_mtu = 1500;  // the mtu of its ports without one (its MTU before we set one)
    bool vlan_rx = false;       // the NIC strips tags (RTE_ETH_RX_OFFLOAD_VLAN_STRIP)
    bool vlan_tx = false;       // the NIC inserts tags (RTE_ETH_TX_OFFLOAD_VLAN_INSERT)
    std::string description;    // for the start-up log: id, driver, MAC, queues
    std::string first_port;     // the [[port]] that started it
};

// The settings the device needs for all of its [[port]]s.
struct device_needs {
    bool tagged = false;  // some port of it has a vlan
    uint16_t mtu = 0;     // the largest configured mtu of its ports; 0: none set
    bool unset = false;   // some port of it has no mtu
};

device_needs needs_of(const std::vector<config::port_config>& ports, const std::string& name) {
    device_needs n;
    for (const auto& p : ports) {
        if (p.dpdk_name() != name) continue;
        n.tagged |= p.vlan != 0;
        n.mtu = std::max(n.mtu, p.mtu);
        n.unset |= p.mtu == 0;
    }
    return n;
}

// Gives the device its MTU: in the configuration (drivers that apply it at start) and through
// the driver's MTU call (drivers such as net_af_packet that set the kernel interface's). A driver
// without an MTU call keeps the configured value: the workers enforce it on egress anyway.
void set_device_mtu(const std::string& port, const rte_eth_dev_info& info, uint16_t mtu,
                    rte_eth_conf& conf) {
    if (mtu < info.min_mtu || mtu > info.max_mtu)
        throw std::runtime_error("port " + port + ": mtu " + std::to_string(mtu) +
                                 " is outside what the device takes (" +
                                 std::to_string(info.min_mtu) + ".." +
                                 std::to_string(info.max_mtu) + ")");
    conf.rxmode.mtu = mtu;
}

started_device start_device(const config::port_config& pc, const config::config& cfg,
                            rte_mempool* pool) {
    const auto& dp = cfg.dataplane;
    const uint16_t queues = uint16_t(dp.worker_cpus.size());
    started_device d;
    if (rte_eth_dev_get_port_by_name(pc.dpdk_name().c_str(), &d.id) != 0)
        throw std::runtime_error("port " + pc.name + ": no DPDK device named '" + pc.dpdk_name() +
                                 "' (device = \"" + pc.device + "\")");
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(d.id, &info);
    if (rc != 0) throw dpdk_error("port " + pc.name + ": device info", rc);
    if (info.max_rx_queues < queues || info.max_tx_queues < queues)
        throw std::runtime_error(
            "port " + pc.name + ": " + std::to_string(queues) + " workers need " +
            std::to_string(queues) + " RX and TX queues, the device offers " +
            std::to_string(info.max_rx_queues) + "/" + std::to_string(info.max_tx_queues) +
            " (net_af_packet: add qpairs=" + std::to_string(queues) + " to the device string)");

    rte_eth_conf conf{};
    if (queues > 1 && info.flow_type_rss_offloads) {
        // Hash flows over the workers' queues; a flow that lands on a non-owning worker is handed
        // over through a ring, so the hash need not match ours.
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf =
            (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    }
    const device_needs needs = needs_of(cfg.ports, pc.dpdk_name());
    // A device with a tagged port lets the NIC strip and insert the tag when it can; the workers
    // do it in software otherwise (stages/vlan.cpp), so both work on any driver.
    d.vlan_rx = needs.tagged && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP);
    d.vlan_tx = needs.tagged && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
    if (d.vlan_rx) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
    if (d.vlan_tx) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
    // Ports without an mtu keep the device's own; with some set, the device takes the largest
    // its ports need.
    if (rte_eth_dev_get_mtu(d.id, &d.unset_mtu) != 0 || d.unset_mtu < 576) d.unset_mtu = 1500;
    const uint16_t device_mtu =
        needs.mtu && needs.unset ? std::max(needs.mtu, d.unset_mtu) : needs.mtu;
    if (device_mtu) set_device_mtu(pc.name, info, device_mtu, conf);
    rc = rte_eth_dev_configure(d.id, queues, queues, &conf);
    if (rc != 0) throw dpdk_error("port " + pc.name + ": configure", rc);
    if (device_mtu) {
        // After configure, before start: drivers that set the MTU in hardware or on a kernel
        // interface do it here; -ENOTSUP (no MTU call) keeps the configured value.
        rc = rte_eth_dev_set_mtu(d.id, device_mtu);
        if (rc != 0 && rc != -ENOTSUP)
            throw dpdk_error("port " + pc.name + ": mtu " + std::to_string(device_mtu), rc);
    }
    uint16_t rxd = dp.rx_descriptors, txd = dp.tx_descriptors;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(d.id, &rxd, &txd);
    if (rc != 0) throw dpdk_error("port " + pc.name + ": descriptor counts", rc);
    int socket = rte_eth_dev_socket_id(d.id);
    for (uint16_t q = 0; q < queues; ++q) {
        rc = rte_eth_rx_queue_setup(d.id, q, rxd, unsigned(socket), nullptr, pool);
        if (rc != 0) throw dpdk_error("port " + pc.name + ": RX queue " + std::to_string(q), rc);
        rc = rte_eth_tx_queue_setup(d.id, q, txd, unsigned(socket), nullptr);
        if (rc != 0) throw dpdk_error("port " + pc.name + ": TX queue " + std::to_string(q), rc);
    }
    rc = rte_eth_dev_start(d.id);
    if (rc != 0) throw dpdk_error("port " + pc.name + ": start", rc);
    rte_ether_addr mac{};
    rte_eth_macaddr_get(d.id, &mac);
    std::memcpy(d.mac.data(), mac.addr_bytes, 6);
    uint16_t mtu = 0;
    if (rte_eth_dev_get_mtu(d.id, &mtu) == 0 && mtu >= 576) d.mtu = mtu;
    if (!device_mtu) d.unset_mtu = d.mtu;  // as before the key existed: the MTU once started
    char text[RTE_ETHER_ADDR_FMT_SIZE];
    rte_ether_format_addr(text, sizeof text, &mac);
    d.description = "dpdk port " + std::to_string(d.id) + " (" + info.driver_name + "), mac " +
                    text + ", " + std::to_string(queues) + " queue(s)";
    return d;
}

}  // namespace

uint32_t mbuf_buffer_size(const std::vector<config::port_config>& ports) {
    uint16_t mtu = 0;
    for (const auto& p : ports) mtu = std::max(mtu, p.mtu);
    // A whole frame in one segment (the workers take single-segment frames only): the MTU, the
    // Ethernet header, one 802.1Q tag and the CRC some NICs leave in the buffer.
    const uint32_t frame =
        RTE_ALIGN_CEIL(uint32_t(mtu) + RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN + RTE_ETHER_CRC_LEN, 64u);
    return RTE_PKTMBUF_HEADROOM + std::max<uint32_t>(RTE_MBUF_DEFAULT_DATAROOM, frame);
}

bool runtime::shares_device(size_t index) const {
    for (size_t k = 0; k < index; ++k)
        if (cfg_.ports[k].dpdk_name() == cfg_.ports[index].dpdk_name()) return true;
    return false;
}

void runtime::configure_ports() {
    std::map<std::string, started_device> devices;
    for (size_t i = 0; i < cfg_.ports.size(); ++i) {
        const auto& pc = cfg_.ports[i];
        auto it = devices.find(pc.dpdk_name());
        if (it == devices.end()) {
            it = devices.emplace(pc.dpdk_name(), start_device(pc, cfg_, pool_)).first;
            it->second.first_port = pc.name;
        }
        const started_device& d = it->second;
        model::port_info pi{d.id, d.mac};
        // The port's own mtu: the largest packet it sends (a sub-port's may be below its
        // device's, which has the largest of them).
        pi.mtu = pc.mtu ? pc.mtu : d.unset_mtu;
        pi.vlan = pc.vlan;
        pi.vlan_tx_offload = pc.vlan && d.vlan_tx;
        ports_.push_back(pi);
        std::string addresses;
        for (const auto& a : pc.addresses)
            addresses += (addresses.empty() ? "" : " ") + a.to_string();
        const std::string shared =
            d.first_port == pc.name ? "" : ", shares the device of " + d.first_port;
        SLUICE_LOG_INFO("port %s: %s, mtu %u%s, %s", pc.name.c_str(), d.description.c_str(), pi.mtu,
                        shared.c_str(), addresses.c_str());
        if (pc.vlan)
            SLUICE_LOG_INFO("port %s: vlan %u, tag stripped by the %s, inserted by the %s",
                            pc.name.c_str(), pc.vlan, d.vlan_rx ? "NIC" : "workers",
                            d.vlan_tx ? "NIC" : "workers");
    }
}

}  // namespace sluice::dataplane

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
#include <optional>
#include <stdexcept>

#include "common/log.hpp"
#include "dataplane/dpdk_error.hpp"
#include "dataplane/flow_steering.hpp"
#include "dataplane/runtime.hpp"

namespace sluice::dataplane {

namespace {

// What the ports of a started device share.
struct started_device {
    uint16_t id = 0;
    model::port_nic nic;
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
    // The NIC settings its sub-ports set (validation: they agree); 0 / empty: the default.
    uint16_t queues = 0;
    uint16_t rx_descriptors = 0;
    uint16_t tx_descriptors = 0;
    uint8_t rss = 0;
    std::optional<bool> rx_checksum_offload;
};

device_needs needs_of(const std::vector<config::port_config>& ports, const std::string& name) {
    device_needs n;
    for (const auto& p : ports) {
        if (p.dpdk_name() != name) continue;
        n.tagged |= p.vlan != 0;
        n.mtu = std::max(n.mtu, p.mtu);
        n.unset |= p.mtu == 0;
        if (p.queues) n.queues = p.queues;
        if (p.rx_descriptors) n.rx_descriptors = p.rx_descriptors;
        if (p.tx_descriptors) n.tx_descriptors = p.tx_descriptors;
        if (p.rss) n.rss = p.rss;
        if (p.rx_checksum_offload) n.rx_checksum_offload = p.rx_checksum_offload;
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

// RSS fields of [[port]] rss (port_rss bits) as DPDK's hash types.
uint64_t rss_types(uint8_t fields) {
    uint64_t hf = 0;
    if (fields & config::port_rss::ip) hf |= RTE_ETH_RSS_IP;
    if (fields & config::port_rss::tcp) hf |= RTE_ETH_RSS_TCP;
    if (fields & config::port_rss::udp) hf |= RTE_ETH_RSS_UDP;
    return hf;
}

std::string rss_names(uint64_t hf) {
    std::string out;
    if (hf & RTE_ETH_RSS_IP) out += "ip";
    if (hf & RTE_ETH_RSS_TCP) out += out.empty() ? "tcp" : " tcp";
    if (hf & RTE_ETH_RSS_UDP) out += out.empty() ? "udp" : " udp";
    return out.empty() ? "off" : out;
}

// RSS over the RX queues, VLAN offloads for tagged sub-ports, RX checksum offload: each asked
// for only where the NIC offers it, so every driver starts; what was enabled goes to d.nic.
void request_offloads(const std::string& port, const rte_eth_dev_info& info,
                      const device_needs& needs, rte_eth_conf& conf, started_device& d) {
    if (d.nic.rx_queues > 1 && info.flow_type_rss_offloads) {
        // Hash flows over the queues; a flow that lands on a non-owning worker is handed over
        // through a ring, so the hash need not match ours.
        const uint64_t wanted = rss_types(needs.rss ? needs.rss : config::port_rss::all);
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf = wanted & info.flow_type_rss_offloads;
        d.nic.rss = rss_names(conf.rx_adv_conf.rss_conf.rss_hf);
        if (conf.rx_adv_conf.rss_conf.rss_hf != wanted)
            SLUICE_LOG_WARN("port %s: RSS on %s only (the NIC cannot hash %s)", port.c_str(),
                            d.nic.rss.c_str(),
                            rss_names(wanted & ~conf.rx_adv_conf.rss_conf.rss_hf).c_str());
    }
    // A device with a tagged port lets the NIC strip and insert the tag when it can; the workers
    // do it in software otherwise (stages/vlan.cpp), so both work on any driver.
    d.vlan_rx = needs.tagged && (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_VLAN_STRIP);
    d.vlan_tx = needs.tagged && (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_VLAN_INSERT);
    if (d.vlan_rx) conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_VLAN_STRIP;
    if (d.vlan_tx) conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_VLAN_INSERT;
    d.nic.vlan_strip = d.vlan_rx;
    d.nic.vlan_insert = d.vlan_tx;
    // The NIC verifies the IPv4 header (the workers skip their own check on a good verdict)
    // and TCP/UDP checksums (payload rules skip theirs). TX checksum offload is not asked
    // for: full-NAT updates checksums incrementally in a few instructions, less than filling
    // the mbuf's offload fields and the pseudo-header sum the NIC would need.
    const uint64_t csum =
        RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM;
    if (needs.rx_checksum_offload.value_or(true) && (info.rx_offload_capa & csum)) {
        conf.rxmode.offloads |= info.rx_offload_capa & csum;
        d.nic.rx_checksum = true;
    }
    // The link-state interrupt where the driver raises it (link_watch.hpp).
    if (info.dev_flags && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC)) {
        conf.intr_conf.lsc = 1;
        d.nic.lsc_interrupt = true;
    }
}

void check_queue_counts(const std::string& port, const rte_eth_dev_info& info, uint16_t rxq,
                        uint16_t txq) {
    if (info.max_rx_queues >= rxq && info.max_tx_queues >= txq) return;
    throw std::runtime_error("port " + port + ": " + std::to_string(rxq) + " RX and " +
                             std::to_string(txq) + " TX queues needed (TX: one per worker), " +
                             "the device offers " + std::to_string(info.max_rx_queues) + "/" +
                             std::to_string(info.max_tx_queues) + " (net_af_packet: add qpairs=" +
                             std::to_string(std::max(rxq, txq)) + " to the device string)");
}

// Queues of the device: RX ones from the pool of its NUMA socket, TX one per worker.
void setup_queues(const std::string& port, const device_needs& needs,
                  const config::dataplane_config& dp, const pool_of_socket& pools,
                  started_device& d) {
    uint16_t rxd = needs.rx_descriptors ? needs.rx_descriptors : dp.rx_descriptors;
    uint16_t txd = needs.tx_descriptors ? needs.tx_descriptors : dp.tx_descriptors;
    int rc = rte_eth_dev_adjust_nb_rx_tx_desc(d.id, &rxd, &txd);
    if (rc != 0) throw dpdk_error("port " + port + ": descriptor counts", rc);
    d.nic.rx_descriptors = rxd;
    d.nic.tx_descriptors = txd;
    const int socket = d.nic.socket;
    for (uint16_t q = 0; q < d.nic.rx_queues; ++q) {
        rc = rte_eth_rx_queue_setup(d.id, q, rxd, unsigned(socket), nullptr, pools(socket));
        if (rc != 0) throw dpdk_error("port " + port + ": RX queue " + std::to_string(q), rc);
    }
    for (uint16_t q = 0; q < d.nic.tx_queues; ++q) {
        rc = rte_eth_tx_queue_setup(d.id, q, txd, unsigned(socket), nullptr);
        if (rc != 0) throw dpdk_error("port " + port + ": TX queue " + std::to_string(q), rc);
    }
}

started_device start_device(const config::port_config& pc, const config::config& cfg,
                            const pool_of_socket& pools) {
    const uint16_t workers = uint16_t(cfg.dataplane.worker_cpus.size());
    const device_needs needs = needs_of(cfg.ports, pc.dpdk_name());
    started_device d;
    if (rte_eth_dev_get_port_by_name(pc.dpdk_name().c_str(), &d.id) != 0)
        throw std::runtime_error("port " + pc.name + ": no DPDK device named '" + pc.dpdk_name() +
                                 "' (device = \"" + pc.device + "\")");
    rte_eth_dev_info info{};
    int rc = rte_eth_dev_info_get(d.id, &info);
    if (rc != 0) throw dpdk_error("port " + pc.name + ": device info", rc);
    d.nic.driver = info.driver_name ? info.driver_name : "?";
    d.nic.socket = rte_eth_dev_socket_id(d.id);
    d.nic.rx_queues = needs.queues ? needs.queues : workers;
    d.nic.tx_queues = workers;
    check_queue_counts(pc.name, info, d.nic.rx_queues, d.nic.tx_queues);

    rte_eth_conf conf{};
    request_offloads(pc.name, info, needs, conf, d);
    // Ports without an mtu keep the device's own; with some set, the device takes the largest
    // its ports need.
    if (rte_eth_dev_get_mtu(d.id, &d.unset_mtu) != 0 || d.unset_mtu < 576) d.unset_mtu = 1500;
    const uint16_t device_mtu =
        needs.mtu && needs.unset ? std::max(needs.mtu, d.unset_mtu) : needs.mtu;
    if (device_mtu) set_device_mtu(pc.name, info, device_mtu, conf);
    rc = rte_eth_dev_configure(d.id, d.nic.rx_queues, d.nic.tx_queues, &conf);
    if (rc != 0) throw dpdk_error("port " + pc.name + ": configure", rc);
    if (device_mtu) {
        // After configure, before start: drivers that set the MTU in hardware or on a kernel
        // interface do it here; -ENOTSUP (no MTU call) keeps the configured value.
        rc = rte_eth_dev_set_mtu(d.id, device_mtu);
        if (rc != 0 && rc != -ENOTSUP)
            throw dpdk_error("port " + pc.name + ": mtu " + std::to_string(device_mtu), rc);
    }
    setup_queues(pc.name, needs, cfg.dataplane, pools, d);
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
    d.description = "dpdk port " + std::to_string(d.id) + " (" + d.nic.driver + "), mac " + text +
                    ", " + std::to_string(d.nic.rx_queues) + " RX / " +
                    std::to_string(d.nic.tx_queues) + " TX queue(s) of " +
                    std::to_string(d.nic.rx_descriptors) + "/" +
                    std::to_string(d.nic.tx_descriptors) + " descriptors, RSS " + d.nic.rss +
                    ", RX checksum offload " + (d.nic.rx_checksum ? "on" : "off");
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
            it = devices
                     .emplace(pc.dpdk_name(),
                              start_device(pc, cfg_, [this](int s) { return pool_for(s); }))
                     .first;
            it->second.first_port = pc.name;
            std::string names;
            for (const auto& p : cfg_.ports)
                if (p.dpdk_name() == pc.dpdk_name()) names += (names.empty() ? "" : ",") + p.name;
            links_.add(it->second.id, names, it->second.nic.lsc_interrupt);
        }
        const started_device& d = it->second;
        model::port_info pi{d.id, d.mac};
        // The port's own mtu: the largest packet it sends (a sub-port's may be below its
        // device's, which has the largest of them).
        pi.mtu = pc.mtu ? pc.mtu : d.unset_mtu;
        pi.vlan = pc.vlan;
        pi.vlan_tx_offload = pc.vlan && d.vlan_tx;
        pi.rx_queues = d.nic.rx_queues;
        ports_.push_back(pi);
        nics_.push_back(d.nic);
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

// Reply steering per device (flow_steering.hpp), once the devices started and the workers'
// port ranges are known. Each [[port]] of the device gets the device's outcome in show ports.
void runtime::steer_replies(const local_port_plan& plan) {
    for (size_t i = 0; i < cfg_.ports.size(); ++i) {
        if (shares_device(i)) continue;  // decided with its device's first port
        std::vector<steered_port> sub_ports;
        bool wanted = true;
        for (const auto& p : cfg_.ports) {
            if (p.dpdk_name() != cfg_.ports[i].dpdk_name()) continue;
            wanted = wanted && p.flow_steering.value_or(true);
            steered_port sp{p.vlan, p.full_nat_sources(address_family::ipv4)};
            for (const ip_address& a : p.full_nat_sources(address_family::ipv6))
                sp.sources.push_back(a);
            sub_ports.push_back(std::move(sp));
        }
        steering_result r;
        if (plan.workers == 1)
            r.description = "none needed (one worker)";
        else if (!wanted)
            r.description = "handoff ring (flow_steering = false)";
        else if (nics_[i].rx_queues < plan.workers)
            r.description = "handoff ring (fewer RX queues than workers)";
        else
            r = steering_.install(ports_[i].dpdk_port, sub_ports, plan);
        for (size_t k = i; k < cfg_.ports.size(); ++k)
            if (cfg_.ports[k].dpdk_name() == cfg_.ports[i].dpdk_name()) {
                nics_[k].steering = r.description;
                nics_[k].steering_rules = r.rules;
            }
        SLUICE_LOG_INFO("port %s: return traffic: %s", cfg_.ports[i].name.c_str(),
                        r.description.c_str());
    }
}

}  // namespace sluice::dataplane

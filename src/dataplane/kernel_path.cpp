#include "dataplane/kernel_path.hpp"

#include <rte_dev.h>
#include <rte_ethdev.h>

#include <cstdio>
#include <stdexcept>

#include "common/log.hpp"
#include "dataplane/netlink.hpp"

namespace sluice::dataplane {

namespace {

constexpr uint16_t tap_descriptors = 512;

std::string mac_text(const std::array<uint8_t, 6>& mac) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                  mac[4], mac[5]);
    return buf;
}

void write_ipv6_setting(const std::string& ifname, const char* key, const char* value) {
    std::string path = "/proc/sys/net/ipv6/conf/" + ifname + "/" + key;
    if (FILE* f = std::fopen(path.c_str(), "w")) {
        std::fputs(value, f);
        std::fclose(f);
    }
}

// A port without IPv6 addresses: the kernel would otherwise autoconfigure IPv6 on the TAP and
// send router solicitations and MLD reports out of the data port. A port with some: IPv6 on,
// but no autoconfiguration, no router discovery, no link-local address (its neighbour
// solicitations then come from the port's own addresses, which the data plane answers for) and
// no duplicate address detection (the addresses are ours by configuration; DAD would keep
// them tentative, unusable by the health probes, for a second). Best effort: the files may not
// exist without IPv6, and then the addresses fail to add with a clear error.
void configure_ipv6(const std::string& ifname, bool has_v6) {
    if (!has_v6) return write_ipv6_setting(ifname, "disable_ipv6", "1");
    write_ipv6_setting(ifname, "addr_gen_mode", "1");
    write_ipv6_setting(ifname, "accept_ra", "0");
    write_ipv6_setting(ifname, "autoconf", "0");
    write_ipv6_setting(ifname, "router_solicitations", "0");
    write_ipv6_setting(ifname, "accept_dad", "0");
    write_ipv6_setting(ifname, "disable_ipv6", "0");
}

std::runtime_error tap_error(const std::string& ifname, const std::string& what, int rc) {
    return std::runtime_error("exception interface " + ifname + ": " + what + ": " +
                              rte_strerror(rc < 0 ? -rc : rc));
}

}  // namespace

void kernel_path::open(const config::config& cfg, std::span<const model::port_info> ports,
                       rte_mempool* pool) {
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        const auto& pc = cfg.ports[i];
        // Linux interface names have at most 15 characters.
        std::string ifname = ("sl-" + pc.name).substr(0, 15);
        for (const auto& t : taps_)
            if (t.ifname == ifname)
                throw std::runtime_error("ports " + pc.name + " and another both map to " +
                                         "exception interface " + ifname +
                                         " (port names differ only after 12 characters)");
        std::string vdev = "net_tap_sluice" + std::to_string(i);
        std::string args = "iface=" + ifname + ",mac=" + mac_text(ports[i].mac);
        // Hot-plugged like --vdev would; the vdev bus recognises the net_tap driver prefix.
        int rc = rte_dev_probe((vdev + "," + args).c_str());
        if (rc != 0) throw tap_error(ifname, "create (" + vdev + "," + args + ")", rc);
        uint16_t id;
        if (rte_eth_dev_get_port_by_name(vdev.c_str(), &id) != 0)
            throw std::runtime_error("exception interface " + ifname + ": no port " + vdev);
        taps_.push_back({ifname, id});
        bool has_v6 = false;
        for (const auto& a : pc.addresses) has_v6 |= !a.address.is_v4();
        configure_ipv6(ifname, has_v6);

        rte_eth_conf conf{};
        rc = rte_eth_dev_configure(id, 1, 1, &conf);
        if (rc != 0) throw tap_error(ifname, "configure", rc);
        rc = rte_eth_rx_queue_setup(id, 0, tap_descriptors, SOCKET_ID_ANY, nullptr, pool);
        if (rc != 0) throw tap_error(ifname, "RX queue", rc);
        rc = rte_eth_tx_queue_setup(id, 0, tap_descriptors, SOCKET_ID_ANY, nullptr);
        if (rc != 0) throw tap_error(ifname, "TX queue", rc);
        rc = rte_eth_dev_start(id);
        if (rc != 0) throw tap_error(ifname, "start", rc);
        for (const auto& a : pc.addresses) {
            std::string e = netlink::add_address(ifname, a);
            if (!e.empty()) throw std::runtime_error("exception interface: " + e);
        }
        for (const auto& r : cfg.routes) {
            bool here = false;
            for (const auto& a : pc.addresses) here |= a.contains(r.via);
            if (!here) continue;
            std::string e = netlink::add_route(ifname, r.prefix, r.via);
            if (!e.empty()) throw std::runtime_error("exception interface: " + e);
        }
        SLUICE_LOG_INFO("port %s: exception interface %s (dpdk port %u)", pc.name.c_str(),
                        ifname.c_str(), id);
    }
}

bool kernel_path::deliver(uint16_t port, rte_mbuf* m) {
    if (port >= taps_.size() || rte_eth_tx_burst(taps_[port].dpdk_port, 0, &m, 1) != 1) {
        rte_pktmbuf_free(m);
        return false;
    }
    return true;
}

unsigned kernel_path::receive(size_t i, rte_mbuf** pkts, unsigned max) {
    return rte_eth_rx_burst(taps_[i].dpdk_port, 0, pkts, uint16_t(max));
}

void kernel_path::close() {
    for (const auto& t : taps_) {
        rte_eth_dev_stop(t.dpdk_port);
        rte_eth_dev_close(t.dpdk_port);
    }
    taps_.clear();
}

}  // namespace sluice::dataplane

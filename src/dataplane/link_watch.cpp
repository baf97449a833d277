#include "dataplane/link_watch.hpp"

#include <rte_ethdev.h>

#include "common/log.hpp"

namespace sluice::dataplane {

namespace {

constexpr uint64_t read_interval_ns = 1000000000ull;

// DPDK's interrupt thread: only flags the change for the control thread.
int lsc_callback(uint16_t, rte_eth_event_type, void* self, void*) {
    static_cast<link_watch*>(self)->raise();
    return 0;
}

// "up, 10 Gbps, full-duplex, autoneg" / "down" (rte_eth_link_to_str is experimental in 22.11).
std::string describe(const rte_eth_link& link) {
    if (link.link_status != RTE_ETH_LINK_UP) return "down";
    std::string speed = "speed unknown";
    if (link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN && link.link_speed != RTE_ETH_SPEED_NUM_NONE)
        speed = link.link_speed >= 1000 && link.link_speed % 1000 == 0
                    ? std::to_string(link.link_speed / 1000) + " Gbps"
                    : std::to_string(link.link_speed) + " Mbps";
    return "up, " + speed +
           (link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? ", full-duplex" : ", half-duplex") +
           (link.link_autoneg == RTE_ETH_LINK_AUTONEG ? ", autoneg" : "");
}

}  // namespace

std::string link_description(uint16_t dpdk_port) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(dpdk_port, &link) != 0) return "unknown";
    return describe(link);
}

link_watch::~link_watch() {
    stop();
}

void link_watch::add(uint16_t dpdk_port, std::string names, bool lsc) {
    device d;
    d.dpdk_port = dpdk_port;
    d.names = std::move(names);
    d.lsc = lsc;
    if (lsc &&
        rte_eth_dev_callback_register(dpdk_port, RTE_ETH_EVENT_INTR_LSC, lsc_callback, this) == 0)
        listening_ = true;
    else
        d.lsc = false;
    read(d, true);
    devices_.push_back(std::move(d));
}

void link_watch::read(device& d, bool at_start) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(d.dpdk_port, &link) != 0) return;
    const bool up = link.link_status == RTE_ETH_LINK_UP;
    const uint32_t speed = up ? link.link_speed : 0;
    if (!at_start && up == d.up && speed == d.speed) return;
    const std::string text = describe(link);
    if (at_start && up)
        SLUICE_LOG_INFO("port %s: link %s%s", d.names.c_str(), text.c_str(),
                        d.lsc ? " (link-state interrupt on)" : "");
    else if (at_start)
        SLUICE_LOG_WARN("port %s: link down at start: nothing passes until it comes up",
                        d.names.c_str());
    else if (up != d.up)
        SLUICE_LOG_WARN("port %s: link %s", d.names.c_str(), text.c_str());
    else
        SLUICE_LOG_INFO("port %s: link speed changed: %s", d.names.c_str(), text.c_str());
    if (!at_start && up != d.up) ++d.changes;
    d.up = up;
    d.speed = speed;
}

void link_watch::poll(uint64_t now_ns) {
    const uint32_t raised = interrupts_.load(std::memory_order_acquire);
    if (raised == interrupts_seen_ && now_ns < next_read_ns_) return;
    interrupts_seen_ = raised;
    next_read_ns_ = now_ns + read_interval_ns;
    for (device& d : devices_) read(d, false);
}

uint64_t link_watch::changes(uint16_t dpdk_port) const {
    for (const device& d : devices_)
        if (d.dpdk_port == dpdk_port) return d.changes;
    return 0;
}

void link_watch::stop() {
    if (!listening_) return;
    for (const device& d : devices_)
        if (d.lsc)
            rte_eth_dev_callback_unregister(d.dpdk_port, RTE_ETH_EVENT_INTR_LSC, lsc_callback,
                                            this);
    listening_ = false;
}

}  // namespace sluice::dataplane

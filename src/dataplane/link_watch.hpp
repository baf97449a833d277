#pragma once
// The ports' link state, watched by the control thread: read once a second
// (rte_eth_link_get_nowait) and, on NICs that raise it, at once after the link-state-change
// interrupt (RTE_ETH_EVENT_INTR_LSC). The interrupt callback runs on DPDK's interrupt thread and
// only raises a flag; the control thread reads the links at its next pass, logs each change
// ("port client: link down") and counts it (sluice_port_link_changes_total). A link that is
// down at start is logged as a warning: nothing will pass until it comes up.
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::dataplane {

// The device's link now, e.g. "up, 10 Gbps, full-duplex, autoneg", "down", "unknown".
std::string link_description(uint16_t dpdk_port);

class link_watch {
public:
    link_watch() = default;
    link_watch(const link_watch&) = delete;
    link_watch& operator=(const link_watch&) = delete;
    ~link_watch();

    // A started device and the [[port]] names on it (sub-ports share its link); `lsc`: the
    // device was configured with the link-state interrupt. Logs the link as it is now. Control
    // thread, at start.
    void add(uint16_t dpdk_port, std::string names, bool lsc);
    // Reads the links when a second has passed or an interrupt came; logs and counts changes.
    // Control thread.
    void poll(uint64_t now_ns);
    // Changes seen on the device since start (0 for an unknown device). Control thread.
    uint64_t changes(uint16_t dpdk_port) const;
    // Stops listening for interrupts (before the devices close). Idempotent. Control thread.
    void stop();
    // The link-state interrupt's callback (DPDK's interrupt thread): the next poll reads.
    void raise() { interrupts_.fetch_add(1, std::memory_order_release); }

private:
    struct device {
        uint16_t dpdk_port = 0;
        std::string names;
        bool lsc = false;
        bool up = false;
        uint32_t speed = 0;
        uint64_t changes = 0;
    };
    void read(device& d, bool at_start);

    std::vector<device> devices_;
    std::atomic<uint32_t> interrupts_{0};  // raised by the interrupt thread
    uint32_t interrupts_seen_ = 0;
    uint64_t next_read_ns_ = 0;
    bool listening_ = false;
};

}  // namespace sluice::dataplane

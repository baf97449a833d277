#pragma once
// Return traffic steered by the NIC (DPVS's approach): a full-NAT flow's replies come to one of
// the LB's local addresses on a source port of the worker that owns the flow (local_port_plan),
// so one rte_flow rule per (local address, protocol, aligned block of that worker's port range)
// sends them straight to the owner's RX queue and the handoff ring is never needed for them.
// Where the driver cannot take the rules (net_af_packet, net_tap without TC flower, a NIC whose
// flow engine refuses masked ports), nothing is left installed and the handoff ring serves as
// before; model::port_nic::steering says which, with the driver's reason. Control thread only:
// installed once at start after the devices started, flushed at shutdown before they stop.
#include <cstdint>
#include <string>
#include <vector>

#include "sluice/ip_address.hpp"

namespace sluice::dataplane {

struct local_port_plan;

// One [[port]] of a device: its VLAN (0 = untagged) and its full-NAT source addresses.
struct steered_port {
    uint16_t vlan = 0;
    std::vector<ip_address> sources;
};

struct steering_result {
    bool installed = false;
    uint32_t rules = 0;
    std::string description;  // for show ports: "rte_flow (N rules)" or "handoff ring (why)"
};

class flow_steering {
public:
    // Rules for every worker's port range on `dpdk_port`, whose RX queue w is worker w's. All
    // or nothing: on the first rule the driver refuses, the ones made are destroyed.
    steering_result install(uint16_t dpdk_port, const std::vector<steered_port>& ports,
                            const local_port_plan& plan);
    // Destroys every rule installed (before the devices stop).
    void remove_all();

private:
    std::vector<uint16_t> devices_;  // devices holding rules
};

}  // namespace sluice::dataplane

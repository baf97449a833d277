#pragma once
// What a started device runs with, as `sluicectl show ports` and the start-up log report it:
// the driver, queues and descriptors after the driver adjusted them, the RSS fields and
// offloads actually enabled (what the config asked for and the NIC offers), the NUMA socket
// whose mbuf pool feeds its RX queues, and how return traffic reaches its flow's worker.
// Written by dataplane/port_setup.cpp at start; read by the control thread afterwards.
#include <cstdint>
#include <string>

namespace sluice::model {

struct port_nic {
    std::string driver;
    int socket = -1;  // the device's NUMA node (-1: the driver does not say)
    uint16_t rx_queues = 1;
    uint16_t tx_queues = 1;
    uint16_t rx_descriptors = 0;  // per queue, after rte_eth_dev_adjust_nb_rx_tx_desc
    uint16_t tx_descriptors = 0;
    std::string rss = "off";     // hashed fields ("ip tcp udp"), "off" with one RX queue
    bool rx_checksum = false;    // RX IPv4 header and L4 checksum offload on
    bool vlan_strip = false;     // RTE_ETH_RX_OFFLOAD_VLAN_STRIP on
    bool vlan_insert = false;    // RTE_ETH_TX_OFFLOAD_VLAN_INSERT on
    bool lsc_interrupt = false;  // link changes raise an interrupt (else: read each second)
    // How a flow's return traffic reaches its worker: rte_flow rules steering each worker's
    // local-port range to its queue, or the queue RSS picks and the handoff ring to the owning
    // worker when that is another (dataplane/flow_steering.hpp, docs/architecture.md).
    std::string steering = "handoff ring";
    uint32_t steering_rules = 0;  // rte_flow rules installed on the device
};

}  // namespace sluice::model

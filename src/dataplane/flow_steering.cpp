#include "dataplane/flow_steering.hpp"

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_flow.h>

#include <cstring>

#include "dataplane/worker.hpp"
#include "model/port_blocks.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

namespace {

// The pattern of one rule: [ETH] [VLAN vid] IPv4|IPv6 dst=address, TCP|UDP dst=block.
struct rule_pattern {
    rte_flow_item_vlan vlan{}, vlan_mask{};
    rte_flow_item_ipv4 ip4{}, ip4_mask{};
    rte_flow_item_ipv6 ip6{}, ip6_mask{};
    rte_flow_item_tcp tcp{}, tcp_mask{};
    rte_flow_item_udp udp{}, udp_mask{};
    rte_flow_item items[5]{};

    rule_pattern(uint16_t vid, const ip_address& dst, uint8_t protocol, model::port_block b) {
        unsigned n = 0;
        items[n++].type = RTE_FLOW_ITEM_TYPE_ETH;  // any Ethernet header
        if (vid) {
            vlan.hdr.vlan_tci = rte_cpu_to_be_16(vid);
            vlan_mask.hdr.vlan_tci = rte_cpu_to_be_16(0x0fff);
            items[n++] = {RTE_FLOW_ITEM_TYPE_VLAN, &vlan, nullptr, &vlan_mask};
        }
        if (dst.family == address_family::ipv4) {
            std::memcpy(&ip4.hdr.dst_addr, dst.bytes.data(), 4);
            ip4_mask.hdr.dst_addr = UINT32_MAX;
            items[n++] = {RTE_FLOW_ITEM_TYPE_IPV4, &ip4, nullptr, &ip4_mask};
        } else {
            std::memcpy(ip6.hdr.dst_addr, dst.bytes.data(), 16);
            std::memset(ip6_mask.hdr.dst_addr, 0xff, 16);
            items[n++] = {RTE_FLOW_ITEM_TYPE_IPV6, &ip6, nullptr, &ip6_mask};
        }
        if (protocol == packet::ipproto_tcp) {
            tcp.hdr.dst_port = rte_cpu_to_be_16(b.value);
            tcp_mask.hdr.dst_port = rte_cpu_to_be_16(b.mask);
            items[n++] = {RTE_FLOW_ITEM_TYPE_TCP, &tcp, nullptr, &tcp_mask};
        } else {
            udp.hdr.dst_port = rte_cpu_to_be_16(b.value);
            udp_mask.hdr.dst_port = rte_cpu_to_be_16(b.mask);
            items[n++] = {RTE_FLOW_ITEM_TYPE_UDP, &udp, nullptr, &udp_mask};
        }
        items[n].type = RTE_FLOW_ITEM_TYPE_END;
    }
};

std::string reason_of(const rte_flow_error& e, int rc) {
    if (e.message && *e.message) return e.message;
    return rte_strerror(rc < 0 ? -rc : rc);
}

}  // namespace

steering_result flow_steering::install(uint16_t dpdk_port, const std::vector<steered_port>& ports,
                                       const local_port_plan& plan) {
    std::vector<rte_flow*> made;
    rte_flow_attr attr{};
    attr.ingress = 1;
    auto undo = [&](const std::string& why) {
        rte_flow_error ignored{};
        for (rte_flow* f : made) rte_flow_destroy(dpdk_port, f, &ignored);
        return steering_result{false, 0, "handoff ring (rte_flow: " + why + ")"};
    };
    for (const steered_port& p : ports) {
        for (const ip_address& addr : p.sources) {
            for (const uint8_t protocol : {packet::ipproto_tcp, packet::ipproto_udp}) {
                for (unsigned w = 0; w < plan.workers; ++w) {
                    const uint32_t first = plan.first(w);
                    for (const model::port_block b :
                         model::cover_port_range(first, first + plan.per_worker - 1)) {
                        rule_pattern pattern(p.vlan, addr, protocol, b);
                        const rte_flow_action_queue queue{.index = uint16_t(w)};
                        const rte_flow_action actions[] = {{RTE_FLOW_ACTION_TYPE_QUEUE, &queue},
                                                           {RTE_FLOW_ACTION_TYPE_END, nullptr}};
                        rte_flow_error error{};
                        int rc =
                            rte_flow_validate(dpdk_port, &attr, pattern.items, actions, &error);
                        if (rc != 0) return undo(reason_of(error, rc));
                        rte_flow* f =
                            rte_flow_create(dpdk_port, &attr, pattern.items, actions, &error);
                        if (!f) return undo(reason_of(error, rte_errno));
                        made.push_back(f);
                    }
                }
            }
        }
    }
    if (made.empty()) return {false, 0, "handoff ring (no full-NAT source address on the device)"};
    devices_.push_back(dpdk_port);
    return {
        true, uint32_t(made.size()),
        "rte_flow (" + std::to_string(made.size()) + " rules: replies to their worker's queue)"};
}

void flow_steering::remove_all() {
    for (uint16_t port : devices_) {
        rte_flow_error ignored{};
        rte_flow_flush(port, &ignored);
    }
    devices_.clear();
}

}  // namespace sluice::dataplane

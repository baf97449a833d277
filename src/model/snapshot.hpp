#pragma once
// The service model: the immutable tables workers read — VIPs, backends, Maglev tables, ports,
// LB and local addresses, routes, timeouts — and the lookups the packet path makes in them.
// control::build_snapshot fills one from the configuration and the dataplane publishes it by
// pointer swap (RCU); workers read it without locks. Nothing in here changes after publication;
// per-worker mutable state (scheduler cursors, counters) lives with the worker.
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "flow/flow_key.hpp"
#include "flow/tcp_state.hpp"
#include "model/ids.hpp"
#include "model/protection.hpp"
#include "packet/wire.hpp"
#include "route/neighbor_table.hpp"
#include "route/route_table.hpp"
#include "sched/client_hash.hpp"
#include "sched/maglev.hpp"
#include "sluice/config.hpp"

namespace sluice::model {

struct backend_entry {
    ip_address address;
    uint16_t port = 0;
    uint32_t weight = 1;
    uint32_t id = no_backend_id;              // stable across reloads (control::backend_registry)
    backend_admin admin = backend_admin::up;  // not up: no new flows (weight in `weights` is 0)
    bool health_up = true;                    // health checks (or passive detection) say it serves
    uint32_t max_connections = 0;             // 0 = unlimited
    uint16_t egress_port = 0;                 // index into snapshot::ports
    uint8_t tuple_group = 0;                  // its full-NAT tuple group (backend_registry)
    uint32_t neighbor_slot = route::no_neighbor;
};

struct vip_entry {
    uint16_t id = no_vip_id;  // stable across reloads (control::backend_registry::vip_id)
    std::string name;
    ip_address address;
    uint16_t port = 0;
    uint8_t protocol = 0;
    config::scheduler_kind scheduler = config::scheduler_kind::rr;
    sched::hash_selector hash = sched::hash_selector::src_ip;
    uint64_t hash_seed = 0;
    bool limited = false;  // some backend has max_connections
    // Every backend is down and [vip.health] all_down = "reset": a new flow's SYN gets an RST.
    bool reset_when_no_backend = false;
    // Passive detection on: a SYN to a backend unanswered for this long is a failed connect
    // (the flow then expires); 0 = off.
    uint32_t connect_timeout_ticks = 0;
    // [[vip]] mss_clamp: SYNs and SYN-ACKs of its flows carry at most this MSS; 0 = off.
    uint16_t mss_clamp = 0;
    vip_protection protect;  // limits, payload rules, half-open limits (protection.hpp)
    std::vector<backend_entry> backends;
    std::vector<uint32_t> weights;  // effective weights for the scheduler: 0 unless admin is up
    std::vector<sched::maglev_backend> maglev_backends;  // maglev only, in backends order
    sched::maglev_table maglev;                          // maglev only
};

struct port_entry {
    std::string name;
    uint16_t dpdk_port = 0;
    std::array<uint8_t, 6> mac{};
    std::vector<ip_prefix> addresses;
    uint16_t mtu = 1500;  // largest IP packet the port sends (port_info::mtu)
};

// What the dataplane knows about a started port.
struct port_info {
    uint16_t dpdk_port;
    std::array<uint8_t, 6> mac;
    uint16_t mtu = 1500;  // rte_eth_dev_get_mtu at start; 1500 when the driver does not say
    uint16_t vlan = 0;    // [[port]] vlan: the VID of every frame; 0 = untagged
    bool vlan_tx_offload = false;  // the NIC inserts mbuf::vlan_tci (RTE_MBUF_F_TX_VLAN)
    uint16_t rx_queues = 0;        // the device's RX queues; 0: one per worker (tests)
};

struct timeout_ticks {
    uint32_t tcp[size_t(flow::tcp_state::count)];
    uint32_t udp;
};

class snapshot {
public:
    uint64_t generation = 0;
    std::vector<port_entry> ports;
    std::vector<vip_entry> vips;
    route::route_table routes;
    timeout_ticks timeouts{};

    // VIP id for a destination (address bytes in network order) or no_vip_id. Per packet
    // (inline below: the worker's classify calls it for every packet to a VIP).
    uint16_t find_vip(const uint8_t* dst, uint8_t family, uint16_t dport, uint8_t proto) const;
    // The VIP of this id, or null when this snapshot has none with it. Per packet.
    const vip_entry* vip_by_id(uint16_t id) const {
        return id < vip_of_id_.size() && vip_of_id_[id] >= 0 ? &vips[size_t(vip_of_id_[id])]
                                                             : nullptr;
    }
    // The VIP of an id this snapshot has (find_vip's answer). Per packet.
    const vip_entry& vip(uint16_t id) const { return vips[size_t(vip_of_id_[id])]; }
    // Ids of its VIPs.
    std::vector<uint16_t> vip_ids() const;
    // Index of the port owning this LB address (its own or a local pool address), or -1. Per
    // packet (inline below; short lists: IPv4 as ranges, one compare each).
    int32_t local_address_port(const uint8_t* dst, uint8_t family) const;
    // True when some VIP (any port, any protocol) has this address. Per new flow (a sorted
    // list of the distinct VIP addresses, binary search).
    bool has_vip_address(const uint8_t* a, uint8_t family) const;
    // First LB address of `family` on port `port` (source of full-NAT flows), or nullptr.
    const ip_address* source_address(uint16_t port, address_family family) const;
    // True when ARP or a neighbour solicitation for this address on this port must be answered
    // (LB address, local pool address of the port, or VIP).
    bool answers_neighbor_for(uint16_t port, const ip_address& a) const;

    // True when some VIP has syn_proxy on or auto (workers then need their proxy_state tables).
    bool uses_syn_proxy() const;
    // Every backend id this snapshot references.
    std::vector<uint32_t> backend_ids() const;

    // Building (control::build_snapshot, before publication): an LB address of port `port` (its
    // own or one of its local pools), and the VIP index once `vips` is complete.
    void add_local_address(const ip_address& a, uint16_t port);
    void index_vips();

private:
    struct local_address {
        uint8_t bytes[16];
        uint16_t port;
    };
    std::vector<local_address> locals_v6_;  // IPv6 port and pool addresses
    struct v4_range {
        uint32_t first;  // host order
        uint32_t count;
        uint16_t port;
    };
    // IPv4 port addresses and local address pools ([[port]] local_addresses), as ranges: pools
    // are prefixes mostly, so one compare per range rather than one per address.
    std::vector<v4_range> v4_ranges_;
    int32_t local_v6_port(const uint8_t* dst) const;
    std::vector<int32_t> vip_slots_;  // open addressing over vips (their index)
    std::vector<int32_t> vip_of_id_;  // VIP id -> index in vips, -1 for none
    // Distinct VIP addresses, sorted: IPv4 as host-order integers (the common case: one compare
    // per step), IPv6 as bytes.
    std::vector<uint32_t> vip_v4_;
    std::vector<std::array<uint8_t, 16>> vip_v6_;
    uint32_t vip_mask_ = 0;
    static uint32_t vip_hash(const uint8_t* dst, uint8_t family, uint16_t dport, uint8_t proto);
};

// The per-packet lookups, inline in the worker (no LTO across the libraries).

inline uint32_t snapshot::vip_hash(const uint8_t* dst, uint8_t family, uint16_t dport,
                                   uint8_t proto) {
    // Two multiply-xorshift rounds over the address words (per packet: no byte loop).
    uint64_t a = 0, b = 0;
    if (family == 4) {
        uint32_t w;
        std::memcpy(&w, dst, 4);
        a = w;
    } else {
        std::memcpy(&a, dst, 8);
        std::memcpy(&b, dst + 8, 8);
    }
    uint64_t h = (a ^ (uint64_t(dport) << 40 | uint64_t(proto) << 32)) * 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 29) ^ b) * 0xbf58476d1ce4e5b9ull;
    return uint32_t(h >> 32);
}

inline uint16_t snapshot::find_vip(const uint8_t* dst, uint8_t family, uint16_t dport,
                                   uint8_t proto) const {
    for (uint32_t i = vip_hash(dst, family, dport, proto) & vip_mask_;; i = (i + 1) & vip_mask_) {
        const int32_t v = vip_slots_[i];
        if (v < 0) return no_vip_id;
        const vip_entry& e = vips[size_t(v)];
        if (e.port != dport || e.protocol != proto || uint8_t(e.address.family) != family) continue;
        if (family == 4 ? packet::load_be32(e.address.bytes.data()) == packet::load_be32(dst)
                        : flow::same_address(e.address.bytes.data(), dst))
            return e.id;
    }
}

inline int32_t snapshot::local_address_port(const uint8_t* dst, uint8_t family) const {
    if (family != 4) return local_v6_port(dst);
    const uint32_t a = packet::load_be32(dst);
    for (const v4_range& r : v4_ranges_)
        if (a - r.first < r.count) return r.port;
    return -1;
}

}  // namespace sluice::model

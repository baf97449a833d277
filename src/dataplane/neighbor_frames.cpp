// The control thread's neighbour work (runtime members): ARP frames and resolution requests
// from the workers' neighbour rings (drained first each pass, exception_path.hpp), the ARP
// answers it sends and the requests of the neighbour resolver. Control thread only.
#include <rte_mbuf.h>

#include "common/log.hpp"
#include "dataplane/runtime.hpp"
#include "packet/arp.hpp"

namespace sluice::dataplane {

void runtime::handle_neighbor_frame(rte_mbuf* m, uint64_t now_ns) {
    mbuf_meta& meta = meta_of(m);
    const model::snapshot& s = *snapshot_.load(std::memory_order_acquire);
    if (meta.kind == meta_kind::arp) {
        // ARP replies also go to the kernel: its own sockets (health probes) resolve the
        // backends through the exception interface.
        if (handle_arp(s, meta.in_port, m, now_ns) && kernel_.is_open())
            return exception_.deliver_to_kernel(meta.in_port, m);
    } else if (meta.kind == meta_kind::resolve) {
        bump(ctl_.neighbor_requests);
        uint32_t slot = neighbors_->find_or_add(meta.next_hop_port, meta.next_hop);
        if (slot != route::no_neighbor) resolver_->request(slot, now_ns);
    }
    rte_pktmbuf_free(m);
}

bool runtime::handle_arp(const model::snapshot& s, uint16_t port_index, rte_mbuf* m,
                         uint64_t now_ns) {
    auto arp = packet::read_arp(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    if (!arp) {
        bump(ctl_.arp_ignored);
        return false;
    }
    // Learn the sender only when it is on-link here, and (like Linux) from a request only when
    // the request is for us; any ARP refreshes a neighbour we already track.
    bool on_link = false;
    for (const auto& p : s.ports[port_index].addresses) on_link |= p.contains(arp->sender_ip);
    const bool for_us = s.answers_arp_for(port_index, arp->target_ip);
    uint32_t slot = neighbors_->find(port_index, arp->sender_ip);
    if (slot == route::no_neighbor && on_link && for_us && arp->op == packet::arp_op_request &&
        arp->sender_ip.v4_host() != 0)
        slot = neighbors_->find_or_add(port_index, arp->sender_ip);
    if (slot != route::no_neighbor && on_link) {
        bool was_reachable = resolver_->state(slot) == route::neighbor_resolver::status::reachable;
        resolver_->confirm(slot, arp->sender_mac, now_ns);
        if (!was_reachable) {
            bump(ctl_.neighbors_resolved);
            SLUICE_LOG_INFO("neighbor %s on port %s is at %02x:%02x:%02x:%02x:%02x:%02x",
                            arp->sender_ip.to_string().c_str(), cfg_.ports[port_index].name.c_str(),
                            arp->sender_mac[0], arp->sender_mac[1], arp->sender_mac[2],
                            arp->sender_mac[3], arp->sender_mac[4], arp->sender_mac[5]);
        }
    }
    if (arp->op == packet::arp_op_reply) {
        bump(ctl_.arp_replies_received);
        return true;
    }
    if (!for_us) {
        bump(ctl_.arp_ignored);
        return false;
    }
    rte_mbuf* reply = rte_pktmbuf_alloc(pool_);
    if (!reply) {
        bump(ctl_.control_tx_dropped);
        return false;
    }
    uint8_t* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(reply, packet::arp_frame_len));
    const uint8_t* mac = s.ports[port_index].mac.data();
    packet::write_arp(out, packet::arp_op_reply, arp->sender_mac, mac, arp->target_ip,
                      arp->sender_mac, arp->sender_ip);
    bump(ctl_.arp_requests_answered);
    transmit(port_index, reply);
    return false;
}

void runtime::send_arp_request(uint32_t slot) {
    const model::snapshot& s = *snapshot_.load(std::memory_order_acquire);
    const uint16_t port_index = neighbors_->port(slot);
    const ip_address* source = s.source_address(port_index, address_family::ipv4);
    if (!source) return;
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) {
        bump(ctl_.control_tx_dropped);
        return;
    }
    uint8_t* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, packet::arp_frame_len));
    packet::write_arp(out, packet::arp_op_request, nullptr, s.ports[port_index].mac.data(), *source,
                      nullptr, neighbors_->address(slot));
    bump(ctl_.arp_requests_sent);
    transmit(port_index, m);
}

}  // namespace sluice::dataplane

// The control thread's neighbour work (runtime members): ARP and IPv6 neighbour discovery frames
// and resolution requests from the workers' neighbour rings (drained first each pass,
// exception_path.hpp), the answers it sends and the requests of the neighbour resolver. ARP for
// IPv4 and NDP (RFC 4861) for IPv6 follow the same rules: learn a sender only when it is on-link
// and asked for us, answer for LB addresses, VIPs and local pool addresses, hand replies on to
// the host kernel (whose health-probe sockets resolve their own next hops through the TAP).
// Control thread only.
#include <rte_mbuf.h>

#include <algorithm>
#include <vector>

#include "common/log.hpp"
#include "dataplane/runtime.hpp"
#include "packet/arp.hpp"
#include "packet/ndp.hpp"

namespace sluice::dataplane {

void runtime::handle_neighbor_frame(rte_mbuf* m, uint64_t now_ns) {
    mbuf_meta& meta = meta_of(m);
    const model::snapshot& s = *snapshot_.load(std::memory_order_acquire);
    if (meta.kind == meta_kind::neighbor) {
        // Replies also go to the kernel: its own sockets (health probes) resolve the backends
        // through the exception interface.
        const bool reply = meta.parsed.kind == packet::frame_kind::arp
                               ? handle_arp(s, meta.in_port, m, now_ns)
                               : handle_ndp(s, meta.in_port, m, now_ns);
        if (reply && kernel_.is_open()) return exception_.deliver_to_kernel(meta.in_port, m);
    } else if (meta.kind == meta_kind::resolve) {
        bump(ctl_.neighbor_requests);
        uint32_t slot = neighbors_->find_or_add(meta.next_hop_port, meta.next_hop);
        if (slot != route::no_neighbor) resolver_->request(slot, now_ns);
    }
    rte_pktmbuf_free(m);
}

void runtime::learn_neighbor(const model::snapshot& s, uint16_t port_index, const ip_address& ip,
                             const uint8_t* mac, bool may_add, uint64_t now_ns) {
    bool on_link = false;
    for (const auto& p : s.ports[port_index].addresses) on_link |= p.contains(ip);
    if (!on_link) return;
    uint32_t slot = neighbors_->find(port_index, ip);
    if (slot == route::no_neighbor && may_add) slot = neighbors_->find_or_add(port_index, ip);
    if (slot == route::no_neighbor) return;
    const bool was_reachable =
        resolver_->state(slot) == route::neighbor_resolver::status::reachable;
    resolver_->confirm(slot, mac, now_ns);
    if (was_reachable) return;
    bump(ctl_.neighbors_resolved);
    SLUICE_LOG_INFO("neighbor %s on port %s is at %02x:%02x:%02x:%02x:%02x:%02x",
                    ip.to_string().c_str(), cfg_.ports[port_index].name.c_str(), mac[0], mac[1],
                    mac[2], mac[3], mac[4], mac[5]);
}

bool runtime::handle_arp(const model::snapshot& s, uint16_t port_index, rte_mbuf* m,
                         uint64_t now_ns) {
    auto arp = packet::read_arp(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    if (!arp) {
        bump(ctl_.arp_ignored);
        return false;
    }
    // Learn the sender (like Linux) from a request only when the request is for us; any ARP
    // refreshes a neighbour we already track.
    const bool for_us = s.answers_neighbor_for(port_index, arp->target_ip);
    learn_neighbor(s, port_index, arp->sender_ip, arp->sender_mac,
                   for_us && arp->op == packet::arp_op_request && arp->sender_ip.v4_host() != 0,
                   now_ns);
    if (arp->op == packet::arp_op_reply) {
        bump(ctl_.arp_replies_received);
        return true;
    }
    if (!for_us) {
        bump(ctl_.arp_ignored);
        return false;
    }
    if (!send_arp(port_index, packet::arp_op_reply, arp->sender_mac, arp->target_ip,
                  arp->sender_mac, arp->sender_ip))
        return false;
    bump(ctl_.arp_requests_answered);
    return false;
}

bool runtime::handle_ndp(const model::snapshot& s, uint16_t port_index, rte_mbuf* m,
                         uint64_t now_ns) {
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    auto ndp = packet::read_ndp(frame, meta_of(m).parsed);
    if (!ndp) {
        bump(ctl_.ndp_ignored);
        return false;
    }
    if (ndp->type == packet::icmp6_neighbor_advert) {
        bump(ctl_.ndp_adverts_received);
        if (ndp->has_link) learn_neighbor(s, port_index, ndp->target, ndp->link, false, now_ns);
        return true;
    }
    if (!s.answers_neighbor_for(port_index, ndp->target)) {
        bump(ctl_.ndp_ignored);
        return false;
    }
    const bool dad = packet::ipv6_unspecified(ndp->source.bytes.data());
    if (!dad && ndp->has_link) learn_neighbor(s, port_index, ndp->source, ndp->link, true, now_ns);
    // RFC 4861 7.2.4: solicited and override, unicast to the solicitor; a DAD probe (from ::)
    // is answered to all-nodes, not solicited: someone else wants our address.
    const packet::ndp_frame_spec na{
        packet::icmp6_neighbor_advert,
        uint8_t(packet::ndp_flag_override | (dad ? 0 : packet::ndp_flag_solicited)),
        dad ? packet::ipv6_all_nodes_mac : (ndp->has_link ? ndp->link : frame + packet::eth_src),
        s.ports[port_index].mac.data(),
        ndp->target.bytes.data(),
        dad ? packet::ipv6_all_nodes : ndp->source.bytes.data(),
        ndp->target.bytes.data()};
    if (!send_ndp(port_index, na)) return false;
    bump(ctl_.ndp_solicits_answered);
    return false;
}

bool runtime::send_arp(uint16_t port_index, uint16_t op, const uint8_t* dst_mac,
                       const ip_address& sender_ip, const uint8_t* target_mac,
                       const ip_address& target_ip) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    auto* out =
        m ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, packet::arp_frame_len)) : nullptr;
    if (!out) {
        if (m) rte_pktmbuf_free(m);
        bump(ctl_.control_tx_dropped);
        return false;
    }
    packet::write_arp(out, op, dst_mac, snapshot_.load()->ports[port_index].mac.data(), sender_ip,
                      target_mac, target_ip);
    transmit(port_index, m);
    return true;
}

bool runtime::send_ndp(uint16_t port_index, const packet::ndp_frame_spec& spec) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) {
        bump(ctl_.control_tx_dropped);
        return false;
    }
    auto* out = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, packet::ndp_frame_len));
    if (!out) {
        rte_pktmbuf_free(m);
        bump(ctl_.control_tx_dropped);
        return false;
    }
    packet::write_ndp(out, spec);
    transmit(port_index, m);
    return true;
}

void runtime::send_neighbor_request(uint32_t slot) {
    const model::snapshot& s = *snapshot_.load(std::memory_order_acquire);
    const uint16_t port_index = neighbors_->port(slot);
    const ip_address& target = neighbors_->address(slot);
    const ip_address* source = s.source_address(port_index, target.family);
    if (!source) return;
    const uint8_t* mac = s.ports[port_index].mac.data();
    if (!target.is_v4()) {
        uint8_t group[16], group_mac[6];
        packet::solicited_node(target.bytes.data(), group, group_mac);
        if (send_ndp(port_index, {packet::icmp6_neighbor_solicit, 0, group_mac, mac,
                                  source->bytes.data(), group, target.bytes.data()}))
            bump(ctl_.ndp_solicits_sent);
        return;
    }
    if (send_arp(port_index, packet::arp_op_request, nullptr, *source, nullptr, target))
        bump(ctl_.arp_requests_sent);
}

void runtime::announce_addresses() {
    const model::snapshot& s = *snapshot_.load(std::memory_order_acquire);
    for (uint16_t p = 0; p < s.ports.size(); ++p) {
        const uint8_t* mac = s.ports[p].mac.data();
        std::vector<ip_address> ours;
        for (const auto& a : s.ports[p].addresses) ours.push_back(a.address);
        for (const auto& v : s.vips) {
            bool here = false;
            for (const auto& a : s.ports[p].addresses) here |= a.contains(v.address);
            if (here && std::find(ours.begin(), ours.end(), v.address) == ours.end())
                ours.push_back(v.address);
        }
        for (const auto& a : ours) {
            if (!a.is_v4()) {
                send_ndp(p, {packet::icmp6_neighbor_advert, packet::ndp_flag_override,
                             packet::ipv6_all_nodes_mac, mac, a.bytes.data(),
                             packet::ipv6_all_nodes, a.bytes.data()});
                continue;
            }
            // Gratuitous ARP: a request from the address for itself (RFC 5227 2.3).
            send_arp(p, packet::arp_op_request, nullptr, a, nullptr, a);
        }
        SLUICE_LOG_INFO("port %s: announced %zu address(es)", cfg_.ports[p].name.c_str(),
                        ours.size());
    }
}

}  // namespace sluice::dataplane

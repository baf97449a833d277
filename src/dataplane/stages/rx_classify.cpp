// RX, classify and handoff: a worker's poll pass receives a burst from its queue of every port,
// classifies each frame (parse, VIP lookup, owner) and keeps the ones it owns for the flow path
// (flow_path.cpp); the rest go to their owner's SP/SC ring, drained here by the owner. Worker
// lcore only.
#include <rte_ethdev.h>
#include <rte_ring.h>

#include <cstring>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/icmp_translate.hpp"
#include "packet/ndp.hpp"
#include "packet/sanity.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using flow::flow_key;
using model::snapshot;
using packet::frame_kind;

unsigned worker::poll_once() {
    const snapshot& s = *snapshot_->load(std::memory_order_acquire);
    sync_snapshot(s);
    // After the snapshot load: a command control enqueued before publishing `s` (the SYN proxy
    // table) is visible now, and taken before any packet of this pass.
    take_commands();
    now_tsc_ = rte_rdtsc();
    unsigned handled = 0;
    rte_mbuf* pkts[max_burst];
    for (const rx_device& d : setup_.rx_devices) {
        if (!d.polled) continue;
        uint16_t n = rte_eth_rx_burst(d.dpdk_port, setup_.queue, pkts, setup_.burst);
        if (n) receive(s, d, pkts, n);
        handled += n;
    }
    for (unsigned i = 0; i < setup_.count; ++i) {
        if (!handoff_in[i]) continue;
        unsigned n = rte_ring_sc_dequeue_burst(handoff_in[i], reinterpret_cast<void**>(pkts),
                                               setup_.burst, nullptr);
        if (!n) continue;
        bump(counters.handoff_received, n);
        handled += n;
        // The sending worker may have classified with another snapshot (a reload in between):
        // its VIP may be gone from ours (VIP ids are stable, but a removed id can be reused). Look
        // it up again then.
        uint16_t kept = 0;
        for (unsigned k = 0; k < n; ++k) {
            mbuf_meta& meta = meta_of(pkts[k]);
            if (meta.kind == meta_kind::fragment) [[unlikely]] {
                reassemble(s, pkts[k], pkts, kept);  // a datagram it completes may stay here
                continue;
            }
            if (meta.kind == meta_kind::to_vip && meta.generation != uint8_t(s.generation)) {
                meta.vip =
                    s.find_vip(meta.key.dst, meta.key.family, meta.key.dst_port, meta.key.protocol);
                meta.generation = uint8_t(s.generation);
                if (meta.vip == model::no_vip_id) {
                    drop(pkts[k], drop_reason::no_vip);
                    continue;
                }
            }
            pkts[kept++] = pkts[k];
        }
        process_owned(s, pkts, kept);
    }
    if (from_control) {
        unsigned n = rte_ring_sc_dequeue_burst(from_control, reinterpret_cast<void**>(pkts),
                                               setup_.burst, nullptr);
        for (unsigned i = 0; i < n; ++i) enqueue_tx(meta_of(pkts[i]).out_port, pkts[i]);
        handled += n;
    }
    flush_tx();
    housekeeping(s);
    return handled;
}

void worker::sync_snapshot(const snapshot& s) {
    if (s.generation == seen_generation_) return;
    admission_.sync(s);
    seen_generation_ = s.generation;
}

void worker::receive_burst(uint16_t port_index, rte_mbuf** pkts, uint16_t n) {
    const snapshot& s = *snapshot_->load(std::memory_order_acquire);
    sync_snapshot(s);
    receive(s, setup_.rx_devices[setup_.device_of_port[port_index]], pkts, n);
}

// The snapshot is the pass's own: loading it again could resize the per-VIP scheduler state to
// a newer snapshot while the rest of the pass indexes it with the older one's VIPs.
void worker::receive(const snapshot& s, const rx_device& d, rte_mbuf** pkts, uint16_t n) {
    rte_mbuf* own[max_burst];
    uint16_t n_own = 0;
    now_tsc_ = rte_rdtsc();
    bump(counters.rx_packets, n);
    for (uint16_t i = 0; i < n; ++i) {
        bump(counters.rx_bytes, pkts[i]->pkt_len);
        uint16_t port_index = d.ports[0];
        // [[port]] vlan and sub-ports (stages/vlan.cpp); an untagged device skips it.
        if (d.tagged && !untag(d, pkts[i], port_index)) continue;
        classify(s, port_index, pkts[i], own, n_own);
    }
    process_owned(s, own, n_own);
}

void worker::classify(const snapshot& s, uint16_t port_index, rte_mbuf* m, rte_mbuf** own,
                      uint16_t& n_own) {
    if (m->nb_segs != 1) return drop(m, drop_reason::multi_segment);
    mbuf_meta& meta = meta_of(m);
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    bool csum_checked = (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    drop_reason r = packet::parse_frame(frame, m->data_len, meta.parsed, !csum_checked);
    const bool fragment = (r == drop_reason::ipv4_fragment || r == drop_reason::ipv6_fragment) &&
                          reassembly_.enabled();
    if (r != drop_reason::none && !fragment) return drop(m, r);
    const uint8_t* port_mac = s.ports[port_index].mac.data();
    if (!(frame[packet::eth_dst] & 1) && std::memcmp(frame + packet::eth_dst, port_mac, 6) != 0)
        return drop(m, drop_reason::not_our_mac);
    if (std::memcmp(frame + packet::eth_src, port_mac, 6) == 0)
        return drop(m, drop_reason::own_frame);
    meta.in_port = uint8_t(port_index);
    if (fragment) [[unlikely]]
        return take_fragment(s, m, r, own, n_own);
    classify_parsed(s, m, own, n_own);
}

void worker::classify_parsed(const snapshot& s, rte_mbuf* m, rte_mbuf** own, uint16_t& n_own) {
    mbuf_meta& meta = meta_of(m);
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    if (meta.parsed.kind == frame_kind::arp) {
        meta.kind = meta_kind::neighbor;
        return to_control_ring(m);
    }
    const uint8_t family = meta.parsed.family == address_family::ipv4 ? 4 : 6;
    const uint8_t* dst =
        frame + meta.parsed.l3_offset + (family == 4 ? packet::ip4_dst : packet::ip6_dst);
    unsigned owner;
    if (meta.parsed.kind != frame_kind::ip_l4) {
        if (classify_other(s, m, dst, family, owner)) hand_to_owner(m, owner, own, n_own);
        return;
    }
    meta.generation = uint8_t(s.generation);
    meta.key = flow::make_flow_key(frame, meta.parsed);
    meta.hash = flow::flow_hash(meta.key);
    // A packet to an LB address (port or local pool address) is a reply or the kernel's: no VIP
    // has such an address (the config refuses it), so only the others are looked up as VIPs.
    if (s.local_address_port(dst, family) < 0) {
        meta.vip = s.find_vip(dst, family, meta.parsed.dst_port, meta.parsed.protocol);
        if (meta.vip == model::no_vip_id)
            return drop(m, packet::multicast_destination(dst, family)
                               ? drop_reason::multicast_destination
                               : drop_reason::no_vip);
        meta.kind = meta_kind::to_vip;
        owner = flow::owner_of(meta.hash, setup_.count);
    } else {
        meta.vip = model::no_vip_id;
        owner = setup_.ports.owner(meta.parsed.dst_port);
        if (owner >= setup_.count) {
            // Above the full-NAT range: a kernel socket's port (health probes). Only answers to
            // connections the kernel opened pass (TCP with ACK or RST): no service listening on
            // the host is reachable through the data plane.
            const bool kernel_reply =
                meta.parsed.protocol == packet::ipproto_tcp &&
                (meta.parsed.tcp_flags & (packet::tcp_flag::ack | packet::tcp_flag::rst));
            if (meta.parsed.dst_port < setup_.ports.end() || !kernel_reply)
                return drop(m, drop_reason::local_unhandled);
            meta.kind = meta_kind::to_kernel;
            return to_control_ring(m);
        }
        meta.kind = meta_kind::reply;
    }
    // Sanity before state (packet/sanity.hpp): forwarding would send it with TTL 0, or no TCP
    // stack sends this flag set. Nothing after this may create or touch a flow for them.
    if (packet::ttl_expires(frame + meta.parsed.l3_offset, family)) return expire(s, m);
    if (meta.parsed.protocol == packet::ipproto_tcp &&
        !packet::valid_tcp_flags(meta.parsed.tcp_flags))
        return drop(m, drop_reason::bad_tcp_flags);
    hand_to_owner(m, owner, own, n_own);
}

void worker::hand_to_owner(rte_mbuf* m, unsigned owner, rte_mbuf** own, uint16_t& n_own) {
    if (owner == setup_.index) {
        own[n_own++] = m;
        return;
    }
    if (rte_ring_sp_enqueue(handoff_out[owner], m) != 0) return drop(m, drop_reason::ring_full);
    bump(counters.handoff_sent);
}

// Neither TCP nor UDP: neighbour discovery goes to the control thread (as ARP does), an ICMP
// error about a flow to the flow's owner (icmp_errors.cpp; true, with `owner`), an echo request
// to a VIP is answered here (icmp_echo.cpp); ICMP, ICMPv6 and other protocols to an LB address
// are the host kernel's (exception path); the rest is dropped.
bool worker::classify_other(const snapshot& s, rte_mbuf* m, const uint8_t* dst, uint8_t family,
                            unsigned& owner) {
    mbuf_meta& meta = meta_of(m);
    const uint8_t* l4 = rte_pktmbuf_mtod(m, const uint8_t*) + meta.parsed.l4_offset;
    const uint8_t icmp = family == 4 ? packet::ipproto_icmp : packet::ipproto_icmpv6;
    if (meta.parsed.protocol == icmp && meta.parsed.l4_length > 0) {
        if (family == 6 &&
            (l4[0] == packet::icmp6_neighbor_solicit || l4[0] == packet::icmp6_neighbor_advert)) {
            meta.kind = meta_kind::neighbor;
            to_control_ring(m);
            return false;
        }
        if (packet::is_icmp_error(family, l4[0]))
            return classify_icmp_error(s, m, dst, family, owner);
    }
    if (meta.parsed.protocol == icmp && setup_.echo_enabled && s.has_vip_address(dst, family)) {
        answer_echo(s, m);
        return false;
    }
    if (s.local_address_port(dst, family) < 0) {
        drop(m, packet::multicast_destination(dst, family) ? drop_reason::multicast_destination
                                                           : drop_reason::unsupported_protocol);
        return false;
    }
    meta.kind = meta_kind::to_kernel;
    to_control_ring(m);
    return false;
}

}  // namespace sluice::dataplane

// TX: the per-port TX buffers flushed once per pass (and when full), the rings to the control
// thread and the kernel. The per-packet part (send, enqueue_tx, drop) is inline in tx.hpp.
// Worker lcore only.
#include "dataplane/stages/tx.hpp"

#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dataplane/worker.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using flow::flow_key;
using model::snapshot;
using packet::frame_kind;

void worker::flush_tx() {
    for (uint16_t p = 0; p < setup_.dpdk_ports.size(); ++p) {
        tx_buffer& b = tx_[p];
        if (!b.count) continue;
        if (setup_.vlans[p].id) tag_burst(p, b);  // [[port]] vlan (stages/vlan.cpp)
        uint64_t bytes = 0;
        for (uint16_t i = 0; i < b.count; ++i) bytes += b.pkts[i]->pkt_len;
        uint16_t sent = rte_eth_tx_burst(setup_.dpdk_ports[p], setup_.queue, b.pkts, b.count);
        for (uint16_t i = sent; i < b.count; ++i) {
            bytes -= b.pkts[i]->pkt_len;
            drop(b.pkts[i], drop_reason::tx_full);
        }
        bump(counters.tx_packets, sent);
        bump(counters.tx_bytes, bytes);
        b.count = 0;
    }
}

void worker::to_control_ring(rte_mbuf* m) {
    const mbuf_meta& meta = meta_of(m);
    if (meta.kind == meta_kind::to_kernel) {
        auto& bucket = kernel_buckets_[meta.parsed.kind == frame_kind::ip_l4 ? 1 : 0];
        if (!protect::take(bucket, setup_.kernel_rate, now_tsc_))
            return drop(m, drop_reason::kernel_rate_limited);
        if (!to_kernel || rte_ring_sp_enqueue(to_kernel, m) != 0)
            return drop(m, drop_reason::kernel_ring_full);
    } else if (!to_control || rte_ring_sp_enqueue(to_control, m) != 0) {
        return drop(m, drop_reason::exception_ring_full);
    }
    bump(counters.to_control);
}

bool worker::hop_towards(const snapshot& s, rte_mbuf* m, const ip_address& addr, uint16_t& port,
                         uint32_t& neighbor) {
    auto hop = s.routes.lookup(addr);
    if (!hop) {
        drop(m, drop_reason::no_route);
        return false;
    }
    neighbor = neighbor_slot(hop->port, hop->address);
    if (neighbor == route::no_neighbor) {
        counters.drop(drop_reason::neighbor_unresolved);
        mbuf_meta& meta = meta_of(m);
        meta.kind = meta_kind::resolve;
        meta.next_hop = hop->address;
        meta.next_hop_port = hop->port;
        to_control_ring(m);
        return false;
    }
    port = hop->port;
    return true;
}

uint32_t worker::neighbor_slot(uint16_t port, const ip_address& addr) {
    if (port == last_hop_.port && addr == last_hop_.address) return last_hop_.slot;
    const uint32_t slot = neighbors_->find(port, addr);
    if (slot != route::no_neighbor) last_hop_ = {port, addr, slot};
    return slot;
}

}  // namespace sluice::dataplane

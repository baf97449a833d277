#pragma once
// The TX sink's per-packet part, inline in every stage that transmits or drops (as it was in
// the one file that held the flow path): L2 header from the neighbour slot, the port's TX
// buffer, and the counted drop. flush_tx and the control rings are in tx.cpp. Worker lcore only.
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/worker.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

inline void worker::send(const model::snapshot& s, uint16_t port_index, uint32_t neighbor_slot,
                         rte_mbuf* m) {
    uint8_t* eth = rte_pktmbuf_mtod(m, uint8_t*);
    if (!neighbors_->mac(neighbor_slot, eth + packet::eth_dst)) {
        neighbors_->want(neighbor_slot);
        return drop(m, drop_reason::neighbor_unresolved);
    }
    std::memcpy(eth + packet::eth_src, s.ports[port_index].mac.data(), 6);
    enqueue_tx(port_index, m);
}

inline void worker::enqueue_tx(uint16_t port_index, rte_mbuf* m) {
    tx_buffer& b = tx_[port_index];
    b.pkts[b.count++] = m;
    if (b.count == setup_.burst * 2) flush_tx();
}

inline void worker::drop(rte_mbuf* m, drop_reason r) {
    counters.drop(r);
    // The reasons that concern a VIP are raised only after classify set the packet's kind and
    // VIP (a handoff that lost its VIP drops as no_vip, which is not one of them).
    if (const uint8_t slot = vip_drop_slots[unsigned(r)]; slot != no_vip_drop_slot) {
        const mbuf_meta& meta = meta_of(m);
        if (meta.kind == meta_kind::to_vip && meta.vip < model::max_vips)
            vip_drops.add(meta.vip, slot);
    }
    rte_pktmbuf_free(m);
}

}  // namespace sluice::dataplane

// ARP on the generator's ports (neighbors.hpp has the why and the threads).
#include "neighbors.hpp"

#include <algorithm>
#include <cstring>

#include "packet/arp.hpp"

namespace sluice::loadgen {

namespace pk = sluice::packet;

void arp_responder::announce(rte_mempool* pool, tx_buffer& tx) const {
    for (const ip_address& a : ours_) {
        rte_mbuf* m = nullptr;
        uint8_t* out = frame_room(pool, pk::arp_frame_len, m);
        if (!out) return;
        pk::write_arp(out, pk::arp_op_request, nullptr, mac_.data(), a, nullptr, lb_);
        tx.push(m);
    }
    tx.flush();
}

void arp_responder::handle(const rte_mbuf* m, rte_mempool* pool, tx_buffer& tx) {
    auto arp = pk::read_arp(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len);
    if (!arp) return;
    if (arp->sender_ip == lb_) {
        std::memcpy(lb_mac_.data(), arp->sender_mac, 6);
        lb_known_ = true;
    }
    if (arp->op != pk::arp_op_request || !is_ours(arp->target_ip)) return;
    rte_mbuf* reply = nullptr;
    uint8_t* out = frame_room(pool, pk::arp_frame_len, reply);
    if (!out) return;
    pk::write_arp(out, pk::arp_op_reply, arp->sender_mac, mac_.data(), arp->target_ip,
                  arp->sender_mac, arp->sender_ip);
    tx.push(reply);
    ++answered_;
}

bool arp_responder::is_ours(const ip_address& a) const {
    return std::find(ours_.begin(), ours_.end(), a) != ours_.end();
}

}  // namespace sluice::loadgen

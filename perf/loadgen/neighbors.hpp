#pragma once
// ARP on the generator's two ports. sluiced resolves its next hops by ARP (the clients' gateway,
// the backends) and has no static neighbours, so each side of the generator answers ARP requests
// for the addresses it plays, and at start asks the balancer for its own address from each of
// them: sluiced learns a sender that asks for one of its addresses (src/dataplane/
// neighbor_frames.cpp), and the reply gives the generator the balancer's MAC.
// IPv4 only (no neighbour discovery yet: docs/hil.md, "Not built yet").
//
// Threads: the generator lcore that polls the port calls it for the frames it receives.
#include <rte_mbuf.h>

#include <vector>

#include "frames.hpp"
#include "ports.hpp"

namespace sluice::loadgen {

class arp_responder {
public:
    // `ours`: addresses this port plays; `lb`: the balancer's address on the segment.
    arp_responder(mac_address mac, std::vector<ip_address> ours, ip_address lb)
        : mac_(mac), ours_(std::move(ours)), lb_(lb) {}

    // An ARP request from each of our addresses for the balancer's (queued on `tx`).
    void announce(rte_mempool* pool, tx_buffer& tx) const;
    // Takes a received non-IP frame: answers a request for one of ours, learns the balancer's
    // MAC from anything it sends. The caller frees the mbuf.
    void handle(const rte_mbuf* m, rte_mempool* pool, tx_buffer& tx);

    bool lb_known() const { return lb_known_; }
    const mac_address& lb_mac() const { return lb_mac_; }
    const mac_address& mac() const { return mac_; }
    uint64_t answered() const { return answered_; }

private:
    bool is_ours(const ip_address& a) const;

    mac_address mac_;
    std::vector<ip_address> ours_;
    ip_address lb_;
    bool lb_known_ = false;
    mac_address lb_mac_{};
    uint64_t answered_ = 0;
};

}  // namespace sluice::loadgen

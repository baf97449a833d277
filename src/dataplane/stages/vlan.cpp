// 802.1Q on tagged ports ([[port]] vlan) and VLAN sub-ports (several [[port]]s on one device,
// told apart by VID). The tag lives at the edges only: it is read, mapped to its port and
// removed right after RX (before classify, so parse, the MAC checks, ARP/NDP, the kernel path and
// the MTU check all see a plain Ethernet frame, and an IP length never counts the 4 tag bytes)
// and put back at TX, once per frame in flush_tx, the one point every frame leaves through
// (forwarded packets, RSTs, SYN-proxy frames, ICMP, and the control thread's ARP/NDP via
// from_control). The NIC does either half when it offers it (runtime::configure_port); otherwise
// DPDK's software helpers do. Devices without any tagged port never call in here. Worker lcore
// only.
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

bool worker::untag(const rx_device& d, rte_mbuf* m, uint16_t& port_index) {
    uint16_t vid = 0;  // an untagged frame: the device's untagged port, if it has one
    if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
        vid = RTE_VLAN_TCI_ID(m->vlan_tci);
    } else {
        // The NIC left the tag in the frame (no offload, or a driver that reinserts it):
        // rte_vlan_strip reads the TCI into vlan_tci and moves the MACs over the tag.
        const uint8_t* eth = rte_pktmbuf_mtod(m, const uint8_t*);
        if (m->data_len >= RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN &&
            packet::load_be16(eth + packet::eth_type) == RTE_ETHER_TYPE_VLAN) {
            if (rte_vlan_strip(m) != 0) {
                drop(m, drop_reason::wrong_vlan);
                return false;
            }
            vid = RTE_VLAN_TCI_ID(m->vlan_tci);
        }
    }
    // The priority bits are the sender's business; only the VID names the port. At most
    // max_ports entries: a scan beats any table.
    for (uint8_t k = 0; k < d.n_ports; ++k) {
        if (d.vids[k] == vid) {
            port_index = d.ports[k];
            return true;
        }
    }
    drop(m, drop_reason::wrong_vlan);
    return false;
}

void worker::tag_burst(uint16_t port_index, tx_buffer& b) {
    const port_vlan& v = setup_.vlans[port_index];
    uint16_t kept = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
        rte_mbuf* m = b.pkts[i];
        m->vlan_tci = v.id;  // priority 0: the LB does not classify traffic
        if (v.tx_offload) {
            m->ol_flags |= RTE_MBUF_F_TX_VLAN;
        } else if (rte_vlan_insert(&m) != 0) {
            // Every mbuf the LB sends has headroom and one reference; counted should that change.
            drop(m, drop_reason::vlan_insert_failed);
            continue;
        }
        b.pkts[kept++] = m;
    }
    b.count = kept;
}

}  // namespace sluice::dataplane

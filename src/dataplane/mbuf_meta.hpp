#pragma once
// Per-packet metadata kept in the mbuf's private area (sized at pool creation), so the RX stage's
// parse and hash travel with the packet through handoff rings instead of being redone.
#include <rte_mbuf.h>

#include <cstdint>

#include "flow/flow_key.hpp"
#include "packet/parse.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::dataplane {

enum class meta_kind : uint8_t {
    to_vip,      // client → VIP (vip index set)
    reply,       // backend → LB local address (full-NAT return traffic)
    neighbor,    // ARP or IPv6 neighbour discovery, for the control thread
    resolve,     // control: resolve `next_hop` on `next_hop_port`; the packet itself is dropped
    control_tx,  // from the control thread: send as is on `out_port`
    to_kernel,   // for the host's kernel (exception path): ICMP or a kernel socket's port
    icmp_error,  // an ICMP error quoting a packet of flow `key` (the flow's own direction)
    fragment,    // an IP fragment for the worker that reassembles its datagram
};

struct mbuf_meta {
    packet::parsed_frame parsed;
    flow::flow_key key;  // the packet's 5-tuple, built once by the RX stage
    uint64_t hash;       // flow_hash(key)
    uint16_t vip;        // VIP id (to_vip), model::no_vip_id otherwise
    meta_kind kind;
    uint8_t in_port;     // snapshot port index the frame arrived on
    uint8_t out_port;    // control_tx: snapshot port index to send on
    uint8_t generation;  // low byte of the snapshot generation `vip` was looked up in
    ip_address next_hop;
    uint16_t next_hop_port;
};

inline constexpr uint16_t mbuf_priv_size = (sizeof(mbuf_meta) + 7) / 8 * 8;

inline mbuf_meta& meta_of(rte_mbuf* m) {
    return *static_cast<mbuf_meta*>(rte_mbuf_to_priv(m));
}

}  // namespace sluice::dataplane

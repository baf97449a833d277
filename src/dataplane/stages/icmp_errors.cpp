// ICMP and ICMPv6 errors about full-NAT flows (packet/icmp_translate.hpp). RX side
// (classify_icmp_error): an error to a VIP comes from the client side about a packet the LB sent
// to a client (VIP -> client), one to an LB address from the backend side about a packet the LB
// sent to a backend (local address -> backend); the packet it quotes, reversed, is the key of
// the flow in the direction the error travels, and that key's owner gets it (the same worker as
// the flow's own packets). Owner side (forward_icmp_error): the flow looked up, the error
// rewritten for the flow's other end — as the client's or the backend's own packet quoted, the
// SYN proxy's sequence shift undone — and sent the way a packet of its direction goes. The flow
// itself is not touched: the end that gets the error judges it (Linux checks the quoted
// sequence number against its window), so a forged error cannot close or pin a flow here.
// Worker lcore only.
#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/icmp_translate.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using model::snapshot;

bool worker::classify_icmp_error(const snapshot& s, rte_mbuf* m, const uint8_t* dst, uint8_t family,
                                 unsigned& owner) {
    mbuf_meta& meta = meta_of(m);
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    const bool to_vip = s.has_vip_address(dst, family);
    if (!to_vip && s.local_address_port(dst, family) < 0) {
        drop(m, drop_reason::unsupported_protocol);
        return false;
    }
    packet::icmp_error_view v;
    // Readable but with a wrong checksum: dropped here, whoever it is for.
    const drop_reason r = packet::read_icmp_error(frame, meta.parsed, false, v);
    if (r == drop_reason::none &&
        packet::read_icmp_error(frame, meta.parsed, true, v) != drop_reason::none) {
        drop(m, drop_reason::bad_icmp);
        return false;
    }
    const uint8_t* quoted_l4 = frame + v.quoted_l4;
    const uint16_t quoted_sport = r == drop_reason::none ? packet::load_be16(quoted_l4) : 0;
    // To an LB address and not about a full-NAT flow (not TCP/UDP, or from a kernel socket's
    // port: a health probe): the host kernel's, as any other ICMP to its addresses.
    if (!to_vip && (r != drop_reason::none || setup_.ports.owner(quoted_sport) >= setup_.count)) {
        meta.kind = meta_kind::to_kernel;
        to_control_ring(m);
        return false;
    }
    if (r != drop_reason::none) {
        drop(m, r);
        return false;
    }
    // The quoted packet reversed: the key of the flow in the direction the error travels.
    const uint8_t* q = frame + v.quoted_ip;
    const unsigned alen = family == 4 ? 4 : 16;
    flow::flow_key& k = meta.key;
    std::memset(&k, 0, sizeof k);
    std::memcpy(k.src, q + (family == 4 ? packet::ip4_dst : packet::ip6_dst), alen);
    std::memcpy(k.dst, q + (family == 4 ? packet::ip4_src : packet::ip6_src), alen);
    k.src_port = packet::load_be16(quoted_l4 + packet::l4_dport);
    k.dst_port = quoted_sport;
    k.protocol = v.protocol;
    k.family = family;
    meta.hash = flow::flow_hash(k);
    meta.kind = meta_kind::icmp_error;
    meta.vip = model::no_vip_id;
    owner = to_vip ? flow::owner_of(meta.hash, setup_.count) : setup_.ports.owner(quoted_sport);
    return true;
}

void worker::forward_icmp_error(const snapshot& s, rte_mbuf* m) {
    const mbuf_meta& meta = meta_of(m);
    const flow::flow_hit hit = flows_->lookup(meta.key, meta.hash);
    if (!hit.entry) return drop(m, drop_reason::icmp_no_flow);
    const flow::flow_entry& f = *hit.entry;
    // As for replies: only the backend's segment speaks for the backend side.
    if (hit.dir == direction::from_backend && meta.in_port != f.port_backend)
        return drop(m, drop_reason::reply_wrong_port);
    // A proxied flow whose backend handshake is pending has no sequence shift yet: the client
    // only knows the LB, which answers for the backend until the splice.
    if ((f.flags & flow::flow_flag::proxied) && f.state == flow::tcp_state::syn_sent)
        return drop(m, drop_reason::proxy_pending);
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    packet::icmp_error_view v;
    packet::read_icmp_error(frame, meta.parsed, false, v);  // verified by classify
    const uint8_t* local = flows_->local_address(f);
    const flow::flow_endpoint& ep = flows_->endpoint(f);
    packet::icmp_error_nat n;
    uint16_t out_port;
    uint32_t neighbor;
    if (hit.dir == direction::from_backend) {  // to the client, about its own packet
        n = {ep.vip,
             f.client_addr,
             f.client_addr,
             ep.vip,
             f.client_port,
             ep.vip_port,
             proxy_.seq_shift(f, direction::from_client)};
        out_port = f.port_client;
        neighbor = f.neighbor_client;
    } else {  // to the backend, about its own packet
        n = {local,
             ep.backend,
             ep.backend,
             local,
             ep.backend_port,
             f.local_port,
             proxy_.seq_shift(f, direction::from_backend)};
        out_port = f.port_backend;
        neighbor = f.neighbor_backend;
    }
    // About a NAT64 / NAT46 flow: the other end is of the other family (stages/nat64.cpp).
    if (f.extra & flow::flow_extra::translated) [[unlikely]]
        return translate_icmp_error(s, m, v, n, out_port, neighbor);
    const drop_reason r = packet::rewrite_icmp_error(frame, meta.parsed, v, n);
    if (r != drop_reason::none) return drop(m, r);
    bump(counters.icmp_errors_translated);
    send(s, out_port, neighbor, m);
}

}  // namespace sluice::dataplane

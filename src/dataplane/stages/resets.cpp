// A worker's resets (the resets stage): RSTs the load balancer builds itself, towards both ends
// of a flow it resets (drain deadline, disable --reset, a failed backend) and towards a client
// whose SYN finds no backend (all_down = "reset"). Worker lcore only.
#include <rte_mbuf.h>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/tcp_reset.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using model::snapshot;

void worker::reset_flow(const snapshot& s, flow_entry& f, model::reset_cause why) {
    const bool tcp = flows_->is_tcp(f);
    if (tcp && (f.state == flow::tcp_state::close || f.state == flow::tcp_state::time_wait)) {
        // Already closed on both ends: nothing to reset, it just leaves before its timeout.
        bump(counters.flows_expired);
        forget(f);
        return;
    }
    if (tcp) {
        send_reset(s, f, direction::from_backend);  // to the client, from the VIP
        send_reset(s, f, direction::from_client);   // to the backend, from the local address
    }
    switch (why) {
        case model::reset_cause::drain_timeout:
            bump(counters.flows_reset_drain_timeout);
            break;
        case model::reset_cause::disabled:
            bump(counters.flows_reset_disabled);
            break;
        case model::reset_cause::backend_down:
            bump(counters.flows_reset_backend_down);
            break;
    }
    forget(f);
}

void worker::refuse_with_reset(const snapshot& s, rte_mbuf* syn) {
    // RST|ACK from the VIP acknowledging the client's SYN: the connect fails at once instead of
    // retrying into a VIP with no backend (all_down = "reset").
    const mbuf_meta& meta = meta_of(syn);
    if (meta.parsed.tcp_flags & packet::tcp_flag::rst) return;
    const uint8_t* tcp = rte_pktmbuf_mtod(syn, const uint8_t*) + meta.parsed.l4_offset;
    const uint32_t header = uint32_t(tcp[packet::tcp_off] >> 4) * 4;
    const uint8_t flags = meta.parsed.tcp_flags;
    packet::tcp_reset_spec r;
    r.family = meta.key.family;
    r.src = meta.key.dst;
    r.dst = meta.key.src;
    r.src_port = meta.key.dst_port;
    r.dst_port = meta.key.src_port;
    r.seq = (flags & packet::tcp_flag::ack) ? packet::load_be32(tcp + packet::tcp_ack) : 0;
    r.ack = packet::load_be32(tcp + packet::tcp_seq) + (meta.parsed.l4_length - header) +
            ((flags & packet::tcp_flag::syn) ? 1 : 0) + ((flags & packet::tcp_flag::fin) ? 1 : 0);
    ip_address client = meta.key.family == 4 ? ip_address::v4_from_network(meta.key.src)
                                             : ip_address::v6_from_network(meta.key.src);
    auto hop = s.routes.lookup(client);
    if (!hop) return;
    uint32_t neighbor = neighbor_slot(hop->port, hop->address);
    if (neighbor == route::no_neighbor) return;
    transmit_reset(s, r, hop->port, neighbor);
}

void worker::send_reset(const snapshot& s, const flow_entry& f, direction towards) {
    // `towards` names the direction whose receiver gets the RST: from_backend = the client.
    // Its seq is what the receiver expects next (the other side's seq_next); when that side
    // never sent anything (SYN not answered) the RST's ACK of the receiver's SYN suffices.
    const bool to_client = towards == direction::from_backend;
    const size_t sender =
        to_client ? size_t(direction::from_backend) : size_t(direction::from_client);
    const size_t receiver = 1 - sender;
    const uint8_t sender_valid =
        to_client ? flow::flow_flag::seq_backend : flow::flow_flag::seq_client;
    const uint8_t receiver_valid =
        to_client ? flow::flow_flag::seq_client : flow::flow_flag::seq_backend;
    packet::tcp_reset_spec r;
    const flow::flow_endpoint& ep = flows_->endpoint(f);
    r.family = to_client ? flow::client_family(f) : flow::backend_family(f);
    if (to_client) {
        r.src = ep.vip;
        r.dst = f.client_addr;
        r.src_port = ep.vip_port;
        r.dst_port = f.client_port;
    } else {
        r.src = flows_->local_address(f);
        r.dst = ep.backend;
        r.src_port = f.local_port;
        r.dst_port = ep.backend_port;
    }
    r.seq = (f.flags & sender_valid) ? f.seq_next[sender] : 0;
    r.ack = (f.flags & receiver_valid) ? f.seq_next[receiver] : 0;
    // A proxied flow's seq_next are as each direction's receiver counts (segments are noted
    // after translation): the backend's ISN differs from our cookie by seq_delta, ours towards
    // the backend from the client's by backend_isn - client_isn.
    // The ACK is in the receiver's own numbers: its seq_next less the shift of its own
    // direction (syn_proxy::seq_shift, 0 for an unproxied flow).
    r.ack -= proxy_.seq_shift(f, to_client ? direction::from_client : direction::from_backend);
    // Without the receiver's own numbers (its SYN-ACK not seen: a proxied flow still waiting
    // for the backend, or a SYN never answered) only a bare RST is acceptable to it.
    const bool pending_proxy =
        (f.flags & flow::flow_flag::proxied) && f.state == flow::tcp_state::syn_sent;
    if (!(f.flags & receiver_valid) || (!to_client && pending_proxy)) r.with_ack = false;
    if (to_client)
        transmit_reset(s, r, f.port_client, f.neighbor_client);
    else
        transmit_reset(s, r, f.port_backend, f.neighbor_backend);
}

void worker::transmit_reset(const snapshot& s, const packet::tcp_reset_spec& r, uint16_t port,
                            uint32_t neighbor) {
    rte_mbuf* m = build_frame(uint16_t(packet::tcp_reset_max_len),
                              [&](uint8_t* out) { return packet::build_tcp_reset(out, r); });
    if (!m) {
        bump(counters.resets_unsent);
        return;
    }
    bump(counters.resets_sent);
    send(s, port, neighbor, m);
}

}  // namespace sluice::dataplane

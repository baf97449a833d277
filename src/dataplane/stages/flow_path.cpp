// The flow path: the owned packets of a burst, staged (bucket prefetch), looked up in this
// worker's flow-table shard, a new flow opened on a miss (new_flow.cpp, syn_proxy.cpp), RST
// judged, SYN-proxy translation, payload rules (payload_rules.cpp), TCP state and timeout, the
// full-NAT rewrite and the TX sink (tx.hpp). Worker lcore only.
#include <rte_mbuf.h>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "flow/tcp_track.hpp"
#include "packet/rewrite.hpp"
#include "packet/sanity.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using flow::flow_key;
using model::snapshot;

void worker::process_owned(const snapshot& s, rte_mbuf** pkts, uint16_t n) {
    // Stage the burst in two passes so that memory latency overlaps across packets: every
    // packet's bucket lines are requested, then (buckets arriving) every packet's candidate
    // entries, and only then does the first lookup run.
    for (uint16_t i = 0; i < n; ++i) flows_->prefetch(meta_of(pkts[i]).hash);
    for (uint16_t i = 0; i < n; ++i) flows_->prefetch_entries(meta_of(pkts[i]).hash);
    for (uint16_t i = 0; i < n; ++i) forward(s, pkts[i]);
}

bool worker::within_packet_limit(const model::vip_entry& vip) {
    if (!vip.protect.guard || vip.protect.packets.unlimited()) return true;
    model::guard_worker& g = guard_of(vip);
    if (protect::take(g.packets, vip.protect.packets, now_tsc_)) return true;
    bump(g.refused[size_t(model::refusal::packets)]);
    return false;
}

void worker::rewrite_and_send(const snapshot& s, flow_entry& f, direction dir, rte_mbuf* m) {
    const mbuf_meta& meta = meta_of(m);
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const flow::flow_endpoint& ep = flows_->endpoint(f);
    packet::nat_target t;
    uint16_t out_port;
    uint32_t neighbor;
    if (dir == direction::from_client) {
        t = {flows_->local_address(f), ep.backend, f.local_port, ep.backend_port};
        out_port = f.port_backend;
        neighbor = f.neighbor_backend;
    } else {
        t = {ep.vip, f.client_addr, ep.vip_port, f.client_port};
        out_port = f.port_client;
        neighbor = f.neighbor_client;
    }
    if (f.extra & flow::flow_extra::translated) [[unlikely]] {
        if (!translate_family(s, m, t, out_port)) return;  // consumed
    } else {
        // Larger than the egress port carries: the sender is told, before any rewrite (the
        // error quotes the packet as it was sent).
        if (meta.parsed.l3_length > s.ports[out_port].mtu &&
            !may_fragment(frame, meta.parsed, false))
            return too_big(s, m, s.ports[out_port].mtu);
        drop_reason r = packet::rewrite_full_nat(frame, meta.parsed, t);
        if (r != drop_reason::none) return drop(m, r);
    }
    conns_->traffic(f.backend_id, dir == direction::from_client, m->pkt_len);
    if (m->nb_segs > 1 || m->pkt_len > s.ports[out_port].mtu + packet::ethernet_header_len)
        [[unlikely]]
        return send_fragments(s, out_port, neighbor, m);
    send(s, out_port, neighbor, m);
}

void worker::forward(const snapshot& s, rte_mbuf* m) {
    mbuf_meta& meta = meta_of(m);
    if (meta.kind == meta_kind::icmp_error) return forward_icmp_error(s, m);
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const flow_key& key = meta.key;
    const bool tcp = meta.parsed.protocol == packet::ipproto_tcp;
    const uint8_t tflags = meta.parsed.tcp_flags;
    const bool pure_syn =
        tcp && (tflags & (packet::tcp_flag::syn | packet::tcp_flag::ack | packet::tcp_flag::rst)) ==
                   packet::tcp_flag::syn;
    if (meta.kind == meta_kind::to_vip && !within_packet_limit(s.vip(meta.vip)))
        return drop(m, drop_reason::limit_packets);

    const uint8_t* tcp_header = frame + meta.parsed.l4_offset;
    flow::flow_hit hit = flows_->lookup(key, meta.hash);
    // A reply names a flow by the LB's own address and port: only the segment the flow's
    // backend lives on may send one (anything else is forged).
    if (hit.entry && hit.dir == direction::from_backend && meta.in_port != hit.entry->port_backend)
        return drop(m, drop_reason::reply_wrong_port);
    // Most packets: an established flow's data or ACK (flow/tcp_track.hpp: plain_segment). The
    // general path below would do the same for them through more checks.
    if (hit.entry && tcp && flow::plain_segment(*hit.entry, tflags)) [[likely]] {
        flow_entry& f = *hit.entry;
        flow::track_plain(f, hit.dir, flow::read_segment(tcp_header, meta.parsed.l4_length));
        const uint32_t timeout = s.timeouts.tcp[size_t(flow::tcp_state::established)];
        if (timeout) flows_->set_expire(&f, now_tick_ + timeout);
        return rewrite_and_send(s, f, hit.dir, m);
    }
    if (hit.entry && pure_syn && hit.dir == direction::from_client &&
        (hit.entry->state == flow::tcp_state::time_wait ||
         hit.entry->state == flow::tcp_state::close)) {
        if (!retire_finished(*hit.entry, hit.dir, tcp_header))
            return drop(m, drop_reason::syn_not_new);
        hit = {};
    }
    if (!hit.entry) {
        hit.entry = open_flow(s, m, pure_syn);
        if (!hit.entry) return;  // consumed
        hit.dir = direction::from_client;
    }
    flow_entry& f = *hit.entry;
    if (f.flags & flow::flow_flag::proxied && f.state == flow::tcp_state::syn_sent)
        return proxy_pending(s, f, hit.dir, m);
    uint8_t state_flags = tflags;  // what the state machine sees (an inexact RST is not one)
    // The segment in the sender's own numbers, before any SYN-proxy translation.
    const flow::tcp_segment raw =
        tcp ? flow::read_segment(tcp_header, meta.parsed.l4_length) : flow::tcp_segment{};
    if (tcp && (tflags & packet::tcp_flag::rst) && !judge_reset(f, hit.dir, raw, state_flags))
        return drop(m, drop_reason::rst_out_of_window);
    if ((f.flags & flow::flow_flag::proxied) && !proxy_.translate(f, hit.dir, m))
        return drop(m, drop_reason::bad_tcp_options);
    if (!(f.flags & flow::flow_flag::inspected) && hit.dir == direction::from_client) {
        const drop_reason r = inspect_payload(s, s.vip(meta.vip), f, m, raw.seq);
        if (r != drop_reason::none) return drop(m, r);
    }

    if (hit.dir == direction::from_backend) f.extra |= flow::flow_extra::replied;
    // The segment as it leaves: read again only when the SYN proxy renumbered it.
    const uint32_t timeout =
        tcp ? track_tcp(s, f, hit.dir, state_flags, tcp_header,
                        (f.flags & flow::flow_flag::proxied)
                            ? flow::read_segment(tcp_header, meta.parsed.l4_length)
                            : raw)
            : s.timeouts.udp;
    if (timeout) flows_->set_expire(&f, now_tick_ + timeout);
    if (tcp && (tflags & packet::tcp_flag::syn)) clamp_mss(s, f, m);  // stages/mss_clamp.cpp

    rewrite_and_send(s, f, hit.dir, m);
}

drop_reason worker::refused_source(const snapshot& s, const uint8_t* src, uint8_t family) const {
    if (packet::martian_source(src, family)) return drop_reason::martian_source;
    if (s.has_vip_address(src, family) || s.local_address_port(src, family) >= 0)
        return drop_reason::own_address_source;
    return drop_reason::none;
}

flow_entry* worker::open_flow(const snapshot& s, rte_mbuf* m, bool pure_syn) {
    mbuf_meta& meta = meta_of(m);
    const bool tcp = meta.parsed.protocol == packet::ipproto_tcp;
    const uint8_t tflags = meta.parsed.tcp_flags;
    if (meta.kind != meta_kind::to_vip) {
        drop(m, drop_reason::no_flow);
        return nullptr;
    }
    // No client has these sources: no flow, no SYN-ACK, no reset towards them.
    if (const drop_reason r = refused_source(s, meta.key.src, meta.key.family);
        r != drop_reason::none) {
        drop(m, r);
        return nullptr;
    }
    if (tcp) {
        const model::vip_entry& vip = s.vip(meta.vip);
        if (vip.protect.syn_proxy != config::syn_proxy_mode::off && proxy_.enabled()) {
            // "on" needs no guard: only "auto" decides per tick (syn_proxy::engaged).
            if (pure_syn && (vip.protect.syn_proxy == config::syn_proxy_mode::on ||
                             proxy_.engaged(vip, guard_of(vip), now_tick_, all_conns_))) {
                answer_syn(s, m);
                return nullptr;
            }
            using namespace packet::tcp_flag;
            if ((tflags & (syn | rst | ack)) == ack) {
                accept_cookie_ack(s, m);
                return nullptr;
            }
        }
        if (!pure_syn) {
            drop(m, drop_reason::no_flow);
            return nullptr;
        }
    }
    drop_reason why = drop_reason::none;
    flow_entry* f = create_flow(s, m, meta.key, why);
    // none: handed to control for resolution
    if (!f && why != drop_reason::none) drop(m, why);
    return f;
}

bool worker::retire_finished(flow_entry& f, direction dir, const uint8_t* tcp_header) {
    // A new connection on the tuple of a finished one starts over with a fresh flow (and a
    // fresh local tuple, so the backend's TIME_WAIT does not meet the new SYN) — when its
    // sequence number says it is new, not a replay or a forgery.
    const uint32_t seq = packet::load_be32(tcp_header + packet::tcp_seq);
    if (!flow::plausible_new_syn(f, seq + proxy_.seq_shift(f, dir))) return false;
    forget(f);
    bump(counters.flows_reused);
    return true;
}

bool worker::judge_reset(const flow_entry& f, direction dir, const flow::tcp_segment& raw,
                         uint8_t& state_flags) {
    switch (flow::judge_rst(f, dir, raw, proxy_.seq_shift(f, dir))) {
        case flow::rst_verdict::out_of_window:
            return false;
        case flow::rst_verdict::in_window:
            bump(counters.rst_in_window);
            state_flags = uint8_t(state_flags & ~packet::tcp_flag::rst);
            break;
        case flow::rst_verdict::accept:
            bump(counters.rst_accepted);
            break;
    }
    return true;
}

uint32_t worker::track_tcp(const snapshot& s, flow_entry& f, direction dir, uint8_t state_flags,
                           const uint8_t* tcp_header, const flow::tcp_segment& seg) {
    auto t = flow::tcp_next_state(f.state, f.flags, dir, state_flags);
    const bool connecting = f.state == flow::tcp_state::syn_sent;
    if (t.state != f.state) {
        if (connecting && (f.flags & flow::flow_flag::watch_connect) &&
            dir == direction::from_backend)
            conns_->connect_result(f.backend_id, t.state == flow::tcp_state::syn_recv);
        count_flow(f, -1);
        f.state = t.state;
        count_flow(f, +1);
    }
    f.flags = t.flags;
    flow::track_segment(f, dir, tcp_header, seg);
    uint32_t timeout = s.timeouts.tcp[size_t(f.state)];
    const model::vip_entry* vip =
        f.state == flow::tcp_state::syn_recv ? s.vip_by_id(flows_->vip_id(f)) : nullptr;
    if (vip && vip->protect.embryonic_ticks) timeout = vip->protect.embryonic_ticks;
    if (f.state == flow::tcp_state::syn_sent && (f.flags & flow::flow_flag::watch_connect)) {
        // The connect timeout runs from the first SYN: retransmissions do not extend it.
        timeout = 0;
    }
    return timeout;
}

}  // namespace sluice::dataplane

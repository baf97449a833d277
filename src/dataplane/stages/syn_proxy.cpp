// The worker's side of the SYN proxy (syn_proxy.hpp owns the proxy's state and logic): routes
// and transmits the frames it specifies, creates the flow of an accepted cookie, resets and
// forgets flows whose handshake failed, and replays held segments through the flow path.
// Worker lcore only.
#include <rte_mbuf.h>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/syn_proxy_frames.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using model::snapshot;

void worker::answer_syn(const snapshot& s, rte_mbuf* m) {
    mbuf_meta& meta = meta_of(m);
    const uint8_t* tcp = rte_pktmbuf_mtod(m, const uint8_t*) + meta.parsed.l4_offset;
    packet::handshake_spec a;
    const drop_reason r = proxy_.syn_ack(meta, tcp, s.vip(meta.vip).protect.syn_proxy_mss, a);
    if (r != drop_reason::none) return drop(m, r);
    const flow::flow_key& key = meta.key;
    ip_address client_addr = key.family == 4 ? ip_address::v4_from_network(key.src)
                                             : ip_address::v6_from_network(key.src);
    uint16_t port;
    uint32_t neighbor;
    if (!hop_towards(s, m, client_addr, port, neighbor)) return;
    // A fresh frame: the spec's addresses point into the SYN's metadata, freed afterwards.
    rte_mbuf* out = build_frame(uint16_t(packet::handshake_max_len),
                                [&](uint8_t* data) { return packet::build_syn_ack(data, a); });
    if (!out) return drop(m, drop_reason::no_mbuf);
    rte_pktmbuf_free(m);
    bump(counters.syn_cookies_sent);
    send(s, port, neighbor, out);
}

void worker::accept_cookie_ack(const snapshot& s, rte_mbuf* m) {
    mbuf_meta& meta = meta_of(m);
    const uint8_t* tcp = rte_pktmbuf_mtod(m, const uint8_t*) + meta.parsed.l4_offset;
    syn_proxy::cookie_ack a;
    const drop_reason r = proxy_.check_ack(meta, tcp, a);
    if (r != drop_reason::none) return drop(m, r);
    drop_reason why = drop_reason::none;
    flow_entry* f = create_flow(s, m, meta.key, why);
    if (!f) {
        if (why == drop_reason::none) return;  // handed to control for resolution
        return drop(m, why);
    }
    // The backend's SYN carries the client's MSS (from the cookie), clamped like any SYN.
    const uint16_t clamp = s.vip(meta.vip).mss_clamp;
    if (clamp && a.client.mss > clamp) {
        a.client.mss = clamp;
        bump(counters.mss_clamped);
    }
    proxy_.open(*f, a, m, now_tick_, now_tsc_);
    send_backend_syn(s, *f);
}

void worker::send_backend_syn(const snapshot& s, const flow_entry& f) {
    const packet::handshake_spec syn = proxy_.backend_syn(f);
    rte_mbuf* out = build_frame(uint16_t(packet::handshake_max_len),
                                [&](uint8_t* data) { return packet::build_syn(data, syn); });
    if (!out) {
        // Nothing is lost: the held ACK stays, and the timer re-sends the SYN.
        counters.drop(drop_reason::no_mbuf);
        return;
    }
    conns_->traffic(f.backend_id, true, out->pkt_len);
    send(s, f.port_backend, f.neighbor_backend, out);
}

void worker::proxy_pending(const snapshot& s, flow_entry& f, direction dir, rte_mbuf* m) {
    using namespace packet::tcp_flag;
    const mbuf_meta& meta = meta_of(m);
    const uint8_t flags = meta.parsed.tcp_flags;
    const uint8_t* tcp = rte_pktmbuf_mtod(m, const uint8_t*) + meta.parsed.l4_offset;
    if (dir == direction::from_client) {
        if (flags & rst) {
            // The client gave up: so does the backend connection being opened.
            send_reset(s, f, direction::from_client);
            forget(f);
            rte_pktmbuf_free(m);
            return;
        }
        if (proxy_.has_slot(f)) {
            if (!proxy_.hold(f, m)) return drop(m, drop_reason::proxy_held_limit);
            return;
        }
        // No room: the client retransmits. Our SYN may have been lost too: send it again.
        send_backend_syn(s, f);
        return drop(m, drop_reason::proxy_pending);
    }
    const bool watched = f.flags & flow::flow_flag::watch_connect;
    if (flags & rst) {
        if (watched) conns_->connect_result(f.backend_id, false);
        bump(counters.syn_proxy_backend_failed);
        send_reset(s, f, direction::from_backend);  // to the client, in its numbers
        forget(f);
        rte_pktmbuf_free(m);
        return;
    }
    const drop_reason r = proxy_.splice(f, tcp, flags);
    if (r != drop_reason::none) return drop(m, r);
    if (watched) conns_->connect_result(f.backend_id, true);
    conns_->traffic(f.backend_id, false, m->pkt_len);
    rte_pktmbuf_free(m);

    count_flow(f, -1);
    f.state = flow::tcp_state::established;
    count_flow(f, +1);
    flows_->set_expire(&f, now_tick_ + s.timeouts.tcp[size_t(flow::tcp_state::established)]);
    bump(counters.syn_proxy_spliced);
    replay_held(s, f);
}

void worker::replay_held(const snapshot& s, flow_entry& f) {
    // Replay what the client sent meanwhile (its handshake ACK first) through the normal path:
    // translation, payload rules, sequence tracking, NAT. The VIP index is looked up again in
    // this snapshot.
    rte_mbuf* held[proxy_state::max_held];
    const unsigned n = proxy_.take_held(f, held);
    for (unsigned i = 0; i < n; ++i) {
        mbuf_meta& hm = meta_of(held[i]);
        hm.vip = s.find_vip(hm.key.dst, hm.key.family, hm.key.dst_port, hm.key.protocol);
        hm.generation = uint8_t(s.generation);
        if (hm.vip == model::no_vip_id) {
            drop(held[i], drop_reason::no_vip);
            continue;
        }
        forward(s, held[i]);
    }
}

}  // namespace sluice::dataplane

// The worker's SYN proxy (syn_proxy = "on" | "auto"; docs/architecture.md, "SYN proxy"):
//   1. a client's SYN is answered with a SYN-ACK whose ISN is a SYN cookie; nothing is stored;
//   2. the client's ACK (no flow yet) is validated against the cookie; a valid one creates the
//      flow (limits, scheduling, local port as for any new flow), is held, and the LB opens the
//      backend connection with a SYN carrying the client's ISN and options;
//   3. the backend's SYN-ACK fixes the ISN and timestamp deltas; the held segments are replayed
//      through forward() and every later segment is translated (packet/tcp_translate.hpp).
// A backend never sees a SYN for a handshake the client did not complete. Our SYN carries our
// own ISN (RFC 6528, syn_cookie.hpp backend_isn) and TSval clock, so that a backend still in
// TIME_WAIT on a reused full-NAT tuple accepts it; it is re-sent on a timer (1 s, 2 s, 4 s …)
// until the embryonic timeout; held segments are capped per worker. Worker lcore only.
#include <rte_cycles.h>

#include <algorithm>
#include <cstring>

#include "dataplane/worker.hpp"
#include "packet/syn_proxy_frames.hpp"
#include "packet/tcp_translate.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using model::snapshot;

namespace {

// The window scale our SYN-ACK offers when the client can use one: Linux's usual choice for
// the receive buffers of a server, so that with Linux backends no rescaling is needed.
constexpr uint8_t offered_wscale = 7;

// Our clocks: the ISN's 4 µs ticks (RFC 6528).
uint32_t clock_4us(uint64_t tsc, uint64_t tsc_hz) {
    return uint32_t(tsc / std::max<uint64_t>(1, tsc_hz / 250000));
}

}  // namespace

bool worker::proxy_engaged(const model::vip_entry& vip) {
    const model::vip_protection& p = vip.protect;
    if (p.syn_proxy == config::syn_proxy_mode::on) return true;
    model::guard_worker& g = guard_of(vip);
    if (g.syn_tick != now_tick_) {
        // Once per tick: the SYNs of the last tick (this worker's share of the rate; none when
        // a tick went by without any) and the VIP's half-open flows decide; half the thresholds
        // release it (hysteresis).
        uint64_t half_open = 0;
        for (const model::backend_entry& b : vip.backends)
            half_open += sum_connections(all_conns_, b.id).half_open;
        const uint32_t last_tick = now_tick_ - g.syn_tick == 1 ? g.syns : 0;
        const bool was = g.proxy_engaged.load(std::memory_order_relaxed);
        const bool hot =
            last_tick >= p.syn_threshold_per_tick || half_open >= p.half_open_threshold;
        const bool cold =
            last_tick < p.syn_threshold_per_tick / 2 && half_open < p.half_open_threshold / 2;
        const bool now = was ? !cold : hot;
        if (now != was) {
            g.proxy_engaged.store(now, std::memory_order_relaxed);
            if (now) bump(g.proxy_engagements);
        }
        g.syn_tick = now_tick_;
        g.syns = 0;
    }
    ++g.syns;
    return g.proxy_engaged.load(std::memory_order_relaxed);
}

void worker::answer_syn(const snapshot& s, rte_mbuf* m) {
    const mbuf_meta& meta = meta_of(m);
    const uint8_t* tcp = rte_pktmbuf_mtod(m, const uint8_t*) + meta.parsed.l4_offset;
    const unsigned header = unsigned(tcp[packet::tcp_off] >> 4) * 4;
    packet::syn_options client;
    if (!packet::parse_tcp_options(tcp, header, client))
        return drop(m, drop_reason::bad_tcp_options);
    const flow::flow_key& key = meta.key;
    const uint32_t client_isn = packet::load_be32(tcp + packet::tcp_seq);
    const unsigned mss_index = protect::cookie_mss_index(client.mss, key.family);

    packet::handshake_spec a{};
    a.family = key.family;
    a.src = key.dst;
    a.dst = key.src;
    a.src_port = key.dst_port;
    a.dst_port = key.src_port;
    a.seq =
        protect::make_syn_cookie(*setup_.cookie_secret, key, client_isn, cookie_period_, mss_index);
    a.ack = client_isn + 1;
    a.window = 65535;
    a.mss = s.vip(meta.vip).protect.syn_proxy_mss;
    // Window scale and SACK can only be remembered in the timestamp (syn_cookie.hpp).
    a.timestamps = client.timestamps;
    a.wscale = client.timestamps && client.wscale != packet::no_wscale ? offered_wscale
                                                                       : packet::no_wscale;
    a.sack_ok = client.timestamps && client.sack_ok;
    if (client.timestamps) {
        a.tsval = protect::encode_cookie_tsval(now_ms_, client);
        a.tsecr = client.tsval;
    }
    ip_address client_addr = key.family == 4 ? ip_address::v4_from_network(key.src)
                                             : ip_address::v6_from_network(key.src);
    auto hop = s.routes.lookup(client_addr);
    if (!hop) return drop(m, drop_reason::no_route);
    const uint32_t neighbor = neighbors_->find(hop->port, hop->address);
    if (neighbor == route::no_neighbor) {
        counters.drop(drop_reason::neighbor_unresolved);
        mbuf_meta& mm = meta_of(m);
        mm.kind = meta_kind::resolve;
        mm.next_hop = hop->address;
        mm.next_hop_port = hop->port;
        return to_control_ring(m);
    }
    // A fresh frame: the spec's addresses point into the SYN's metadata, freed afterwards.
    rte_mbuf* out = build_frame(uint16_t(packet::handshake_max_len),
                                [&](uint8_t* data) { return packet::build_syn_ack(data, a); });
    if (!out) return drop(m, drop_reason::no_mbuf);
    rte_pktmbuf_free(m);
    bump(counters.syn_cookies_sent);
    send(s, hop->port, neighbor, out);
}

void worker::accept_cookie_ack(const snapshot& s, rte_mbuf* m) {
    proxy_state* table = proxy_table_;
    mbuf_meta& meta = meta_of(m);
    const uint8_t* tcp = rte_pktmbuf_mtod(m, const uint8_t*) + meta.parsed.l4_offset;
    const unsigned header = unsigned(tcp[packet::tcp_off] >> 4) * 4;
    const uint32_t seq = packet::load_be32(tcp + packet::tcp_seq);
    const uint32_t ack = packet::load_be32(tcp + packet::tcp_ack);
    auto mss_index =
        protect::check_syn_cookie(*setup_.cookie_secret, meta.key, seq, ack, cookie_period_);
    if (!mss_index || !table) return drop(m, drop_reason::bad_cookie);
    // Every pending flow holds at least this ACK: at the cap, no new one. A client with data
    // retransmits it and the cookie still validates.
    if (held_total_ >= setup_.proxy_max_held) return drop(m, drop_reason::proxy_held_limit);
    packet::syn_options seen;
    if (!packet::parse_tcp_options(tcp, header, seen)) return drop(m, drop_reason::bad_tcp_options);
    packet::syn_options client;
    if (seen.timestamps) client = protect::decode_cookie_tsecr(seen.tsecr);
    client.tsval = seen.tsval;
    const auto& mss_table = meta.key.family == 4 ? protect::cookie_mss_v4 : protect::cookie_mss_v6;
    client.mss = mss_table[*mss_index & 3];

    drop_reason why = drop_reason::none;
    flow_entry* f = create_flow(s, m, meta.key, why);
    if (!f) {
        if (why == drop_reason::none) return;  // handed to control for resolution
        return drop(m, why);
    }
    bump(counters.syn_proxy_accepted);
    f->flags |= flow::flow_flag::proxied;
    const uint32_t index = flows_->index_of(f);
    proxy_state& p = table[index];
    std::memset(&p, 0, sizeof p);
    p.retransmit_level = uint8_t(syn_retransmit_queue::levels);
    p.client_isn = seq - 1;
    {
        flow::flow_key tuple;
        std::memset(&tuple, 0, sizeof tuple);
        std::memcpy(tuple.src, flows_->local_address(*f), 16);
        std::memcpy(tuple.dst, f->backend_addr, 16);
        tuple.src_port = f->local_port;
        tuple.dst_port = f->backend_port;
        tuple.protocol = packet::ipproto_tcp;
        tuple.family = f->client.family;
        p.backend_isn =
            protect::backend_isn(*setup_.cookie_secret, tuple, clock_4us(now_tsc_, setup_.tsc_hz));
    }
    // Each direction's next sequence number as its receiver counts, so that a reset sent before
    // the splice (embryonic timeout) is accepted: the backend's side in its numbers (our ISN),
    // the client's in its own.
    f->seq_next[size_t(direction::from_client)] = seq + (p.backend_isn - p.client_isn);
    f->seq_next[size_t(direction::from_backend)] = ack;
    f->flags |= flow::flow_flag::seq_client | flow::flow_flag::seq_backend;
    p.cookie_isn = ack - 1;
    p.client_tsval = client.tsval;
    p.mss = client.mss;
    p.client_wscale = client.wscale;
    p.our_wscale = client.timestamps && client.wscale != packet::no_wscale ? offered_wscale
                                                                           : packet::no_wscale;
    p.backend_wscale = packet::no_wscale;
    p.sack_ok = client.sack_ok;
    p.timestamps = client.timestamps;
    if (client.timestamps) {
        p.ts_delta = seen.tsecr;              // our SYN-ACK's TSval until the backend's
        p.ts_shift = now_ms_ - client.tsval;  // towards the backend: our clock, growing per tuple
    }
    hold(p, m);
    p.retransmit_due = now_tick_ + ticks_per_second;
    retransmits_.push(table, index, 0);
    send_backend_syn(s, *f, p);
}

bool worker::hold(proxy_state& p, rte_mbuf* m) {
    if (held_total_ >= setup_.proxy_max_held) return false;
    p.held[p.held_count++] = m;
    ++held_total_;
    return true;
}

void worker::retransmit_backend_syns(const snapshot& s) {
    proxy_state* table = proxy_table_;
    if (!table) return;
    // A bounded number per pass, so that many flows due at once do not stall the RX loop; the
    // rest stay at the heads and go out in the next passes.
    unsigned budget = 64;
    for (unsigned level = 0; level < syn_retransmit_queue::levels; ++level) {
        while (budget && retransmits_.head[level] != no_proxy_link) {
            const uint32_t i = retransmits_.head[level];
            proxy_state& p = table[i];
            if (int32_t(p.retransmit_due - now_tick_) > 0) break;
            retransmits_.unlink(table, i);
            send_backend_syn(s, flows_->at(i), p);
            bump(counters.syn_proxy_syn_retransmits);
            --budget;
            const unsigned next = std::min(level + 1, syn_retransmit_queue::levels - 1);
            p.retransmit_due = now_tick_ + (ticks_per_second << next);
            retransmits_.push(table, i, next);
        }
    }
}

void worker::send_backend_syn(const snapshot& s, const flow_entry& f, const proxy_state& p) {
    packet::handshake_spec syn{};
    syn.family = f.client.family;
    syn.src = flows_->local_address(f);
    syn.dst = f.backend_addr;
    syn.src_port = f.local_port;
    syn.dst_port = f.backend_port;
    syn.seq = p.backend_isn;
    syn.ack = 0;
    syn.window = 65535;
    syn.mss = p.mss;
    syn.wscale = p.client_wscale;
    syn.sack_ok = p.sack_ok;
    syn.timestamps = p.timestamps;
    syn.tsval = p.client_tsval + p.ts_shift;
    syn.tsecr = 0;
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
    proxy_state& p = proxy_of(f);
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
        if (p.held_count < proxy_state::max_held) {
            if (!hold(p, m)) return drop(m, drop_reason::proxy_held_limit);
            return;
        }
        // No room: the client retransmits. Our SYN may have been lost too: send it again.
        send_backend_syn(s, f, p);
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
    if ((flags & (syn | ack)) != (syn | ack) ||
        packet::load_be32(tcp + packet::tcp_ack) != p.backend_isn + 1)
        return drop(m, drop_reason::no_flow);
    const unsigned header = unsigned(tcp[packet::tcp_off] >> 4) * 4;
    packet::syn_options backend;
    if (!packet::parse_tcp_options(tcp, header, backend))
        return drop(m, drop_reason::bad_tcp_options);
    if (watched) conns_->connect_result(f.backend_id, true);
    conns_->traffic(f.backend_id, false, m->pkt_len);
    p.seq_delta = packet::load_be32(tcp + packet::tcp_seq) - p.cookie_isn;
    // ts_delta held our SYN-ACK's TSval: from now on, client-side TSval = backend's + delta.
    if (p.timestamps && backend.timestamps)
        p.ts_delta -= backend.tsval;
    else
        p.ts_delta = 0;
    p.backend_wscale = backend.wscale;
    rte_pktmbuf_free(m);
    retransmits_.unlink(proxy_table_, flows_->index_of(&f));

    count_flow(f, -1);
    f.state = flow::tcp_state::established;
    count_flow(f, +1);
    flows_->set_expire(&f, now_tick_ + s.timeouts.tcp[size_t(flow::tcp_state::established)]);
    bump(counters.syn_proxy_spliced);
    // Replay what the client sent meanwhile (its handshake ACK first) through the normal path:
    // translation, payload rules, sequence tracking, NAT. The VIP index is looked up again in
    // this snapshot.
    rte_mbuf* held[proxy_state::max_held];
    const unsigned n = p.held_count;
    std::copy(p.held, p.held + n, held);
    p.held_count = 0;
    held_total_ -= n;
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

bool worker::translate(const flow_entry& f, direction dir, rte_mbuf* m) {
    const proxy_state& p = proxy_of(f);
    const mbuf_meta& meta = meta_of(m);
    uint8_t* tcp = rte_pktmbuf_mtod(m, uint8_t*) + meta.parsed.l4_offset;
    packet::tcp_translation t;
    const uint8_t client_ws = p.client_wscale == packet::no_wscale ? 0 : p.client_wscale;
    const uint8_t our_ws = p.our_wscale == packet::no_wscale ? 0 : p.our_wscale;
    const uint8_t backend_ws = p.backend_wscale == packet::no_wscale ? 0 : p.backend_wscale;
    const bool backend_scales = p.backend_wscale != packet::no_wscale;
    const uint32_t isn_shift = p.backend_isn - p.client_isn;
    if (dir == direction::from_client) {
        t.seq_add = isn_shift;
        t.ack_add = p.seq_delta;
        t.sack_add = p.seq_delta;
        t.tsval_add = p.ts_shift;
        t.tsecr_add = uint32_t(0) - p.ts_delta;
        // A backend that declined window scaling reads the client's window unscaled.
        if (!backend_scales) t.window_shift_left = client_ws;
    } else {
        t.seq_add = uint32_t(0) - p.seq_delta;
        t.ack_add = uint32_t(0) - isn_shift;
        t.sack_add = uint32_t(0) - isn_shift;
        t.tsval_add = p.ts_delta;
        t.tsecr_add = uint32_t(0) - p.ts_shift;
        // The client applies the scale we offered; the backend's window is in its own.
        t.window_shift_left = backend_ws;
        t.window_shift_right = our_ws;
    }
    return packet::translate_tcp(tcp, meta.parsed.l4_length, t);
}

uint32_t worker::seq_shift(const flow_entry& f, direction dir) {
    if (!(f.flags & flow::flow_flag::proxied)) return 0;
    const proxy_state& p = proxy_of(f);
    // As translate() shifts seq: the client's towards the backend, the backend's towards us.
    return dir == direction::from_client ? p.backend_isn - p.client_isn : uint32_t(0) - p.seq_delta;
}

void worker::release_held(flow_entry& f) {
    proxy_state* table = proxy_table_;
    if (!table) return;
    proxy_state& p = table[flows_->index_of(&f)];
    if (f.state != flow::tcp_state::syn_sent) return;  // held segments exist only before
    for (unsigned i = 0; i < p.held_count; ++i) rte_pktmbuf_free(p.held[i]);
    held_total_ -= p.held_count;
    p.held_count = 0;
    retransmits_.unlink(table, flows_->index_of(&f));
}

}  // namespace sluice::dataplane

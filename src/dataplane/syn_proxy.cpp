// The SYN proxy's own logic (syn_proxy.hpp): cookies, per-flow state, held segments, the splice
// and the translation. Our SYN carries our own ISN (RFC 6528, syn_cookie.hpp backend_isn) and
// TSval clock, so that a backend still in TIME_WAIT on a reused full-NAT tuple accepts it; it is
// re-sent on a timer (1 s, 2 s, 4 s …) until the embryonic timeout; held segments are capped per
// worker. Worker lcore only.
#include "dataplane/syn_proxy.hpp"

#include <cstring>

#include "packet/tcp_translate.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;

namespace {

// The window scale our SYN-ACK offers when the client can use one: Linux's usual choice for
// the receive buffers of a server, so that with Linux backends no rescaling is needed.
constexpr uint8_t offered_wscale = 7;

// Our clocks: the ISN's 4 µs ticks (RFC 6528).
uint32_t clock_4us(uint64_t tsc, uint64_t tsc_hz) {
    return uint32_t(tsc / std::max<uint64_t>(1, tsc_hz / 250000));
}

unsigned tcp_header_length(const uint8_t* tcp) {
    return unsigned(tcp[packet::tcp_off] >> 4) * 4;
}

}  // namespace

syn_proxy::syn_proxy(const protect::syn_cookie_secret* secret, uint32_t max_held, uint64_t tsc_hz,
                     flow::flow_table* flows, worker_counters* counters)
    : secret_(secret), max_held_(max_held), tsc_hz_(tsc_hz), flows_(flows), counters_(counters) {}

void syn_proxy::set_clocks(uint64_t tsc) {
    // The raw TSC is the same on every core, so every worker computes the same cookie period.
    cookie_period_ = uint32_t(tsc / tsc_hz_ / protect::cookie_period_seconds);
    now_ms_ = uint32_t(tsc / (tsc_hz_ / 1000));
}

bool syn_proxy::engaged(const model::vip_entry& vip, model::guard_worker& g, uint32_t now_tick,
                        std::span<const conn_counts* const> all_conns) {
    const model::vip_protection& p = vip.protect;
    if (p.syn_proxy == config::syn_proxy_mode::on) return true;
    if (g.syn_tick != now_tick) {
        // Once per tick: the SYNs of the last tick (this worker's share of the rate; none when
        // a tick went by without any) and the VIP's half-open flows decide; half the thresholds
        // release it (hysteresis).
        uint64_t half_open = 0;
        for (const model::backend_entry& b : vip.backends)
            half_open += sum_connections(all_conns, b.id).half_open;
        const uint32_t last_tick = now_tick - g.syn_tick == 1 ? g.syns : 0;
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
        g.syn_tick = now_tick;
        g.syns = 0;
    }
    ++g.syns;
    return g.proxy_engaged.load(std::memory_order_relaxed);
}

drop_reason syn_proxy::syn_ack(const mbuf_meta& meta, const uint8_t* tcp, uint16_t mss,
                               packet::handshake_spec& a) const {
    packet::syn_options client;
    if (!packet::parse_tcp_options(tcp, tcp_header_length(tcp), client))
        return drop_reason::bad_tcp_options;
    const flow::flow_key& key = meta.key;
    const uint32_t client_isn = packet::load_be32(tcp + packet::tcp_seq);
    const unsigned mss_index = protect::cookie_mss_index(client.mss, key.family);
    a = {};
    a.family = key.family;
    a.src = key.dst;
    a.dst = key.src;
    a.src_port = key.dst_port;
    a.dst_port = key.src_port;
    a.seq = protect::make_syn_cookie(*secret_, key, client_isn, cookie_period_, mss_index);
    a.ack = client_isn + 1;
    a.window = 65535;
    a.mss = mss;
    // Window scale and SACK can only be remembered in the timestamp (syn_cookie.hpp).
    a.timestamps = client.timestamps;
    a.wscale = client.timestamps && client.wscale != packet::no_wscale ? offered_wscale
                                                                       : packet::no_wscale;
    a.sack_ok = client.timestamps && client.sack_ok;
    if (client.timestamps) {
        a.tsval = protect::encode_cookie_tsval(now_ms_, client);
        a.tsecr = client.tsval;
    }
    return drop_reason::none;
}

drop_reason syn_proxy::check_ack(const mbuf_meta& meta, const uint8_t* tcp, cookie_ack& out) const {
    out.seq = packet::load_be32(tcp + packet::tcp_seq);
    out.ack = packet::load_be32(tcp + packet::tcp_ack);
    auto mss_index =
        protect::check_syn_cookie(*secret_, meta.key, out.seq, out.ack, cookie_period_);
    if (!mss_index || !table_) return drop_reason::bad_cookie;
    // Every pending flow holds at least this ACK: at the cap, no new one. A client with data
    // retransmits it and the cookie still validates.
    if (held_total_ >= max_held_) return drop_reason::proxy_held_limit;
    packet::syn_options seen;
    if (!packet::parse_tcp_options(tcp, tcp_header_length(tcp), seen))
        return drop_reason::bad_tcp_options;
    out.client = {};
    if (seen.timestamps) out.client = protect::decode_cookie_tsecr(seen.tsecr);
    out.client.tsval = seen.tsval;
    out.our_tsval = seen.tsecr;
    const auto& mss_table = meta.key.family == 4 ? protect::cookie_mss_v4 : protect::cookie_mss_v6;
    out.client.mss = mss_table[*mss_index & 3];
    return drop_reason::none;
}

void syn_proxy::open(flow_entry& f, const cookie_ack& a, rte_mbuf* ack, uint32_t now_tick,
                     uint64_t now_tsc) {
    bump(counters_->syn_proxy_accepted);
    f.flags |= flow::flow_flag::proxied;
    const uint32_t index = flows_->index_of(&f);
    proxy_state& p = table_[index];
    std::memset(&p, 0, sizeof p);
    p.retransmit_level = uint8_t(syn_retransmit_queue::levels);
    p.client_isn = a.seq - 1;
    {
        flow::flow_key tuple;
        std::memset(&tuple, 0, sizeof tuple);
        std::memcpy(tuple.src, flows_->local_address(f), 16);
        std::memcpy(tuple.dst, flows_->endpoint(f).backend, 16);
        tuple.src_port = f.local_port;
        tuple.dst_port = flows_->endpoint(f).backend_port;
        tuple.protocol = packet::ipproto_tcp;
        tuple.family = flow::backend_family(f);
        p.backend_isn = protect::backend_isn(*secret_, tuple, clock_4us(now_tsc, tsc_hz_));
    }
    // Each direction's next sequence number as its receiver counts, so that a reset sent before
    // the splice (embryonic timeout) is accepted: the backend's side in its numbers (our ISN),
    // the client's in its own.
    f.seq_next[size_t(direction::from_client)] = a.seq + (p.backend_isn - p.client_isn);
    f.seq_next[size_t(direction::from_backend)] = a.ack;
    f.flags |= flow::flow_flag::seq_client | flow::flow_flag::seq_backend;
    const packet::syn_options& client = a.client;
    p.cookie_isn = a.ack - 1;
    p.client_tsval = client.tsval;
    p.mss = client.mss;
    p.client_wscale = client.wscale;
    p.our_wscale = client.timestamps && client.wscale != packet::no_wscale ? offered_wscale
                                                                           : packet::no_wscale;
    p.backend_wscale = packet::no_wscale;
    p.sack_ok = client.sack_ok;
    p.timestamps = client.timestamps;
    if (client.timestamps) {
        p.ts_delta = a.our_tsval;             // our SYN-ACK's TSval until the backend's
        p.ts_shift = now_ms_ - client.tsval;  // towards the backend: our clock, growing per tuple
    }
    // check_ack saw room below the cap, and creating the flow can only have freed some.
    hold(f, ack);
    p.retransmit_due = now_tick + ticks_per_second;
    retransmits_.push(table_, index, 0);
}

bool syn_proxy::hold(const flow_entry& f, rte_mbuf* m) {
    if (held_total_ >= max_held_) return false;
    proxy_state& p = proxy_of(f);
    p.held[p.held_count++] = m;
    ++held_total_;
    return true;
}

packet::handshake_spec syn_proxy::backend_syn(const flow_entry& f) const {
    const proxy_state& p = proxy_of(f);
    packet::handshake_spec syn{};
    syn.family = flow::backend_family(f);
    syn.src = flows_->local_address(f);
    syn.dst = flows_->endpoint(f).backend;
    syn.src_port = f.local_port;
    syn.dst_port = flows_->endpoint(f).backend_port;
    syn.seq = p.backend_isn;
    syn.ack = 0;
    syn.window = 65535;
    syn.mss = p.mss;
    syn.wscale = p.client_wscale;
    syn.sack_ok = p.sack_ok;
    syn.timestamps = p.timestamps;
    syn.tsval = p.client_tsval + p.ts_shift;
    syn.tsecr = 0;
    return syn;
}

drop_reason syn_proxy::splice(const flow_entry& f, const uint8_t* tcp, uint8_t flags) {
    using namespace packet::tcp_flag;
    proxy_state& p = proxy_of(f);
    if ((flags & (syn | ack)) != (syn | ack) ||
        packet::load_be32(tcp + packet::tcp_ack) != p.backend_isn + 1)
        return drop_reason::no_flow;
    packet::syn_options backend;
    if (!packet::parse_tcp_options(tcp, tcp_header_length(tcp), backend))
        return drop_reason::bad_tcp_options;
    p.seq_delta = packet::load_be32(tcp + packet::tcp_seq) - p.cookie_isn;
    // ts_delta held our SYN-ACK's TSval: from now on, client-side TSval = backend's + delta.
    if (p.timestamps && backend.timestamps)
        p.ts_delta -= backend.tsval;
    else
        p.ts_delta = 0;
    p.backend_wscale = backend.wscale;
    retransmits_.unlink(table_, flows_->index_of(&f));
    return drop_reason::none;
}

unsigned syn_proxy::take_held(const flow_entry& f, rte_mbuf** out) {
    proxy_state& p = proxy_of(f);
    const unsigned n = p.held_count;
    std::copy(p.held, p.held + n, out);
    p.held_count = 0;
    held_total_ -= n;
    return n;
}

bool syn_proxy::translate(const flow_entry& f, direction dir, rte_mbuf* m) const {
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

void syn_proxy::release(const flow_entry& f) {
    if (!table_) return;
    if (f.state != flow::tcp_state::syn_sent) return;  // held segments exist only before
    proxy_state& p = proxy_of(f);
    for (unsigned i = 0; i < p.held_count; ++i) rte_pktmbuf_free(p.held[i]);
    held_total_ -= p.held_count;
    p.held_count = 0;
    retransmits_.unlink(table_, flows_->index_of(&f));
}

}  // namespace sluice::dataplane

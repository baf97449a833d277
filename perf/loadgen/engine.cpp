// The engine's receive side: every frame from the balancer is checked (frames.hpp), mapped to
// its connection (connection_table.hpp), judged by the TCP state (tcp_peer.hpp) and counted per
// verdict; the server side answers. engine.hpp has the modes and the threads (the engine's
// lcore only).
#include "engine.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>

namespace sluice::loadgen {

namespace {

table_config make_table_config(const options& o, const engine_ports& p) {
    table_config c;
    c.clients = client_range(o);
    c.client_ports = client_port_range(o);
    c.vip = o.vip;
    c.vip_port = o.vip_port;
    c.client_mac = p.client_mac;  // the balancer's MACs are learned later (ARP): the send
    c.server_mac = p.server_mac;  // side writes them into every frame
    c.local = local_range(o);
    c.backends = backend_range(o);
    c.backend_port = o.backend_port;
    c.capacity = o.flows;
    c.request_len = o.payload;
    c.response_len = o.payload;
    c.script = o.mode == run_mode::established ? peer_script::established : peer_script::cps;
    return c;
}

std::vector<ip_address> backend_addresses(const options& o) {
    std::vector<ip_address> out;
    const address_range r = backend_range(o);
    for (uint32_t i = 0; i < r.count; ++i) out.push_back(r.at(i));
    return out;
}

}  // namespace

void period_counts::add(const period_counts& o) {
    sent_client += o.sent_client;
    sent_server += o.sent_server;
    paced += o.paced;
    received_client += o.received_client;
    received_server += o.received_server;
    refused += o.refused;
    refused_client += o.refused_client;
    no_mbuf += o.no_mbuf;
    opened += o.opened;
    completed += o.completed;
    resets += o.resets;
    repaired += o.repaired;
    flood_sent += o.flood_sent;
    flood_at_backends += o.flood_at_backends;
    flood_answers += o.flood_answers;
    reordered += o.reordered;
    for (size_t i = 0; i < client_frames.size(); ++i) client_frames[i] += o.client_frames[i];
    for (size_t i = 0; i < server_frames.size(); ++i) server_frames[i] += o.server_frames[i];
    for (size_t i = 0; i < segments.size(); ++i) segments[i] += o.segments[i];
}

uint64_t period_counts::validation_failures() const {
    uint64_t n = 0;
    for (size_t i = 0; i < client_frames.size(); ++i) {
        const auto v = frame_verdict(i);
        if (v != frame_verdict::ok && v != frame_verdict::not_ip)
            n += client_frames[i] + server_frames[i];
    }
    for (size_t i = 0; i < segments.size(); ++i) {
        const auto v = segment_verdict(i);
        if (v != segment_verdict::ok && v != segment_verdict::duplicate) n += segments[i];
    }
    return n;
}

engine::engine(const options& o, const engine_ports& ports)
    : opt_(o),
      ports_(ports),
      table_(make_table_config(o, ports)),
      client_arp_(ports.client_mac, {o.gateway}, o.lb_client_address),
      server_arp_(ports.server_mac, backend_addresses(o), o.lb_server_address),
      client_tx_(ports.client),
      server_tx_(ports.server),
      latency_(std::make_unique<latency_histogram>()) {
    if (runs_connections(o.mode)) opened_ns_.assign(table_.capacity(), 0);
    tsc0_ = rte_rdtsc();
    ns_per_tick_ = 1e9 / double(rte_get_tsc_hz());
}

period_counts engine::totals() const {
    period_counts t = trials_total_;
    t.add(other_);
    return t;
}

// Both ports, one burst each. `answer`: the server side answers requests and echoes datagrams.
void engine::poll(uint64_t now_tsc, bool answer) {
    rte_mbuf* bufs[tx_buffer::burst];
    const uint64_t now_ns = ns_of(now_tsc);
    uint16_t n = rte_eth_rx_burst(ports_.client, 0, bufs, tx_buffer::burst);
    for (uint16_t i = 0; i < n; ++i) on_client(bufs[i], now_ns);
    if (n) rte_pktmbuf_free_bulk(bufs, n);
    n = rte_eth_rx_burst(ports_.server, 0, bufs, tx_buffer::burst);
    for (uint16_t i = 0; i < n; ++i) on_server(bufs[i], now_ns, answer);
    if (n) rte_pktmbuf_free_bulk(bufs, n);
}

// The stamp's time has 48 bits: the difference is taken modulo 2^48, so a run longer than the
// 78 hours the field holds still measures; a stamp from the future (not ours) is ignored.
void engine::sample_latency(const received_frame& f, uint64_t now_ns) {
    if (!f.stamp || !f.stamp->sent_ns) return;
    const uint64_t ns = (now_ns - f.stamp->sent_ns) & stamp_time_mask;
    if (ns > stamp_time_mask / 2) return;
    latency_->record(ns);
    if (counting_seconds_) counting_seconds_->latency(f.stamp->sent_ns, ns);
}

// A matched frame's place in its flow's order (flow_order.hpp), judged before its TCP verdict:
// a reordered segment is usually also a duplicate for tcp_peer.
void engine::check_order(peer_side receiver, uint32_t index, const received_frame& f) {
    if (!f.stamp || !table_.order(index).arrived(receiver, f.stamp->seq)) return;
    ++cur_->reordered;
    if (counting_seconds_) counting_seconds_->reordered(f.stamp->sent_ns);
}

// A frame that counts as received (established, udp): its second is the one it was sent in.
void engine::note_received(const received_frame& f) {
    if (counting_seconds_ && !runs_connections(opt_.mode))
        counting_seconds_->received(f.stamp ? f.stamp->sent_ns : 0);
}

// A completed connection (cps, syn-flood): its second is the one it was opened in.
void engine::note_completed(uint32_t index) {
    ++cur_->completed;
    if (counting_seconds_ && runs_connections(opt_.mode))
        counting_seconds_->received(opened_ns_[index]);
}

void engine::on_client(const rte_mbuf* m, uint64_t now_ns) {
    if (m->nb_segs != 1) return;  // the generator's frames are small: one segment each
    received_frame f;
    frame_verdict v = check_client_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len,
                                         table_.client_expectation(), f);
    if (v == frame_verdict::not_ip) {
        client_arp_.handle(m, ports_.pool, client_tx_);
        return;
    }
    if (v == frame_verdict::wrong_address && opt_.mode == run_mode::syn_flood &&
        flood_range(opt_).offset_of(f.dst)) {
        ++cur_->flood_answers;  // the balancer answering a spoofed source (cookie, RST)
        return;
    }
    uint32_t index = 0;
    if (v == frame_verdict::ok) v = table_.match_client(f, index);
    ++cur_->client_frames[size_t(v)];
    if (v != frame_verdict::ok) return;
    check_order(peer_side::client, index, f);
    sample_latency(f, now_ns);
    if (f.protocol == l4_protocol::udp) {
        ++cur_->received_client;
        note_received(f);
        return;
    }
    take_client_tcp(index, f);
}

// The client side takes a segment and sends what it owes at once, except (established script)
// its next request, which waits for the pacer.
void engine::take_client_tcp(uint32_t index, const received_frame& f) {
    connection& c = table_.at(index);
    const segment_verdict sv = c.peer.receive(peer_side::client, f.tcp);
    ++cur_->segments[size_t(sv)];
    if (sv == segment_verdict::reset) ++cur_->resets;
    if (sv != segment_verdict::ok) return;
    ++cur_->received_client;
    note_received(f);
    const uint64_t now_ns = ns_of(rte_rdtsc());
    if (opt_.mode == run_mode::established) {
        if (c.peer.client() == client_state::ack_due) send_due(peer_side::client, index, now_ns);
        return;
    }
    while (send_due(peer_side::client, index, now_ns)) {
    }
    if (c.peer.complete()) {
        note_completed(index);
        table_.forget(index);
    }
}

void engine::on_server(const rte_mbuf* m, uint64_t now_ns, bool answer) {
    if (m->nb_segs != 1) return;
    received_frame f;
    frame_verdict v = check_server_frame(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len,
                                         table_.server_expectation(), f);
    if (v == frame_verdict::not_ip) {
        server_arp_.handle(m, ports_.pool, server_tx_);
        return;
    }
    if (v == frame_verdict::ok && is_flood_syn(f)) {
        ++cur_->flood_at_backends;  // passed on to a backend, which does not answer it
        return;
    }
    uint32_t index = 0;
    if (v == frame_verdict::ok) v = table_.match_server(f, index);
    ++cur_->server_frames[size_t(v)];
    if (v != frame_verdict::ok) return;
    check_order(peer_side::server, index, f);
    sample_latency(f, now_ns);
    if (f.protocol == l4_protocol::udp) {
        ++cur_->received_server;
        note_received(f);
        if (answer) send_udp(peer_side::server, index, now_ns);
        return;
    }
    take_server_tcp(index, f, now_ns, answer);
}

// The server side takes a segment and answers at once (SYN-ACK, response, FIN-ACK) while
// answers are allowed; an answer held back is sent by the repair after the trial.
void engine::take_server_tcp(uint32_t index, const received_frame& f, uint64_t now_ns,
                             bool answer) {
    connection& c = table_.at(index);
    const segment_verdict sv = c.peer.receive(peer_side::server, f.tcp);
    ++cur_->segments[size_t(sv)];
    if (sv == segment_verdict::reset) ++cur_->resets;
    if (sv != segment_verdict::ok) return;
    ++cur_->received_server;
    note_received(f);
    if (answer || c.peer.server() == server_state::syn_ack_due)
        send_due(peer_side::server, index, now_ns);
    if (c.peer.complete()) {
        note_completed(index);
        table_.forget(index);
    }
}

// A spoofed SYN of syn-flood mode as the balancer passed it on (send_flood_syn).
bool engine::is_flood_syn(const received_frame& f) const {
    return opt_.mode == run_mode::syn_flood && f.protocol == l4_protocol::tcp &&
           (f.tcp.flags & (tcp_flag::syn | tcp_flag::ack)) == tcp_flag::syn &&
           (f.tcp.seq >> connection_index_bits) == 0;
}

bool engine::resolve(double seconds) {
    const uint64_t hz = rte_get_tsc_hz();
    const uint64_t until = rte_rdtsc() + uint64_t(seconds * double(hz));
    uint64_t next_ask = 0;
    while (!(client_arp_.lb_known() && server_arp_.lb_known())) {
        const uint64_t now = rte_rdtsc();
        if (now >= until) return false;
        if (now >= next_ask) {
            client_arp_.announce(ports_.pool, client_tx_);
            server_arp_.announce(ports_.pool, server_tx_);
            next_ask = now + hz / 4;
        }
        poll(now, false);
        flush();
    }
    return true;
}

}  // namespace sluice::loadgen

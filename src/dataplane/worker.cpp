#include "dataplane/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <sys/prctl.h>

#include <cstring>

#include "flow/tcp_track.hpp"
#include "packet/rewrite.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using flow::flow_key;
using model::snapshot;
using packet::frame_kind;

local_port_plan local_port_plan::make(uint16_t min, uint16_t max, unsigned workers) {
    local_port_plan p;
    p.min = min;
    p.workers = workers;
    p.per_worker = (uint32_t(max) - min + 1) / workers;
    p.magic = ((uint64_t(1) << 32) + p.per_worker - 1) / p.per_worker;
    return p;
}

worker::worker(const worker_setup& setup, flow::flow_table* flows,
               const std::atomic<const snapshot*>* snapshot, route::neighbor_table* neighbors,
               rte_rcu_qsbr* qsbr, conn_counts* conns,
               std::span<const conn_counts* const> all_conns)
    : setup_(setup),
      flows_(flows),
      snapshot_(snapshot),
      neighbors_(neighbors),
      qsbr_(qsbr),
      tsc_start_(rte_rdtsc()),
      tsc_per_tick_(setup.tsc_hz / ticks_per_second),
      conns_(conns),
      all_conns_(all_conns),
      admission_(setup.index, all_conns),
      proxy_(setup.cookie_secret, setup.proxy_max_held, setup.tsc_hz, flows, &counters) {
    proxy_.set_clocks(rte_rdtsc());
}

int worker::lcore_main(void* self) {
    auto* w = static_cast<worker*>(self);
    // Short sleeps in backoff mode should be short: the default 50 µs slack would add latency.
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    if (w->qsbr_) rte_rcu_qsbr_thread_online(w->qsbr_, w->setup_.index);
    unsigned idle = 0;
    while (!w->stopping_) {
        if (w->poll_once() > 0) {
            idle = 0;
            continue;
        }
        if (w->setup_.idle == config::idle_policy::spin) continue;
        // Backoff: a few pause-polls first (cheap, keeps latency low under light load), then
        // micro-sleeps so a shared machine keeps its CPU for the lab's own processes.
        if (++idle < 64) {
            rte_pause();
        } else {
            rte_delay_us_sleep(idle < 1024 ? 10 : 50);
        }
    }
    w->flush_tx();
    if (w->qsbr_) rte_rcu_qsbr_thread_offline(w->qsbr_, w->setup_.index);
    return 0;
}

unsigned worker::poll_once() {
    const snapshot& s = *snapshot_->load(std::memory_order_acquire);
    sync_snapshot(s);
    // After the snapshot load: a command control enqueued before publishing `s` (the SYN proxy
    // table) is visible now, and taken before any packet of this pass.
    take_commands();
    now_tsc_ = rte_rdtsc();
    unsigned handled = 0;
    rte_mbuf* pkts[max_burst];
    for (uint16_t p = 0; p < setup_.dpdk_ports.size(); ++p) {
        uint16_t n = rte_eth_rx_burst(setup_.dpdk_ports[p], setup_.queue, pkts, setup_.burst);
        if (n) receive(s, p, pkts, n);
        handled += n;
    }
    for (unsigned i = 0; i < setup_.count; ++i) {
        if (!handoff_in[i]) continue;
        unsigned n = rte_ring_sc_dequeue_burst(handoff_in[i], reinterpret_cast<void**>(pkts),
                                               setup_.burst, nullptr);
        if (!n) continue;
        bump(counters.handoff_received, n);
        handled += n;
        // The sending worker may have classified with another snapshot (a reload in between):
        // its VIP may be gone from ours (VIP ids are stable, but a removed id can be reused). Look
        // it up again then.
        uint16_t kept = 0;
        for (unsigned k = 0; k < n; ++k) {
            mbuf_meta& meta = meta_of(pkts[k]);
            if (meta.kind == meta_kind::to_vip && meta.generation != uint8_t(s.generation)) {
                meta.vip =
                    s.find_vip(meta.key.dst, meta.key.family, meta.key.dst_port, meta.key.protocol);
                meta.generation = uint8_t(s.generation);
                if (meta.vip == model::no_vip_id) {
                    drop(pkts[k], drop_reason::no_vip);
                    continue;
                }
            }
            pkts[kept++] = pkts[k];
        }
        process_owned(s, pkts, kept);
    }
    if (from_control) {
        unsigned n = rte_ring_sc_dequeue_burst(from_control, reinterpret_cast<void**>(pkts),
                                               setup_.burst, nullptr);
        for (unsigned i = 0; i < n; ++i) enqueue_tx(meta_of(pkts[i]).out_port, pkts[i]);
        handled += n;
    }
    flush_tx();
    housekeeping(s);
    return handled;
}

void worker::sync_snapshot(const snapshot& s) {
    if (s.generation == seen_generation_) return;
    admission_.sync(s);
    seen_generation_ = s.generation;
}

void worker::receive_burst(uint16_t port_index, rte_mbuf** pkts, uint16_t n) {
    const snapshot& s = *snapshot_->load(std::memory_order_acquire);
    sync_snapshot(s);
    receive(s, port_index, pkts, n);
}

// The snapshot is the pass's own: loading it again could resize the per-VIP scheduler state to
// a newer snapshot while the rest of the pass indexes it with the older one's VIPs.
void worker::receive(const snapshot& s, uint16_t port_index, rte_mbuf** pkts, uint16_t n) {
    rte_mbuf* own[max_burst];
    uint16_t n_own = 0;
    now_tsc_ = rte_rdtsc();
    bump(counters.rx_packets, n);
    for (uint16_t i = 0; i < n; ++i) {
        bump(counters.rx_bytes, pkts[i]->pkt_len);
        classify(s, port_index, pkts[i], own, n_own);
    }
    process_owned(s, own, n_own);
}

void worker::classify(const snapshot& s, uint16_t port_index, rte_mbuf* m, rte_mbuf** own,
                      uint16_t& n_own) {
    if (m->nb_segs != 1) return drop(m, drop_reason::multi_segment);
    mbuf_meta& meta = meta_of(m);
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    bool csum_checked = (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_GOOD;
    drop_reason r = packet::parse_frame(frame, m->data_len, meta.parsed, !csum_checked);
    if (r != drop_reason::none) return drop(m, r);
    const uint8_t* port_mac = s.ports[port_index].mac.data();
    if (!(frame[packet::eth_dst] & 1) && std::memcmp(frame + packet::eth_dst, port_mac, 6) != 0)
        return drop(m, drop_reason::not_our_mac);
    if (std::memcmp(frame + packet::eth_src, port_mac, 6) == 0)
        return drop(m, drop_reason::own_frame);
    meta.in_port = uint8_t(port_index);

    if (meta.parsed.kind == frame_kind::arp) {
        meta.kind = meta_kind::arp;
        return to_control_ring(m);
    }
    const uint8_t family = meta.parsed.family == address_family::ipv4 ? 4 : 6;
    const uint8_t* dst =
        frame + meta.parsed.l3_offset + (family == 4 ? packet::ip4_dst : packet::ip6_dst);
    // ICMP and other protocols to an LB address are the host kernel's (exception path).
    if (meta.parsed.kind != frame_kind::ip_l4) {
        if (s.local_address_port(dst, family) < 0)
            return drop(m, drop_reason::unsupported_protocol);
        meta.kind = meta_kind::to_kernel;
        return to_control_ring(m);
    }
    unsigned owner;
    meta.vip = s.find_vip(dst, family, meta.parsed.dst_port, meta.parsed.protocol);
    meta.generation = uint8_t(s.generation);
    meta.key = flow::make_flow_key(frame, meta.parsed);
    meta.hash = flow::flow_hash(meta.key);
    if (meta.vip != model::no_vip_id) {
        meta.kind = meta_kind::to_vip;
        owner = unsigned(((meta.hash >> 32) * setup_.count) >> 32);
    } else {
        if (s.local_address_port(dst, family) < 0) return drop(m, drop_reason::no_vip);
        owner = setup_.ports.owner(meta.parsed.dst_port);
        if (owner >= setup_.count) {
            // Above the full-NAT range: a kernel socket's port (health probes). Only answers to
            // connections the kernel opened pass (TCP with ACK or RST): no service listening on
            // the host is reachable through the data plane.
            const bool kernel_reply =
                meta.parsed.protocol == packet::ipproto_tcp &&
                (meta.parsed.tcp_flags & (packet::tcp_flag::ack | packet::tcp_flag::rst));
            if (meta.parsed.dst_port < setup_.ports.end() || !kernel_reply)
                return drop(m, drop_reason::local_unhandled);
            meta.kind = meta_kind::to_kernel;
            return to_control_ring(m);
        }
        meta.kind = meta_kind::reply;
    }
    if (owner == setup_.index) {
        own[n_own++] = m;
        return;
    }
    if (rte_ring_sp_enqueue(handoff_out[owner], m) != 0) return drop(m, drop_reason::ring_full);
    bump(counters.handoff_sent);
}

void worker::process_owned(const snapshot& s, rte_mbuf** pkts, uint16_t n) {
    // Stage the burst in two passes so that memory latency overlaps across packets: every
    // packet's bucket lines are requested, then (buckets arriving) every packet's candidate
    // entries, and only then does the first lookup run.
    for (uint16_t i = 0; i < n; ++i) flows_->prefetch(meta_of(pkts[i]).hash);
    for (uint16_t i = 0; i < n; ++i) flows_->prefetch_entries(meta_of(pkts[i]).hash);
    for (uint16_t i = 0; i < n; ++i) forward(s, pkts[i]);
}

void worker::forward(const snapshot& s, rte_mbuf* m) {
    mbuf_meta& meta = meta_of(m);
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const flow_key& key = meta.key;
    const bool tcp = meta.parsed.protocol == packet::ipproto_tcp;
    const uint8_t tflags = meta.parsed.tcp_flags;
    const bool pure_syn =
        tcp && (tflags & (packet::tcp_flag::syn | packet::tcp_flag::ack | packet::tcp_flag::rst)) ==
                   packet::tcp_flag::syn;
    if (meta.kind == meta_kind::to_vip) {
        const model::vip_entry& vip = s.vip(meta.vip);
        if (vip.protect.guard && !vip.protect.packets.unlimited()) {
            model::guard_worker& g = guard_of(vip);
            if (!protect::take(g.packets, vip.protect.packets, now_tsc_)) {
                bump(g.refused[size_t(model::refusal::packets)]);
                return drop(m, drop_reason::limit_packets);
            }
        }
    }

    const uint8_t* tcp_header = frame + meta.parsed.l4_offset;
    flow::flow_hit hit = flows_->lookup(key, meta.hash);
    // A reply names a flow by the LB's own address and port: only the segment the flow's
    // backend lives on may send one (anything else is forged).
    if (hit.entry && hit.dir == direction::from_backend && meta.in_port != hit.entry->port_backend)
        return drop(m, drop_reason::reply_wrong_port);
    if (hit.entry && pure_syn && hit.dir == direction::from_client &&
        (hit.entry->state == flow::tcp_state::time_wait ||
         hit.entry->state == flow::tcp_state::close)) {
        // A new connection on the tuple of a finished one starts over with a fresh flow (and a
        // fresh local tuple, so the backend's TIME_WAIT does not meet the new SYN) — when its
        // sequence number says it is new, not a replay or a forgery.
        const uint32_t seq = packet::load_be32(tcp_header + packet::tcp_seq);
        if (!flow::plausible_new_syn(*hit.entry, seq + proxy_.seq_shift(*hit.entry, hit.dir)))
            return drop(m, drop_reason::syn_not_new);
        forget(*hit.entry);
        bump(counters.flows_reused);
        hit = {};
    }
    if (!hit.entry) {
        if (meta.kind != meta_kind::to_vip) return drop(m, drop_reason::no_flow);
        if (tcp) {
            const model::vip_entry& vip = s.vip(meta.vip);
            if (vip.protect.syn_proxy != config::syn_proxy_mode::off && proxy_.enabled()) {
                if (pure_syn && proxy_.engaged(vip, guard_of(vip), now_tick_, all_conns_))
                    return answer_syn(s, m);
                using namespace packet::tcp_flag;
                if ((tflags & (syn | rst | ack)) == ack) return accept_cookie_ack(s, m);
            }
            if (!pure_syn) return drop(m, drop_reason::no_flow);
        }
        drop_reason why = drop_reason::none;
        hit.entry = create_flow(s, m, key, why);
        if (!hit.entry) {
            if (why == drop_reason::none) return;  // handed to control for resolution
            return drop(m, why);
        }
        hit.dir = direction::from_client;
    }
    flow_entry& f = *hit.entry;
    if (f.flags & flow::flow_flag::proxied && f.state == flow::tcp_state::syn_sent)
        return proxy_pending(s, f, hit.dir, m);
    uint8_t state_flags = tflags;  // what the state machine sees (an inexact RST is not one)
    // The segment in the sender's own numbers, before any SYN-proxy translation.
    const flow::tcp_segment raw =
        tcp ? flow::read_segment(tcp_header, meta.parsed.l4_length) : flow::tcp_segment{};
    if (tcp && (tflags & packet::tcp_flag::rst)) {
        switch (flow::judge_rst(f, hit.dir, raw, proxy_.seq_shift(f, hit.dir))) {
            case flow::rst_verdict::out_of_window:
                return drop(m, drop_reason::rst_out_of_window);
            case flow::rst_verdict::in_window:
                bump(counters.rst_in_window);
                state_flags = uint8_t(tflags & ~packet::tcp_flag::rst);
                break;
            case flow::rst_verdict::accept:
                bump(counters.rst_accepted);
                break;
        }
    }
    if ((f.flags & flow::flow_flag::proxied) && !proxy_.translate(f, hit.dir, m))
        return drop(m, drop_reason::bad_tcp_options);
    if (!(f.flags & flow::flow_flag::inspected) && hit.dir == direction::from_client) {
        const drop_reason r = inspect_payload(s, s.vip(meta.vip), f, m, raw.seq);
        if (r != drop_reason::none) return drop(m, r);
    }

    if (hit.dir == direction::from_backend) f.extra |= flow::flow_extra::replied;
    uint32_t timeout;
    if (tcp) {
        auto t = flow::tcp_next_state(f.state, f.flags, hit.dir, state_flags);
        const bool connecting = f.state == flow::tcp_state::syn_sent;
        if (t.state != f.state) {
            if (connecting && (f.flags & flow::flow_flag::watch_connect) &&
                hit.dir == direction::from_backend)
                conns_->connect_result(f.backend_id, t.state == flow::tcp_state::syn_recv);
            count_flow(f, -1);
            f.state = t.state;
            count_flow(f, +1);
        }
        f.flags = t.flags;
        flow::track_segment(f, hit.dir, tcp_header,
                            flow::read_segment(tcp_header, meta.parsed.l4_length));
        timeout = s.timeouts.tcp[size_t(f.state)];
        const model::vip_entry* vip =
            f.state == flow::tcp_state::syn_recv ? s.vip_by_id(f.vip_id) : nullptr;
        if (vip && vip->protect.embryonic_ticks) timeout = vip->protect.embryonic_ticks;
        if (f.state == flow::tcp_state::syn_sent && (f.flags & flow::flow_flag::watch_connect)) {
            // The connect timeout runs from the first SYN: retransmissions do not extend it.
            timeout = 0;
        }
    } else {
        timeout = s.timeouts.udp;
    }
    if (timeout) flows_->set_expire(&f, now_tick_ + timeout);

    packet::nat_target t;
    uint16_t out_port;
    uint32_t neighbor;
    if (hit.dir == direction::from_client) {
        t = {flows_->local_address(f), f.backend_addr, f.local_port, f.backend_port};
        out_port = f.port_backend;
        neighbor = f.neighbor_backend;
    } else {
        t = {f.client.dst, f.client.src, f.client.dst_port, f.client.src_port};
        out_port = f.port_client;
        neighbor = f.neighbor_client;
    }
    drop_reason r = packet::rewrite_full_nat(frame, meta.parsed, t);
    if (r != drop_reason::none) return drop(m, r);
    conns_->traffic(f.backend_id, hit.dir == direction::from_client, m->pkt_len);
    send(s, out_port, neighbor, m);
}

void worker::send(const snapshot& s, uint16_t port_index, uint32_t neighbor_slot, rte_mbuf* m) {
    uint8_t* eth = rte_pktmbuf_mtod(m, uint8_t*);
    if (!neighbors_->mac(neighbor_slot, eth + packet::eth_dst)) {
        neighbors_->want(neighbor_slot);
        return drop(m, drop_reason::neighbor_unresolved);
    }
    std::memcpy(eth + packet::eth_src, s.ports[port_index].mac.data(), 6);
    enqueue_tx(port_index, m);
}

void worker::enqueue_tx(uint16_t port_index, rte_mbuf* m) {
    tx_buffer& b = tx_[port_index];
    b.pkts[b.count++] = m;
    if (b.count == setup_.burst * 2) flush_tx();
}

void worker::flush_tx() {
    for (uint16_t p = 0; p < setup_.dpdk_ports.size(); ++p) {
        tx_buffer& b = tx_[p];
        if (!b.count) continue;
        uint64_t bytes = 0;
        for (uint16_t i = 0; i < b.count; ++i) bytes += b.pkts[i]->pkt_len;
        uint16_t sent = rte_eth_tx_burst(setup_.dpdk_ports[p], setup_.queue, b.pkts, b.count);
        for (uint16_t i = sent; i < b.count; ++i) {
            bytes -= b.pkts[i]->pkt_len;
            drop(b.pkts[i], drop_reason::tx_full);
        }
        bump(counters.tx_packets, sent);
        bump(counters.tx_bytes, bytes);
        b.count = 0;
    }
}

void worker::to_control_ring(rte_mbuf* m) {
    const mbuf_meta& meta = meta_of(m);
    if (meta.kind == meta_kind::to_kernel) {
        auto& bucket = kernel_buckets_[meta.parsed.kind == frame_kind::ip_l4 ? 1 : 0];
        if (!protect::take(bucket, setup_.kernel_rate, now_tsc_))
            return drop(m, drop_reason::kernel_rate_limited);
        if (!to_kernel || rte_ring_sp_enqueue(to_kernel, m) != 0)
            return drop(m, drop_reason::kernel_ring_full);
    } else if (!to_control || rte_ring_sp_enqueue(to_control, m) != 0) {
        return drop(m, drop_reason::exception_ring_full);
    }
    bump(counters.to_control);
}

void worker::drop(rte_mbuf* m, drop_reason r) {
    counters.drop(r);
    rte_pktmbuf_free(m);
}

void worker::housekeeping(const snapshot& s) {
    run_commands(s);
    uint32_t tick = uint32_t((rte_rdtsc() - tsc_start_) / tsc_per_tick_);
    if (tick != now_tick_) {
        now_tick_ = tick;
        proxy_.set_clocks(rte_rdtsc());
        uint32_t n = flows_->expire(tick, [&](flow_entry& f) { wind_down(s, f); });
        if (n) bump(counters.flows_expired, n);
    }
    proxy_.retransmit_due(now_tick_, [&](uint32_t i) { send_backend_syn(s, flows_->at(i)); });
    counters.flows_active.store(flows_->size(), std::memory_order_relaxed);
    if (qsbr_) rte_rcu_qsbr_quiescent(qsbr_, setup_.index);
}

}  // namespace sluice::dataplane

#pragma once
// The SYN proxy of one worker (syn_proxy = "on" | "auto"; docs/architecture.md, "SYN proxy"), as
// an object owning all of its state: the proxy_state table by flow-table index, the client
// segments held while a backend handshake is pending and their per-worker cap, the queue of
// backend SYNs to re-send, the cookie clocks and the engaged/auto decision.
//   1. a client's SYN is answered with a SYN-ACK whose ISN is a SYN cookie; nothing is stored;
//   2. the client's ACK (no flow yet) is validated against the cookie; a valid one creates the
//      flow (limits, scheduling, local port as for any new flow), is held, and the LB opens the
//      backend connection with a SYN carrying the client's ISN and options;
//   3. the backend's SYN-ACK fixes the ISN and timestamp deltas; the held segments are replayed
//      through the flow path and every later segment is translated (packet/tcp_translate.hpp).
// The proxy never transmits, creates flows or touches the worker: it answers with frame specs
// (packet/syn_proxy_frames.hpp) and verdicts; the worker routes, builds and sends them
// (stages/syn_proxy.cpp). What it needs is passed explicitly: the flow table (indices, local
// addresses) at construction, clocks and connection counts per call.
// Worker lcore only, except where a method says otherwise.
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdint>
#include <span>

#include "dataplane/conn_counts.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/mbuf_meta.hpp"
#include "dataplane/proxy_state.hpp"
#include "dataplane/ticks.hpp"
#include "flow/flow_table.hpp"
#include "model/snapshot.hpp"
#include "packet/syn_proxy_frames.hpp"
#include "packet/tcp_options.hpp"
#include "protect/syn_cookie.hpp"

namespace sluice::dataplane {

class syn_proxy {
public:
    // `secret` null: the proxy is off on this worker (no cookie secret configured).
    // `max_held`: client segments all pending flows may hold at once ([dataplane]
    // syn_proxy_max_held).
    syn_proxy(const protect::syn_cookie_secret* secret, uint32_t max_held, uint64_t tsc_hz,
              flow::flow_table* flows, worker_counters* counters);

    bool enabled() const { return secret_ != nullptr; }
    // The per-flow table, one entry per flow-table entry; arrives by a command before the first
    // snapshot with a proxied VIP and never changes afterwards.
    void attach(proxy_state* table) { table_ = table; }
    // Refreshes the cookie period and the TSval clock from the TSC (once per tick).
    void set_clocks(uint64_t tsc);

    // Whether SYNs of `vip` are answered with cookies now: on, or auto while the VIP looks
    // attacked (decided once per tick from the last tick's SYNs and the VIP's half-open flows;
    // counts this SYN).
    bool engaged(const model::vip_entry& vip, model::guard_worker& g, uint32_t now_tick,
                 std::span<const conn_counts* const> all_conns);

    // 1. The cookie SYN-ACK answering the client's SYN `meta`/`tcp` (addresses point into
    // `meta`); bad_tcp_options when its options are malformed.
    drop_reason syn_ack(const mbuf_meta& meta, const uint8_t* tcp, uint16_t mss,
                        packet::handshake_spec& out) const;

    // 2. A client ACK without a flow, checked against its cookie: what the cookie kept.
    struct cookie_ack {
        uint32_t seq = 0;
        uint32_t ack = 0;
        uint32_t our_tsval = 0;  // the TSecr of the ACK: our SYN-ACK's TSval
        packet::syn_options client;
    };
    // bad_cookie, proxy_held_limit (no room to hold it) or bad_tcp_options; none to accept.
    drop_reason check_ack(const mbuf_meta& meta, const uint8_t* tcp, cookie_ack& out) const;
    // The flow created for an accepted ACK: sets up its state, holds the ACK and queues the
    // backend SYN's retransmission. The caller sends backend_syn(f) next.
    void open(flow::flow_entry& f, const cookie_ack& a, rte_mbuf* ack, uint32_t now_tick,
              uint64_t now_tsc);
    // Our SYN towards the backend of pending flow `f` (addresses point into the flow table).
    packet::handshake_spec backend_syn(const flow::flow_entry& f) const;

    // 3. Segments of a pending flow. A client's: held while the flow's slots last (false: no
    // slot left, or the worker's cap reached, see has_slot).
    bool has_slot(const flow::flow_entry& f) const {
        return proxy_of(f).held_count < proxy_state::max_held;
    }
    bool hold(const flow::flow_entry& f, rte_mbuf* m);
    // The backend's: its SYN-ACK (`tcp`, `flags`) completes the splice (none), anything else is
    // no_flow or bad_tcp_options. `backend_acked`: whether the segment acknowledges our SYN.
    drop_reason splice(const flow::flow_entry& f, const uint8_t* tcp, uint8_t flags);
    // The segments held for a spliced flow, handed out for replay (at most max_held).
    unsigned take_held(const flow::flow_entry& f, rte_mbuf** out);

    // Housekeeping: calls send(flow_index) for the pending flows whose backend SYN is due and
    // moves each to its next backoff level. Bounded per pass: many flows due at once must not
    // stall the RX loop; the rest stay at the heads for the next passes.
    template <class Send>
    void retransmit_due(uint32_t now_tick, Send&& send);

    // Shifts a spliced segment between the client's and the backend's numbers. False when its
    // options are malformed.
    bool translate(const flow::flow_entry& f, flow::direction dir, rte_mbuf* m) const;
    // What a flow's seq_next for `dir` is ahead of that sender's own numbers (flow::judge_rst):
    // the translation's sequence shift for a proxied flow, else 0.
    uint32_t seq_shift(const flow::flow_entry& f, flow::direction dir) const {
        if (!(f.flags & flow::flow_flag::proxied)) return 0;
        const proxy_state& p = proxy_of(f);
        // As translate() shifts seq: the client's towards the backend, the backend's towards us.
        return dir == flow::direction::from_client ? p.backend_isn - p.client_isn
                                                   : uint32_t(0) - p.seq_delta;
    }
    // A proxied flow going away: frees its held segments, leaves the retransmit queue.
    void release(const flow::flow_entry& f);

    uint32_t held_total() const { return held_total_; }

private:
    proxy_state& proxy_of(const flow::flow_entry& f) const { return table_[flows_->index_of(&f)]; }

    const protect::syn_cookie_secret* secret_;
    uint32_t max_held_;
    uint64_t tsc_hz_;
    flow::flow_table* flows_;
    worker_counters* counters_;
    proxy_state* table_ = nullptr;
    uint32_t cookie_period_ = 0;  // seconds / 64 (syn_cookie.hpp), refreshed every tick
    uint32_t now_ms_ = 0;         // our TSval clock, refreshed every tick
    // Pending flows waiting for their SYN's retransmission, and how many client segments all
    // pending flows hold (capped at max_held_).
    syn_retransmit_queue retransmits_;
    uint32_t held_total_ = 0;
};

template <class Send>
void syn_proxy::retransmit_due(uint32_t now_tick, Send&& send) {
    if (!table_) return;
    unsigned budget = 64;
    for (unsigned level = 0; level < syn_retransmit_queue::levels; ++level) {
        while (budget && retransmits_.head[level] != no_proxy_link) {
            const uint32_t i = retransmits_.head[level];
            proxy_state& p = table_[i];
            if (int32_t(p.retransmit_due - now_tick) > 0) break;
            retransmits_.unlink(table_, i);
            send(i);
            bump(counters_->syn_proxy_syn_retransmits);
            --budget;
            const unsigned next = std::min(level + 1, syn_retransmit_queue::levels - 1);
            p.retransmit_due = now_tick + (ticks_per_second << next);
            retransmits_.push(table_, i, next);
        }
    }
}

}  // namespace sluice::dataplane

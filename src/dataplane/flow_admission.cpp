// Admission of a new flow on the worker: limits, scheduling, the full-NAT source tuple, the
// flow-table insert with early drop, and how a flow that leaves without a packet (timeout,
// eviction) is wound down. Worker lcore only.
#include <cstring>

#include "dataplane/worker.hpp"
#include "flow/tcp_track.hpp"
#include "packet/wire.hpp"
#include "sched/client_hash.hpp"
#include "sched/least_connections.hpp"
#include "sched/round_robin.hpp"
#include "sched/smooth_wrr.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using flow::flow_key;
using model::snapshot;

template <class Pred>
bool worker::early_drop(const snapshot& s, uint32_t& miss_tick, Pred&& pred) {
    // A table full of established flows would make every new flow scan in vain: after a miss,
    // wait for the next tick (flows expire, states change) before scanning again.
    if (miss_tick == now_tick_) return false;
    flow_entry* victim = flows_->oldest_evictable(pred);
    if (!victim) {
        miss_tick = now_tick_;
        return false;
    }
    wind_down(s, *victim);
    flows_->remove(victim);
    bump(counters.flows_early_dropped);
    return true;
}

flow_entry* worker::create_flow(const snapshot& s, rte_mbuf* m, const flow_key& key,
                                drop_reason& why) {
    mbuf_meta& meta = meta_of(m);
    const model::vip_entry& vip = s.vip(meta.vip);
    if (vip.protect.limits_connections && !admit_new_flow(vip, key)) {
        why = drop_reason::limit_connections;
        if (vip.protect.action == config::protect_action::reset &&
            key.protocol == packet::ipproto_tcp)
            refuse_with_reset(s, m);
        return nullptr;
    }
    uint32_t b = pick_backend(vip, key);
    if (b == sched::no_backend) {
        bool any_weight = false;
        for (uint32_t w : vip.weights) any_weight |= w > 0;
        why = vip.limited && any_weight ? drop_reason::backends_full : drop_reason::no_backend;
        if (why == drop_reason::no_backend && vip.reset_when_no_backend &&
            key.protocol == packet::ipproto_tcp)
            refuse_with_reset(s, m);
        return nullptr;
    }
    const model::backend_entry& be = vip.backends[b];
    flow::tuple_pool* pool = tuples[be.egress_port][be.address.family == address_family::ipv6];
    if (!pool || be.address.family != meta.parsed.family) {
        why = drop_reason::no_local_address;
        return nullptr;
    }
    ip_address client = meta.parsed.family == address_family::ipv4
                            ? ip_address::v4_from_network(key.src)
                            : ip_address::v6_from_network(key.src);
    auto hop = s.routes.lookup(client);
    if (!hop) {
        why = drop_reason::no_route;
        return nullptr;
    }
    uint32_t client_neighbor = neighbors_->find(hop->port, hop->address);
    if (client_neighbor == route::no_neighbor) {
        // Unknown next hop towards the client: the control thread resolves it; this packet is
        // dropped (the client retransmits) and counted here.
        counters.drop(drop_reason::neighbor_unresolved);
        meta.kind = meta_kind::resolve;
        meta.next_hop = hop->address;
        meta.next_hop_port = hop->port;
        to_control_ring(m);
        return nullptr;
    }
    const uint32_t group = be.tuple_group;
    flow::local_tuple local;
    if (!pool->acquire(group, now_tick_, local) &&
        !(free_tuple_by_early_drop(s, be, group) && pool->acquire(group, now_tick_, local))) {
        why = drop_reason::local_port_exhausted;
        return nullptr;
    }
    const bool tcp = key.protocol == packet::ipproto_tcp;
    const bool watch = tcp && vip.connect_timeout_ticks > 0;
    uint32_t timeout = !tcp    ? s.timeouts.udp
                       : watch ? vip.connect_timeout_ticks
                               : s.timeouts.tcp[size_t(flow::tcp_state::syn_sent)];
    if (tcp && vip.protect.embryonic_ticks)
        timeout = std::min(timeout, vip.protect.embryonic_ticks);
    auto fill = [&](flow_entry& e) {
        e.client = key;
        std::memcpy(e.backend_addr, be.address.bytes.data(), 16);
        e.backend_port = be.port;
        e.local_port = local.port;
        e.local_index = local.address;
        e.tuple_group = uint8_t(group);
        e.vip_id = meta.vip;
        e.backend_id = uint16_t(be.id);
        e.neighbor_client = uint16_t(client_neighbor);
        e.neighbor_backend = uint16_t(be.neighbor_slot);
        e.port_client = uint8_t(hop->port);
        e.port_backend = uint8_t(be.egress_port);
        e.state = flow::tcp_state::syn_sent;
        e.flags = 0;
        if (watch) e.flags |= flow::flow_flag::watch_connect;
        // Only the first payload of a flow is matched: flows of VIPs without rules never are.
        if (!vip.protect.has_rules) e.flags |= flow::flow_flag::inspected;
    };
    flow_entry* f = flows_->insert(now_tick_ + timeout, fill);
    if (!f && early_drop(s, early_drop_miss_tick_,
                         [](const flow_entry& e) { return flow::evictable(e); }))
        f = flows_->insert(now_tick_ + timeout, fill);
    if (!f) {
        pool->release(group, local, now_tick_, true);  // never used
        why = drop_reason::flow_table_full;
        return nullptr;
    }
    bump(counters.flows_created);
    count_flow(*f, +1);
    conns_->connection(be.id);
    return f;
}

bool worker::free_tuple_by_early_drop(const snapshot& s, const model::backend_entry& be,
                                      uint32_t group) {
    // Every tuple of the group is held by a flow (none merely resting): evicting a half-open one
    // of the same group hands its tuple back at once (the backend never completed it, or gets
    // an RST); a flow whose backend keeps TIME_WAIT would free nothing usable.
    const uint8_t family = be.address.family == address_family::ipv6 ? 6 : 4;
    return early_drop(s, tuple_miss_tick_, [&](const flow_entry& e) {
        if (e.port_backend != be.egress_port || e.tuple_group != group ||
            e.client.family != family || !flow::evictable(e))
            return false;
        const bool unproxied_syn_recv =
            e.state == flow::tcp_state::syn_recv && !(e.flags & flow::flow_flag::proxied);
        return unproxied_syn_recv || flow::backend_forgets_tuple(e);
    });
}

void worker::wind_down(const snapshot& s, flow_entry& f) {
    // A watched connect that never got its SYN-ACK: the backend did not answer in time.
    if (f.state == flow::tcp_state::syn_sent && (f.flags & flow::flow_flag::watch_connect))
        conns_->connect_result(f.backend_id, false);
    count_flow(f, -1);
    const bool proxied = f.flags & flow::flow_flag::proxied;
    if (proxied && f.state == flow::tcp_state::syn_sent) {
        // The backend never completed our handshake: the client, which believes it is
        // connected, learns with an RST.
        bump(counters.syn_proxy_backend_failed);
        send_reset(s, f, direction::from_backend);
        release_held(f);
    } else if (!proxied && f.state == flow::tcp_state::syn_recv) {
        // The backend answered a SYN whose client never completed (a spoofed source, most
        // likely): its SYN_RECV entry would linger for a minute of SYN-ACK retries. Reset it,
        // which also frees the tuple at once.
        send_reset(s, f, direction::from_client);
        f.state = flow::tcp_state::close;
    }
    release_tuple(f);
}

void worker::release_tuple(const flow_entry& f) {
    flow::tuple_pool* pool = tuples[f.port_backend][f.client.family == 6];
    if (!pool) return;
    pool->release(f.tuple_group, {f.local_index, f.local_port}, now_tick_,
                  flow::backend_forgets_tuple(f));
}

bool worker::has_room(const model::vip_entry& vip, const model::backend_entry& b) const {
    const uint32_t half_open_max = vip.protect.max_half_open_per_backend;
    if (b.max_connections == 0 && half_open_max == 0) return true;
    conn_totals t = sum_connections(all_conns_, b.id);
    if (b.max_connections && t.active + t.inactive >= b.max_connections) return false;
    return half_open_max == 0 || t.half_open < half_open_max;
}

bool worker::admit_new_flow(const model::vip_entry& vip, const flow_key& key) {
    const model::vip_protection& p = vip.protect;
    model::guard_worker& g = guard_of(vip);
    auto refuse = [&](model::refusal r) {
        bump(g.refused[size_t(r)]);
        return false;
    };
    if (p.max_half_open) {
        // Summed over workers like lc: one read of each worker's line per backend, per new flow.
        uint64_t half_open = 0;
        for (const model::backend_entry& b : vip.backends)
            half_open += sum_connections(all_conns_, b.id).half_open;
        if (half_open >= p.max_half_open) return refuse(model::refusal::half_open);
    }
    if (g.sources) {
        // A reload that changed only the rate keeps the table: apply the new parameters.
        if (!(g.sources->params() == p.source_new_connections))
            g.sources->set_params(p.source_new_connections);
        const auto source =
            key.family == 4 ? protect::source_key::v4(key.src) : protect::source_key::v6(key.src);
        if (!g.sources->take(source, now_tsc_)) return refuse(model::refusal::source_connections);
    }
    if (!protect::take(g.new_connections, p.new_connections, now_tsc_))
        return refuse(model::refusal::vip_connections);
    return true;
}

uint32_t worker::pick_backend(const model::vip_entry& vip, const flow_key& key) {
    // Only VIPs with a max_connections somewhere pay for the cross-worker sums.
    auto eligible = [&](uint32_t i) { return !vip.limited || has_room(vip, vip.backends[i]); };
    using config::scheduler_kind;
    switch (vip.scheduler) {
        case scheduler_kind::rr:
            return sched::pick_round_robin(vip.weights, rr_cursor_[vip.id], eligible);
        case scheduler_kind::wrr:
            return sched::pick_smooth_wrr(vip.weights, std::span<int64_t>(wrr_current_[vip.id]),
                                          eligible);
        case scheduler_kind::lc:
        case scheduler_kind::wlc: {
            auto overhead = [&](uint32_t i) {
                conn_totals t = sum_connections(all_conns_, vip.backends[i].id);
                return sched::conn_overhead(t.active, t.inactive);
            };
            return sched::pick_least_connections(vip.weights, vip.scheduler == scheduler_kind::wlc,
                                                 lc_start_++, overhead, eligible);
        }
        case scheduler_kind::maglev: {
            uint64_t h = sched::client_hash(vip.hash, key.src, key.dst, key.family, key.src_port,
                                            key.dst_port, key.protocol, vip.hash_seed);
            // A full backend is skipped: probe a few further table entries, deterministically.
            for (unsigned probe = 0; probe < 8; ++probe) {
                uint32_t i = vip.maglev.lookup(h + probe * 0x9e3779b97f4a7c15ull);
                if (i == sched::no_backend) return i;
                if (eligible(i)) return i;
            }
            return sched::no_backend;
        }
    }
    return sched::no_backend;
}

}  // namespace sluice::dataplane

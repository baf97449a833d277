// Admission of a new flow on the worker: the admission verdict (limits, scheduling, the
// full-NAT source tuple: admission.hpp, pure code), the route towards the client, the flow-table
// insert with early drop, and how a flow that leaves without a packet (timeout, eviction) is
// wound down. Worker lcore only.
#include <cstring>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "flow/tcp_track.hpp"
#include "packet/wire.hpp"

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
    flows_->remove(victim, [&](flow_entry& f) { wind_down(s, f); });
    bump(counters.flows_early_dropped);
    return true;
}

flow_entry* worker::create_flow(const snapshot& s, rte_mbuf* m, const flow_key& key,
                                drop_reason& why) {
    mbuf_meta& meta = meta_of(m);
    const model::vip_entry& vip = s.vip(meta.vip);
    const admission_verdict v = admission_.admit(vip, key, now_tsc_);
    if (v.refused != drop_reason::none) {
        why = v.refused;
        if (v.reset) refuse_with_reset(s, m);
        return nullptr;
    }
    const model::backend_entry& be = vip.backends[v.backend];
    flow::tuple_pool* pool = tuples[be.egress_port][be.address.family == address_family::ipv6];
    if (!pool) {
        why = drop_reason::no_local_address;
        return nullptr;
    }
    const ip_address client = meta.parsed.family == address_family::ipv4
                                  ? ip_address::v4_from_network(key.src)
                                  : ip_address::v6_from_network(key.src);
    uint16_t client_port = 0;
    uint32_t client_neighbor = route::no_neighbor;
    // No route: dropped there. Unknown next hop towards the client: the control thread resolves
    // it; this packet is dropped (the client retransmits) and counted there.
    if (!hop_towards(s, m, client, client_port, client_neighbor)) return nullptr;  // consumed
    flow::local_tuple local;
    why = admission::acquire_tuple(
        pool, flows_->endpoints(), be, be.address.family, now_tick_, local,
        [&](auto&& pred) { return early_drop(s, tuple_miss_tick_, pred); });
    if (why != drop_reason::none) return nullptr;
    new_flow n{vip, be, key, local, client_neighbor, uint8_t(client_port)};
    flow_entry* f = insert_flow(s, n);
    if (!f) {
        pool->release(be.tuple_group, local, now_tick_, true);  // never used
        why = drop_reason::flow_table_full;
    }
    return f;
}

flow_entry* worker::insert_flow(const snapshot& s, const new_flow& n) {
    const model::vip_entry& vip = n.vip;
    const model::backend_entry& be = n.backend;
    const bool tcp = n.key.protocol == packet::ipproto_tcp;
    const bool watch = tcp && vip.connect_timeout_ticks > 0;
    uint32_t timeout = !tcp    ? s.timeouts.udp
                       : watch ? vip.connect_timeout_ticks
                               : s.timeouts.tcp[size_t(flow::tcp_state::syn_sent)];
    if (tcp && vip.protect.embryonic_ticks)
        timeout = std::min(timeout, vip.protect.embryonic_ticks);
    // The VIP, the backend endpoint and the protocol are the backend id's endpoint row
    // (runtime::publish wrote it before the snapshot that offers `be`).
    auto fill = [&](flow_entry& e) {
        std::memcpy(e.client_addr, n.key.src, 16);
        e.client_port = n.key.src_port;
        e.backend_id = uint16_t(be.id);
        e.local_port = n.local.port;
        e.local_index = n.local.address;
        e.neighbor_client = uint16_t(n.client_neighbor);
        e.neighbor_backend = uint16_t(be.neighbor_slot);
        e.port_client = n.client_port & 0x0f;
        e.port_backend = be.egress_port & 0x0f;
        e.state = flow::tcp_state::syn_sent;
        e.flags = n.key.family == 6 ? flow::flow_flag::client_ipv6 : 0;
        if (be.address.family != (n.key.family == 4 ? address_family::ipv4 : address_family::ipv6))
            e.extra |= flow::flow_extra::translated;
        if (watch) e.flags |= flow::flow_flag::watch_connect;
        // Only the first payload of a flow is matched: flows of VIPs without rules never are.
        if (!vip.protect.has_rules) e.flags |= flow::flow_flag::inspected;
    };
    flow_entry* f = flows_->insert(now_tick_ + timeout, fill);
    if (!f && early_drop(s, early_drop_miss_tick_, [this](const flow_entry& e) {
            return flow::evictable(e, flows_->is_tcp(e));
        }))
        f = flows_->insert(now_tick_ + timeout, fill);
    if (!f) return nullptr;
    bump(counters.flows_created);
    count_flow(*f, +1);
    conns_->connection(be.id);
    return f;
}

void worker::wind_down(const snapshot& s, flow_entry& f) {
    // A watched connect that never got its SYN-ACK: the backend did not answer in time.
    if (f.state == flow::tcp_state::syn_sent && (f.flags & flow::flow_flag::watch_connect))
        conns_->connect_result(f.backend_id, false);
    const counted c = counted_as(f);
    const bool proxied = f.flags & flow::flow_flag::proxied;
    if (proxied && f.state == flow::tcp_state::syn_sent) {
        // The backend never completed our handshake: the client, which believes it is
        // connected, learns with an RST.
        bump(counters.syn_proxy_backend_failed);
        send_reset(s, f, direction::from_backend);
        proxy_.release(f);
    } else if (!proxied && f.state == flow::tcp_state::syn_recv) {
        // The backend answered a SYN whose client never completed (a spoofed source, most
        // likely): its SYN_RECV entry would linger for a minute of SYN-ACK retries. Reset it,
        // which also frees the tuple at once.
        send_reset(s, f, direction::from_client);
        f.state = flow::tcp_state::close;
    }
    release_tuple(f);
    // Last: the flow's endpoint row is read above (flow_table::remove).
    add_count(c, -1);
}

void worker::release_tuple(const flow_entry& f) {
    flow::tuple_pool* pool = tuples[f.port_backend][flow::backend_family(f) == 6];
    if (!pool) return;
    pool->release(flows_->endpoint(f).tuple_group, {f.local_index, f.local_port}, now_tick_,
                  flow::backend_forgets_tuple(f, flows_->is_tcp(f)));
}

}  // namespace sluice::dataplane

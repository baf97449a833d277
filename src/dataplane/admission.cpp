// Admission of new flows (admission.hpp): limits, scheduling, tuple early-drop candidates.
// Worker lcore only.
#include "dataplane/admission.hpp"

#include "dataplane/counters.hpp"
#include "flow/tcp_track.hpp"
#include "packet/wire.hpp"
#include "sched/client_hash.hpp"
#include "sched/least_connections.hpp"
#include "sched/smooth_wrr.hpp"

namespace sluice::dataplane {

using flow::flow_entry;
using flow::flow_key;

void admission::sync(const model::snapshot& s) {
    for (const model::vip_entry& v : s.vips) {
        if (rr_cursor_.size() <= v.id) {
            rr_cursor_.resize(size_t(v.id) + 1);
            wrr_current_.resize(size_t(v.id) + 1);
        }
        rr_cursor_[v.id] = index_;
        wrr_current_[v.id].assign(v.backends.size(), 0);
    }
}

admission_verdict admission::admit(const model::vip_entry& vip, const flow_key& key,
                                   uint64_t now_tsc) {
    admission_verdict v;
    const bool tcp = key.protocol == packet::ipproto_tcp;
    if (vip.protect.limits_connections && !within_limits(vip, key, now_tsc)) {
        v.refused = drop_reason::limit_connections;
        v.reset = tcp && vip.protect.action == config::protect_action::reset;
        return v;
    }
    v.backend = pick_backend(vip, key);
    if (v.backend == sched::no_backend) {
        bool any_weight = false;
        for (uint32_t w : vip.weights) any_weight |= w > 0;
        v.refused =
            vip.limited && any_weight ? drop_reason::backends_full : drop_reason::no_backend;
        v.reset = tcp && v.refused == drop_reason::no_backend && vip.reset_when_no_backend;
    }
    return v;
}

bool admission::has_room(const model::vip_entry& vip, const model::backend_entry& b) const {
    const uint32_t half_open_max = vip.protect.max_half_open_per_backend;
    if (b.max_connections == 0 && half_open_max == 0) return true;
    conn_totals t = sum_connections(all_conns_, b.id);
    if (b.max_connections && t.active + t.inactive >= b.max_connections) return false;
    return half_open_max == 0 || t.half_open < half_open_max;
}

bool admission::within_limits(const model::vip_entry& vip, const flow_key& key, uint64_t now_tsc) {
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
        if (!g.sources->take(source, now_tsc)) return refuse(model::refusal::source_connections);
    }
    if (!protect::take(g.new_connections, p.new_connections, now_tsc))
        return refuse(model::refusal::vip_connections);
    return true;
}

uint32_t admission::pick_backend(const model::vip_entry& vip, const flow_key& key) {
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

bool admission::frees_tuple_of(const flow_entry& e, const flow::flow_endpoint& ep,
                               const model::backend_entry& be) {
    const uint8_t family = be.address.family == address_family::ipv6 ? 6 : 4;
    const bool tcp = ep.protocol == packet::ipproto_tcp;
    if (e.port_backend != be.egress_port || ep.tuple_group != be.tuple_group ||
        flow::backend_family(e) != family || !flow::evictable(e, tcp))
        return false;
    const bool unproxied_syn_recv =
        e.state == flow::tcp_state::syn_recv && !(e.flags & flow::flow_flag::proxied);
    return unproxied_syn_recv || flow::backend_forgets_tuple(e, tcp);
}

}  // namespace sluice::dataplane

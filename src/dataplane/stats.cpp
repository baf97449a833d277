// Stats aggregation: per-core counters summed at read time (control or telemetry thread).
#include <rte_ethdev.h>

#include <string>

#include "config/describe.hpp"
#include "dataplane/runtime.hpp"
#include "flow/tuple_pool.hpp"
#include "metrics/metrics_view.hpp"

namespace sluice::dataplane {

metrics::protect_metrics runtime::protection_of(const control::vip_entry& vip) const {
    metrics::protect_metrics m;
    m.vip = vip.name;
    const control::vip_guard& g = *vip.protect.guard;
    for (unsigned r = 0; r < control::refusal_count; ++r) {
        uint64_t total = 0;
        for (const auto& w : g.workers) total += w->refused[r].load(std::memory_order_relaxed);
        m.refused.emplace_back(control::refusal_name(control::refusal(r)), total);
    }
    for (size_t i = 0; i < g.rule_config.size(); ++i) {
        uint64_t total = 0;
        for (const auto& w : g.workers) total += w->rule_matches[i].load(std::memory_order_relaxed);
        m.rules.push_back(
            {g.rule_config[i].name,
             std::string(config::detail::protect_action_names[size_t(g.rule_config[i].action)]),
             total});
    }
    m.source_table = g.source_table_size > 0;
    for (const auto& w : g.workers) {
        if (!w->sources) continue;
        // Racy reads of the worker's plain counters: statistics only.
        m.source_entries += w->sources->size();
        m.source_evictions += w->sources->stats().evictions;
    }
    m.syn_proxy = config::detail::syn_proxy_mode_names[size_t(vip.protect.syn_proxy)];
    if (vip.protect.syn_proxy == config::syn_proxy_mode::on) {
        m.proxy_engaged = g.workers.size();
    } else if (vip.protect.syn_proxy == config::syn_proxy_mode::automatic) {
        for (const auto& w : g.workers) {
            m.proxy_engaged += w->proxy_engaged.load(std::memory_order_relaxed);
            m.proxy_engagements += w->proxy_engagements.load(std::memory_order_relaxed);
        }
    }
    return m;
}

std::vector<metrics::local_tuple_metrics> runtime::local_tuples() const {
    std::vector<metrics::local_tuple_metrics> out;
    for (size_t p = 0; p < cfg_.ports.size() && p < max_ports; ++p) {
        for (address_family fam : {address_family::ipv4, address_family::ipv6}) {
            const size_t f = fam == address_family::ipv6;
            const auto sources = cfg_.ports[p].full_nat_sources(fam);
            for (size_t k = 0; k < sources.size(); ++k) {
                metrics::local_tuple_metrics m;
                m.port = cfg_.ports[p].name;
                m.address = sources[k].to_string();
                bool any = false;
                for (const auto& pools : tuple_pools_) {
                    const flow::tuple_pool* pool = pools[p][f].get();
                    if (!pool || k >= pool->addresses()) continue;
                    any = true;
                    const uint64_t used = pool->in_use(unsigned(k));
                    const uint64_t cap = pool->capacity_per_address();
                    m.in_use += used;
                    m.free += cap > used ? cap - used : 0;
                }
                if (any) out.push_back(std::move(m));
            }
        }
    }
    return out;
}

metrics::metrics_view runtime::metrics() const {
    metrics::metrics_view v;
    const control::snapshot& s = *snapshot_.load(std::memory_order_acquire);
    for (const auto& vip : s.vips) {
        for (size_t i = 0; i < vip.backends.size(); ++i) {
            const auto& b = vip.backends[i];
            metrics::backend_metrics m;
            m.vip = vip.name;
            m.backend = config::detail::endpoint(b.address, b.port);
            conn_totals c = connections(b.id);
            m.state = control::backend_admin_name(b.admin);
            if (b.admin == control::backend_admin::draining && c.active + c.inactive == 0)
                m.state = "drained";
            m.weight = vip.weights[i];
            m.up = m.weight > 0 && b.health_up;
            if (auto h = health_status(b.id); h && h->probed) {
                m.health = h->up ? "up" : "down";
                for (size_t k = 0; k < health::result_kind_count; ++k)
                    m.checks.emplace_back(health::result_kind_name(health::result_kind(k)),
                                          h->checks[k]);
                m.state_changes = h->state_changes;
            } else if (!b.health_up) {
                m.health = "down";  // passive detection or initial state, not probed yet
            }
            m.active = c.active;
            m.inactive = c.inactive;
            auto t = traffic(b.id);
            m.connections_total = t.connections;
            m.packets_to_backend = t.packets_to;
            m.packets_from_backend = t.packets_from;
            m.bytes_to_backend = t.bytes_to;
            m.bytes_from_backend = t.bytes_from;
            v.backends.push_back(std::move(m));
        }
    }
    for (const auto& vip : s.vips) {
        if (vip.protect.guard) v.protection.push_back(protection_of(vip));
    }
    for (unsigned w = 0; w < workers_.size(); ++w) {
        const worker_counters& c = workers_[w]->counters;
        metrics::worker_metrics m;
        m.worker = w;
        m.rx_packets = read(c.rx_packets);
        m.tx_packets = read(c.tx_packets);
        m.rx_bytes = read(c.rx_bytes);
        m.tx_bytes = read(c.tx_bytes);
        m.flows_active = read(c.flows_active);
        m.flows_created = read(c.flows_created);
        m.flows_expired = read(c.flows_expired);
        m.flows_reset_drain_timeout = read(c.flows_reset_drain_timeout);
        m.flows_reset_disabled = read(c.flows_reset_disabled);
        m.flows_reset_backend_down = read(c.flows_reset_backend_down);
        m.syn_cookies_sent = read(c.syn_cookies_sent);
        m.syn_proxy_accepted = read(c.syn_proxy_accepted);
        m.syn_proxy_spliced = read(c.syn_proxy_spliced);
        m.syn_proxy_backend_failed = read(c.syn_proxy_backend_failed);
        m.resets_sent = read(c.resets_sent);
        for (unsigned r = 0; r < drop_reason_count; ++r)
            m.drops.emplace_back(std::string(drop_reason_name(drop_reason(r))), read(c.drops[r]));
        v.workers.push_back(std::move(m));
    }
    v.local_tuples = local_tuples();
    v.flow_table_capacity = uint64_t(cfg_.flows.capacity) * workers_.size();
    if (pool_) {
        v.mbufs_in_use = rte_mempool_in_use_count(pool_);
        v.mbufs_total = pool_->size;
    }
    v.config_generation = s.generation;
    v.reloads_total = reloads_ok_;
    v.reload_failures_total = reloads_failed_;
    return v;
}

std::vector<std::pair<std::string, uint64_t>> runtime::stats() const {
    struct worker_sums {
#define SLUICE_X(name) uint64_t name = 0;
        SLUICE_WORKER_COUNTERS(SLUICE_X)
#undef SLUICE_X
        uint64_t drops[drop_reason_count] = {};
    } t;
    for (const auto& w : workers_) {
        const worker_counters& c = w->counters;
#define SLUICE_X(name) t.name += read(c.name);
        SLUICE_WORKER_COUNTERS(SLUICE_X)
#undef SLUICE_X
        for (unsigned r = 0; r < drop_reason_count; ++r) t.drops[r] += read(c.drops[r]);
    }
    std::vector<std::pair<std::string, uint64_t>> out;
    auto add = [&](std::string key, uint64_t v) { out.emplace_back(std::move(key), v); };
#define SLUICE_X(name) add(#name, t.name);
    SLUICE_WORKER_COUNTERS(SLUICE_X)
#undef SLUICE_X
    add("flow_table_capacity", uint64_t(cfg_.flows.capacity) * workers_.size());
    for (unsigned r = 0; r < drop_reason_count; ++r)
        add("drop_" + std::string(drop_reason_name(drop_reason(r))), t.drops[r]);
#define SLUICE_X(name) add(#name, read(ctl_.name));
    SLUICE_CONTROL_COUNTERS(SLUICE_X)
#undef SLUICE_X
    // NIC-level figures per port: what the PMD (or the kernel ring behind af_packet) lost before
    // a worker saw it.
    for (size_t i = 0; i < ports_.size(); ++i) {
        rte_eth_stats st{};
        if (rte_eth_stats_get(ports_[i].dpdk_port, &st) != 0) continue;
        const std::string p = "port_" + cfg_.ports[i].name + "_";
        add(p + "rx_packets", st.ipackets);
        add(p + "tx_packets", st.opackets);
        add(p + "rx_missed", st.imissed);
        add(p + "rx_errors", st.ierrors);
        add(p + "rx_nombuf", st.rx_nombuf);
        add(p + "tx_errors", st.oerrors);
    }
    if (pool_) {
        add("mbufs_in_use", rte_mempool_in_use_count(pool_));
        add("mbufs_total", pool_->size);
    }
    return out;
}

std::string runtime::stats_json() const {
    std::string out = "{";
    for (const auto& [key, value] : stats()) {
        if (out.size() > 1) out += ", ";
        out += "\"" + key + "\": " + std::to_string(value);
    }
    return out + "}";
}

}  // namespace sluice::dataplane

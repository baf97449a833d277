// The data plane's read side (readings.hpp): per-core counters summed at read time.
#include "dataplane/readings.hpp"

#include <rte_ethdev.h>

#include <algorithm>
#include <string>

#include "config/describe.hpp"
#include "flow/tuple_pool.hpp"
#include "metrics/metrics_view.hpp"

namespace sluice::dataplane {

metrics::protect_metrics readings::protection_of(const model::vip_entry& vip) const {
    metrics::protect_metrics m;
    m.vip = vip.name;
    const model::vip_guard& g = *vip.protect.guard;
    for (unsigned r = 0; r < model::refusal_count; ++r) {
        uint64_t total = 0;
        for (const auto& w : g.workers) total += w->refused[r].load(std::memory_order_relaxed);
        m.refused.emplace_back(model::refusal_name(model::refusal(r)), total);
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

std::vector<metrics::local_tuple_metrics> readings::local_tuples() const {
    std::vector<metrics::local_tuple_metrics> out;
    for (size_t p = 0; p < src_.cfg.ports.size() && p < max_ports; ++p) {
        for (address_family fam : {address_family::ipv4, address_family::ipv6}) {
            const size_t f = fam == address_family::ipv6;
            const auto sources = src_.cfg.ports[p].full_nat_sources(fam);
            for (size_t k = 0; k < sources.size(); ++k) {
                metrics::local_tuple_metrics m;
                m.port = src_.cfg.ports[p].name;
                m.address = sources[k].to_string();
                bool any = false;
                for (const auto& pools : src_.tuple_pools) {
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

std::vector<std::pair<std::string, uint64_t>> readings::vip_drops_of(
    const model::vip_entry& vip) const {
    std::vector<std::pair<std::string, uint64_t>> out;
    if (vip.id >= model::max_vips) return out;
    for (unsigned k = 0; k < vip_drop_reason_count; ++k) {
        uint64_t total = 0;
        for (const auto& w : src_.workers) total += w->vip_drops.at(vip.id, k);
        if (total) out.emplace_back(std::string(drop_reason_name(vip_drop_reasons[k])), total);
    }
    return out;
}

std::vector<metrics::vip_drop_metrics> readings::vip_drops(const model::snapshot& s) const {
    std::vector<metrics::vip_drop_metrics> out;
    for (const auto& vip : s.vips)
        for (auto& [reason, count] : vip_drops_of(vip)) out.push_back({vip.name, reason, count});
    return out;
}

std::vector<metrics::backend_metrics> readings::backends(const model::snapshot& s) const {
    std::vector<metrics::backend_metrics> out;
    for (const auto& vip : s.vips) {
        for (size_t i = 0; i < vip.backends.size(); ++i) {
            const auto& b = vip.backends[i];
            metrics::backend_metrics m;
            m.vip = vip.name;
            m.backend = config::detail::endpoint(b.address, b.port);
            conn_totals c = connections(b.id);
            m.state = model::backend_admin_name(b.admin);
            if (b.admin == model::backend_admin::draining && c.active + c.inactive == 0)
                m.state = "drained";
            m.weight = vip.weights[i];
            m.up = m.weight > 0 && b.health_up;
            if (auto h = src_.control->health_status(b.id); h && h->probed) {
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
            m.traffic = traffic(b.id);
            m.max_connection_rate = uint64_t(max_rate_[b.id] + 0.5);
            out.push_back(std::move(m));
        }
    }
    return out;
}

std::vector<metrics::worker_metrics> readings::workers() const {
    std::vector<metrics::worker_metrics> out;
    for (unsigned w = 0; w < src_.workers.size(); ++w) {
        const worker_counters& c = src_.workers[w]->counters;
        metrics::worker_metrics m;
        m.worker = w;
        m.counters = c.values();
        for (unsigned r = 0; r < drop_reason_count; ++r)
            m.drops.emplace_back(std::string(drop_reason_name(drop_reason(r))), read(c.drops[r]));
        out.push_back(std::move(m));
    }
    return out;
}

metrics::metrics_view readings::metrics() const {
    metrics::metrics_view v;
    const model::snapshot& s = *src_.snapshot.load(std::memory_order_acquire);
    v.backends = backends(s);
    for (const auto& vip : s.vips) {
        if (vip.protect.guard) v.protection.push_back(protection_of(vip));
    }
    v.workers = workers();
    v.vip_drops = vip_drops(s);
    v.control = src_.ctl.values();
    for (size_t i = 0; i < src_.ports.size(); ++i)
        v.ports.push_back({src_.cfg.ports[i].name, port_counters(i), port_xstats(i)});
    v.local_tuples = local_tuples();
    v.flow_table_capacity = uint64_t(src_.cfg.flows.capacity) * src_.workers.size();
    for (const auto& [socket, pool] : src_.pools) {
        v.mbufs_in_use += rte_mempool_in_use_count(pool);
        v.mbufs_total += pool->size;
    }
    v.config_generation = s.generation;
    v.reloads_total = src_.control->reloads_ok();
    v.reload_failures_total = src_.control->reloads_failed();
    return v;
}

backend_values readings::traffic(uint32_t id) const {
    backend_values t;
    for (const conn_counts* w : src_.conns) t += w->traffic_of(id);
    return t;
}

void readings::sample_rates(uint64_t now_ns) {
    const uint64_t elapsed = now_ns - last_rate_ns_;
    if (elapsed < 1000000000ull) return;
    last_rate_ns_ = now_ns;
    for (uint32_t id : src_.snapshot.load()->backend_ids()) {
        uint64_t total = traffic(id)[backend_counter::connections_total];
        rate_[id] = double(total - rate_prev_[id]) * 1e9 / double(elapsed);
        max_rate_[id] = std::max(max_rate_[id], rate_[id]);
        rate_prev_[id] = total;
    }
}

std::vector<std::pair<std::string, uint64_t>> readings::port_xstats(size_t i) const {
    std::vector<std::pair<std::string, uint64_t>> out;
    const uint16_t id = src_.ports[i].dpdk_port;
    const int n = rte_eth_xstats_get_names(id, nullptr, 0);
    if (n <= 0) return out;
    std::vector<rte_eth_xstat_name> names(static_cast<size_t>(n));
    std::vector<rte_eth_xstat> values(static_cast<size_t>(n));
    if (rte_eth_xstats_get_names(id, names.data(), unsigned(n)) != n ||
        rte_eth_xstats_get(id, values.data(), unsigned(n)) != n)
        return out;
    out.reserve(size_t(n));
    for (const rte_eth_xstat& x : values)
        if (x.id < names.size()) out.emplace_back(names[x.id].name, x.value);
    return out;
}

port_values readings::port_counters(size_t i) const {
    port_values out;
    rte_eth_stats st{};
    if (rte_eth_stats_get(src_.ports[i].dpdk_port, &st) == 0) {
        out[port_counter::rx_packets] = st.ipackets;
        out[port_counter::tx_packets] = st.opackets;
        out[port_counter::rx_bytes] = st.ibytes;
        out[port_counter::tx_bytes] = st.obytes;
        out[port_counter::rx_missed] = st.imissed;
        out[port_counter::rx_nombuf] = st.rx_nombuf;
        out[port_counter::rx_errors] = st.ierrors;
        out[port_counter::tx_errors] = st.oerrors;
    }
    out[port_counter::link_changes] = src_.links.changes(src_.ports[i].dpdk_port);
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(src_.ports[i].dpdk_port, &link) == 0) {
        out[port_counter::link_up] = link.link_status == RTE_ETH_LINK_UP;
        if (link.link_status == RTE_ETH_LINK_UP && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
            out[port_counter::link_speed_mbps] = link.link_speed;
    }
    return out;
}

std::vector<std::pair<std::string, uint64_t>> readings::stats() const {
    worker_values t;
    uint64_t drops[drop_reason_count] = {};
    for (const auto& w : src_.workers) {
        t += w->counters.values();
        for (unsigned r = 0; r < drop_reason_count; ++r) drops[r] += read(w->counters.drops[r]);
    }
    std::vector<std::pair<std::string, uint64_t>> out;
    auto add = [&](std::string key, uint64_t v) { out.emplace_back(std::move(key), v); };
    for (size_t i = 0; i < worker_counter_count; ++i)
        add(std::string(worker_counter_defs[i].key), t.v[i]);
    add("flow_table_capacity", uint64_t(src_.cfg.flows.capacity) * src_.workers.size());
    for (unsigned r = 0; r < drop_reason_count; ++r)
        add("drop_" + std::string(drop_reason_name(drop_reason(r))), drops[r]);
    const control_values ctl = src_.ctl.values();
    for (size_t i = 0; i < control_counter_count; ++i)
        add(std::string(control_counter_defs[i].key), ctl.v[i]);
    // NIC-level figures per port: what the PMD (or the kernel ring behind af_packet) lost before
    // a worker saw it, and the link.
    for (size_t i = 0; i < src_.ports.size(); ++i) {
        const port_values pv = port_counters(i);
        const std::string p = "port_" + src_.cfg.ports[i].name + "_";
        for (size_t k = 0; k < port_counter_count; ++k)
            add(p + std::string(port_counter_defs[k].key), pv.v[k]);
    }
    uint64_t in_use = 0, total = 0;
    for (const auto& [socket, pool] : src_.pools) {
        in_use += rte_mempool_in_use_count(pool);
        total += pool->size;
    }
    if (total) {
        add("mbufs_in_use", in_use);
        add("mbufs_total", total);
    }
    return out;
}

std::string readings::stats_json() const {
    std::string out = "{";
    for (const auto& [key, value] : stats()) {
        if (out.size() > 1) out += ", ";
        out += "\"" + key + "\": " + std::to_string(value);
    }
    return out + "}";
}

}  // namespace sluice::dataplane

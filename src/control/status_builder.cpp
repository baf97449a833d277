// The status page's data (status_builder.hpp). Control thread only.
#include "control/status_builder.hpp"

#include <optional>
#include <string>

#include "config/describe.hpp"
#include "control/api_requests.hpp"

namespace sluice::control {

namespace {

using model::backend_admin;

// Health as `show backends` tells it: probes when the VIP has them, else the snapshot's verdict
// (passive detection, or not probed yet).
void fill_health(metrics::status_backend& out, const control_plane& plane,
                 const model::backend_entry& e, uint64_t now_ns) {
    const std::optional<health::target_status> h = plane.health_status(e.id);
    if (!h || !h->probed) {
        out.health = e.health_up ? "unchecked" : "down";
        return;
    }
    out.health = h->up ? "up" : "down";
    if (h->last_result) {
        out.last_result = health::result_kind_name(*h->last_result);
        out.last_detail = h->last_detail;
        out.last_check_ago_s = double(now_ns - h->last_check_ns) / 1e9;
    }
}

metrics::status_backend backend_status(const control_plane& plane, const dataplane_view& dp,
                                       size_t vi, size_t bi, uint64_t now_ns) {
    const config::vip_config& v = plane.configuration().vips[vi];
    const config::backend_config& b = v.backends[bi];
    const model::vip_entry& ve = dp.current_snapshot().vips[vi];
    const model::backend_entry& e = ve.backends[bi];
    const backend_identity who = api_requests::identity(v, b);
    const dataplane_view::connections c = dp.connections_of(e.id);
    metrics::status_backend out;
    out.backend = api_requests::backend_label(b.address, b.port);
    const backend_admin a = plane.admin_of(who);
    out.state = model::backend_admin_name(a);
    if (a == backend_admin::draining && c.active + c.inactive == 0) out.state = "drained";
    out.weight = ve.weights[bi];
    out.configured_weight = b.weight;
    fill_health(out, plane, e, now_ns);
    out.active = c.active;
    out.inactive = c.inactive;
    if (const auto deadline = plane.drain_deadline_in(who, now_ns))
        out.drain_reset_in_s = double(*deadline) / 1e9;
    out.traffic = dp.traffic(e.id);
    return out;
}

metrics::status_vip vip_status(const control_plane& plane, const dataplane_view& dp, size_t vi,
                               uint64_t now_ns) {
    const config::vip_config& v = plane.configuration().vips[vi];
    const model::vip_entry& e = dp.current_snapshot().vips[vi];
    metrics::status_vip out;
    out.name = v.name;
    out.address = v.address.to_string();
    out.port = v.port;
    out.protocol = config::detail::protocol_name(v.protocol);
    out.scheduler = config::detail::scheduler_name(v.scheduler);
    out.syn_proxy = config::detail::syn_proxy_mode_names[size_t(v.syn_proxy.mode)];
    if (e.protect.guard) {
        const metrics::protect_metrics m = dp.protection_of(e);
        out.syn_proxy_engaged = m.proxy_engaged;
        for (const auto& [reason, n] : m.refused)
            if (n > 0) out.refused.emplace_back(reason, n);
    }
    out.drops = dp.vip_drops_of(e);
    for (size_t bi = 0; bi < v.backends.size(); ++bi)
        out.backends.push_back(backend_status(plane, dp, vi, bi, now_ns));
    return out;
}

}  // namespace

metrics::status_view build_status(const control_plane& plane, const dataplane_view& dp,
                                  uint64_t now_ns) {
    metrics::status_view v;
    v.generation = dp.current_snapshot().generation;
    v.workers = dp.worker_count();
    std::vector<metrics::status_drop> drops;
    for (const metrics::worker_metrics& w : dp.workers()) {
        v.totals += w.counters;
        for (size_t r = 0; r < w.drops.size(); ++r) {
            if (drops.size() <= r) drops.push_back({w.drops[r].first, 0, std::nullopt});
            drops[r].count += w.drops[r].second;
        }
    }
    for (metrics::status_drop& d : drops)
        if (d.count > 0) v.drops.push_back(std::move(d));
    v.flows_active = v.totals[worker_counter::flows_active];
    v.flow_table_capacity = uint64_t(plane.configuration().flows.capacity) * v.workers;
    for (size_t vi = 0; vi < plane.configuration().vips.size(); ++vi)
        v.vips.push_back(vip_status(plane, dp, vi, now_ns));
    return v;
}

}  // namespace sluice::control

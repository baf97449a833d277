#include "control/health_checks.hpp"

#include <algorithm>
#include <chrono>

#include "common/log.hpp"
#include "config/describe.hpp"

namespace sluice::control {

namespace {

constexpr uint64_t ns_per_ms = 1'000'000;
// While some backend ramps up (slow start), weights are republished this often.
constexpr uint64_t ramp_step_ns = 1'000'000'000;

// Spreads the first probes differently on every start.
uint64_t jitter_seed() {
    return uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
}

}  // namespace

health_checks::health_checks(const config::config& cfg) {
    // Probes are kernel sockets next to the exception interfaces; their source ports lie above
    // the full-NAT range, where the workers hand replies to the kernel.
    health::port_range ports;
    if (cfg.flows.local_port_max < 65535) ports = {uint16_t(cfg.flows.local_port_max + 1), 65535};
    engine_ = std::make_unique<health::probe_engine>(std::vector<ip_address>{}, ports,
                                                     cfg.dataplane.netns);
    monitor_ = std::make_unique<health::health_monitor>(*engine_, jitter_seed());
}

void health_checks::set_targets(const config::config& cfg, const model::snapshot& s,
                                uint64_t now_ns) {
    std::vector<health::target> targets;
    std::unordered_map<uint32_t, backend_name> names;
    // The snapshot lists VIPs and backends in configuration order.
    for (size_t v = 0; v < cfg.vips.size() && v < s.vips.size(); ++v) {
        const auto& vc = cfg.vips[v];
        for (size_t b = 0; b < vc.backends.size() && b < s.vips[v].backends.size(); ++b) {
            const auto& bc = vc.backends[b];
            const uint32_t id = s.vips[v].backends[b].id;
            targets.push_back({id, bc.address, bc.port, bc.health, vc.health.passive_failures});
            names[id] = {vc.name, config::detail::endpoint(bc.address, bc.port), vc.health.on_down,
                         vc.health.slow_start_ms, vc.health.passive_failures > 0};
        }
    }
    monitor_->set_targets(targets, now_ns);
    std::erase_if(up_since_ns_, [&](const auto& kv) { return !names.contains(kv.first); });
    std::erase_if(connects_seen_, [&](const auto& kv) { return !names.contains(kv.first); });
    names_ = std::move(names);
}

backend_health health_checks::lookup(uint32_t id, const config::vip_config& vip,
                                     uint64_t now_ns) const {
    backend_health h;
    if (names_.contains(id)) {
        h.up = monitor_->is_up(id);
    } else {  // not watched yet (a new backend): its configured initial state
        h.up = vip.health.check.type == config::health_check_type::none ||
               vip.health.check.initial_state == config::health_initial_state::up;
    }
    auto since = up_since_ns_.find(id);
    if (h.up && since != up_since_ns_.end() && vip.health.slow_start_ms > 0) {
        const uint64_t ramp_ns = uint64_t(vip.health.slow_start_ms) * ns_per_ms;
        const uint64_t elapsed = now_ns - since->second;
        if (elapsed < ramp_ns) h.ramp = std::max(0.01, double(elapsed) / double(ramp_ns));
    }
    return h;
}

health_checks::actions health_checks::poll(uint64_t now_ns, const connect_reader& connects) {
    actions out;
    // Passive detection: the workers' connect outcomes since the last pass. Within one pass the
    // order is unknown; failures are applied first, so a success still ends the run.
    for (auto& [id, name] : names_) {
        if (!name.passive) continue;
        const connect_outcomes now = connects(id);
        const uint64_t ok = now.ok, failed = now.failed;
        auto [seen, fresh] = connects_seen_.try_emplace(id, ok, failed);
        if (fresh) continue;
        for (uint64_t i = seen->second.second; i < failed; ++i)
            monitor_->passive_failure(id, now_ns);
        if (ok > seen->second.first) monitor_->passive_success(id);
        seen->second = {ok, failed};
    }
    for (const health::transition& t : monitor_->poll(now_ns)) {
        auto it = names_.find(t.id);
        if (it == names_.end()) continue;
        const backend_name& n = it->second;
        out.republish = true;
        if (t.up) {
            log::write_fields(log::level::warn, {{"VIP", n.vip}, {"BACKEND", n.backend}},
                              "health: vip %s backend %s: down -> up (%s)", n.vip.c_str(),
                              n.backend.c_str(), t.reason.c_str());
            if (n.slow_start_ms > 0) up_since_ns_[t.id] = now_ns;
        } else {
            log::write_fields(
                log::level::warn, {{"VIP", n.vip}, {"BACKEND", n.backend}},
                "health: vip %s backend %s: up -> down (%s)%s", n.vip.c_str(), n.backend.c_str(),
                t.reason.c_str(),
                n.on_down == config::health_on_down::reset ? "; resetting its flows" : "");
            up_since_ns_.erase(t.id);
            if (n.on_down == config::health_on_down::reset) out.reset_ids.push_back(t.id);
        }
    }
    // Slow start: republish while some backend's ramp is still climbing, then once more at 100%.
    bool ramping = false;
    for (auto it = up_since_ns_.begin(); it != up_since_ns_.end();) {
        auto n = names_.find(it->first);
        if (n == names_.end() ||
            now_ns - it->second >= uint64_t(n->second.slow_start_ms) * ns_per_ms) {
            it = up_since_ns_.erase(it);
            out.republish = true;  // the full weight
            continue;
        }
        ramping = true;
        ++it;
    }
    if (ramping && now_ns - last_ramp_publish_ns_ >= ramp_step_ns) out.republish = true;
    if (out.republish) last_ramp_publish_ns_ = now_ns;
    return out;
}

}  // namespace sluice::control

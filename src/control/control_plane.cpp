#include "control/control_plane.hpp"

#include <stdexcept>

#include "common/log.hpp"
#include "config/describe.hpp"

namespace sluice::control {

namespace {

// Removals finish when a backend's last flow is gone; looked at this often.
constexpr uint64_t removal_check_ns = 1'000'000'000;

// The part of the configuration a reload may not change, and why.
const char* restart_only_change(const config::config& now, const config::config& next) {
    if (!(next.dataplane == now.dataplane)) return "[dataplane] changed: needs a restart";
    if (!(next.ports == now.ports)) return "[[port]] changed: needs a restart";
    if (!(next.flows == now.flows)) return "[flows] changed: needs a restart";
    if (!(next.neighbor == now.neighbor)) return "[neighbor] changed: needs a restart";
    if (!(next.control == now.control)) return "[control] changed: needs a restart";
    if (!(next.metrics == now.metrics)) return "[metrics] changed: needs a restart";
    return nullptr;
}

}  // namespace

control_plane::control_plane(config::config cfg, dataplane_sink& sink,
                             std::unique_ptr<health_watch> health)
    : cfg_(std::move(cfg)), sink_(sink), health_(std::move(health)) {}

std::unique_ptr<model::snapshot> control_plane::build(const config::config& cfg,
                                                      uint64_t generation, uint64_t now_ns) {
    const dataplane_sink::build_resources r = sink_.resources();
    health_lookup lookup;
    if (health_)
        lookup = [this, now_ns](uint32_t id, const config::vip_config& vip) {
            return health_->lookup(id, vip, now_ns);
        };
    return build_snapshot(cfg, {r.ports, r.neighbors, registry_, r.ticks_per_second, generation,
                                sink_.current(), &admin_, lookup, r.guards});
}

void control_plane::adopt(const config::config& cfg, std::unique_ptr<model::snapshot> snap,
                          uint64_t now_ns) {
    registry_.retain_only(snap->backend_ids());
    registry_.retain_vips(snap->vip_ids());
    if (health_) health_->set_targets(cfg, *snap, now_ns);
    sink_.publish(std::move(snap), cfg);
}

void control_plane::start(uint64_t now_ns) {
    auto snap = build(cfg_, generation_ + 1, now_ns);
    ++generation_;
    adopt(cfg_, std::move(snap), now_ns);
}

result<> control_plane::reload(const config::config& next, uint64_t now_ns) {
    if (const char* why = restart_only_change(cfg_, next)) return fail(why);
    std::unique_ptr<model::snapshot> snap;
    try {
        snap = build(next, generation_ + 1, now_ns);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
    ++generation_;
    cfg_.routes = next.routes;
    cfg_.timeouts = next.timeouts;
    cfg_.vips = next.vips;
    cfg_.source_file = next.source_file;
    adopt(cfg_, std::move(snap), now_ns);
    return {};
}

void control_plane::poll(uint64_t now_ns) {
    enforce_drain_deadlines(now_ns);
    apply_health(now_ns);
    finish_removals(now_ns);
    recycle_ids();
}

std::vector<uint32_t> control_plane::backend_ids_of(const backend_identity& who) const {
    std::vector<uint32_t> ids;
    const model::snapshot* s = sink_.current();
    if (!s) return ids;
    for (const auto& v : s->vips) {
        if (!(v.address == who.vip) || v.port != who.vip_port || v.protocol != who.protocol)
            continue;
        for (const auto& b : v.backends)
            if (b.address == who.backend && b.port == who.backend_port) ids.push_back(b.id);
    }
    return ids;
}

model::backend_admin control_plane::admin_of(const backend_identity& who) const {
    auto it = admin_.find(who);
    return it == admin_.end() ? model::backend_admin::up : it->second;
}

void control_plane::set_admin(const backend_identity& who, model::backend_admin a) {
    if (a == model::backend_admin::up) {
        admin_.erase(who);
        drain_deadlines_.erase(who);
    } else {
        admin_[who] = a;
    }
}

void control_plane::set_drain_deadline(const backend_identity& who, uint64_t now_ns,
                                       uint64_t after_ns) {
    drain_deadlines_[who] = now_ns + after_ns;
}

std::optional<uint64_t> control_plane::drain_deadline_in(const backend_identity& who,
                                                         uint64_t now_ns) const {
    auto it = drain_deadlines_.find(who);
    if (it == drain_deadlines_.end()) return std::nullopt;
    return it->second > now_ns ? it->second - now_ns : 0;
}

std::optional<health::target_status> control_plane::health_status(uint32_t id) const {
    return health_ ? health_->status(id) : std::nullopt;
}

void control_plane::enforce_drain_deadlines(uint64_t now_ns) {
    for (auto it = drain_deadlines_.begin(); it != drain_deadlines_.end();) {
        if (it->second > now_ns) {
            ++it;
            continue;
        }
        const backend_identity who = it->first;
        it = drain_deadlines_.erase(it);
        if (admin_of(who) == model::backend_admin::up) continue;
        std::vector<uint32_t> ids = backend_ids_of(who);
        uint64_t left = 0;
        for (uint32_t id : ids) left += sink_.open_flows(id);
        if (ids.empty() || left == 0) continue;
        const std::string label = config::detail::endpoint(who.backend, who.backend_port);
        log::write_fields(log::level::warn, {{"BACKEND", label}},
                          "backend %s: drain deadline reached, resetting %llu flow(s)",
                          label.c_str(), (unsigned long long)left);
        sink_.reset_flows(ids, model::reset_cause::drain_timeout);
    }
}

void control_plane::apply_health(uint64_t now_ns) {
    if (!health_) return;
    const health_watch::actions a =
        health_->poll(now_ns, [this](uint32_t id) { return sink_.connects(id); });
    // The new state is published first: the resets' sweep waits for that snapshot, so no flow
    // scheduled to the failed backend before it escapes.
    if (a.republish || !a.reset_ids.empty()) {
        if (auto published = reload(cfg_, now_ns); !published)
            SLUICE_LOG_ERROR("health: cannot publish the new state: %s",
                             published.message().c_str());
    }
    if (!a.reset_ids.empty()) sink_.reset_flows(a.reset_ids, model::reset_cause::backend_down);
}

void control_plane::finish_removals(uint64_t now_ns) {
    // A backend being removed leaves its VIP once its last flow is gone.
    if (now_ns - last_removal_check_ns_ < removal_check_ns) return;
    last_removal_check_ns_ = now_ns;
    const model::snapshot* s = sink_.current();
    if (!s) return;
    config::config next = cfg_;
    bool changed = false;
    // The snapshot lists VIPs in configuration order.
    for (size_t v = 0; v < s->vips.size() && v < next.vips.size(); ++v) {
        const model::vip_entry& vip = s->vips[v];
        for (const auto& b : vip.backends) {
            if (b.admin != model::backend_admin::removing || sink_.open_flows(b.id) > 0) continue;
            auto& list = next.vips[v].backends;
            for (size_t i = 0; i < list.size(); ++i) {
                if (list[i].address == b.address && list[i].port == b.port) {
                    list.erase(list.begin() + long(i));
                    changed = true;
                    break;
                }
            }
            admin_.erase({vip.address, vip.port, vip.protocol, b.address, b.port});
            const std::string label = config::detail::endpoint(b.address, b.port);
            log::write_fields(log::level::info, {{"VIP", vip.name}, {"BACKEND", label}},
                              "vip %s: backend %s removed (no flows left)", vip.name.c_str(),
                              label.c_str());
        }
    }
    if (!changed) return;
    if (auto removed = reload(next, now_ns); !removed)
        SLUICE_LOG_ERROR("removing drained backends failed: %s", removed.message().c_str());
}

void control_plane::recycle_ids() {
    // Ids of removed backends are reused once no snapshot can still hand them to a worker, no
    // worker counts a flow on them and no reset command still names them.
    if (!sink_.ids_quiescent()) return;
    registry_.recycle([this](uint32_t id) { return sink_.open_flows(id) > 0; });
}

}  // namespace sluice::control

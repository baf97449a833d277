#include "control/state_merge.hpp"

#include <algorithm>

#include "config/describe.hpp"
#include "config/validate.hpp"

namespace sluice::control {

namespace {

using model::backend_admin;

template <class Config>
auto* find_vip(Config& c, const ip_address& address, uint16_t port, config::l4_protocol protocol) {
    auto it = std::find_if(c.vips.begin(), c.vips.end(), [&](const auto& v) {
        return v.address == address && v.port == port && v.protocol == protocol;
    });
    return it == c.vips.end() ? nullptr : &*it;
}

template <class Vip>
auto* find_backend(Vip& v, const ip_address& address, uint16_t port) {
    auto it = std::find_if(v.backends.begin(), v.backends.end(),
                           [&](const auto& b) { return b.address == address && b.port == port; });
    return it == v.backends.end() ? nullptr : &*it;
}

backend_identity identity_of(const config::vip_config& v, const ip_address& a, uint16_t port) {
    return {v.address, v.port, uint8_t(v.protocol), a, port};
}

config::rate_limit_config& limit_of(config::vip_limits_config& l, int i) {
    return i == 0 ? l.new_connections : i == 1 ? l.packets : l.source_new_connections;
}
const config::rate_limit_config& limit_of(const config::vip_limits_config& l, int i) {
    return i == 0 ? l.new_connections : i == 1 ? l.packets : l.source_new_connections;
}
const std::optional<config::rate_limit_config>& limit_of(const limits_state& l, int i) {
    return i == 0 ? l.new_connections : i == 1 ? l.packets : l.source_new_connections;
}
std::optional<config::rate_limit_config>& limit_of(limits_state& l, int i) {
    return i == 0 ? l.new_connections : i == 1 ? l.packets : l.source_new_connections;
}

// A config validation would refuse a backend no port subnet and no route reaches.
bool reachable(const config::config& cfg, const ip_address& address) {
    if (config::detail::is_connected(cfg, address)) return true;
    return std::any_of(cfg.routes.begin(), cfg.routes.end(),
                       [&](const auto& r) { return r.prefix.contains(address); });
}

// "draining, weight 3" for the log line of a dropped entry.
std::string what_is_kept(const backend_state& b) {
    std::string out = b.added ? "added" : "";
    if (b.weight)
        out += (out.empty() ? "" : ", ") + std::string("weight ") + std::to_string(*b.weight);
    if (b.admin != backend_admin::up)
        out += (out.empty() ? "" : ", ") + std::string(model::backend_admin_name(b.admin));
    return out;
}

void capture_backends(const config::vip_config& rv, const config::vip_config& fv,
                      const admin_source& admin, vip_state& out) {
    for (const auto& rb : rv.backends) {
        backend_state b;
        b.address = rb.address;
        b.port = rb.port;
        const config::backend_config* fb = find_backend(fv, rb.address, rb.port);
        if (!fb) b.added = true;
        if (!fb || fb->weight != rb.weight) b.weight = rb.weight;
        const backend_identity who = identity_of(rv, rb.address, rb.port);
        b.admin = admin.admin(who);
        if (b.admin == backend_admin::draining) b.drain_deadline_ms = admin.deadline_ms(who);
        if (b.added || b.weight || b.admin != backend_admin::up) out.backends.push_back(b);
    }
    for (const auto& fb : fv.backends)  // in the file, gone from the VIP: removed
        if (!find_backend(rv, fb.address, fb.port)) {
            backend_state b;
            b.address = fb.address;
            b.port = fb.port;
            b.admin = backend_admin::removing;
            out.backends.push_back(b);
        }
}

class applier {
public:
    applier(const config::config& file, const config::config* running) : running_(running) {
        out_.cfg = file;
    }

    void vip(const vip_state& s) {
        config::vip_config* v = find_vip(out_.cfg, s.address, s.port, s.protocol);
        if (!v) {
            out_.dropped.push_back("vip " + describe_vip(s) +
                                   " is no longer in the configuration: its state is dropped");
            return;
        }
        vip_state kept{s.address, s.port, s.protocol, v->name, s.limits, {}};
        for (int i = 0; i < 3; ++i)
            if (const auto& r = limit_of(s.limits, i)) limit_of(v->limits, i) = *r;
        const config::vip_config* rv =
            running_ ? find_vip(*running_, s.address, s.port, s.protocol) : nullptr;
        for (const backend_state& b : s.backends)
            if (auto k = backend(b, *v, rv)) kept.backends.push_back(*k);
        if (!kept.limits.empty() || !kept.backends.empty()) out_.kept.vips.push_back(kept);
    }

    applied_state take() { return std::move(out_); }

private:
    void drop(const config::vip_config& v, const backend_state& b, const std::string& why) {
        out_.dropped.push_back("vip " + v.name + " backend " +
                               config::detail::endpoint(b.address, b.port) + " (" +
                               what_is_kept(b) + "): " + why);
    }

    // The entry as kept, or nullopt when it no longer applies.
    std::optional<backend_state> backend(const backend_state& b, config::vip_config& v,
                                         const config::vip_config* rv) {
        if (b.admin == backend_admin::removing) return removed(b, v, rv);
        config::backend_config* in_file = find_backend(v, b.address, b.port);
        backend_state kept = b;
        if (in_file) {
            kept.added = false;  // the file lists it now: the weight is an override
            if (b.weight) in_file->weight = *b.weight;
        } else if (!b.added) {
            drop(v, b, "no longer in the configuration; its state is dropped");
            return std::nullopt;
        } else if (!reachable(out_.cfg, b.address)) {
            drop(v, b, "no route of the configuration reaches it any more; not added");
            return std::nullopt;
        } else {
            append(v, b);
        }
        if (b.admin != backend_admin::up)
            out_.admin.push_back({identity_of(v, b.address, b.port), b.admin, b.drain_deadline_ms});
        return kept;
    }

    // `remove backend`: the backend leaves the VIP, unless the running VIP still has it (its
    // flows are not gone yet): then it stays as `removing` and leaves when they are.
    std::optional<backend_state> removed(const backend_state& b, config::vip_config& v,
                                         const config::vip_config* rv) {
        auto& list = v.backends;
        auto it = std::find_if(list.begin(), list.end(), [&](const auto& x) {
            return x.address == b.address && x.port == b.port;
        });
        const bool in_file = it != list.end();
        if (!in_file && !b.added) {
            drop(v, b, "no longer in the configuration; nothing to remove");
            return std::nullopt;
        }
        if (rv && find_backend(*rv, b.address, b.port)) {
            if (!in_file) append(v, b);
            out_.admin.push_back({identity_of(v, b.address, b.port), b.admin, std::nullopt});
            return b;
        }
        if (in_file) list.erase(it);
        if (b.added) return std::nullopt;  // added, then removed: nothing left to remember
        return b;
    }

    // As `add backend` builds it (control_api.cpp).
    static void append(config::vip_config& v, const backend_state& b) {
        config::backend_config added;
        added.address = b.address;
        added.port = b.port;
        added.weight = b.weight.value_or(1);
        v.backends.push_back(added);
    }

    const config::config* running_;
    applied_state out_;
};

}  // namespace

operator_state capture(const config::config& file, const config::config& running,
                       const admin_source& admin) {
    operator_state out;
    for (const auto& rv : running.vips) {
        const config::vip_config* fv = find_vip(file, rv.address, rv.port, rv.protocol);
        if (!fv) continue;  // reloads replace VIPs as a whole: running VIPs come from the file
        vip_state v{rv.address, rv.port, rv.protocol, rv.name, {}, {}};
        for (int i = 0; i < 3; ++i) {
            const config::rate_limit_config& now = limit_of(rv.limits, i);
            if (!(now == limit_of(fv->limits, i))) limit_of(v.limits, i) = now;
        }
        capture_backends(rv, *fv, admin, v);
        if (!v.limits.empty() || !v.backends.empty()) out.vips.push_back(std::move(v));
    }
    return out;
}

applied_state apply(const operator_state& state, const config::config& file,
                    const config::config* running) {
    applier a(file, running);
    for (const auto& v : state.vips) a.vip(v);
    return a.take();
}

}  // namespace sluice::control

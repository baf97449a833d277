#include "control/snapshot_builder.hpp"

#include <algorithm>
#include <stdexcept>

namespace sluice::control {

using model::backend_admin;
using model::backend_entry;
using model::snapshot;
using model::vip_entry;

namespace {

sched::hash_selector selector(config::hash_key k) {
    switch (k) {
        case config::hash_key::src_ip:
            return sched::hash_selector::src_ip;
        case config::hash_key::src_ip_port:
            return sched::hash_selector::src_ip_port;
        case config::hash_key::five_tuple:
            return sched::hash_selector::five_tuple;
    }
    return sched::hash_selector::src_ip;
}

const vip_entry* find_same_vip(const snapshot* s, const vip_entry& v) {
    if (!s) return nullptr;
    for (const auto& p : s->vips)
        if (p.address == v.address && p.port == v.port && p.protocol == v.protocol) return &p;
    return nullptr;
}

// The MSS a SYN-proxied VIP offers clients: the configured one, else what the smallest MTU of
// its backends' egress ports carries (IPv4: 20 + 20 bytes of headers, IPv6: 40 + 20); never
// above the VIP's mss_clamp.
uint16_t proxy_mss(const config::vip_config& vc, const std::vector<backend_entry>& backends,
                   std::span<const model::port_info> infos) {
    if (vc.syn_proxy.mss)
        return vc.mss_clamp ? std::min(vc.syn_proxy.mss, vc.mss_clamp) : vc.syn_proxy.mss;
    uint32_t mtu = 0;
    for (const auto& b : backends)
        if (b.egress_port < infos.size() && (mtu == 0 || infos[b.egress_port].mtu < mtu))
            mtu = infos[b.egress_port].mtu;
    if (mtu == 0) mtu = 1500;
    const uint32_t headers = vc.address.is_v4() ? 40 : 60;
    const auto mss = uint16_t(std::max<uint32_t>(mtu, headers + 536) - headers);
    return vc.mss_clamp ? std::min(mss, vc.mss_clamp) : mss;
}

void add_ports(const config::config& cfg, std::span<const model::port_info> infos, snapshot& s) {
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        const auto& pc = cfg.ports[i];
        s.ports.push_back({pc.name, infos[i].dpdk_port, infos[i].mac, pc.addresses, infos[i].mtu});
        for (const auto& a : pc.addresses) {
            s.routes.add_connected(a, uint16_t(i));
            s.add_local_address(a.address, uint16_t(i));
        }
        for (const auto& a : pc.local_addresses) s.add_local_address(a, uint16_t(i));
    }
    for (const auto& r : cfg.routes) s.routes.add_static(r.prefix, r.via);
    if (!s.routes.finish()) throw std::runtime_error("a static route's gateway is not on-link");
}

// The VIP's backends with ids, egress and neighbour slots; `ramps` gets their slow-start ramps.
void add_backends(const config::config& cfg, const config::vip_config& vc,
                  const snapshot_inputs& in, snapshot& s, vip_entry& v,
                  std::vector<double>& ramps) {
    for (const auto& bc : vc.backends) {
        auto hop = s.routes.lookup(bc.address);
        if (!hop) throw std::runtime_error("no route to backend " + bc.address.to_string());
        backend_entry b;
        b.address = bc.address;
        b.port = bc.port;
        b.weight = bc.weight;
        b.max_connections = bc.max_connections;
        v.limited |= bc.max_connections > 0;
        const backend_identity who{v.address, v.port, v.protocol, b.address, b.port};
        b.id = in.registry.acquire(who);
        if (b.id == model::no_backend_id)
            throw std::runtime_error("more than " + std::to_string(model::max_backends) +
                                     " backends (counting removed ones with open flows)");
        if (in.admin)
            if (auto a = in.admin->find(who); a != in.admin->end()) b.admin = a->second;
        const backend_health h = in.health ? in.health(b.id, vc) : backend_health{};
        b.health_up = h.up;
        ramps.push_back(h.ramp);
        b.egress_port = hop->port;
        b.tuple_group =
            in.registry.tuple_group(b.address, b.port, v.protocol, cfg.flows.tuple_groups);
        b.neighbor_slot = in.neighbors.find_or_add(hop->port, hop->address);
        if (b.neighbor_slot == route::no_neighbor) throw std::runtime_error("neighbour table full");
        v.backends.push_back(b);
    }
}

// Effective weights (admin state, health, all_down, slow start) and the Maglev keys.
void set_weights(const config::vip_config& vc, const std::vector<double>& ramps, vip_entry& v) {
    // When every backend is down, all_down decides: "use-all" ignores health (fail open),
    // "drop" and "reset" leave no backend ("reset" makes the worker answer SYNs with RST).
    bool any_up = false;
    for (const auto& b : v.backends) any_up |= b.health_up;
    const bool ignore_health = !any_up && vc.health.all_down == config::health_all_down::use_all;
    v.reset_when_no_backend =
        !any_up && !v.backends.empty() && vc.health.all_down == config::health_all_down::reset;
    for (size_t i = 0; i < v.backends.size(); ++i) {
        const backend_entry& b = v.backends[i];
        uint32_t effective = 0;
        if (b.admin == backend_admin::up && (b.health_up || ignore_health) && b.weight > 0) {
            // Slow start: a share of the weight, never below 1 (0 would mean "no flows").
            effective = std::max<uint32_t>(1, uint32_t(double(b.weight) * ramps[i] + 0.5));
        }
        v.weights.push_back(effective);
        // The Maglev key follows the backend (address, port), not its position in the config.
        v.maglev_backends.push_back(
            {sched::backend_key(b.address.bytes.data(), uint8_t(b.address.family), b.port),
             effective});
    }
}

// Maglev: the previous table (`old`: the same VIP in the last snapshot, may be null) changed
// minimally when seed and size are the same.
void set_maglev(const config::vip_config& vc, const vip_entry* old, vip_entry& v) {
    if (v.scheduler != config::scheduler_kind::maglev) return;
    if (old && old->scheduler == config::scheduler_kind::maglev && old->hash_seed == v.hash_seed &&
        old->maglev.size() == vc.maglev_table_size)
        v.maglev =
            sched::maglev_table::rebuild(old->maglev, old->maglev_backends, v.maglev_backends,
                                         vc.maglev_table_size, v.hash_seed);
    else
        v.maglev = sched::maglev_table::build(v.maglev_backends, vc.maglev_table_size, v.hash_seed);
}

vip_entry build_vip(const config::config& cfg, const config::vip_config& vc,
                    const snapshot_inputs& in, snapshot& s) {
    vip_entry v;
    v.id = in.registry.vip_id(vc.address, vc.port, uint8_t(vc.protocol));
    if (v.id == model::no_vip_id)
        throw std::runtime_error("more than " + std::to_string(model::max_vips) + " VIPs");
    v.name = vc.name;
    v.address = vc.address;
    v.port = vc.port;
    v.protocol = uint8_t(vc.protocol);
    v.scheduler = vc.scheduler;
    v.hash = selector(vc.hash);
    v.hash_seed = vc.hash_seed;
    if (vc.health.passive_failures > 0)
        v.connect_timeout_ticks = std::max<uint32_t>(
            1,
            uint32_t(uint64_t(vc.health.passive_connect_timeout_ms) * in.ticks_per_second / 1000));
    const vip_entry* old = find_same_vip(in.previous, v);
    v.protect =
        build_protection(vc, in.guards, in.ticks_per_second, old ? old->protect.guard : nullptr);
    v.limited = v.protect.max_half_open_per_backend > 0;
    std::vector<double> ramps;
    add_backends(cfg, vc, in, s, v, ramps);
    v.mss_clamp = vc.mss_clamp;
    v.protect.syn_proxy_mss = proxy_mss(vc, v.backends, in.ports);
    set_weights(vc, ramps, v);
    set_maglev(vc, old, v);
    return v;
}

model::timeout_ticks timeouts_in_ticks(const config::timeout_config& t, uint32_t per_second) {
    auto ticks = [&](uint32_t seconds) { return seconds * per_second; };
    using flow::tcp_state;
    model::timeout_ticks out{};
    out.tcp[size_t(tcp_state::syn_sent)] = ticks(t.tcp_syn);
    out.tcp[size_t(tcp_state::syn_recv)] = ticks(t.tcp_syn);
    out.tcp[size_t(tcp_state::established)] = ticks(t.tcp_established);
    out.tcp[size_t(tcp_state::fin_wait)] = ticks(t.tcp_fin_wait);
    out.tcp[size_t(tcp_state::time_wait)] = ticks(t.tcp_time_wait);
    out.tcp[size_t(tcp_state::close)] = ticks(t.tcp_close);
    out.udp = ticks(t.udp);
    return out;
}

}  // namespace

std::unique_ptr<snapshot> build_snapshot(const config::config& cfg, const snapshot_inputs& in) {
    auto s = std::make_unique<snapshot>();
    s->generation = in.generation;
    add_ports(cfg, in.ports, *s);
    for (const auto& vc : cfg.vips) s->vips.push_back(build_vip(cfg, vc, in, *s));
    s->index_vips();
    s->timeouts = timeouts_in_ticks(cfg.timeouts, in.ticks_per_second);
    return s;
}

}  // namespace sluice::control

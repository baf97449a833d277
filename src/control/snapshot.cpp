#include "control/snapshot.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

#include "flow/flow_key.hpp"

namespace sluice::control {

uint32_t snapshot::vip_hash(const uint8_t* dst, uint8_t family, uint16_t dport, uint8_t proto) {
    uint32_t h = 2166136261u ^ (uint32_t(dport) << 8 | proto);
    size_t n = family == 4 ? 4 : 16;
    for (size_t i = 0; i < n; ++i) h = (h ^ dst[i]) * 16777619u;
    return h ^ (h >> 15);
}

namespace {

// Address equality without a libc memcmp call (per packet): 4 bytes for IPv4, 16 for IPv6.
bool same_address_of(const uint8_t* a, const uint8_t* b, uint8_t family) {
    if (family == 4) {
        uint32_t x, y;
        std::memcpy(&x, a, 4);
        std::memcpy(&y, b, 4);
        return x == y;
    }
    return flow::same_address(a, b);
}

}  // namespace

uint16_t snapshot::find_vip(const uint8_t* dst, uint8_t family, uint16_t dport,
                            uint8_t proto) const {
    for (uint32_t i = vip_hash(dst, family, dport, proto) & vip_mask_;; i = (i + 1) & vip_mask_) {
        int32_t v = vip_slots_[i];
        if (v < 0) return no_vip_id;
        const vip_entry& e = vips[size_t(v)];
        if (e.port == dport && e.protocol == proto && uint8_t(e.address.family) == family &&
            same_address_of(e.address.bytes.data(), dst, family))
            return e.id;
    }
}

std::vector<uint16_t> snapshot::vip_ids() const {
    std::vector<uint16_t> ids;
    for (const auto& v : vips) ids.push_back(v.id);
    return ids;
}

int32_t snapshot::local_address_port(const uint8_t* dst, uint8_t family) const {
    for (const auto& l : locals_)
        if (l.family == family && same_address_of(l.bytes, dst, family)) return l.port;
    if (family == 4 && !pool_ranges_.empty()) {
        // Local address pools are prefixes mostly: a range compare each, not one per address.
        const uint32_t a =
            uint32_t(dst[0]) << 24 | uint32_t(dst[1]) << 16 | uint32_t(dst[2]) << 8 | dst[3];
        for (const auto& r : pool_ranges_)
            if (a - r.first < r.count) return r.port;
    }
    return -1;
}

void snapshot::add_pool_address(const ip_address& a, uint16_t port) {
    if (!a.is_v4()) {
        local_address l{};
        std::memcpy(l.bytes, a.bytes.data(), 16);
        l.family = uint8_t(a.family);
        l.port = port;
        locals_.push_back(l);
        return;
    }
    if (!pool_ranges_.empty()) {
        v4_range& last = pool_ranges_.back();
        if (last.port == port && a.v4_host() == last.first + last.count) {
            ++last.count;
            return;
        }
    }
    pool_ranges_.push_back({a.v4_host(), 1, port});
}

const ip_address* snapshot::source_address(uint16_t port, address_family family) const {
    for (const auto& p : ports[port].addresses)
        if (p.address.family == family) return &p.address;
    return nullptr;
}

bool snapshot::answers_arp_for(uint16_t port, const ip_address& a) const {
    for (const auto& p : ports[port].addresses)
        if (p.address == a) return true;
    if (local_address_port(a.bytes.data(), uint8_t(a.family)) == int32_t(port)) return true;
    for (const auto& v : vips)
        if (v.address == a) return true;
    return false;
}

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

}  // namespace

std::vector<uint32_t> snapshot::backend_ids() const {
    std::vector<uint32_t> ids;
    for (const auto& v : vips)
        for (const auto& b : v.backends) ids.push_back(b.id);
    return ids;
}

bool snapshot::uses_syn_proxy() const {
    for (const auto& v : vips)
        if (v.protect.syn_proxy != config::syn_proxy_mode::off) return true;
    return false;
}

namespace {

// The MSS a SYN-proxied VIP offers clients: the configured one, else what the smallest MTU of
// its backends' egress ports carries (IPv4: 20 + 20 bytes of headers, IPv6: 40 + 20).
uint16_t proxy_mss(const config::vip_config& vc, const std::vector<backend_entry>& backends,
                   std::span<const port_info> infos) {
    if (vc.syn_proxy.mss) return vc.syn_proxy.mss;
    uint32_t mtu = 0;
    for (const auto& b : backends)
        if (b.egress_port < infos.size() && (mtu == 0 || infos[b.egress_port].mtu < mtu))
            mtu = infos[b.egress_port].mtu;
    if (mtu == 0) mtu = 1500;
    const uint32_t headers = vc.address.is_v4() ? 40 : 60;
    return uint16_t(std::max<uint32_t>(mtu, headers + 536) - headers);
}

}  // namespace

std::unique_ptr<snapshot> snapshot::build(const config::config& cfg,
                                          std::span<const port_info> infos,
                                          route::neighbor_table& neighbors,
                                          backend_registry& registry, uint32_t ticks_per_second,
                                          uint64_t generation, const snapshot* previous,
                                          const std::map<backend_identity, backend_admin>& admin,
                                          const health_lookup& health, const guard_setup& guards) {
    auto s = std::make_unique<snapshot>();
    s->generation = generation;
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        const auto& pc = cfg.ports[i];
        s->ports.push_back({pc.name, infos[i].dpdk_port, infos[i].mac, pc.addresses});
        for (const auto& a : pc.addresses) {
            s->routes.add_connected(a, uint16_t(i));
            local_address l{};
            std::memcpy(l.bytes, a.address.bytes.data(), 16);
            l.family = uint8_t(a.address.family);
            l.port = uint16_t(i);
            s->locals_.push_back(l);
        }
        for (const auto& a : pc.local_addresses) s->add_pool_address(a, uint16_t(i));
    }
    for (const auto& r : cfg.routes) s->routes.add_static(r.prefix, r.via);
    if (!s->routes.finish()) throw std::runtime_error("a static route's gateway is not on-link");

    for (const auto& vc : cfg.vips) {
        if (!vc.address.is_v4())
            throw std::runtime_error("vip " + vc.name +
                                     ": IPv6 forwarding is not implemented yet (IPv4 only)");
        vip_entry v;
        v.id = registry.vip_id(vc.address, vc.port, uint8_t(vc.protocol));
        if (v.id == no_vip_id)
            throw std::runtime_error("more than " + std::to_string(max_vips) + " VIPs");
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
                uint32_t(uint64_t(vc.health.passive_connect_timeout_ms) * ticks_per_second / 1000));
        {
            const vip_entry* old = find_same_vip(previous, v);
            v.protect =
                build_protection(vc, guards, ticks_per_second, old ? old->protect.guard : nullptr);
        }
        v.limited = v.protect.max_half_open_per_backend > 0;
        std::vector<double> ramps;
        for (const auto& bc : vc.backends) {
            auto hop = s->routes.lookup(bc.address);
            if (!hop) throw std::runtime_error("no route to backend " + bc.address.to_string());
            backend_entry b;
            b.address = bc.address;
            b.port = bc.port;
            b.weight = bc.weight;
            b.max_connections = bc.max_connections;
            v.limited |= bc.max_connections > 0;
            const backend_identity who{v.address, v.port, v.protocol, b.address, b.port};
            b.id = registry.acquire(who);
            if (auto a = admin.find(who); a != admin.end()) b.admin = a->second;
            if (b.id == no_backend_id)
                throw std::runtime_error("more than " + std::to_string(max_backends) +
                                         " backends (counting removed ones with open flows)");
            backend_health h = health ? health(b.id, vc) : backend_health{};
            b.health_up = h.up;
            ramps.push_back(h.ramp);
            b.egress_port = hop->port;
            b.tuple_group =
                registry.tuple_group(b.address, b.port, v.protocol, cfg.flows.tuple_groups);
            b.neighbor_slot = neighbors.find_or_add(hop->port, hop->address);
            if (b.neighbor_slot == route::no_neighbor)
                throw std::runtime_error("neighbour table full");
            v.backends.push_back(b);
        }
        v.protect.syn_proxy_mss = proxy_mss(vc, v.backends, infos);
        // When every backend is down, all_down decides: "use-all" ignores health (fail open),
        // "drop" and "reset" leave no backend ("reset" makes the worker answer SYNs with RST).
        bool any_up = false;
        for (const auto& b : v.backends) any_up |= b.health_up;
        const bool ignore_health =
            !any_up && vc.health.all_down == config::health_all_down::use_all;
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
        if (v.scheduler == config::scheduler_kind::maglev) {
            const vip_entry* old = find_same_vip(previous, v);
            if (old && old->scheduler == config::scheduler_kind::maglev &&
                old->hash_seed == v.hash_seed && old->maglev.size() == vc.maglev_table_size)
                v.maglev = sched::maglev_table::rebuild(old->maglev, old->maglev_backends,
                                                        v.maglev_backends, vc.maglev_table_size,
                                                        v.hash_seed);
            else
                v.maglev = sched::maglev_table::build(v.maglev_backends, vc.maglev_table_size,
                                                      v.hash_seed);
        }
        s->vips.push_back(std::move(v));
    }
    uint32_t slots = std::bit_ceil(uint32_t(s->vips.size() * 2 + 16));
    s->vip_slots_.assign(slots, -1);
    s->vip_mask_ = slots - 1;
    for (size_t v = 0; v < s->vips.size(); ++v) {
        const auto& e = s->vips[v];
        uint32_t i =
            vip_hash(e.address.bytes.data(), uint8_t(e.address.family), e.port, e.protocol) &
            s->vip_mask_;
        while (s->vip_slots_[i] >= 0) i = (i + 1) & s->vip_mask_;
        s->vip_slots_[i] = int32_t(v);
        if (s->vip_of_id_.size() <= e.id) s->vip_of_id_.resize(size_t(e.id) + 1, -1);
        s->vip_of_id_[e.id] = int32_t(v);
    }

    auto ticks = [&](uint32_t seconds) { return seconds * ticks_per_second; };
    using flow::tcp_state;
    const auto& t = cfg.timeouts;
    s->timeouts.tcp[size_t(tcp_state::syn_sent)] = ticks(t.tcp_syn);
    s->timeouts.tcp[size_t(tcp_state::syn_recv)] = ticks(t.tcp_syn);
    s->timeouts.tcp[size_t(tcp_state::established)] = ticks(t.tcp_established);
    s->timeouts.tcp[size_t(tcp_state::fin_wait)] = ticks(t.tcp_fin_wait);
    s->timeouts.tcp[size_t(tcp_state::time_wait)] = ticks(t.tcp_time_wait);
    s->timeouts.tcp[size_t(tcp_state::close)] = ticks(t.tcp_close);
    s->timeouts.udp = ticks(t.udp);
    return s;
}

}  // namespace sluice::control

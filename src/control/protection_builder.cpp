#include "control/protection_builder.hpp"

#include <random>
#include <stdexcept>

namespace sluice::control {

using model::guard_worker;
using model::vip_guard;
using model::vip_protection;

namespace {

bool same_rules(const vip_guard& g, const config::vip_config& vip, uint32_t table_size) {
    return g.rule_config == vip.rules && g.inspect_bytes == vip.rule_inspect_bytes &&
           g.source_table_size == table_size;
}

std::shared_ptr<vip_guard> make_guard(const config::vip_config& vip, const guard_setup& setup,
                                      uint32_t table_size, const protect::bucket_params& source) {
    auto g = std::make_shared<vip_guard>();
    g->rule_config = vip.rules;
    g->inspect_bytes = vip.rule_inspect_bytes;
    g->source_table_size = table_size;
    protect::rule_scratch prototype;
    if (!vip.rules.empty()) {
        std::vector<std::string> patterns;
        for (const auto& r : vip.rules) patterns.push_back(r.pattern);
        auto compiled = protect::rule_set::compile(patterns, vip.rule_inspect_bytes);
        if (!compiled.ok())
            throw std::runtime_error("vip " + vip.name + ": " + compiled.errors[0].to_string());
        g->rules = std::move(compiled.rules);
        std::string why;
        if (!prototype.fit(g->rules, why))
            throw std::runtime_error("vip " + vip.name + ": hyperscan scratch: " + why);
    }
    std::random_device random;
    for (unsigned w = 0; w < setup.workers; ++w) {
        auto gw = std::make_unique<guard_worker>();
        if (table_size) {
            const uint64_t seed = (uint64_t(random()) << 32) | random();
            gw->sources.emplace(table_size, source, seed);
        }
        if (!vip.rules.empty()) {
            std::string why;
            auto clone = prototype.clone(why);
            if (!clone) throw std::runtime_error("vip " + vip.name + ": hyperscan scratch: " + why);
            gw->scratch = std::move(*clone);
            gw->rule_matches.reset(new std::atomic<uint64_t>[vip.rules.size()]());
        }
        g->workers.push_back(std::move(gw));
    }
    return g;
}

}  // namespace

vip_protection build_protection(const config::vip_config& vip, const guard_setup& setup,
                                uint32_t ticks_per_second,
                                const std::shared_ptr<vip_guard>& previous) {
    vip_protection p;
    const auto& l = vip.limits;
    const auto bucket = [&](const config::rate_limit_config& r) {
        return protect::bucket_params::per_second(r.per_second, r.burst, setup.tsc_hz,
                                                  setup.workers);
    };
    p.new_connections = bucket(l.new_connections);
    p.packets = bucket(l.packets);
    p.source_new_connections = bucket(l.source_new_connections);
    p.action = l.action;
    const auto& sp = vip.syn_proxy;
    p.max_half_open = sp.max_half_open;
    p.max_half_open_per_backend = sp.max_half_open_per_backend;
    if (sp.mode != config::syn_proxy_mode::off || sp.max_half_open || sp.max_half_open_per_backend)
        p.embryonic_ticks = std::max<uint32_t>(
            1, uint32_t(uint64_t(sp.embryonic_timeout_ms) * ticks_per_second / 1000));
    p.limits_connections =
        l.new_connections.limited() || l.source_new_connections.limited() || sp.max_half_open;
    p.has_rules = !vip.rules.empty();
    p.syn_proxy = sp.mode;
    if (sp.mode == config::syn_proxy_mode::automatic) {
        const uint64_t per_tick =
            uint64_t(sp.syn_rate_threshold) / ticks_per_second / setup.workers;
        p.syn_threshold_per_tick = uint32_t(std::max<uint64_t>(1, per_tick));
        p.half_open_threshold = sp.half_open_threshold;
    }
    const bool needs_guard = p.limits_connections || l.packets.limited() || p.has_rules ||
                             sp.mode != config::syn_proxy_mode::off;
    if (!needs_guard) return p;
    const uint32_t table_size = l.source_new_connections.limited() ? l.source_table_size : 0;
    if (previous && previous->workers.size() == setup.workers &&
        same_rules(*previous, vip, table_size)) {
        p.guard = previous;
    } else {
        p.guard = make_guard(vip, setup, table_size, p.source_new_connections);
    }
    return p;
}

}  // namespace sluice::control

// Cross-checks of [[vip]] and [[vip.backend]]: unique VIPs and names, VIPs and backends that are
// not the LB's own addresses (VIPs not its local addresses either), backends that a port or route
// reaches (of either family: a backend of the other family than its VIP is reached by NAT64/NAT46),
// Maglev tables large enough for their backends.
#include <map>

#include "config/describe.hpp"
#include "config/maglev_table_size.hpp"
#include "config/validate.hpp"

namespace sluice::config::detail {

namespace {

constexpr uint64_t default_maglev_table = default_maglev_table_size;
static_assert(is_prime(default_maglev_table));

// The port address equal to `address`, if the LB owns it.
const origin* own_address(const config& cfg, const origins& where, const ip_address& address) {
    for (size_t i = 0; i < cfg.ports.size(); ++i)
        for (size_t k = 0; k < cfg.ports[i].addresses.size(); ++k)
            if (cfg.ports[i].addresses[k].address == address) return &where.ports[i].addresses[k];
    return nullptr;
}

// The local (full-NAT source) address equal to `address`, if some port has it. The data plane
// takes a packet to a local address for a reply without looking for a VIP, so a VIP there would
// never be reached (stages/rx_classify.cpp).
const origin* local_address(const config& cfg, const origins& where, const ip_address& address) {
    for (size_t i = 0; i < cfg.ports.size(); ++i)
        for (size_t k = 0; k < cfg.ports[i].local_addresses.size(); ++k)
            if (cfg.ports[i].local_addresses[k] == address)
                return &where.ports[i].local_addresses[k];
    return nullptr;
}

std::string own_address_message(const ip_address& address, const origin& port_address) {
    return address.to_string() + " is this load balancer's own address (" + port_address.path +
           " " + defined_at(port_address) + ")";
}

bool is_reachable(const config& cfg, const origins& where, const ip_address& address) {
    if (is_connected(cfg, address)) return true;
    for (size_t i = 0; i < cfg.routes.size(); ++i)
        if (where.routes[i].prefix && cfg.routes[i].prefix.contains(address)) return true;
    return false;
}

void check_backends(const config& cfg, const origins& where, size_t v, diagnostics& diag) {
    const auto& vip = cfg.vips[v];
    const auto& vip_at = where.vips[v];
    std::map<std::string, size_t> seen;
    for (size_t b = 0; b < vip.backends.size(); ++b) {
        const auto& backend = vip.backends[b];
        const auto& at = vip_at.backends[b];
        if (!at.address) continue;
        if (const origin* own = own_address(cfg, where, backend.address)) {
            diag.report(*at.address, own_address_message(backend.address, *own));
            continue;
        }
        if (!is_reachable(cfg, where, backend.address))
            diag.report(at.table, "no route reaches " + backend.address.to_string() +
                                      " (add a [[route]] or a port address covering it)");
        if (!at.port_known) continue;
        auto key = endpoint(backend.address, backend.port);
        auto [it, fresh] = seen.emplace(key, b);
        if (!fresh)
            diag.report(at.table, "duplicate of " + vip_at.backends[it->second].table.path + " (" +
                                      key + ") " + defined_at(vip_at.backends[it->second].table));
    }
}

void check_maglev_table(const vip_config& vip, const vip_origins& at, diagnostics& diag) {
    if (vip.scheduler != scheduler_kind::maglev || !at.maglev_table_size_known) return;
    uint64_t backends = vip.backends.size();
    uint64_t needed = maglev_entries_per_backend * backends;
    if (vip.maglev_table_size >= needed) return;
    std::string problem = std::to_string(vip.maglev_table_size) + " is too small for " +
                          std::to_string(backends) + " backends";
    std::string advice;
    if (needed > max_maglev_table_size) {
        advice = "needs a prime >= " + std::to_string(needed) + ", above the maximum " +
                 std::to_string(max_maglev_table_size) + ": a maglev VIP takes at most " +
                 std::to_string(max_maglev_table_size / maglev_entries_per_backend) + " backends";
    } else {
        uint64_t example =
            default_maglev_table >= needed ? default_maglev_table : prime_at_least(needed);
        advice = "use a prime >= " + std::to_string(needed) + ", e.g. " + std::to_string(example);
    }
    if (at.maglev_table_size)
        diag.report(*at.maglev_table_size, problem + " (" + advice + ")");
    else
        diag.report(at.table, "the default maglev_table_size " + problem + " (" + advice + ")");
}

}  // namespace

void validate_vips(const config& cfg, const origins& where, diagnostics& diag) {
    std::map<std::string, size_t> endpoints, names;
    for (size_t v = 0; v < cfg.vips.size(); ++v) {
        const auto& vip = cfg.vips[v];
        const auto& at = where.vips[v];
        if (at.address) {
            if (const origin* own = own_address(cfg, where, vip.address))
                diag.report(*at.address, own_address_message(vip.address, *own));
            else if (const origin* local = local_address(cfg, where, vip.address))
                diag.report(*at.address, vip.address.to_string() +
                                             " is a local (full-NAT source) address (" +
                                             local->path + " " + defined_at(*local) +
                                             "): replies to local addresses are never a VIP's");
        }
        bool duplicate = false;
        if (at.endpoint_known) {
            auto label = vip_label(vip.address, vip.port, vip.protocol);
            auto [it, fresh] = endpoints.emplace(label, v);
            duplicate = !fresh;
            if (duplicate)
                diag.report(at.table, "duplicate of " + where.vips[it->second].table.path + " (" +
                                          label + ") " + defined_at(where.vips[it->second].table));
        }
        if (at.name_known && !duplicate) {
            auto [it, fresh] = names.emplace(vip.name, v);
            if (!fresh) {
                const auto& first = where.vips[it->second];
                const origin& first_at = first.name ? *first.name : first.table;
                if (at.name)
                    diag.report(*at.name, "duplicate of " + first.table.path + ".name '" +
                                              vip.name + "' " + defined_at(first_at));
                else
                    diag.report(at.table, "default name '" + vip.name + "' duplicates " +
                                              first.table.path + ".name " + defined_at(first_at));
            }
        }
        check_backends(cfg, where, v, diag);
        check_maglev_table(vip, at, diag);
    }
}

}  // namespace sluice::config::detail

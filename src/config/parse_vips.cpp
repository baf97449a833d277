// [[vip]] and [[vip.backend]]: the services, how they pick a server, and the servers.
#include <algorithm>
#include <array>
#include <limits>
#include <span>

#include "config/describe.hpp"
#include "config/maglev_table_size.hpp"
#include "config/parse.hpp"
#include "config/parse_health.hpp"
#include "config/parse_protect.hpp"

namespace sluice::config::detail {

namespace {

constexpr size_t max_vip_name = 64;
constexpr int64_t max_hash_seed = std::numeric_limits<int64_t>::max();  // TOML integers are signed
constexpr int64_t max_backend_connections = 16777215;

// The keys only a maglev VIP reads.
constexpr std::array<std::string_view, 3> maglev_keys{"hash", "maglev_table_size", "hash_seed"};

// Names are typed on the sluicectl command line: no spaces or control characters.
bool is_vip_name(std::string_view name) {
    if (name.empty() || name.size() > max_vip_name) return false;
    for (unsigned char c : name)
        if (c <= ' ' || c == 0x7f) return false;
    return true;
}

std::optional<origin> read_address(table_reader& table, ip_address& out) {
    std::string text;
    auto at = table.string("address", text, presence::required);
    if (!at) return std::nullopt;
    auto address = ip_address::parse(text);
    if (!address) {
        table.diag().report(*at, "'" + text + "' is not an IP address");
        return std::nullopt;
    }
    out = *address;
    return at;
}

// scheduler, then the keys only Maglev reads: hash, maglev_table_size, hash_seed. On a VIP with
// another scheduler those keys are errors at the key. With an invalid scheduler (already reported)
// they are read as if it were maglev, so their own mistakes still show.
void parse_scheduler(table_reader& vip, vip_config& cfg, vip_origins& at) {
    auto scheduler_at = read_keyword(vip, "scheduler", "scheduler", scheduler_names, cfg.scheduler);
    bool scheduler_known = scheduler_at || !vip.has("scheduler");
    if (scheduler_known && cfg.scheduler != scheduler_kind::maglev) {
        std::string scheduler = "\"" + std::string(scheduler_name(cfg.scheduler)) + "\"";
        std::string why =
            scheduler_at ? "this VIP's is " + scheduler : "this VIP has the default, " + scheduler;
        for (auto key : maglev_keys) {
            if (auto key_at = vip.key_origin(key))
                vip.diag().report(*key_at, "only used with scheduler = \"maglev\" (" + why + ")");
        }
        return;
    }
    read_keyword(vip, "hash", "hash key", hash_key_names, cfg.hash);
    uint32_t size = 0;
    if (auto size_at =
            vip.integer("maglev_table_size", min_maglev_table_size, max_maglev_table_size, size)) {
        if (is_prime(size)) {
            cfg.maglev_table_size = size;
            at.maglev_table_size = size_at;
        } else {
            vip.diag().report(*size_at, std::to_string(size) + " is not a prime (try " +
                                            std::to_string(prime_at_least(size + 1)) + ")");
            at.maglev_table_size_known = false;
        }
    } else if (vip.has("maglev_table_size")) {
        at.maglev_table_size_known = false;
    }
    vip.integer("hash_seed", 0, max_hash_seed, cfg.hash_seed);
}

void parse_backend(table_reader& backend, const vip_config& vip, bool vip_port_known,
                   vip_health_origins& health, std::vector<backend_config>& out,
                   std::vector<backend_origins>& where) {
    backend_config cfg;
    backend_origins at{backend.where(), {}, false};
    at.address = read_address(backend, cfg.address);
    if (backend.integer("port", 1, 65535, cfg.port)) {
        at.port_known = true;
    } else if (!backend.has("port")) {
        cfg.port = vip.port;
        at.port_known = vip_port_known;
    }
    backend.integer("weight", 0, 65535, cfg.weight);
    backend.integer("max_connections", 0, max_backend_connections, cfg.max_connections);
    parse_backend_health(backend, vip.health, health, cfg.health);
    backend.report_unknown_keys();
    out.push_back(std::move(cfg));
    where.push_back(std::move(at));
}

void parse_vip(table_reader& vip, std::vector<vip_config>& out, origins& where) {
    vip_config cfg;
    vip_origins at;
    at.table = vip.where();

    at.address = read_address(vip, cfg.address);
    bool port_known = vip.integer("port", 1, 65535, cfg.port, presence::required).has_value();
    size_t protocol = 0;
    bool protocol_known =
        vip.choice("protocol", {"tcp", "udp"}, protocol, presence::required).has_value();
    cfg.protocol = protocol == 0 ? l4_protocol::tcp : l4_protocol::udp;
    at.endpoint_known = at.address && port_known && protocol_known;

    std::string name;
    if (auto name_at = vip.string("name", name)) {
        if (is_vip_name(name)) {
            cfg.name = name;
            at.name = name_at;
            at.name_known = true;
        } else {
            vip.diag().report(*name_at,
                              "must be 1 to 64 characters without spaces, got '" + name + "'");
        }
    } else if (!vip.has("name") && at.endpoint_known) {
        cfg.name = vip_label(cfg.address, cfg.port, cfg.protocol);
        at.name_known = true;
    }

    parse_scheduler(vip, cfg, at);
    auto health = parse_vip_health(vip, cfg.health);

    if (auto backends = vip.tables("backend")) {
        for (auto& backend : backends->tables)
            parse_backend(backend, cfg, port_known, health, cfg.backends, at.backends);
    }
    check_vip_health(cfg, protocol_known, health, vip.diag());
    parse_vip_protection(vip, protocol_known, cfg);
    if (auto clamp_at = vip.integer("mss_clamp", 536, 65495, cfg.mss_clamp)) {
        if (protocol_known && cfg.protocol != l4_protocol::tcp) {
            vip.diag().report(*clamp_at, "only for protocol = \"tcp\" (UDP has no MSS)");
            cfg.mss_clamp = 0;
        }
    }
    vip.report_unknown_keys();
    out.push_back(std::move(cfg));
    where.vips.push_back(std::move(at));
}

}  // namespace

void parse_vips(table_reader& root, std::vector<vip_config>& out, origins& where) {
    auto vips = root.tables("vip");
    if (!vips) return;
    for (auto& vip : vips->tables) parse_vip(vip, out, where);
}

}  // namespace sluice::config::detail

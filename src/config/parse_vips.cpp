// [[vip]] and [[vip.backend]]: the services and the servers behind them.
#include "config/describe.hpp"
#include "config/parse.hpp"

namespace sluice::config::detail {

namespace {

constexpr size_t max_vip_name = 64;

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

void parse_backend(table_reader& backend, const vip_config& vip, bool vip_port_known,
                   std::vector<backend_config>& out, std::vector<backend_origins>& where) {
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
    backend.report_unknown_keys();
    out.push_back(cfg);
    where.push_back(std::move(at));
}

void parse_vip(table_reader& vip, std::vector<vip_config>& out, origins& where) {
    vip_config cfg;
    vip_origins at{vip.where(), {}, {}, false, false, {}};

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

    if (auto backends = vip.tables("backend")) {
        for (auto& backend : backends->tables)
            parse_backend(backend, cfg, port_known, cfg.backends, at.backends);
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

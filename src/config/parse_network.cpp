// [[port]] and [[route]]: the LB's interfaces, own addresses and next hops.
#include "config/parse.hpp"
#include "config/prefix_math.hpp"

namespace sluice::config::detail {

namespace {

constexpr size_t max_port_name = 32;

bool is_port_name(std::string_view name) {
    if (name.empty() || name.size() > max_port_name) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

// A DPDK virtual device: "net_<driver><n>" optionally followed by ",key=value,…".
bool is_vdev(std::string_view device) {
    auto name = device.substr(0, device.find(','));
    if (!name.starts_with("net_") || name.size() == 4) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    return true;
}

std::optional<ip_prefix> parse_prefix(const std::string& text, const origin& where,
                                      diagnostics& diag) {
    auto prefix = ip_prefix::parse(text);
    if (!prefix) diag.report(where, "'" + text + "' is not an IP prefix");
    return prefix;
}

std::optional<ip_address> parse_address(const std::string& text, const origin& where,
                                        diagnostics& diag) {
    auto address = ip_address::parse(text);
    if (!address) diag.report(where, "'" + text + "' is not an IP address");
    return address;
}

void parse_port_addresses(table_reader& port, port_config& cfg, port_origins& where) {
    auto addresses = port.array("addresses", presence::required);
    if (!addresses) return;
    if (addresses->elements.empty()) port.diag().report(addresses->where, "must not be empty");
    for (const auto& item : addresses->elements) {
        std::string text;
        if (!read_string(*item.node, item.where, text, port.diag())) continue;
        auto prefix = parse_prefix(text, item.where, port.diag());
        if (!prefix) continue;
        if (text.find('/') == std::string::npos) {  // the length defines the connected subnet
            port.diag().report(item.where, "'" + text + "' needs a prefix length, e.g. '" + text +
                                               (prefix->address.is_v4() ? "/24'" : "/64'"));
            continue;
        }
        cfg.addresses.push_back(*prefix);
        where.addresses.push_back(item.where);
    }
}

// local_addresses = ["198.18.1.128/28", "198.18.1.200"]: single addresses and prefixes, each
// prefix expanded to all its addresses (a /28 gives 16).
void parse_local_addresses(table_reader& port, port_config& cfg, port_origins& where) {
    auto list = port.array("local_addresses", presence::optional);
    if (!list) return;
    for (const auto& item : list->elements) {
        std::string text;
        if (!read_string(*item.node, item.where, text, port.diag())) continue;
        auto prefix = parse_prefix(text, item.where, port.diag());
        if (!prefix) continue;
        const unsigned host_bits = (prefix->address.is_v4() ? 32u : 128u) - prefix->length;
        if (host_bits > 8 ||
            cfg.local_addresses.size() + (size_t(1) << host_bits) > max_local_addresses) {
            port.diag().report(item.where, "at most " + std::to_string(max_local_addresses) +
                                               " local addresses per port, '" + text +
                                               "' goes beyond");
            continue;
        }
        const ip_prefix network =
            text.find('/') == std::string::npos ? *prefix : network_of(*prefix);
        for (size_t k = 0; k < (size_t(1) << host_bits); ++k) {
            cfg.local_addresses.push_back(nth_address(network.address, k));
            where.local_addresses.push_back(item.where);
        }
    }
}

// rss = ["ip", "tcp", "udp"]: the fields the NIC hashes over the RX queues; "ip" is required
// (ports alone would not spread one client's flows any better and NICs cannot hash them alone).
void parse_port_rss(table_reader& port, port_config& cfg, port_origins& at) {
    auto list = port.array("rss");
    if (!list) return;
    at.rss = list->where;
    if (list->elements.empty()) port.diag().report(list->where, "must not be empty");
    for (const auto& item : list->elements) {
        std::string text;
        if (!read_string(*item.node, item.where, text, port.diag())) continue;
        const uint8_t bit = text == "ip"    ? port_rss::ip
                            : text == "tcp" ? port_rss::tcp
                            : text == "udp" ? port_rss::udp
                                            : 0;
        if (!bit)
            port.diag().report(item.where, "'" + text + "' is not an RSS field (ip, tcp, udp)");
        else if (cfg.rss & bit)
            port.diag().report(item.where, "'" + text + "' is listed twice");
        cfg.rss |= bit;
    }
    if (cfg.rss && !(cfg.rss & port_rss::ip))
        port.diag().report(list->where, "must contain \"ip\" (NICs hash ports with addresses)");
}

// The device's NIC settings (docs/config.md "NIC settings"); validate_network.cpp checks them
// against the workers and the device's other sub-ports.
void parse_port_nic(table_reader& port, port_config& cfg, port_origins& at) {
    at.queues = port.integer("queues", 1, 128, cfg.queues);
    at.rx_descriptors = port.integer("rx_descriptors", 64, 16384, cfg.rx_descriptors);
    at.tx_descriptors = port.integer("tx_descriptors", 64, 16384, cfg.tx_descriptors);
    parse_port_rss(port, cfg, at);
    bool offload = true;
    at.rx_checksum_offload = port.boolean("rx_checksum_offload", offload);
    if (at.rx_checksum_offload) cfg.rx_checksum_offload = offload;
    bool steering = true;
    at.flow_steering = port.boolean("flow_steering", steering);
    if (at.flow_steering) cfg.flow_steering = steering;
}

void parse_port(table_reader& port, std::vector<port_config>& out, origins& where) {
    port_config cfg;
    port_origins at{port.where(), {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}};

    std::string name;
    if (auto name_at = port.string("name", name, presence::required)) {
        if (is_port_name(name)) {
            cfg.name = name;
            at.name = name_at;
        } else {
            port.diag().report(*name_at,
                               "must be 1 to 32 characters of a-z, 0-9, '_' and '-', "
                               "got '" +
                                   name + "'");
        }
    }

    std::string device;
    if (auto device_at = port.string("device", device, presence::required)) {
        cfg.device = device;
        if (cfg.is_pci() || is_vdev(device)) {
            at.device = device_at;
        } else {
            port.diag().report(*device_at, "'" + device +
                                               "' is neither a PCI address like 0000:03:00.0 nor "
                                               "a virtual device like net_af_packet0,iface=eth0");
        }
    }

    parse_port_addresses(port, cfg, at);
    parse_local_addresses(port, cfg, at);
    // 0 and 4095 are reserved (IEEE 802.1Q 9.6): priority-tagged frames and no VLAN.
    at.vlan = port.integer("vlan", 1, 4094, cfg.vlan);
    // 576: the smallest datagram every IPv4 host takes (RFC 791); 9000: the common jumbo size,
    // which the mbufs are sized for (runtime::create_pool).
    at.mtu = port.integer("mtu", 576, 9000, cfg.mtu);
    parse_port_nic(port, cfg, at);
    port.report_unknown_keys();
    out.push_back(std::move(cfg));
    where.ports.push_back(std::move(at));
}

void parse_route(table_reader& route, std::vector<route_config>& out, origins& where) {
    route_config cfg;
    route_origins at{route.where(), {}, {}};

    std::string text;
    if (auto prefix_at = route.string("prefix", text, presence::required)) {
        if (auto prefix = parse_prefix(text, *prefix_at, route.diag())) {
            auto network = network_of(*prefix);
            if (network.address == prefix->address) {
                cfg.prefix = *prefix;
                at.prefix = prefix_at;
            } else {
                route.diag().report(*prefix_at, prefix->to_string() +
                                                    " has host bits set (did you mean " +
                                                    network.to_string() + "?)");
            }
        }
    }
    if (auto via_at = route.string("via", text, presence::required)) {
        if (auto via = parse_address(text, *via_at, route.diag())) {
            cfg.via = *via;
            at.via = via_at;
        }
    }
    route.report_unknown_keys();
    out.push_back(cfg);
    where.routes.push_back(std::move(at));
}

}  // namespace

void parse_ports(table_reader& root, std::vector<port_config>& out, origins& where) {
    auto ports = root.tables("port");
    if (!ports) {
        if (!root.has("port"))
            root.diag().report(toml::source_position{},
                               "missing required [[port]] table (at least one port)");
        return;
    }
    if (ports->size == 0) root.diag().report(ports->where, "must list at least one port");
    for (auto& port : ports->tables) parse_port(port, out, where);
}

void parse_routes(table_reader& root, std::vector<route_config>& out, origins& where) {
    auto routes = root.tables("route");
    if (!routes) return;
    for (auto& route : routes->tables) parse_route(route, out, where);
}

}  // namespace sluice::config::detail

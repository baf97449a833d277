#include "config/parse.hpp"

namespace sluice::config::detail {

namespace {

constexpr int64_t max_timeout = 7 * 24 * 3600;  // a week; longer is a leak, not a timeout

void parse_flows(table_reader& root, flow_config& out, origins& where) {
    auto flows = root.table("flows");
    if (!flows) return;
    flows->integer("capacity", 1024, 134217728, out.capacity);
    where.local_port_min = flows->integer("local_port_min", 1, 65535, out.local_port_min);
    where.local_port_max = flows->integer("local_port_max", 1, 65535, out.local_port_max);
    where.local_ports_known = (where.local_port_min || !flows->has("local_port_min")) &&
                              (where.local_port_max || !flows->has("local_port_max"));
    flows->report_unknown_keys();
}

void parse_timeouts(table_reader& root, timeout_config& out) {
    auto timeouts = root.table("timeouts");
    if (!timeouts) return;
    timeouts->integer("tcp_syn", 1, max_timeout, out.tcp_syn);
    timeouts->integer("tcp_established", 1, max_timeout, out.tcp_established);
    timeouts->integer("tcp_fin_wait", 1, max_timeout, out.tcp_fin_wait);
    timeouts->integer("tcp_time_wait", 1, max_timeout, out.tcp_time_wait);
    timeouts->integer("tcp_close", 1, max_timeout, out.tcp_close);
    timeouts->integer("udp", 1, max_timeout, out.udp);
    timeouts->report_unknown_keys();
}

void parse_neighbor(table_reader& root, neighbor_config& out) {
    auto neighbor = root.table("neighbor");
    if (!neighbor) return;
    neighbor->integer("reachable_time", 1, 86400, out.reachable_time);
    neighbor->integer("retry_interval_ms", 10, 60000, out.retry_interval_ms);
    neighbor->integer("retries", 1, 100, out.retries);
    neighbor->report_unknown_keys();
}

}  // namespace

void parse_document(const toml::table& root, config& cfg, origins& where, diagnostics& diag) {
    table_reader reader(root, origin{}, "the top level", diag);
    parse_dataplane(reader, cfg.dataplane, where);
    parse_ports(reader, cfg.ports, where);
    parse_routes(reader, cfg.routes, where);
    parse_flows(reader, cfg.flows, where);
    parse_timeouts(reader, cfg.timeouts);
    parse_neighbor(reader, cfg.neighbor);
    parse_vips(reader, cfg.vips, where);
    reader.report_unknown_keys();
}

}  // namespace sluice::config::detail

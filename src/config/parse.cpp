#include "config/parse.hpp"

#include <string>

#include "sluice/ip_address.hpp"

namespace sluice::config::detail {

namespace {

constexpr int64_t max_timeout = 7 * 24 * 3600;  // a week; longer is a leak, not a timeout

void parse_flows(table_reader& root, flow_config& out, origins& where) {
    auto flows = root.table("flows");
    if (!flows) return;
    flows->integer("capacity", 1024, 67108863, out.capacity);  // flow::max_capacity
    where.local_port_min = flows->integer("local_port_min", 1, 65535, out.local_port_min);
    where.local_port_max = flows->integer("local_port_max", 1, 65535, out.local_port_max);
    where.local_ports_known = (where.local_port_min || !flows->has("local_port_min")) &&
                              (where.local_port_max || !flows->has("local_port_max"));
    flows->integer("reuse_after", 0, 3600, out.reuse_after);
    flows->integer("tuple_groups", 1, 256, out.tuple_groups);
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

void parse_control(table_reader& root, control_config& out, diagnostics& diag) {
    auto control = root.table("control");
    if (!control) return;
    if (auto where = control->string("socket", out.socket)) {
        if (out.socket.empty() || out.socket[0] != '/' || out.socket.size() > 107)
            diag.report(*where,
                        "must be an absolute path of at most 107 bytes, got '" + out.socket + "'");
    }
    if (auto where = control->string("state_file", out.state_file)) {
        // "" turns it off; a directory name cannot be renamed over, so it must name a file.
        const std::string& f = out.state_file;
        if (!f.empty() && (f[0] != '/' || f.back() == '/' || f.size() > 4095 ||
                           f.find('\0') != std::string::npos))
            diag.report(*where,
                        "must be an absolute file path of at most 4095 bytes (\"\" turns "
                        "it off), got '" +
                            f + "'");
    }
    control->report_unknown_keys();
}

// "ADDR:PORT" or "[IPv6]:PORT"; empty disables the listener.
bool valid_listen(const std::string& s) {
    if (s.empty()) return true;
    auto colon = s.rfind(':');
    if (colon == std::string::npos || colon + 1 == s.size()) return false;
    std::string host = s.substr(0, colon), port = s.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string::npos)
        return false;
    if (!ip_address::parse(host)) return false;
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
    unsigned long n = std::stoul(port);
    return n >= 1 && n <= 65535;
}

void parse_metrics(table_reader& root, metrics_config& out, diagnostics& diag) {
    auto metrics = root.table("metrics");
    if (!metrics) return;
    if (auto where = metrics->string("listen", out.listen); where && !valid_listen(out.listen))
        diag.report(*where, "'" + out.listen +
                                "' is not ADDR:PORT (e.g. 127.0.0.1:9273, [::1]:9273; \"\" "
                                "disables)");
    metrics->report_unknown_keys();
}

// [log] level: which messages sluiced writes (src/common/log.hpp); applied again on reload.
void parse_log(table_reader& root, log_config& out) {
    auto log = root.table("log");
    if (!log) return;
    size_t level = size_t(out.level);
    if (log->choice("level", {"debug", "info", "warn", "error"}, level))
        out.level = log_level(level);
    log->report_unknown_keys();
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
    parse_control(reader, cfg.control, diag);
    parse_metrics(reader, cfg.metrics, diag);
    parse_log(reader, cfg.logging);
    parse_vips(reader, cfg.vips, where);
    reader.report_unknown_keys();
}

}  // namespace sluice::config::detail

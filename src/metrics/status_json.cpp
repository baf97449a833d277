// /status.json (status_json.hpp). Any thread.
#include "metrics/status_json.hpp"

#include <nlohmann/json.hpp>
#include <optional>

namespace sluice::metrics {

namespace {

using nlohmann::json;

json number_or_null(const std::optional<double>& x) {
    return x ? json(*x) : json(nullptr);
}

json health_json(const status_backend& b) {
    json h = {{"state", b.health}};
    h["last_result"] = b.last_result.empty() ? json(nullptr) : json(b.last_result);
    h["last_detail"] = b.last_detail.empty() ? json(nullptr) : json(b.last_detail);
    h["last_check_ago_s"] = number_or_null(b.last_check_ago_s);
    return h;
}

json backend_json(const status_backend& b) {
    json out = {{"backend", b.backend},
                {"state", b.state},
                {"display_state", display_state(b)},
                {"weight", b.weight},
                {"configured_weight", b.configured_weight},
                {"health", health_json(b)},
                {"active", b.active},
                {"inactive", b.inactive},
                {"drain_reset_in_s", number_or_null(b.drain_reset_in_s)}};
    for (size_t k = 0; k < backend_counter_count; ++k)
        out[std::string(backend_counter_defs[k].key)] = b.traffic.v[k];
    out["connections_per_second"] = number_or_null(b.rates.connections);
    out["packets_per_second"] = number_or_null(b.rates.packets);
    out["bytes_per_second"] = number_or_null(b.rates.bytes);
    return out;
}

json vip_json(const status_vip& v) {
    json refused = json::object();
    for (const auto& [reason, n] : v.refused) refused[reason] = n;
    json drops = json::object();
    for (const auto& [reason, n] : v.drops) drops[reason] = n;
    json backends = json::array();
    uint64_t active = 0, inactive = 0;
    for (const status_backend& b : v.backends) {
        backends.push_back(backend_json(b));
        active += b.active;
        inactive += b.inactive;
    }
    return {{"name", v.name},
            {"address", v.address},
            {"port", v.port},
            {"protocol", v.protocol},
            {"scheduler", v.scheduler},
            {"syn_proxy", {{"mode", v.syn_proxy}, {"engaged_workers", v.syn_proxy_engaged}}},
            {"refused", refused},
            {"drops", drops},
            {"active", active},
            {"inactive", inactive},
            {"connections_per_second", number_or_null(v.rates.connections)},
            {"packets_per_second", number_or_null(v.rates.packets)},
            {"bytes_per_second", number_or_null(v.rates.bytes)},
            {"backends", backends}};
}

json totals_json(const status_view& v) {
    return {{"rx_packets", v.totals[worker_counter::rx_packets]},
            {"tx_packets", v.totals[worker_counter::tx_packets]},
            {"rx_bytes", v.totals[worker_counter::rx_bytes]},
            {"tx_bytes", v.totals[worker_counter::tx_bytes]},
            {"flows_created", v.totals[worker_counter::flows_created]},
            {"rx_packets_per_second", number_or_null(v.rx_packets_per_second)},
            {"tx_packets_per_second", number_or_null(v.tx_packets_per_second)},
            {"rx_bytes_per_second", number_or_null(v.rx_bytes_per_second)},
            {"tx_bytes_per_second", number_or_null(v.tx_bytes_per_second)},
            {"flows_per_second", number_or_null(v.flows_per_second)}};
}

}  // namespace

std::string format_status_json(const status_view& v) {
    json drops = json::array();
    for (const status_drop& d : v.drops)
        drops.push_back({{"reason", d.reason},
                         {"count", d.count},
                         {"per_second", number_or_null(d.per_second)}});
    json vips = json::array();
    for (const status_vip& vip : v.vips) vips.push_back(vip_json(vip));
    const json out = {
        {"version", v.version},
        {"uptime_s", v.uptime_s},
        {"generation", v.generation},
        {"workers", v.workers},
        {"rate_interval_s", number_or_null(v.rate_interval_s)},
        {"flow_table", {{"entries", v.flows_active}, {"capacity", v.flow_table_capacity}}},
        {"totals", totals_json(v)},
        {"drops", drops},
        {"vips", vips}};
    // Names come from the configuration: bytes that are not UTF-8 are replaced, not thrown on.
    return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace sluice::metrics

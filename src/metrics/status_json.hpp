#pragma once
// /status.json: the status page's data (status_view.hpp) as one JSON object, which the page's
// script fetches every second and renders. Pure formatting with nlohmann_json: strings from the
// configuration are escaped by the JSON encoder (bytes that are not UTF-8 become U+FFFD). Any
// thread; the control thread in sluiced.
//
// {"version", "uptime_s", "generation", "workers", "rate_interval_s" (null until a second sample),
//  "flow_table": {"entries", "capacity"},
//  "totals": {"rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "flows_created",
//             "rx_packets_per_second", "tx_packets_per_second", "rx_bytes_per_second",
//             "tx_bytes_per_second", "flows_per_second"},
//  "drops": [{"reason", "count", "per_second"}],            (reasons that counted something)
//  "vips": [{"name", "address", "port", "protocol", "scheduler",
//            "syn_proxy": {"mode", "engaged_workers"}, "refused": {reason: n},
//            "active", "inactive", "connections_per_second", "packets_per_second",
//            "bytes_per_second",
//            "backends": [{"backend", "state", "display_state", "weight", "configured_weight",
//                          "health": {"state", "last_result", "last_detail", "last_check_ago_s"},
//                          "active", "inactive", "drain_reset_in_s", "connections_total",
//                          "packets_to_backend", "packets_from_backend", "bytes_to_backend",
//                          "bytes_from_backend", "connections_per_second",
//                          "packets_per_second", "bytes_per_second"}]}]}
// Rates are null while unknown; display_state is display_state() of status_view.hpp.
#include <string>
#include <string_view>

#include "metrics/status_view.hpp"

namespace sluice::metrics {

inline constexpr std::string_view status_json_content_type = "application/json";

std::string format_status_json(const status_view& v);

}  // namespace sluice::metrics

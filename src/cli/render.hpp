#pragma once
// Human output of sluicectl: aligned tables for the show commands and one line per change for the
// mutating ones. Input is the daemon's `result` (shapes in include/sluice/control_protocol.hpp);
// missing fields print as "-" rather than failing, so an older or newer daemon still renders.
#include <string>

#include "cli/control_client.hpp"

namespace sluice::cli {

// Columns padded to their widest cell, two spaces apart, numbers right-aligned.
std::string render_vips(const json& vips);
std::string render_backends(const json& backends);
std::string render_stats(const json& stats);
// show flows: one row per flow, then "(first N flows shown)" when the daemon truncated.
std::string render_flows(const json& result);
// show protection / set limit: one block per VIP (limits, refusals, rules).
std::string render_protection(const json& vips);
// show state: the state file's path and the operator's changes it holds (render_state.cpp).
std::string render_state(const json& result);
// show ports: one block per [[port]] (link, driver, queues, offloads, NIC counters).
std::string render_ports(const json& ports);
// show info: one "key value" line per fact about the daemon.
std::string render_info(const json& info);

// "up", "draining (12 flows left)", "removing (3 flows left)", …
std::string state_label(const json& backend);
// "up (HTTP 200, 0.4s ago)", "down (connection refused, 1.1s ago)", "unchecked", "-".
std::string health_label(const json& backend);

// One line saying what changed, e.g. "http 198.18.1.12:80: weight 1 -> 0". `before` is the
// backend as it was (null when unknown), `after` the daemon's result.
std::string describe_weight_change(const json& before, const json& after);
std::string describe_state_change(const json& before, const json& after);
std::string describe_added(const json& after);
std::string describe_reload(const json& result);

}  // namespace sluice::cli

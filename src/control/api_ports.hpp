#pragma once
// `show_ports` and `show_info` of the control API (control_api.cpp dispatches them): what each
// [[port]]'s device runs with, its link and NIC counters; what the daemon is (versions, uptime,
// config, workers, tables, pools). Read-only. Control thread only.
#include <nlohmann/json.hpp>
#include <string>

#include "control/control_plane.hpp"
#include "control/dataplane_view.hpp"
#include "metrics/prometheus_text.hpp"

namespace sluice::control {

nlohmann::json ports_json(const dataplane_view& dp);
nlohmann::json info_json(const dataplane_view& dp, const control_plane& plane,
                         const metrics::process_info& process, const std::string& config_path,
                         uint64_t now_unix_s);

}  // namespace sluice::control

#pragma once
// The status page's data (metrics/status_view.hpp) from the control plane (configuration,
// operator state, health, drain deadlines) and the data plane's read side (connections, traffic,
// worker counters, protection): the same figures `sluicectl show vips/backends/stats` prints.
// Reads only; the rates are status_rates' job. Control thread only (it serves /status).
#include <cstdint>

#include "control/control_plane.hpp"
#include "control/dataplane_view.hpp"
#include "metrics/status_view.hpp"

namespace sluice::control {

// Everything but version, uptime and the rates. `now_ns` is CLOCK_MONOTONIC (health check ages,
// drain deadlines).
metrics::status_view build_status(const control_plane& plane, const dataplane_view& dp,
                                  uint64_t now_ns);

}  // namespace sluice::control

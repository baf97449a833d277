#pragma once
// Read-only rte_telemetry commands (`/sluice/stats`, `/sluice/vips`, `/sluice/backends`),
// answered on DPDK's telemetry thread; dpdk-telemetry.py is the client.
#include "metrics/metrics_view.hpp"
namespace sluice::dataplane {
class runtime;
// Registers the commands for `rt`; pass nullptr before `rt` is destroyed. Control thread.
void set_telemetry_runtime(runtime* rt);
// The per-VIP/backend view the telemetry commands answer from (the telemetry thread may not read
// snapshots). Control thread, about once a second.
void publish_telemetry_view(metrics::metrics_view view);
}  // namespace sluice::dataplane

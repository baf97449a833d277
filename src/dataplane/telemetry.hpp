#pragma once
// Read-only rte_telemetry commands (`/sluice/stats`), answered on DPDK's telemetry thread from
// the same per-core counters; dpdk-telemetry.py is the client.
namespace sluice::dataplane {
class runtime;
// Registers the commands for `rt`; pass nullptr before `rt` is destroyed. Control thread.
void set_telemetry_runtime(runtime* rt);
}  // namespace sluice::dataplane

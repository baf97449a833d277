#pragma once
// Builds the service model (model/snapshot.hpp) a configuration describes: ports and routes,
// VIPs with stable ids, backends with ids, egress ports, neighbour slots and effective weights
// (admin state, health, slow start), Maglev tables changed minimally from the previous snapshot,
// protection, timeouts in ticks. Control thread only.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>

#include "control/backend_registry.hpp"
#include "control/protection_builder.hpp"
#include "model/snapshot.hpp"
#include "route/neighbor_table.hpp"
#include "sluice/config.hpp"

namespace sluice::control {

// What health checking says of a backend when a snapshot is built.
struct backend_health {
    bool up = true;
    double ramp = 1.0;  // slow start: the fraction of its weight in force, 0 < ramp <= 1
};
using health_lookup = std::function<backend_health(uint32_t id, const config::vip_config&)>;

// Everything a snapshot is built from besides the configuration.
struct snapshot_inputs {
    std::span<const model::port_info> ports;  // the started ports, in configuration order
    route::neighbor_table& neighbors;         // backends' and gateways' slots are added here
    backend_registry& registry;               // stable ids
    uint32_t ticks_per_second;
    uint64_t generation;
    const model::snapshot* previous;  // may be null; Maglev tables and guards carry over from it
    const std::map<backend_identity, model::backend_admin>* admin = nullptr;  // null: all up
    health_lookup health = {};  // empty: every backend up
    guard_setup guards = {};
};

// Throws std::runtime_error naming the problem (no route to a backend, too many VIPs or
// backends, a full neighbour table, a payload rule that does not compile).
std::unique_ptr<model::snapshot> build_snapshot(const config::config& cfg,
                                                const snapshot_inputs& in);

}  // namespace sluice::control

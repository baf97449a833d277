#pragma once
// Health checking as the control plane consumes it: what a backend's health is when a snapshot
// is built, and what changed since the last pass. control::health_checks (probes and the
// rise/fall monitor) is the real one; unit tests script transitions with a fake. Control thread
// only.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "control/dataplane_sink.hpp"
#include "control/snapshot_builder.hpp"
#include "health/health_monitor.hpp"
#include "model/snapshot.hpp"
#include "sluice/config.hpp"

namespace sluice::control {

class health_watch {
public:
    virtual ~health_watch() = default;

    // The backends of `s` (built from `cfg`) to watch: at start and after every publication.
    // The state of ids that stay is kept.
    virtual void set_targets(const config::config& cfg, const model::snapshot& s,
                             uint64_t now_ns) = 0;
    // What the snapshot builder should assume for backend `id` of VIP `vip`.
    virtual backend_health lookup(uint32_t id, const config::vip_config& vip,
                                  uint64_t now_ns) const = 0;

    struct actions {
        bool republish = false;           // health or a slow-start ramp changed weights
        std::vector<uint32_t> reset_ids;  // backends gone down with on_down = "reset"
    };
    // The workers' passive connect outcomes of a backend id.
    using connect_reader = std::function<connect_outcomes(uint32_t id)>;
    // Runs due probes, takes results and connect reports. Never blocks.
    virtual actions poll(uint64_t now_ns, const connect_reader& connects) = 0;
    // For show backends and metrics; nullopt when the id is not watched.
    virtual std::optional<health::target_status> status(uint32_t id) const = 0;
};

}  // namespace sluice::control

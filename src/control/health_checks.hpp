#pragma once
// Health checking as the running load balancer applies it: the probe engine (kernel sockets in
// the data plane's namespace, source ports above the full-NAT range), the rise/fall monitor fed
// by probes and by the workers' passive connect reports, and what follows from a state change —
// a new snapshot (down backends get no new flows, slow start ramps weights), resets of a down
// backend's flows (on_down = "reset"), one log line per transition. The control plane consumes
// it through health_watch. Control thread only.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "control/health_watch.hpp"
#include "control/snapshot_builder.hpp"
#include "health/health_monitor.hpp"
#include "health/probe_engine.hpp"
#include "sluice/config.hpp"

namespace sluice::control {

class health_checks final : public health_watch {
public:
    // No probe runs until set_targets() names something to probe. Throws std::system_error when
    // the probe engine cannot be set up.
    explicit health_checks(const config::config& cfg);

    // The backends of `s` (built from `cfg`) to watch: at start and after every publication
    // that changed the configuration. State of ids that stay is kept.
    void set_targets(const config::config& cfg, const model::snapshot& s, uint64_t now_ns) override;

    // What the snapshot builder should assume for backend `id` of VIP `vip`.
    backend_health lookup(uint32_t id, const config::vip_config& vip,
                          uint64_t now_ns) const override;

    // Runs due probes, collects results and the workers' connect reports. Never blocks.
    actions poll(uint64_t now_ns, const connect_reader& connects) override;

    std::optional<health::target_status> status(uint32_t id) const override {
        return monitor_->status(id);
    }

private:
    struct backend_name {
        std::string vip, backend;
        config::health_on_down on_down;
        uint32_t slow_start_ms;
        bool passive;
    };
    std::unique_ptr<health::probe_engine> engine_;
    std::unique_ptr<health::health_monitor> monitor_;
    std::unordered_map<uint32_t, backend_name> names_;
    std::unordered_map<uint32_t, uint64_t> up_since_ns_;  // slow start, from the up transition
    std::unordered_map<uint32_t, std::pair<uint64_t, uint64_t>> connects_seen_;  // ok, failed
    uint64_t last_ramp_publish_ns_ = 0;
};

}  // namespace sluice::control

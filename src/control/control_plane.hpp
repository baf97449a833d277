#pragma once
// The control plane: the running configuration, the operator's state of backends (drain,
// disable, remove; drain deadlines), stable ids and generations, and every change that ends in
// a new snapshot — reloads, control API changes, backends whose removal finished, health
// transitions. It holds no DPDK resource: it reaches the data plane only through a
// dataplane_sink and health checking through a health_watch, so it is unit-tested without EAL
// (tests/unit/control_plane_test.cpp). Control thread only; `now_ns` is CLOCK_MONOTONIC
// (common/clock.hpp).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/result.hpp"
#include "control/backend_registry.hpp"
#include "control/dataplane_sink.hpp"
#include "control/health_watch.hpp"
#include "model/ids.hpp"
#include "sluice/config.hpp"

namespace sluice::control {

class control_plane {
public:
    // `health` may be null: every backend is then up, as with no checks configured.
    control_plane(config::config cfg, dataplane_sink& sink, std::unique_ptr<health_watch> health);

    // Builds and publishes the first snapshot (generation 1). Throws std::runtime_error naming
    // the problem: at startup a configuration that cannot be served stops the daemon.
    void start(uint64_t now_ns);
    // Applies a new configuration: builds a snapshot and publishes it. Refused (the running
    // configuration keeps serving, unchanged) when something that needs a restart changed
    // ([dataplane], [[port]], [flows], [neighbor], [control], [metrics]) or the snapshot cannot
    // be built.
    result<> reload(const config::config& next, uint64_t now_ns);
    // One pass of the timed duties: drain deadlines, health transitions, removals that
    // finished (once a second), reuse of retired backend ids.
    void poll(uint64_t now_ns);

    const config::config& configuration() const { return cfg_; }
    uint64_t generation() const { return generation_; }

    // Operator state of a backend; the next reload() publishes it and it survives reloads.
    model::backend_admin admin_of(const backend_identity& who) const;
    // Setting `up` also cancels a drain deadline.
    void set_admin(const backend_identity& who, model::backend_admin a);
    // drain --timeout: flows still open `after_ns` from `now_ns` are reset, unless the backend
    // is enabled before.
    void set_drain_deadline(const backend_identity& who, uint64_t now_ns, uint64_t after_ns);
    std::optional<uint64_t> drain_deadline_in(const backend_identity& who, uint64_t now_ns) const;
    // Ids of this backend in the published snapshot (empty when it is not configured).
    std::vector<uint32_t> backend_ids_of(const backend_identity& who) const;

    // Reloads asked for by an operator (file reloads), for metrics.
    void count_reload(bool ok) { ++(ok ? reloads_ok_ : reloads_failed_); }
    uint64_t reloads_ok() const { return reloads_ok_; }
    uint64_t reloads_failed() const { return reloads_failed_; }
    // Health of a backend id (nullopt: not watched), for show backends and metrics.
    std::optional<health::target_status> health_status(uint32_t id) const;

private:
    std::unique_ptr<model::snapshot> build(const config::config& cfg, uint64_t generation,
                                           uint64_t now_ns);
    // Records what `snap` replaces (ids, health targets) and hands it to the data plane.
    void adopt(const config::config& cfg, std::unique_ptr<model::snapshot> snap, uint64_t now_ns);
    void enforce_drain_deadlines(uint64_t now_ns);
    void apply_health(uint64_t now_ns);
    void finish_removals(uint64_t now_ns);
    void recycle_ids();

    config::config cfg_;
    dataplane_sink& sink_;
    std::unique_ptr<health_watch> health_;
    backend_registry registry_;
    std::map<backend_identity, model::backend_admin> admin_;
    std::map<backend_identity, uint64_t> drain_deadlines_;  // monotonic ns
    uint64_t generation_ = 0;
    uint64_t reloads_ok_ = 0;
    uint64_t reloads_failed_ = 0;
    uint64_t last_removal_check_ns_ = 0;
};

}  // namespace sluice::control

#pragma once
// What the control plane (control_plane.hpp) needs of the data plane, and nothing more: build
// resources, the snapshot workers read now, publication, flow resets and the few counters its
// decisions depend on. dataplane::runtime implements it over DPDK; the unit tests use a fake.
// Every function: control thread only.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "control/protection_builder.hpp"
#include "model/ids.hpp"
#include "model/snapshot.hpp"
#include "route/neighbor_table.hpp"
#include "sluice/config.hpp"

namespace sluice::control {

// A backend's connect attempts as passive health detection counts them, summed over workers.
struct connect_outcomes {
    uint64_t ok = 0;      // the backend answered (SYN-ACK)
    uint64_t failed = 0;  // RST, or no answer within the VIP's connect timeout
};

class dataplane_sink {
public:
    virtual ~dataplane_sink() = default;

    // What snapshots are built against besides the configuration; fixed until a restart.
    struct build_resources {
        std::span<const model::port_info> ports;  // the started ports, in configuration order
        route::neighbor_table& neighbors;         // backends' and gateways' slots are added here
        uint32_t ticks_per_second;
        guard_setup guards;
    };
    virtual build_resources resources() = 0;
    // The snapshot the workers read now; null before the first publication.
    virtual const model::snapshot* current() const = 0;
    // Makes `next` (built from `cfg`) the snapshot the workers read; the previous one is freed
    // once no worker can still read it. Throws std::runtime_error when the data plane cannot
    // give `next` what it needs (e.g. the SYN proxy's tables).
    virtual void publish(std::unique_ptr<model::snapshot> next, const config::config& cfg) = 0;
    // Resets every flow of these backend ids on every worker, counted under `why`.
    virtual void reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why) = 0;
    // Flows (active + inactive) of a backend id, over all workers.
    virtual uint64_t open_flows(uint32_t id) const = 0;
    virtual connect_outcomes connects(uint32_t id) const = 0;
    // True when no snapshot waiting for reclamation and no unfinished worker command can still
    // name a retired backend id: the ids no flow counts may then be reused.
    virtual bool ids_quiescent() const = 0;
};

}  // namespace sluice::control

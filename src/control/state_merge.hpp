#pragma once
// The operator's state against a configuration: capture() says how the running configuration
// (and the control plane's admin states) differ from the file, apply() lays a saved state over a
// file. Matching is by identity (VIP address, port, protocol; backend address, port), so a file
// whose VIPs or backends were reordered gets the same state. Pure code over the config model:
// unit-tested without a data plane (tests/unit/operator_state_test.cpp); sluiced calls it on the
// control thread (state_keeper).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "control/backend_registry.hpp"
#include "control/operator_state.hpp"
#include "sluice/config.hpp"

namespace sluice::control {

// What the control plane knows beyond the configuration: the admin state of a backend and its
// drain deadline as Unix time in ms (nullopt: none).
struct admin_source {
    std::function<model::backend_admin(const backend_identity&)> admin;
    std::function<std::optional<int64_t>(const backend_identity&)> deadline_ms;
};

// The state that turns `file` into `running`: weights and limits that differ, backends `running`
// has and `file` lacks (added) or the reverse (removed), every admin state other than up.
operator_state capture(const config::config& file, const config::config& running,
                       const admin_source& admin);

struct admin_entry {
    backend_identity who;
    model::backend_admin admin;
    std::optional<int64_t> deadline_ms;  // Unix ms; draining only
};

struct applied_state {
    config::config cfg;                // the file with the state over it
    operator_state kept;               // the entries that matched something
    std::vector<admin_entry> admin;    // admin states for the control plane (at start)
    std::vector<std::string> dropped;  // one line per entry that matched nothing, for the log
};

// `state` over `file`. `running` is the configuration in force (a reload) or null (start): a
// backend being removed stays (as `removing`) while `running` still has it, else it leaves the
// VIP at once. An added backend no route of `file` reaches any more is dropped, never an error:
// the state can never stop a valid file from being served.
applied_state apply(const operator_state& state, const config::config& file,
                    const config::config* running);

}  // namespace sluice::control

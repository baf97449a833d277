#pragma once
// The control API's commands (include/sluice/control_protocol.hpp): one JSON request line in,
// one JSON response line out. Changes go through the control plane (a refused command changes
// nothing); counters and flows come from the data plane's view. Control thread only (called
// from the API socket's poll and for SIGHUP).
#include <functional>
#include <string>
#include <string_view>

#include "control/control_plane.hpp"
#include "control/dataplane_view.hpp"
#include "control/state_keeper.hpp"
#include "metrics/prometheus_text.hpp"

namespace sluice::control {

class control_api {
public:
    // `state` keeps the operator's changes across reloads and restarts (null: none kept).
    control_api(control_plane& plane, dataplane_view& dataplane, std::string config_path,
                state_keeper* state = nullptr);
    using reply = std::function<void(std::string response_line)>;
    // Answers one request line through `done`: at once for most commands, from a later control
    // pass for show_flows (the workers copy their flows between bursts).
    void handle_async(std::string_view request_line, const reply& done);
    // The same, waiting for a late answer (taking the workers' completions): for callers
    // outside the control loop's API socket (SIGHUP, tests, fuzzing).
    std::string handle(std::string_view request_line);
    // What `show_info` tells about the process (version, start time). sluiced, at start.
    void set_process(metrics::process_info process) { process_ = std::move(process); }

private:
    control_plane& plane_;
    dataplane_view& dataplane_;
    std::string config_path_;  // the file `reload` reads by default; follows `reload FILE`
    state_keeper no_state_{""};
    state_keeper* state_;
    metrics::process_info process_;
};

}  // namespace sluice::control

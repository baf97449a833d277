#pragma once
// The control API's commands (include/sluice/control_protocol.hpp) against the running data
// plane: one JSON request line in, one JSON response line out. A refused command changes nothing.
// Control thread only (called from the API socket's poll and for SIGHUP).
#include <functional>
#include <string>
#include <string_view>

#include "dataplane/runtime.hpp"

namespace sluice::dataplane {

class control_api {
public:
    control_api(runtime& rt, std::string config_path);
    using reply = std::function<void(std::string response_line)>;
    // Answers one request line through `done`: at once for most commands, from a later control
    // pass for show_flows (the workers copy their flows between bursts).
    void handle_async(std::string_view request_line, const reply& done);
    // The same, waiting for a late answer (polling the workers' completions): for callers
    // outside the control loop's API socket (SIGHUP, tests, fuzzing).
    std::string handle(std::string_view request_line);

private:
    runtime& rt_;
    std::string config_path_;  // the file `reload` reads by default; follows `reload FILE`
};

}  // namespace sluice::dataplane

#pragma once
// The control API's commands (include/sluice/control_protocol.hpp) against the running data
// plane: one JSON request line in, one JSON response line out. A refused command changes nothing.
// Control thread only (called from the API socket's poll and for SIGHUP).
#include <string>
#include <string_view>

#include "dataplane/runtime.hpp"

namespace sluice::dataplane {

class control_api {
public:
    control_api(runtime& rt, std::string config_path);
    std::string handle(std::string_view request_line);

private:
    runtime& rt_;
    std::string config_path_;  // the file `reload` reads by default; follows `reload FILE`
};

}  // namespace sluice::dataplane

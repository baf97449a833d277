#pragma once
// The exception for a failed DPDK call at start-up: what failed and rte_strerror of its code
// (negative or positive). Control thread only, never on the packet path.
#include <rte_errno.h>

#include <stdexcept>
#include <string>

namespace sluice::dataplane {

inline std::runtime_error dpdk_error(const std::string& what, int rc) {
    return std::runtime_error(what + ": " + rte_strerror(rc < 0 ? -rc : rc));
}

}  // namespace sluice::dataplane

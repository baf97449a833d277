#pragma once
// EAL command line derived from the config: lcore map, main lcore, devices, then the operator's
// extra arguments. Pure; unit-tested without EAL.
#include <string>
#include <vector>

#include "sluice/config.hpp"

namespace sluice::dataplane {

// lcore 0 is the control (main) lcore on control_cpu; lcore i (1..N) is worker i-1 on
// worker_cpus[i-1]. PCI ports become -a BDF, vdev ports --vdev=STRING.
std::vector<std::string> build_eal_args(const config::config& cfg, const std::string& argv0);

}  // namespace sluice::dataplane

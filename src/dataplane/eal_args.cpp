#include "dataplane/eal_args.hpp"

#include <set>

namespace sluice::dataplane {

std::vector<std::string> build_eal_args(const config::config& cfg, const std::string& argv0) {
    const auto& dp = cfg.dataplane;
    std::string lcores = "0@" + std::to_string(dp.control_cpu);
    for (size_t i = 0; i < dp.worker_cpus.size(); ++i)
        lcores += "," + std::to_string(i + 1) + "@" + std::to_string(dp.worker_cpus[i]);
    std::vector<std::string> args{argv0, "--lcores=" + lcores, "--main-lcore=0"};
    std::set<std::string> devices;
    for (const auto& p : cfg.ports) {
        // VLAN sub-ports share their device (config validation): EAL probes it once.
        if (!devices.insert(p.dpdk_name()).second) continue;
        if (p.is_pci()) {
            args.push_back("-a");
            args.push_back(p.device);
        } else {
            args.push_back("--vdev=" + p.device);
        }
    }
    for (const auto& a : dp.eal_args) args.push_back(a);
    return args;
}

}  // namespace sluice::dataplane

// Unit tests for src/dataplane/eal_args: the EAL command line derived from the config.
#include "dataplane/eal_args.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using sluice::config::config;
using sluice::config::port_config;
using sluice::dataplane::build_eal_args;
using args = std::vector<std::string>;

namespace {

port_config port(const std::string& device) {
    port_config p;
    p.name = "p";
    p.device = device;
    return p;
}

}  // namespace

TEST_CASE("the EAL command line is argv0, lcore map, main lcore, devices, then extra args") {
    // Property: the exact argument vector for mixed PCI/vdev ports and repeated worker CPUs.
    config cfg;
    cfg.dataplane.control_cpu = 3;
    cfg.dataplane.worker_cpus = {1, 2, 2};
    cfg.ports = {port("0000:03:00.0"), port("net_af_packet0,iface=lbc0"), port("04:00.1")};
    cfg.dataplane.eal_args = {"--no-huge", "-m", "512", "--no-shconf"};
    CHECK(build_eal_args(cfg, "sluiced") ==
          args{"sluiced", "--lcores=0@3,1@1,2@2,3@2", "--main-lcore=0", "-a", "0000:03:00.0",
               "--vdev=net_af_packet0,iface=lbc0", "-a", "04:00.1", "--no-huge", "-m", "512",
               "--no-shconf"});
}

TEST_CASE("lcore i+1 runs on worker_cpus[i] and lcore 0 on the control CPU") {
    // Property: for random CPU lists, --lcores is 0@control then i@cpu per worker, main lcore 0.
    std::mt19937 rng(22);
    for (int trial = 0; trial < 100; ++trial) {
        config cfg;
        cfg.dataplane.control_cpu = rng() % 64;
        cfg.dataplane.worker_cpus.resize(rng() % 9);
        for (auto& c : cfg.dataplane.worker_cpus) c = rng() % 64;
        std::string want = "--lcores=0@" + std::to_string(cfg.dataplane.control_cpu);
        for (size_t i = 0; i < cfg.dataplane.worker_cpus.size(); ++i)
            want +=
                "," + std::to_string(i + 1) + "@" + std::to_string(cfg.dataplane.worker_cpus[i]);
        args a = build_eal_args(cfg, "x");
        REQUIRE(a.size() == 3);
        CHECK(a[1] == want);
        CHECK(a[2] == "--main-lcore=0");
    }
}

TEST_CASE("PCI ports become -a BDF and vdevs --vdev=STRING, in port order") {
    // Property: each port adds -a BDF or --vdev=STRING (parameters kept), in config order.
    config cfg;
    cfg.ports = {port("net_tap0,iface=dtap0"), port("0000:af:00.1"), port("net_null0"),
                 port("net_af_xdp0,iface=veth1,start_queue=0")};
    args a = build_eal_args(cfg, "sluiced");
    CHECK(args(a.begin() + 3, a.end()) == args{"--vdev=net_tap0,iface=dtap0", "-a", "0000:af:00.1",
                                               "--vdev=net_null0",
                                               "--vdev=net_af_xdp0,iface=veth1,start_queue=0"});
}

TEST_CASE("extra EAL arguments are appended after the devices in their order") {
    // Property: the last N arguments are the N extra arguments, unchanged and in order.
    config cfg;
    cfg.dataplane.eal_args = {"--log-level=lib.eal:debug", "--no-huge", "-m", "512", "--no-huge"};
    args a = build_eal_args(cfg, "/usr/bin/sluiced");
    REQUIRE(a.size() == 3 + 5);
    CHECK(a[0] == "/usr/bin/sluiced");
    CHECK(args(a.end() - 5, a.end()) == cfg.dataplane.eal_args);
    cfg.ports = {port("net_null0")};
    args b = build_eal_args(cfg, "s");
    REQUIRE(b.size() == 3 + 1 + 5);
    CHECK(b[3] == "--vdev=net_null0");
    CHECK(args(b.end() - 5, b.end()) == cfg.dataplane.eal_args);
}

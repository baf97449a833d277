// Unit tests for src/config: [[port]] and [[route]] validation, and the port_config helpers.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::config::port_config;

// --- [[port]] ----------------------------------------------------------------------------------

TEST_CASE("a port needs name, device and addresses") {
    auto all = problems(lines({"[dataplane]", "worker_cpus = [1]", "[[port]]"}));
    REQUIRE(all.size() == 3);
    CHECK(all[0].to_string() == "t.toml:3:1: port[0]: missing required key 'name'");
    CHECK(all[1].to_string() == "t.toml:3:1: port[0]: missing required key 'device'");
    CHECK(all[2].to_string() == "t.toml:3:1: port[0]: missing required key 'addresses'");
}

TEST_CASE("port.name is 1 to 32 of [a-z0-9_-]") {
    const std::string message =
        ": port[0].name: must be 1 to 32 characters of a-z, 0-9, '_' and '-', got '";
    for (std::string_view bad :
         {"Servers", "my port", "", "a.b", "abcdefghijklmnopqrstuvwxyz0123456"}) {
        CAPTURE(bad);
        auto doc =
            with_dataplane({"worker_cpus = [1]", "[[port]]", "name = '" + std::string(bad) + "'",
                            "device = 'net_tap0'", "addresses = ['198.19.0.1/24']"});
        CHECK(problem(doc) == "t.toml:4:8" + message + std::string(bad) + "'");  // port[0]
    }
    CHECK(problems(with_dataplane({"worker_cpus = [1]", "[[port]]",
                                   "name = 'abcdefghijklmnopqrstuvwxyz_-0123'",
                                   "device = 'net_tap0'", "addresses = ['198.19.0.1/24']"}))
              .empty());
}

TEST_CASE("port.device is a PCI address or a net_ vdev") {
    for (std::string_view bad : {"eth0", "net_", "af_packet0,iface=x", "0000:03:00", "03:00.8",
                                 "0000:03:00.0,x", "net_tap 0"}) {
        CAPTURE(bad);
        auto doc = with_base({"[[port]]", "name = 'extra'", "device = '" + std::string(bad) + "'",
                              "addresses = ['198.19.0.1/24']"});
        CHECK(problem(doc) == "t.toml:13:10: port[2].device: '" + std::string(bad) +
                                  "' is neither a PCI address like 0000:03:00.0 nor a virtual "
                                  "device like net_af_packet0,iface=eth0");
    }
}

TEST_CASE("port.addresses needs at least one prefix with a length") {
    auto port = [](std::string_view addresses) {
        return with_dataplane({"worker_cpus = [1]", "[[port]]", "name = 'p'", "device = 'net_tap0'",
                               "addresses = " + std::string(addresses)});
    };
    CHECK(problem(port("[]")) == "t.toml:6:13: port[0].addresses: must not be empty");
    CHECK(problem(port("['198.18.0.1']")) ==
          "t.toml:6:14: port[0].addresses[0]: '198.18.0.1' needs a prefix length, e.g. "
          "'198.18.0.1/24'");
    CHECK(problem(port("['2001:2::1']")) ==
          "t.toml:6:14: port[0].addresses[0]: '2001:2::1' needs a prefix length, e.g. "
          "'2001:2::1/64'");
    CHECK(problem(port("['198.18.0.1/33']")) ==
          "t.toml:6:14: port[0].addresses[0]: '198.18.0.1/33' is not an IP prefix");
    CHECK(problem(port("['198.18.0.300/24']")) ==
          "t.toml:6:14: port[0].addresses[0]: '198.18.0.300/24' is not an IP prefix");
    CHECK(problem(port("'198.18.0.1/24'")) ==
          "t.toml:6:13: port[0].addresses: expected an array, got a string");
}

TEST_CASE("port names are unique; ports on one DPDK device must be distinct VLAN sub-ports") {
    CHECK(problem(with_base({"[[port]]", "name = 'client'", "device = 'net_tap0'",
                             "addresses = ['198.19.0.1/24']"})) ==
          "t.toml:12:8: port[2].name: duplicate of port[0].name 'client' defined at line 4");
    CHECK(problem(with_base({"[[port]]", "name = 'third'", "device = 'net_af_packet0,iface=x'",
                             "addresses = ['198.19.0.1/24']"})) ==
          "t.toml:13:10: port[2].device: 'net_af_packet0,iface=x' is the same DPDK device "
          "(net_af_packet0) as port[0].device defined at line 5 but with other arguments "
          "('net_af_packet0,iface=lbc0'); sub-ports of one device repeat its device string "
          "exactly");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "[[port]]", "name = 'a'",
                                  "device = '0000:03:00.0'", "addresses = ['198.19.0.1/24']",
                                  "[[port]]", "name = 'b'", "device = '03:00.0'",
                                  "addresses = ['198.19.1.1/24']"})) ==
          "t.toml:9:10: port[1].device: '03:00.0' is the same DPDK device (0000:03:00.0) as "
          "port[0].device defined at line 5 and both are untagged: ports sharing a device are "
          "told apart by vlan, so each needs a vlan of its own (at most one untagged)");
}

TEST_CASE("a PCI port cannot be used with --no-pci in eal_args") {
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "eal_args = ['--no-pci']", "[[port]]",
                                  "name = 'a'", "device = '0000:03:00.0'",
                                  "addresses = ['198.19.0.1/24']"})) ==
          "t.toml:6:10: port[0].device: PCI device 0000:03:00.0 cannot be used while "
          "dataplane.eal_args contains '--no-pci' (line 3)");
}

TEST_CASE("no address appears twice, and ports' subnets do not overlap") {
    CHECK(problem(with_base({"[[port]]", "name = 'third'", "device = 'net_tap0'",
                             "addresses = ['198.19.0.1/24', '198.18.1.1/24']"})) ==
          "t.toml:14:31: port[2].addresses[1]: 198.18.1.1 is already port[1].addresses[0] "
          "defined at line 10");
    CHECK(problem(with_base({"[[port]]", "name = 'third'", "device = 'net_tap0'",
                             "addresses = ['198.19.0.1/24', '198.19.0.1/25']"})) ==
          "t.toml:14:31: port[2].addresses[1]: 198.19.0.1 is already port[2].addresses[0] "
          "defined at line 14");
    CHECK(problem(with_base({"[[port]]", "name = 'third'", "device = 'net_tap0'",
                             "addresses = ['198.18.0.200/16']"})) ==
          "t.toml:14:14: port[2].addresses[0]: subnet 198.18.0.0/16 overlaps port[0].addresses[0] "
          "(198.18.0.0/24) defined at line 6");
    // Secondary addresses of one port may share a subnet; IPv4 and IPv6 never overlap.
    CHECK(problems(with_base({"[[port]]", "name = 'third'", "device = 'net_tap0'",
                              "addresses = ['198.19.0.1/24', '198.19.0.2/24', '2001:2::1/64']"}))
              .empty());
}

// --- [[route]] ---------------------------------------------------------------------------------

TEST_CASE("a route needs a prefix and a next hop") {
    auto all = problems(with_base({"[[route]]"}));
    REQUIRE(all.size() == 2);
    CHECK(all[0].to_string() == "t.toml:11:1: route[0]: missing required key 'prefix'");
    CHECK(all[1].to_string() == "t.toml:11:1: route[0]: missing required key 'via'");
}

TEST_CASE("route.prefix and route.via must parse, without host bits in the prefix") {
    auto route = [](std::string_view prefix, std::string_view via) {
        return with_base({"[[route]]", "prefix = '" + std::string(prefix) + "'",
                          "via = '" + std::string(via) + "'"});
    };
    CHECK(problem(route("10.0.0.0/40", "198.18.1.254")) ==
          "t.toml:12:10: route[0].prefix: '10.0.0.0/40' is not an IP prefix");
    CHECK(problem(route("198.19.0.1/16", "198.18.1.254")) ==
          "t.toml:12:10: route[0].prefix: 198.19.0.1/16 has host bits set (did you mean "
          "198.19.0.0/16?)");
    CHECK(problem(route("198.19.0.0/16", "198.18.1.254/24")) ==
          "t.toml:13:7: route[0].via: '198.18.1.254/24' is not an IP address");
    // A bare address is a host route.
    CHECK(loaded(route("198.19.0.7", "198.18.1.254")).routes[0].prefix.length == 32);
}

TEST_CASE("route.via is a directly connected address of the prefix's family") {
    CHECK(problem(with_base({"[[route]]", "prefix = '198.19.0.0/16'", "via = '198.18.5.1'"})) ==
          "t.toml:13:7: route[0].via: 198.18.5.1 is not inside any port's subnet (a next hop "
          "must be directly connected)");
    CHECK(problem(with_base({"[[route]]", "prefix = '198.19.0.0/16'", "via = '2001:2::1'"})) ==
          "t.toml:13:7: route[0].via: 2001:2::1 is IPv6 but prefix 198.19.0.0/16 is IPv4");
}

TEST_CASE("a route prefix appears once") {
    CHECK(problem(with_base({"[[route]]", "prefix = '0.0.0.0/0'", "via = '198.18.0.254'",
                             "[[route]]", "prefix = '0.0.0.0/0'", "via = '198.18.1.254'"})) ==
          "t.toml:14:1: route[1]: duplicate of route[0] (0.0.0.0/0) defined at line 11");
}

// --- port_config helpers -----------------------------------------------------------------------

TEST_CASE("is_pci recognises PCI addresses with or without the domain") {
    auto pci = [](std::string device) {
        return port_config{"p", std::move(device), {}, {}}.is_pci();
    };
    CHECK(pci("0000:03:00.0"));
    CHECK(pci("0000:AF:1f.7"));
    CHECK(pci("03:00.1"));
    CHECK_FALSE(pci("0000:03:00.8"));
    CHECK_FALSE(pci("0000:03:00"));
    CHECK_FALSE(pci("0000:03:00.0,rxq=2"));
    CHECK_FALSE(pci("net_af_packet0,iface=lbc0"));
    CHECK_FALSE(pci("g000:03:00.0"));
    CHECK_FALSE(pci(""));
}

TEST_CASE("dpdk_name is the full lower-case PCI address or the vdev name before ','") {
    auto name = [](std::string device) {
        return port_config{"p", std::move(device), {}, {}}.dpdk_name();
    };
    CHECK(name("0000:03:00.0") == "0000:03:00.0");
    CHECK(name("0000:AF:00.1") == "0000:af:00.1");
    CHECK(name("03:00.1") == "0000:03:00.1");
    CHECK(name("net_af_packet0,iface=lbc0,qpairs=1,framecnt=2048") == "net_af_packet0");
    CHECK(name("net_tap0") == "net_tap0");
}

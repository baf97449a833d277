// Unit tests for [[port]] vlan, VLAN sub-ports and mtu (src/config/parse_network.cpp,
// validate_network.cpp) and [[vip]] mss_clamp (src/config/parse_vips.cpp): defaults, values,
// bounds, and every rejection with its FILE:LINE:COLUMN.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;

namespace {

// The base config with `line` as the "servers" port's line 11.
std::string servers_with(std::string_view line) {
    return with_base({line});
}

// Two ports on the same device (lines 3-10) with the second's extra line on line 11.
std::string same_device(std::string_view first_extra, std::string_view second_extra) {
    return lines({"[dataplane]", "worker_cpus = [1]", "[[port]]", "name = 'client'",
                  "device = 'net_af_packet0,iface=lbc0'", "addresses = ['198.18.0.1/24']",
                  first_extra, "[[port]]", "name = 'servers'",
                  "device = 'net_af_packet0,iface=lbc0'", "addresses = ['198.18.1.1/24']",
                  second_extra});
}

}  // namespace

// --- [[port]] vlan ------------------------------------------------------------------------------

TEST_CASE("a port without vlan is untagged (0)") {
    auto cfg = loaded(with_base({}));
    REQUIRE(cfg.ports.size() == 2);
    CHECK(cfg.ports[0].vlan == 0);
    CHECK(cfg.ports[1].vlan == 0);
}

TEST_CASE("vlan is read on its port only, bounds 1 and 4094 included") {
    CHECK(loaded(servers_with("vlan = 100")).ports[1].vlan == 100);
    CHECK(loaded(servers_with("vlan = 100")).ports[0].vlan == 0);
    CHECK(loaded(servers_with("vlan = 1")).ports[1].vlan == 1);
    CHECK(loaded(servers_with("vlan = 4094")).ports[1].vlan == 4094);
}

TEST_CASE("vlan 0, 4095 and a string are refused at the value") {
    CHECK(problem(servers_with("vlan = 0")) ==
          "t.toml:11:8: port[1].vlan: must be between 1 and 4094, got 0");
    CHECK(problem(servers_with("vlan = 4095")) ==
          "t.toml:11:8: port[1].vlan: must be between 1 and 4094, got 4095");
    CHECK(problem(servers_with("vlan = '100'")).rfind("t.toml:11:8: port[1].vlan: ", 0) == 0);
}

TEST_CASE("ports on one device with distinct vlans load as its sub-ports, one may be untagged") {
    auto cfg = loaded(same_device("vlan = 100", "vlan = 200"));
    REQUIRE(cfg.ports.size() == 2);
    CHECK(cfg.ports[0].dpdk_name() == cfg.ports[1].dpdk_name());
    CHECK(cfg.ports[0].vlan == 100);
    CHECK(cfg.ports[1].vlan == 200);
    CHECK(loaded(same_device("", "vlan = 200")).ports[1].vlan == 200);
}

TEST_CASE("ports on one device with the same vlan, or both untagged, are refused") {
    CHECK(problem(same_device("vlan = 100", "vlan = 100")) ==
          "t.toml:10:10: port[1].device: 'net_af_packet0,iface=lbc0' is the same DPDK device "
          "(net_af_packet0) as port[0].device defined at line 5 and both have vlan 100: ports "
          "sharing a device are told apart by vlan, so each needs a vlan of its own (at most one "
          "untagged)");
    CHECK(problem(same_device("", "")) ==
          "t.toml:10:10: port[1].device: 'net_af_packet0,iface=lbc0' is the same DPDK device "
          "(net_af_packet0) as port[0].device defined at line 5 and both are untagged: ports "
          "sharing a device are told apart by vlan, so each needs a vlan of its own (at most one "
          "untagged)");
}

TEST_CASE("sub-ports of a virtual device repeat its device string exactly") {
    CHECK(problem(
              lines({"[dataplane]", "worker_cpus = [1]", "[[port]]", "name = 'a'",
                     "device = 'net_af_packet0,iface=lbc0'", "addresses = ['198.18.0.1/24']",
                     "vlan = 100", "[[port]]", "name = 'b'", "device = 'net_af_packet0,iface=lbc1'",
                     "addresses = ['198.18.1.1/24']", "vlan = 200"})) ==
          "t.toml:10:10: port[1].device: 'net_af_packet0,iface=lbc1' is the same DPDK device "
          "(net_af_packet0) as port[0].device defined at line 5 but with other arguments "
          "('net_af_packet0,iface=lbc0'); sub-ports of one device repeat its device string "
          "exactly");
}

TEST_CASE("a third sub-port is checked against every earlier port of its device") {
    auto text = same_device("vlan = 100", "vlan = 200") +
                lines({"[[port]]", "name = 'third'", "device = 'net_af_packet0,iface=lbc0'",
                       "addresses = ['198.18.2.1/24']", "vlan = 200"});
    CHECK(problem(text) ==
          "t.toml:15:10: port[2].device: 'net_af_packet0,iface=lbc0' is the same DPDK device "
          "(net_af_packet0) as port[1].device defined at line 10 and both have vlan 200: ports "
          "sharing a device are told apart by vlan, so each needs a vlan of its own (at most one "
          "untagged)");
}

TEST_CASE("a vlan change is part of the port (a reload compares ports whole)") {
    auto a = loaded(servers_with("vlan = 100"));
    auto b = loaded(servers_with("vlan = 101"));
    CHECK_FALSE(a.ports[1] == b.ports[1]);
    CHECK(a.ports[0] == b.ports[0]);
}

// --- [[port]] mtu -------------------------------------------------------------------------------

TEST_CASE("mtu is 0 (the device's) by default; 576 and 9000 are taken") {
    CHECK(loaded(with_base({})).ports[1].mtu == 0);
    CHECK(loaded(servers_with("mtu = 576")).ports[1].mtu == 576);
    CHECK(loaded(servers_with("mtu = 9000")).ports[1].mtu == 9000);
    CHECK(loaded(servers_with("mtu = 9000")).ports[0].mtu == 0);
}

TEST_CASE("mtu below 576 or above 9000 is refused at the value") {
    CHECK(problem(servers_with("mtu = 575")) ==
          "t.toml:11:7: port[1].mtu: must be between 576 and 9000, got 575");
    CHECK(problem(servers_with("mtu = 9001")) ==
          "t.toml:11:7: port[1].mtu: must be between 576 and 9000, got 9001");
}

TEST_CASE("mtu below 1280 is refused on a port with an IPv6 address, taken on an IPv4-only one") {
    CHECK(loaded(servers_with("mtu = 1000")).ports[1].mtu == 1000);
    CHECK(problem(lines({"[dataplane]", "worker_cpus = [1]", "[[port]]", "name = 'a'",
                         "device = 'net_tap0'", "addresses = ['198.18.0.1/24', '2001:2::1/64']",
                         "mtu = 1279"})) ==
          "t.toml:7:7: port[0].mtu: mtu 1279 is below 1280, the smallest IPv6 link MTU, and the "
          "port has IPv6 address 2001:2::1/64");
}

TEST_CASE("sub-ports may have mtus of their own") {
    auto cfg = loaded(same_device("vlan = 100\nmtu = 1400", "vlan = 200\nmtu = 9000"));
    CHECK(cfg.ports[0].mtu == 1400);
    CHECK(cfg.ports[1].mtu == 9000);
}

TEST_CASE("an mtu change is part of the port (a reload compares ports whole)") {
    CHECK_FALSE(loaded(servers_with("mtu = 1400")).ports[1] ==
                loaded(servers_with("mtu = 1500")).ports[1]);
}

// --- [[vip]] mss_clamp --------------------------------------------------------------------------

TEST_CASE("mss_clamp is off (0) by default and read on a TCP VIP, bounds 536 and 65495 included") {
    CHECK(loaded(with_vip({})).vips[0].mss_clamp == 0);
    CHECK(loaded(with_vip({"mss_clamp = 1400"})).vips[0].mss_clamp == 1400);
    CHECK(loaded(with_vip({"mss_clamp = 536"})).vips[0].mss_clamp == 536);
    CHECK(loaded(with_vip({"mss_clamp = 65495"})).vips[0].mss_clamp == 65495);
}

TEST_CASE("mss_clamp below 536 or above 65495 is refused at the value") {
    CHECK(problem(with_vip({"mss_clamp = 535"})) ==
          "t.toml:15:13: vip[0].mss_clamp: must be between 536 and 65495, got 535");
    CHECK(problem(with_vip({"mss_clamp = 65496"})) ==
          "t.toml:15:13: vip[0].mss_clamp: must be between 536 and 65495, got 65496");
}

TEST_CASE("mss_clamp on a UDP VIP is refused at the value") {
    CHECK(problem(with_vip({"mss_clamp = 1400"}, "udp")) ==
          "t.toml:15:13: vip[0].mss_clamp: only for protocol = \"tcp\" (UDP has no MSS)");
}

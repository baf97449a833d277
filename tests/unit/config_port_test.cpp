// Unit tests for [[port]] vlan (src/config/parse_network.cpp, validate_network.cpp) and [[vip]]
// mss_clamp (src/config/parse_vips.cpp): defaults, values, bounds, and every rejection with its
// FILE:LINE:COLUMN.
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

TEST_CASE("two ports on one device are refused, with the one-VLAN-per-device hint when tagged") {
    CHECK(problem(same_device("vlan = 100", "vlan = 200")) ==
          "t.toml:10:10: port[1].device: 'net_af_packet0,iface=lbc0' is the same DPDK device "
          "(net_af_packet0) as port[0].device defined at line 5 (one VLAN per device: give each "
          "VLAN a device of its own)");
    CHECK(problem(same_device("", "")) ==
          "t.toml:10:10: port[1].device: 'net_af_packet0,iface=lbc0' is the same DPDK device "
          "(net_af_packet0) as port[0].device defined at line 5");
}

TEST_CASE("a vlan change is part of the port (a reload compares ports whole)") {
    auto a = loaded(servers_with("vlan = 100"));
    auto b = loaded(servers_with("vlan = 101"));
    CHECK_FALSE(a.ports[1] == b.ports[1]);
    CHECK(a.ports[0] == b.ports[0]);
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

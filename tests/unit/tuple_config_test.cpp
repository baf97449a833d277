// Unit tests for the full-NAT source tuple keys of the config (src/config/parse_network.cpp,
// validate_network.cpp, parse.cpp): [[port]] local_addresses, [flows] reuse_after and
// tuple_groups; defaults, values, and every rejection with its FILE:LINE:COLUMN.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config_text.hpp"
#include "sluice/config.hpp"
#include "sluice/ip_address.hpp"

using namespace test;
using sluice::address_family;
using sluice::ip_address;

namespace {

// The base config with `list` as the "servers" port's local_addresses on line 11 (the element
// at index k starts at column 20 + the lengths of the elements and ", " before it).
std::string with_locals(std::string_view list) {
    return with_base({"local_addresses = [" + std::string(list) + "]"});
}

std::vector<std::string> strings(const std::vector<ip_address>& addresses) {
    std::vector<std::string> out;
    for (const auto& a : addresses) out.push_back(a.to_string());
    return out;
}

// [flows] on line 1 with `key = value` on line 2, then the base config.
std::string with_flows(std::string_view key, int64_t value) {
    return "[flows]\n" + std::string(key) + " = " + std::to_string(value) + "\n" + with_base({});
}

// A "servers" port on 10.0.0.1/16 (room for more than 256 local addresses) whose local_addresses
// are `list`, on line 10.
std::string wide_port(std::string_view list) {
    return lines({"[dataplane]", "worker_cpus = [1]", "[[port]]", "name = 'client'",
                  "device = 'net_tap0'", "addresses = ['198.18.0.1/24']", "[[port]]",
                  "name = 'servers'", "device = 'net_tap1'",
                  "local_addresses = [" + std::string(list) + "]", "addresses = ['10.0.0.1/16']"});
}

}  // namespace

// --- defaults and values ------------------------------------------------------------------------

TEST_CASE("defaults: reuse_after 60, tuple_groups 64, tcp_syn 10, no local addresses") {
    auto cfg = loaded(with_base({}));
    CHECK(cfg.flows.reuse_after == 60);
    CHECK(cfg.flows.tuple_groups == 64);
    CHECK(cfg.timeouts.tcp_syn == 10);
    REQUIRE(cfg.ports.size() == 2);
    CHECK(cfg.ports[1].local_addresses.empty());
    // Without local addresses the port's own address is the only full-NAT source.
    CHECK(strings(cfg.ports[1].full_nat_sources(address_family::ipv4)) ==
          std::vector<std::string>{"198.18.1.1"});
    CHECK(cfg.ports[1].full_nat_sources(address_family::ipv6).empty());
}

TEST_CASE("reuse_after and tuple_groups are read, bounds included") {
    CHECK(loaded(with_flows("reuse_after", 0)).flows.reuse_after == 0);
    CHECK(loaded(with_flows("reuse_after", 3600)).flows.reuse_after == 3600);
    CHECK(loaded(with_flows("reuse_after", 120)).flows.reuse_after == 120);
    CHECK(loaded(with_flows("tuple_groups", 1)).flows.tuple_groups == 1);
    CHECK(loaded(with_flows("tuple_groups", 256)).flows.tuple_groups == 256);
    CHECK(loaded(with_flows("tuple_groups", 7)).flows.tuple_groups == 7);
}

TEST_CASE("local_addresses expands prefixes to all their addresses, in order, after singles") {
    auto cfg = loaded(with_locals("'198.18.1.200', '198.18.1.128/30', '198.18.1.201/32'"));
    CHECK(strings(cfg.ports[1].local_addresses) ==
          std::vector<std::string>{"198.18.1.200", "198.18.1.128", "198.18.1.129", "198.18.1.130",
                                   "198.18.1.131", "198.18.1.201"});
    CHECK(strings(cfg.ports[1].full_nat_sources(address_family::ipv4)) ==
          strings(cfg.ports[1].local_addresses));
    CHECK(cfg.ports[0].local_addresses.empty());
}

TEST_CASE("a local prefix with host bits set expands its network") {
    auto cfg = loaded(with_locals("'198.18.1.66/31'"));
    CHECK(strings(cfg.ports[1].local_addresses) ==
          std::vector<std::string>{"198.18.1.66", "198.18.1.67"});
    cfg = loaded(with_locals("'198.18.1.67/31'"));
    CHECK(strings(cfg.ports[1].local_addresses) ==
          std::vector<std::string>{"198.18.1.66", "198.18.1.67"});
}

TEST_CASE("exactly 256 local addresses (a /24) are accepted") {
    auto cfg = loaded(wide_port("'10.0.1.0/24'"));
    REQUIRE(cfg.ports[1].local_addresses.size() == 256);
    CHECK(cfg.ports[1].local_addresses.front().to_string() == "10.0.1.0");
    CHECK(cfg.ports[1].local_addresses.back().to_string() == "10.0.1.255");
}

// --- rejections ---------------------------------------------------------------------------------

TEST_CASE("a local prefix with more than 8 host bits is refused at the element") {
    CHECK(problem(wide_port("'10.0.2.0/23'")) ==
          "t.toml:10:20: port[1].local_addresses[0]: at most 256 local addresses per port, "
          "'10.0.2.0/23' goes beyond");
    CHECK(problem(with_locals("'198.18.1.10', '2001:2::/119'")) ==
          "t.toml:11:35: port[1].local_addresses[1]: at most 256 local addresses per port, "
          "'2001:2::/119' goes beyond");
}

TEST_CASE("more than 256 local addresses in all are refused at the element that goes beyond") {
    CHECK(problem(wide_port("'10.0.1.0/24', '10.0.2.1'")) ==
          "t.toml:10:35: port[1].local_addresses[1]: at most 256 local addresses per port, "
          "'10.0.2.1' goes beyond");
    CHECK(problem(wide_port("'10.0.2.1', '10.0.1.0/24'")) ==
          "t.toml:10:32: port[1].local_addresses[1]: at most 256 local addresses per port, "
          "'10.0.1.0/24' goes beyond");
}

TEST_CASE("a local address outside the port's subnets is refused") {
    CHECK(problem(with_locals("'198.18.2.5'")) ==
          "t.toml:11:20: port[1].local_addresses[0]: 198.18.2.5 is not inside any of port "
          "'servers''s subnets (backends must reach it on that segment)");
    // Another port's subnet does not count.
    CHECK(problem(with_locals("'198.18.1.9', '198.18.0.9'")) ==
          "t.toml:11:34: port[1].local_addresses[1]: 198.18.0.9 is not inside any of port "
          "'servers''s subnets (backends must reach it on that segment)");
}

TEST_CASE("a local address equal to the port's own address is refused") {
    CHECK(problem(with_locals("'198.18.1.1'")) ==
          "t.toml:11:20: port[1].local_addresses[0]: 198.18.1.1 is the port's own address; "
          "list other addresses of the subnet");
}

TEST_CASE("the subnet's network and broadcast addresses are refused as local addresses") {
    CHECK(problem(with_locals("'198.18.1.255'")) ==
          "t.toml:11:20: port[1].local_addresses[0]: 198.18.1.255 is the network or broadcast "
          "address of the port's subnet; backends would drop its packets");
    CHECK(problem(with_locals("'198.18.1.240/28'")) ==
          "t.toml:11:20: port[1].local_addresses[0]: 198.18.1.255 is the network or broadcast "
          "address of the port's subnet; backends would drop its packets");
}

TEST_CASE("a local address listed twice is refused at the second, naming the first") {
    CHECK(problem(with_locals("'198.18.1.10', '198.18.1.10'")) ==
          "t.toml:11:35: port[1].local_addresses[1]: 198.18.1.10 is listed twice (also "
          "port[1].local_addresses[0] defined at line 11)");
    // Also when a prefix covers a single address listed before.
    CHECK(problem(with_locals("'198.18.1.9', '198.18.1.8/30'")) ==
          "t.toml:11:34: port[1].local_addresses[1]: 198.18.1.9 is listed twice (also "
          "port[1].local_addresses[0] defined at line 11)");
}

TEST_CASE("flows.reuse_after is 0..3600 and flows.tuple_groups 1..256, refused at the value") {
    CHECK(problem(with_flows("reuse_after", -1)) ==
          "t.toml:2:15: flows.reuse_after: must be between 0 and 3600, got -1");
    CHECK(problem(with_flows("reuse_after", 3601)) ==
          "t.toml:2:15: flows.reuse_after: must be between 0 and 3600, got 3601");
    CHECK(problem(with_flows("tuple_groups", 0)) ==
          "t.toml:2:16: flows.tuple_groups: must be between 1 and 256, got 0");
    CHECK(problem(with_flows("tuple_groups", 257)) ==
          "t.toml:2:16: flows.tuple_groups: must be between 1 and 256, got 257");
}

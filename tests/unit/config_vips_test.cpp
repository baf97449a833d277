// Unit tests for src/config: [[vip]] and [[vip.backend]] names, ports, uniqueness and reachability.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::address_family;
using sluice::config::config;

TEST_CASE("a VIP without a name is named ADDR:PORT/PROTO, IPv6 in brackets") {
    auto cfg = loaded(with_base({
        "[[vip]]",
        "address = '198.18.0.10'",
        "port = 80",
        "protocol = 'tcp'",
        "[[vip]]",
        "address = '2001:2::10'",
        "port = 53",
        "protocol = 'udp'",
    }));
    REQUIRE(cfg.vips.size() == 2);
    CHECK(cfg.vips[0].name == "198.18.0.10:80/tcp");
    CHECK(cfg.vips[1].name == "[2001:2::10]:53/udp");
}

TEST_CASE("a backend without a port uses the VIP's port and weight 1") {
    auto cfg = loaded(with_base({
        "[[vip]]",
        "address = '198.18.0.10'",
        "port = 8080",
        "protocol = 'tcp'",
        "backend = [{ address = '198.18.1.11' }, { address = '198.18.1.12', port = 81 }]",
    }));
    REQUIRE(cfg.vips[0].backends.size() == 2);
    CHECK(cfg.vips[0].backends[0].port == 8080);
    CHECK(cfg.vips[0].backends[0].weight == 1);
    CHECK(cfg.vips[0].backends[1].port == 81);
}

// --- [[vip]] and [[vip.backend]] ---------------------------------------------------------------

TEST_CASE("a VIP needs address, port and protocol, each valid") {
    auto all = problems(with_base({"[[vip]]"}));
    REQUIRE(all.size() == 3);
    CHECK(all[0].to_string() == "t.toml:11:1: vip[0]: missing required key 'address'");
    CHECK(all[1].to_string() == "t.toml:11:1: vip[0]: missing required key 'port'");
    CHECK(all[2].to_string() == "t.toml:11:1: vip[0]: missing required key 'protocol'");
    CHECK(problem(with_base(
              {"[[vip]]", "address = '198.18.0.256'", "port = 80", "protocol = 'tcp'"})) ==
          "t.toml:12:11: vip[0].address: '198.18.0.256' is not an IP address");
    CHECK(problem(
              with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'TCP'"})) ==
          "t.toml:14:12: vip[0].protocol: must be \"tcp\" or \"udp\", got \"TCP\"");
}

TEST_CASE("vip.name is 1 to 64 characters without spaces") {
    for (std::string_view bad : {"", "my vip", "tab\there"}) {
        CAPTURE(bad);
        CHECK(problem(with_base({"[[vip]]", "name = \"" + std::string(bad) + "\"",
                                 "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'"})) ==
              "t.toml:12:8: vip[0].name: must be 1 to 64 characters without spaces, got '" +
                  std::string(bad) + "'");
    }
}

TEST_CASE("a VIP address is not one of the LB's own port addresses") {
    CHECK(problem(
              with_base({"[[vip]]", "address = '198.18.0.1'", "port = 80", "protocol = 'tcp'"})) ==
          "t.toml:12:11: vip[0].address: 198.18.0.1 is this load balancer's own address "
          "(port[0].addresses[0] defined at line 6)");
}

TEST_CASE("a VIP address is not one of the LB's local (full-NAT source) addresses") {
    CHECK(problem(with_base({"local_addresses = ['198.18.1.128/30']", "[[vip]]",
                             "address = '198.18.1.130'", "port = 80", "protocol = 'tcp'"})) ==
          "t.toml:13:11: vip[0].address: 198.18.1.130 is a local (full-NAT source) address "
          "(port[1].local_addresses[0] defined at line 11): replies to local addresses are "
          "never a VIP's");
    CHECK(problems(with_base({"local_addresses = ['198.18.1.128/30']", "[[vip]]",
                              "address = '198.18.1.132'", "port = 80", "protocol = 'tcp'"}))
              .empty());
}

TEST_CASE("VIPs are unique by address, port and protocol") {
    auto vip = [](std::string_view port, std::string_view protocol) {
        return lines({"[[vip]]", "address = '198.18.0.10'", "port = " + std::string(port),
                      "protocol = '" + std::string(protocol) + "'"});
    };
    // vip[0] at line 11, vip[1] at 15, vip[2] at 19.
    auto doc = with_base({}) + vip("80", "tcp") + vip("80", "udp") + vip("80", "tcp");
    CHECK(problem(doc) ==
          "t.toml:19:1: vip[2]: duplicate of vip[0] (198.18.0.10:80/tcp) defined at line 11");
    CHECK(problems(with_base({}) + vip("80", "tcp") + vip("443", "tcp")).empty());
}

TEST_CASE("VIP names are unique, explicit or default") {
    auto vip = [](std::string_view name, std::string_view port) {
        std::string out = "[[vip]]\n";
        if (!name.empty()) out += "name = '" + std::string(name) + "'\n";
        return out + "address = '198.18.0.10'\nport = " + std::string(port) +
               "\nprotocol = 'tcp'\n";
    };
    CHECK(problem(with_base({}) + vip("web", "80") + vip("web", "81")) ==
          "t.toml:17:8: vip[1].name: duplicate of vip[0].name 'web' defined at line 12");
    CHECK(problem(with_base({}) + vip("198.18.0.10:81/tcp", "80") + vip("", "81")) ==
          "t.toml:16:1: vip[1]: default name '198.18.0.10:81/tcp' duplicates vip[0].name defined "
          "at line 12");
}

TEST_CASE("a backend needs a valid address; port and weight have ranges") {
    auto backend = [](std::string_view line) {
        return with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                          "[[vip.backend]]", line});
    };
    CHECK(problem(backend("port = 80")) ==
          "t.toml:15:1: vip[0].backend[0]: missing required key 'address'");
    CHECK(problem(backend("address = '198.18.1.300'")) ==
          "t.toml:16:11: vip[0].backend[0].address: '198.18.1.300' is not an IP address");
    auto all = problems(backend("address = '198.18.1.11'\nport = 0\nweight = 65536"));
    REQUIRE(all.size() == 2);
    CHECK(all[0].to_string() ==
          "t.toml:17:8: vip[0].backend[0].port: must be between 1 and 65535, got 0");
    CHECK(all[1].to_string() ==
          "t.toml:18:10: vip[0].backend[0].weight: must be between 0 and 65535, got 65536");
    CHECK(problem(backend("address = '198.18.1.11'\nweight = -1")) ==
          "t.toml:17:10: vip[0].backend[0].weight: must be between 0 and 65535, got -1");
    CHECK(loaded(backend("address = '198.18.1.11'\nweight = 65535")).vips[0].backends[0].weight ==
          65535);
}

TEST_CASE("a backend of the other family than its VIP (NAT46/NAT64) needs a port of its family") {
    const auto nat46 = lines({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                              "[[vip.backend]]", "address = '2001:2:0:1::11'"});
    CHECK(problem(with_base({}) + nat46) ==
          "t.toml:15:1: vip[0].backend[0]: no route reaches 2001:2:0:1::11 (add a [[route]] or a "
          "port address covering it)");
    const std::string dual =
        "[dataplane]\nworker_cpus = [1]\n"
        "[[port]]\nname = 'client'\ndevice = 'net_af_packet0,iface=lbc0'\n"
        "addresses = ['198.18.0.1/24', '2001:2::1/64']\n"
        "[[port]]\nname = 'servers'\ndevice = 'net_af_packet1,iface=lbs0'\n"
        "addresses = ['198.18.1.1/24', '2001:2:0:1::1/64']\n";
    const config c =
        loaded(dual + nat46 +
               lines({"[[vip]]", "address = '2001:2::10'", "port = 80", "protocol = 'tcp'",
                      "[[vip.backend]]", "address = '198.18.1.11'"}));
    REQUIRE(c.vips.size() == 2);
    CHECK(c.vips[0].backends[0].address.family == address_family::ipv6);
    CHECK(c.vips[1].backends[0].address.family == address_family::ipv4);
}

TEST_CASE("a backend is reachable through a port's subnet or a route") {
    auto vip = lines({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                      "backend = [{ address = '198.18.1.11' }, { address = '198.18.1.12' },",
                      "           { address = '10.9.9.9' }]"});
    CHECK(problem(with_base({}) + vip) ==
          "t.toml:16:12: vip[0].backend[2]: no route reaches 10.9.9.9 (add a [[route]] or a port "
          "address covering it)");
    CHECK(problems(with_base({"[[route]]", "prefix = '10.9.0.0/16'", "via = '198.18.1.254'"}) + vip)
              .empty());
    CHECK(problems(with_base({"[[route]]", "prefix = '0.0.0.0/0'", "via = '198.18.0.254'"}) + vip)
              .empty());
}

TEST_CASE("a backend is not one of the LB's own addresses") {
    CHECK(problem(with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                             "[[vip.backend]]", "address = '198.18.1.1'"})) ==
          "t.toml:16:11: vip[0].backend[0].address: 198.18.1.1 is this load balancer's own "
          "address (port[1].addresses[0] defined at line 10)");
}

TEST_CASE("backends of one VIP are unique by address and port") {
    auto doc = with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                          "[[vip.backend]]", "address = '198.18.1.11'",  // 15
                          "[[vip.backend]]", "address = '198.18.1.11'", "port = 8080",
                          "[[vip.backend]]", "address = '198.18.1.11'", "port = 80"});  // 20
    CHECK(problem(doc) ==
          "t.toml:20:1: vip[0].backend[2]: duplicate of vip[0].backend[0] (198.18.1.11:80) defined "
          "at line 15");
    // The same server may back several VIPs.
    CHECK(problems(with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                              "backend = [{ address = '198.18.1.11' }]", "[[vip]]",
                              "address = '198.18.0.10'", "port = 80", "protocol = 'udp'",
                              "backend = [{ address = '198.18.1.11' }]"}))
              .empty());
}

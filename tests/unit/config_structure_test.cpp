// Unit tests for src/config on a document's structure: tables, top-level keys, unknown keys, types.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::config::config;
using sluice::config::load_string;

// --- top level and structure -------------------------------------------------------------------

TEST_CASE("[dataplane] and [[port]] are required") {
    auto all = problems("");
    REQUIRE(all.size() == 2);
    CHECK(all[0].to_string() == "t.toml: missing required table [dataplane]");
    CHECK(all[1].to_string() == "t.toml: missing required [[port]] table (at least one port)");
}

TEST_CASE("an empty port array is rejected at its position") {
    CHECK(problem(lines({"port = []", "[dataplane]", "worker_cpus = [1]"})) ==
          "t.toml:1:8: port: must list at least one port");
}

TEST_CASE("an unknown top-level key is an error at the key, listing the known ones") {
    CHECK(problem(with_base({"[dataplan]", "x = 1"})) ==
          "t.toml:11:2: unknown top-level key 'dataplan' (expected one of: dataplane, port, "
          "route, flows, timeouts, neighbor, control, metrics, log, vip)");
}

TEST_CASE("control socket and metrics listener have safe defaults and are validated") {
    // Property: defaults are the root-only socket path and a localhost-only listener; a relative
    // socket path and a listen value that is not ADDR:PORT are refused at the value.
    config c = load_string(with_base({}), "t.toml");
    CHECK(c.control.socket == "/run/sluice/sluiced.sock");
    CHECK(c.metrics.listen == "127.0.0.1:9273");
    CHECK(problem(with_base({"[control]", "socket = \"relative.sock\""})) ==
          "t.toml:12:10: control.socket: must be an absolute path of at most 107 bytes, got "
          "'relative.sock'");
    CHECK(problem(with_base({"[metrics]", "listen = \"127.0.0.1:99999\""})) ==
          "t.toml:12:10: metrics.listen: '127.0.0.1:99999' is not ADDR:PORT (e.g. "
          "127.0.0.1:9273, [::1]:9273; \"\" disables)");
    config v6 = load_string(with_base({"[metrics]", "listen = \"[::1]:9300\""}), "t.toml");
    CHECK(v6.metrics.listen == "[::1]:9300");
    config off = load_string(with_base({"[metrics]", "listen = \"\""}), "t.toml");
    CHECK(off.metrics.listen.empty());
}

TEST_CASE("control.state_file is off by default and must be an absolute file path") {
    // Property: without the key no state is kept (""); a relative path or a directory name is
    // refused at the value with FILE:LINE:COLUMN; an absolute path and "" load as written.
    CHECK(load_string(with_base({}), "t.toml").control.state_file.empty());
    config on = load_string(with_base({"[control]", "state_file = \"/var/lib/sluice/state.json\""}),
                            "t.toml");
    CHECK(on.control.state_file == "/var/lib/sluice/state.json");
    CHECK(problem(with_base({"[control]", "state_file = \"state.json\""})) ==
          "t.toml:12:14: control.state_file: must be an absolute file path of at most 4095 bytes "
          "(\"\" turns it off), got 'state.json'");
    CHECK(problem(with_base({"[control]", "state_file = \"/var/lib/sluice/\""}))
              .find("t.toml:12:14: control.state_file: must be an absolute file path") == 0);
}

TEST_CASE("sections must be tables and arrays of tables") {
    CHECK(problem("flows = 5\n" + with_base({})) ==
          "t.toml:1:9: flows: expected a table, got an integer");
    CHECK(problem("dataplane = 'x'\n" + std::string(ports_block)) ==
          "t.toml:1:13: dataplane: expected a table, got a string");
    CHECK(problem("vip = { address = '198.18.0.10' }\n" + with_base({})) ==
          "t.toml:1:7: vip: expected an array of tables ([[vip]]), got a table");
    CHECK(problem("route = [1]\n" + with_base({})) ==
          "t.toml:1:10: route[0]: expected a table, got an integer");
    CHECK(problem(with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                             "backend = 'x'"})) ==
          "t.toml:15:11: vip[0].backend: expected an array of tables ([[vip.backend]]), got a "
          "string");
}

TEST_CASE("an unknown key in any table is an error at the key, naming the table") {
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "mbuf = 5"})) ==
          "t.toml:3:1: unknown key 'mbuf' in [dataplane]");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "[dataplane.extra]", "a = 1"})) ==
          "t.toml:3:12: unknown key 'extra' in [dataplane]");
    CHECK(problem(with_base({"speed = 10"})) == "t.toml:11:1: unknown key 'speed' in port[1]");
    CHECK(problem(with_base({"[[route]]", "prefix = '10.0.0.0/8'", "via = '198.18.1.254'",
                             "metric = 1"})) == "t.toml:14:1: unknown key 'metric' in route[0]");
    CHECK(problem(with_base({"[flows]", "size = 1"})) ==
          "t.toml:12:1: unknown key 'size' in [flows]");
    CHECK(problem(with_base({"[timeouts]", "tcp = 1"})) ==
          "t.toml:12:1: unknown key 'tcp' in [timeouts]");
    CHECK(problem(with_base({"[neighbor]", "ttl = 1"})) ==
          "t.toml:12:1: unknown key 'ttl' in [neighbor]");
    CHECK(problem(with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                             "algorithm = 'rr'"})) ==
          "t.toml:15:1: unknown key 'algorithm' in vip[0]");
    CHECK(problem(with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
                             "[[vip.backend]]", "address = '198.18.1.11'", "wieght = 2"})) ==
          "t.toml:17:1: unknown key 'wieght' in vip[0].backend[0]");
}

TEST_CASE("a value of the wrong TOML type names both types") {
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "mbufs = '12'"})) ==
          "t.toml:3:9: dataplane.mbufs: expected an integer, got a string");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "burst = 1.5"})) ==
          "t.toml:3:9: dataplane.burst: expected an integer, got a float");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "netns = true"})) ==
          "t.toml:3:9: dataplane.netns: expected a string, got a boolean");
    CHECK(problem(with_dataplane({"worker_cpus = 1"})) ==
          "t.toml:2:15: dataplane.worker_cpus: expected an array, got an integer");
    CHECK(problem(with_dataplane({"worker_cpus = [1, '2']"})) ==
          "t.toml:2:19: dataplane.worker_cpus[1]: expected an integer, got a string");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "eal_args = ['-m', 512]"})) ==
          "t.toml:3:19: dataplane.eal_args[1]: expected a string, got an integer");
    CHECK(problem(with_base({"[timeouts]", "udp = 1979-05-27"})) ==
          "t.toml:12:7: timeouts.udp: expected an integer, got a date");
}

// Unit tests for the [[port]] NIC settings (src/config/parse_network.cpp, validate_network.cpp):
// queues, rx_descriptors, tx_descriptors, rss, rx_checksum_offload and flow_steering — defaults,
// values, bounds, the queue limit of one per worker, sub-ports that must agree, each refusal with
// its FILE:LINE:COLUMN.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::config::port_rss::ip;
using sluice::config::port_rss::tcp;
using sluice::config::port_rss::udp;

namespace {

// The base config (one worker) with `line` as the "servers" port's line 11.
std::string servers_with(std::string_view line) {
    return with_base({line});
}

// Two workers, and `line` as the "servers" port's line 11.
std::string two_workers_with(std::string_view line) {
    return "[dataplane]\nworker_cpus = [1, 2]\n" + std::string(ports_block) + lines({line});
}

// Two workers and two sub-ports of one PCI NIC (lines 3-12), each with its extra line (7, 12).
std::string sub_ports(std::string_view first_extra, std::string_view second_extra) {
    return lines({"[dataplane]", "worker_cpus = [1, 2]", "[[port]]", "name = 'client'",
                  "device = '0000:03:00.0'", "addresses = ['198.18.0.1/24']", first_extra,
                  "vlan = 100", "[[port]]", "name = 'servers'", "device = '0000:03:00.0'",
                  "addresses = ['198.18.1.1/24']", second_extra, "vlan = 200"});
}

}  // namespace

TEST_CASE("without NIC keys a port takes the defaults (0 / empty: one queue per worker, ...)") {
    auto cfg = loaded(with_base({}));
    REQUIRE(cfg.ports.size() == 2);
    CHECK(cfg.ports[1].queues == 0);
    CHECK(cfg.ports[1].rx_descriptors == 0);
    CHECK(cfg.ports[1].tx_descriptors == 0);
    CHECK(cfg.ports[1].rss == 0);
    CHECK(!cfg.ports[1].rx_checksum_offload.has_value());
    CHECK(!cfg.ports[1].flow_steering.has_value());
}

TEST_CASE("queues, descriptors, rss and rx_checksum_offload are read on their port") {
    CHECK(loaded(two_workers_with("queues = 2")).ports[1].queues == 2);
    CHECK(loaded(two_workers_with("queues = 2")).ports[0].queues == 0);
    CHECK(loaded(servers_with("rx_descriptors = 4096")).ports[1].rx_descriptors == 4096);
    CHECK(loaded(servers_with("tx_descriptors = 64")).ports[1].tx_descriptors == 64);
    CHECK(loaded(servers_with("rss = ['ip']")).ports[1].rss == ip);
    CHECK(loaded(servers_with("rss = ['udp', 'ip', 'tcp']")).ports[1].rss == (ip | tcp | udp));
    CHECK(loaded(servers_with("rx_checksum_offload = false")).ports[1].rx_checksum_offload ==
          false);
    CHECK(loaded(servers_with("rx_checksum_offload = true")).ports[1].rx_checksum_offload == true);
    CHECK(loaded(servers_with("flow_steering = false")).ports[1].flow_steering == false);
    CHECK(loaded(servers_with("flow_steering = true")).ports[1].flow_steering == true);
    CHECK(problem(servers_with("flow_steering = 'auto'")).rfind("t.toml:11:17: ", 0) == 0);
}

TEST_CASE("more RX queues than workers are refused: a queue nobody polls loses its traffic") {
    CHECK(problem(servers_with("queues = 2")) ==
          "t.toml:11:10: port[1].queues: 2 RX queues but 1 worker(s) to poll them: at most one "
          "queue per worker");
    CHECK(problem(servers_with("queues = 0")) ==
          "t.toml:11:10: port[1].queues: must be between 1 and 128, got 0");
}

TEST_CASE("fewer RX queues than workers: a PCI NIC's RSS can, a virtual device's pairs cannot") {
    CHECK(loaded(sub_ports("queues = 1", "")).ports[0].queues == 1);
    CHECK(problem(two_workers_with("queues = 1")) ==
          "t.toml:11:10: port[1].queues: 1 RX queues for 2 workers needs a PCI NIC whose RSS "
          "spreads over the configured queues only; a virtual device's queue pairs each get "
          "their share of the frames, so it needs one per worker");
}

TEST_CASE("descriptor counts outside 64..16384 are refused at the value") {
    CHECK(problem(servers_with("rx_descriptors = 32")) ==
          "t.toml:11:18: port[1].rx_descriptors: must be between 64 and 16384, got 32");
    CHECK(problem(servers_with("tx_descriptors = 20000")) ==
          "t.toml:11:18: port[1].tx_descriptors: must be between 64 and 16384, got 20000");
}

TEST_CASE("rss: unknown, repeated, empty or without ip is refused where it is wrong") {
    CHECK(problem(servers_with("rss = ['ip', 'sctp']")) ==
          "t.toml:11:14: port[1].rss[1]: 'sctp' is not an RSS field (ip, tcp, udp)");
    CHECK(problem(servers_with("rss = ['ip', 'ip']")) ==
          "t.toml:11:14: port[1].rss[1]: 'ip' is listed twice");
    CHECK(problem(servers_with("rss = []")) == "t.toml:11:7: port[1].rss: must not be empty");
    CHECK(problem(servers_with("rss = ['tcp']")) ==
          "t.toml:11:7: port[1].rss: must contain \"ip\" (NICs hash ports with addresses)");
}

TEST_CASE("sub-ports of one device may repeat a setting but not differ") {
    auto cfg = loaded(sub_ports("queues = 2", "queues = 2"));
    CHECK(cfg.ports[0].queues == 2);
    CHECK(loaded(sub_ports("queues = 1", "")).ports[1].queues == 0);  // the device's, unset
    CHECK(problem(sub_ports("queues = 1", "queues = 2")) ==
          "t.toml:13:10: port[1].queues: differs from port[0].queues (defined at line 7) on the "
          "same device (0000:03:00.0): sub-ports share the device's NIC settings");
    CHECK(problem(sub_ports("rss = ['ip']", "rss = ['ip', 'tcp']"))
              .rfind("t.toml:13:7: port[1].rss: differs from port[0].rss (defined at line 7)", 0) ==
          0);
    CHECK(problem(sub_ports("rx_checksum_offload = true", "rx_checksum_offload = false"))
              .rfind("t.toml:13:23: port[1].rx_checksum_offload: differs from", 0) == 0);
    CHECK(problem(sub_ports("flow_steering = true", "flow_steering = false"))
              .rfind("t.toml:13:17: port[1].flow_steering: differs from", 0) == 0);
}

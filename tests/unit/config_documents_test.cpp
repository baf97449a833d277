// Unit tests for src/config on whole documents: defaults, every key, and dpdk-config/*.toml.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#ifndef SLUICE_SOURCE_DIR
#error "SLUICE_SOURCE_DIR must name the source tree (set in tests/unit/meson.build)"
#endif

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::address_family;
using sluice::ip_address;
using sluice::ip_prefix;
using sluice::config::config;
using sluice::config::config_error;
using sluice::config::hash_key;
using sluice::config::idle_policy;
using sluice::config::l4_protocol;
using sluice::config::load_file;
using sluice::config::scheduler_kind;

namespace {

config loaded_file(const std::string& relative) {
    std::string path = std::string(SLUICE_SOURCE_DIR) + "/" + relative;
    try {
        return load_file(path);
    } catch (const config_error& e) {
        FAIL(e.what());
    }
    return {};
}

ip_address addr(std::string_view text) {
    return *ip_address::parse(text);
}

}  // namespace

// --- whole documents ---------------------------------------------------------------------------

TEST_CASE("a minimal config gets every documented default") {
    auto cfg = loaded(with_base({}));
    CHECK(cfg.source_file == "t.toml");
    const auto& dp = cfg.dataplane;
    CHECK(dp.eal_args.empty());
    CHECK(dp.control_cpu == 0);
    CHECK(dp.worker_cpus == std::vector<unsigned>{1});
    CHECK(dp.netns.empty());
    CHECK(dp.idle == idle_policy::backoff);
    CHECK(dp.mbufs == 16383);
    CHECK(dp.mbuf_cache == 256);
    CHECK(dp.rx_descriptors == 1024);
    CHECK(dp.tx_descriptors == 1024);
    CHECK(dp.ring_size == 1024);
    CHECK(dp.burst == 32);
    CHECK(dp.syn_proxy_max_held == 0);  // derived from mbufs at start
    CHECK(dp.kernel_interfaces);
    CHECK(dp.kernel_packets_per_second == 10000);
    CHECK(dp.kernel_packets_burst == 1000);
    CHECK(cfg.routes.empty());
    CHECK(cfg.flows.capacity == 65536);
    CHECK(cfg.flows.local_port_min == 1024);
    CHECK(cfg.flows.local_port_max == 60999);  // 61000.. are the host kernel's (probes)
    CHECK(cfg.timeouts.tcp_syn == 10);
    CHECK(cfg.timeouts.tcp_established == 900);
    CHECK(cfg.timeouts.tcp_fin_wait == 120);
    CHECK(cfg.timeouts.tcp_time_wait == 120);
    CHECK(cfg.timeouts.tcp_close == 10);
    CHECK(cfg.timeouts.udp == 300);
    CHECK(cfg.neighbor.reachable_time == 300);
    CHECK(cfg.neighbor.retry_interval_ms == 1000);
    CHECK(cfg.neighbor.retries == 3);
    CHECK(cfg.vips.empty());
}

TEST_CASE("every key of every section is read into the model") {
    auto cfg = loaded(lines({
        "[dataplane]",
        "eal_args = ['--no-huge', '-m', '512']",
        "control_cpu = 3",
        "worker_cpus = [4, 5, 5]",
        "netns = 'lb'",
        "idle = 'spin'",
        "mbufs = 8191",
        "mbuf_cache = 128",
        "rx_descriptors = 512",
        "tx_descriptors = 2048",
        "ring_size = 4096",
        "burst = 64",
        "syn_proxy_max_held = 5000",
        "kernel_interfaces = false",
        "[[port]]",
        "name = 'up'",
        "device = '0000:03:00.0'",
        "addresses = ['198.18.0.2/24', '2001:2::2/64']",
        "[[route]]",
        "prefix = '198.19.0.0/16'",
        "via = '198.18.0.254'",
        "[flows]",
        "capacity = 2048",
        "local_port_min = 2000",
        "local_port_max = 3000",
        "[timeouts]",
        "tcp_syn = 1",
        "tcp_established = 2",
        "tcp_fin_wait = 3",
        "tcp_time_wait = 4",
        "tcp_close = 5",
        "udp = 6",
        "[neighbor]",
        "reachable_time = 7",
        "retry_interval_ms = 80",
        "retries = 9",
        "[[vip]]",
        "name = 'dns6'",
        "address = '2001:2::53'",
        "port = 53",
        "protocol = 'udp'",
        "[[vip.backend]]",
        "address = '2001:2::11'",
        "port = 5353",
        "weight = 0",
    }));
    CHECK(cfg.dataplane.eal_args == std::vector<std::string>{"--no-huge", "-m", "512"});
    CHECK(cfg.dataplane.control_cpu == 3);
    CHECK(cfg.dataplane.worker_cpus == std::vector<unsigned>{4, 5, 5});
    CHECK(cfg.dataplane.netns == "lb");
    CHECK(cfg.dataplane.idle == idle_policy::spin);
    CHECK(cfg.dataplane.mbufs == 8191);
    CHECK(cfg.dataplane.mbuf_cache == 128);
    CHECK(cfg.dataplane.rx_descriptors == 512);
    CHECK(cfg.dataplane.tx_descriptors == 2048);
    CHECK(cfg.dataplane.ring_size == 4096);
    CHECK(cfg.dataplane.burst == 64);
    CHECK(cfg.dataplane.syn_proxy_max_held == 5000);
    CHECK(!cfg.dataplane.kernel_interfaces);
    REQUIRE(cfg.ports.size() == 1);
    CHECK(cfg.ports[0].addresses.size() == 2);
    CHECK(cfg.ports[0].addresses[1].to_string() == "2001:2::2/64");
    REQUIRE(cfg.routes.size() == 1);
    CHECK(cfg.routes[0].prefix.to_string() == "198.19.0.0/16");
    CHECK(cfg.routes[0].via == addr("198.18.0.254"));
    CHECK(cfg.flows.capacity == 2048);
    CHECK(cfg.flows.local_port_min == 2000);
    CHECK(cfg.flows.local_port_max == 3000);
    CHECK(cfg.timeouts.tcp_syn == 1);
    CHECK(cfg.timeouts.tcp_established == 2);
    CHECK(cfg.timeouts.tcp_fin_wait == 3);
    CHECK(cfg.timeouts.tcp_time_wait == 4);
    CHECK(cfg.timeouts.tcp_close == 5);
    CHECK(cfg.timeouts.udp == 6);
    CHECK(cfg.neighbor.reachable_time == 7);
    CHECK(cfg.neighbor.retry_interval_ms == 80);
    CHECK(cfg.neighbor.retries == 9);
    REQUIRE(cfg.vips.size() == 1);
    CHECK(cfg.vips[0].name == "dns6");
    CHECK(cfg.vips[0].protocol == l4_protocol::udp);
    REQUIRE(cfg.vips[0].backends.size() == 1);
    CHECK(cfg.vips[0].backends[0].port == 5353);
    CHECK(cfg.vips[0].backends[0].weight == 0);
}

TEST_CASE("dpdk-config/lab.toml loads with the lab's values") {
    auto cfg = loaded_file("dpdk-config/lab.toml");
    CHECK(cfg.dataplane.eal_args ==
          std::vector<std::string>{"--no-huge", "-m", "512", "--no-shconf", "--no-pci",
                                   "--file-prefix=sluice-lab", "--log-level=lib.eal:notice"});
    CHECK(cfg.dataplane.control_cpu == 0);
    CHECK(cfg.dataplane.worker_cpus == std::vector<unsigned>{1});
    CHECK(cfg.dataplane.netns == "sluice-lb");
    CHECK(cfg.dataplane.idle == idle_policy::backoff);
    CHECK(cfg.dataplane.mbufs == 16383);
    CHECK(cfg.dataplane.ring_size == 1024);  // default
    REQUIRE(cfg.ports.size() == 2);
    CHECK(cfg.ports[0].name == "client");
    CHECK(cfg.ports[0].device == "net_af_packet0,iface=lbc0,qpairs=1,framecnt=2048");
    CHECK(cfg.ports[0].dpdk_name() == "net_af_packet0");
    CHECK(cfg.ports[0].addresses[0].to_string() == "198.18.0.1/24");
    CHECK(cfg.ports[1].name == "servers");
    CHECK(cfg.ports[1].device == "net_af_packet1,iface=lbs0,qpairs=1,framecnt=2048");
    CHECK(cfg.ports[1].addresses[0].to_string() == "198.18.1.1/24");
    // Dual-stack: an IPv6 address on each port and an IPv6 local pool of 16 addresses.
    REQUIRE(cfg.ports[0].addresses.size() == 2);
    CHECK(cfg.ports[0].addresses[1].to_string() == "2001:2::1/64");
    REQUIRE(cfg.ports[1].addresses.size() == 2);
    CHECK(cfg.ports[1].addresses[1].to_string() == "2001:2:0:1::1/64");
    CHECK(cfg.ports[1].local_addresses.size() == 32);
    CHECK(cfg.routes.empty());
    CHECK(cfg.flows.capacity == 65536);
    CHECK(cfg.timeouts.tcp_established == 900);  // default
    // The three services on the IPv4 VIP, then the same on the IPv6 one.
    REQUIRE(cfg.vips.size() == 6);
    const std::vector<std::string> names{"http", "iperf3", "echo", "http6", "iperf3-6", "echo6"};
    const std::vector<uint16_t> ports{80, 5201, 9000};
    const std::vector<scheduler_kind> schedulers{scheduler_kind::rr, scheduler_kind::maglev,
                                                 scheduler_kind::wrr};
    for (size_t v = 3; v < 6; ++v) {
        const auto& vip = cfg.vips[v];
        CHECK(vip.name == names[v]);
        CHECK(vip.address == addr("2001:2::10"));
        CHECK(vip.port == ports[v - 3]);
        CHECK(vip.scheduler == schedulers[v - 3]);
        REQUIRE(vip.backends.size() == 3);
        for (size_t b = 0; b < 3; ++b)
            CHECK(vip.backends[b].address ==
                  addr(("2001:2:0:1::" + std::to_string(11 + b)).c_str()));
    }
    for (size_t v = 0; v < 3; ++v) {
        const auto& vip = cfg.vips[v];
        CHECK(vip.name == names[v]);
        CHECK(vip.address == addr("198.18.0.10"));
        CHECK(vip.port == ports[v]);
        CHECK(vip.protocol == (v == 2 ? l4_protocol::udp : l4_protocol::tcp));
        CHECK(vip.scheduler == schedulers[v]);
        CHECK(vip.hash == hash_key::src_ip);  // iperf3: control and data connections together
        CHECK(vip.maglev_table_size == 65537);
        CHECK(vip.hash_seed == 0);
        REQUIRE(vip.backends.size() == 3);
        for (size_t b = 0; b < vip.backends.size(); ++b) {
            CHECK(vip.backends[b].address == ip_address::v4(0xc6120100 + 11 + uint32_t(b)));
            CHECK(vip.backends[b].port == vip.port);
            CHECK(vip.backends[b].weight == 1);
            CHECK(vip.backends[b].max_connections == 0);
        }
    }
}

TEST_CASE("dpdk-config/lab-2workers.toml runs two workers on CPU 1 with two queue pairs") {
    auto lab = loaded_file("dpdk-config/lab.toml");
    auto cfg = loaded_file("dpdk-config/lab-2workers.toml");
    CHECK(cfg.dataplane.worker_cpus == std::vector<unsigned>{1, 1});
    REQUIRE(cfg.ports.size() == 2);
    CHECK(cfg.ports[0].device == "net_af_packet0,iface=lbc0,qpairs=2,framecnt=2048");
    CHECK(cfg.ports[1].device == "net_af_packet1,iface=lbs0,qpairs=2,framecnt=2048");
    CHECK(cfg.dataplane.eal_args == lab.dataplane.eal_args);
    REQUIRE(cfg.vips.size() == lab.vips.size());
    for (size_t v = 0; v < cfg.vips.size(); ++v) {
        CHECK(cfg.vips[v].name == lab.vips[v].name);
        CHECK(cfg.vips[v].scheduler == lab.vips[v].scheduler);
        CHECK(cfg.vips[v].hash == lab.vips[v].hash);
        REQUIRE(cfg.vips[v].backends.size() == lab.vips[v].backends.size());
        for (size_t b = 0; b < cfg.vips[v].backends.size(); ++b) {
            CHECK(cfg.vips[v].backends[b].address == lab.vips[v].backends[b].address);
            CHECK(cfg.vips[v].backends[b].weight == lab.vips[v].backends[b].weight);
        }
    }
}

TEST_CASE("dpdk-config/metal.toml is a valid bare-metal config in documentation ranges") {
    auto cfg = loaded_file("dpdk-config/metal.toml");
    CHECK(cfg.dataplane.idle == idle_policy::spin);
    CHECK(cfg.dataplane.worker_cpus == std::vector<unsigned>{2, 3, 4, 5});
    CHECK(cfg.dataplane.mbufs == 262143);
    for (const auto& arg : cfg.dataplane.eal_args) CHECK(arg != "--no-huge");
    CHECK(cfg.flows.capacity == 4194304);
    REQUIRE(cfg.ports.size() == 2);
    CHECK(cfg.ports[0].is_pci());
    CHECK(cfg.ports[0].dpdk_name() == "0000:03:00.0");
    CHECK(cfg.ports[1].dpdk_name() == "0000:03:00.1");
    bool default_route = false;
    for (const auto& route : cfg.routes) default_route |= route.prefix.length == 0;
    CHECK(default_route);
    auto bench4 = *ip_prefix::parse("198.18.0.0/15");
    auto bench6 = *ip_prefix::parse("2001:2::/48");
    REQUIRE(!cfg.vips.empty());
    for (const auto& vip : cfg.vips) {
        const auto& bench = vip.address.family == address_family::ipv6 ? bench6 : bench4;
        CHECK(bench.contains(vip.address));
        for (const auto& backend : vip.backends)
            CHECK((bench4.contains(backend.address) || bench6.contains(backend.address)));
    }
    // It shows wlc with a connection limit, and maglev over the 5-tuple with an explicit seed.
    bool wlc_limited = false, maglev_seeded = false;
    for (const auto& vip : cfg.vips) {
        for (const auto& backend : vip.backends)
            wlc_limited |= vip.scheduler == scheduler_kind::wlc && backend.max_connections > 0;
        maglev_seeded |= vip.scheduler == scheduler_kind::maglev &&
                         vip.hash == hash_key::five_tuple && vip.hash_seed != 0;
    }
    CHECK(wlc_limited);
    CHECK(maglev_seeded);
}

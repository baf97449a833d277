// Unit tests for src/config: TOML -> validated model, and every rejection with its position.
#include "sluice/config.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#ifndef SLUICE_SOURCE_DIR
#error "SLUICE_SOURCE_DIR must name the source tree (set in tests/unit/meson.build)"
#endif

#include "config_text.hpp"

using namespace test;
using sluice::address_family;
using sluice::ip_address;
using sluice::ip_prefix;
using sluice::config::config;
using sluice::config::config_error;
using sluice::config::error;
using sluice::config::hash_key;
using sluice::config::idle_policy;
using sluice::config::l4_protocol;
using sluice::config::load_file;
using sluice::config::load_string;
using sluice::config::max_config_bytes;
using sluice::config::port_config;
using sluice::config::scheduler_kind;

namespace {

// [dataplane] on line 1 with `body` from line 2, then the two ports.
std::string with_dataplane(std::initializer_list<std::string_view> body) {
    return "[dataplane]\n" + lines(body) + std::string(ports_block);
}

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

// An inline backend array on one line: `count` backends on 198.18.1.11, ports 1..count.
std::string backends_line(size_t count) {
    std::string out = "backend = [";
    for (size_t i = 1; i <= count; ++i)
        out += (i > 1 ? ", " : "") + std::string("{ address = '198.18.1.11', port = ") +
               std::to_string(i) + " }";
    return out + "]";
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

TEST_CASE("a VIP without scheduler keys is rr; maglev keys and max_connections get defaults") {
    auto cfg = loaded(with_vip({"[[vip.backend]]", "address = '198.18.1.11'"}));
    REQUIRE(cfg.vips.size() == 1);
    const auto& vip = cfg.vips[0];
    CHECK(vip.scheduler == scheduler_kind::rr);
    CHECK(vip.hash == hash_key::src_ip);
    CHECK(vip.maglev_table_size == 65537);
    CHECK(vip.hash_seed == 0);
    REQUIRE(vip.backends.size() == 1);
    CHECK(vip.backends[0].max_connections == 0);
    // A maglev VIP with only the scheduler given gets the same defaults.
    auto maglev = loaded(with_vip({"scheduler = 'maglev'"})).vips[0];
    CHECK(maglev.scheduler == scheduler_kind::maglev);
    CHECK(maglev.hash == hash_key::src_ip);
    CHECK(maglev.maglev_table_size == 65537);
    CHECK(maglev.hash_seed == 0);
}

TEST_CASE("a full maglev VIP parses with its values") {
    auto cfg = loaded(with_vip({
        "scheduler = 'maglev'",
        "hash = '5-tuple'",
        "maglev_table_size = 251",
        "hash_seed = 9223372036854775807",
        "[[vip.backend]]",
        "address = '198.18.1.11'",
        "weight = 3",
        "max_connections = 16777215",
        "[[vip.backend]]",
        "address = '198.18.1.12'",
        "max_connections = 1",
    }));
    const auto& vip = cfg.vips[0];
    CHECK(vip.scheduler == scheduler_kind::maglev);
    CHECK(vip.hash == hash_key::five_tuple);
    CHECK(vip.maglev_table_size == 251);
    CHECK(vip.hash_seed == 9223372036854775807ull);
    REQUIRE(vip.backends.size() == 2);
    CHECK(vip.backends[0].weight == 3);
    CHECK(vip.backends[0].max_connections == 16777215);
    CHECK(vip.backends[1].weight == 1);
    CHECK(vip.backends[1].max_connections == 1);
}

TEST_CASE("every scheduler and hash key spelling maps to its enum value") {
    const std::pair<std::string_view, scheduler_kind> schedulers[] = {
        {"rr", scheduler_kind::rr},         {"wrr", scheduler_kind::wrr},
        {"lc", scheduler_kind::lc},         {"wlc", scheduler_kind::wlc},
        {"maglev", scheduler_kind::maglev},
    };
    for (const auto& [name, kind] : schedulers) {
        const std::string_view spelling = name;  // CAPTURE's lambda: clang 14 cannot take a binding
        CAPTURE(spelling);
        CHECK(loaded(with_vip({"scheduler = '" + std::string(name) + "'"})).vips[0].scheduler ==
              kind);
    }
    const std::pair<std::string_view, hash_key> keys[] = {
        {"src-ip", hash_key::src_ip},
        {"src-ip-port", hash_key::src_ip_port},
        {"5-tuple", hash_key::five_tuple},
    };
    for (const auto& [name, key] : keys) {
        const std::string_view spelling = name;
        CAPTURE(spelling);
        CHECK(loaded(with_vip({"scheduler = 'maglev'", "hash = '" + std::string(name) + "'"}))
                  .vips[0]
                  .hash == key);
    }
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

// --- error reporting mechanics -----------------------------------------------------------------

TEST_CASE("error::to_string is FILE:LINE:COLUMN: message, or FILE: message without a line") {
    CHECK(error{"a.toml", 3, 7, "boom"}.to_string() == "a.toml:3:7: boom");
    CHECK(error{"a.toml", 0, 0, "boom"}.to_string() == "a.toml: boom");
}

TEST_CASE("config_error carries every error and joins them, one per line, in what()") {
    config_error e({error{"a", 1, 2, "x"}, error{"a", 0, 0, "y"}});
    CHECK(e.errors().size() == 2);
    CHECK(std::string(e.what()) == "a:1:2: x\na: y");
}

TEST_CASE("a TOML syntax error becomes one error at toml++'s position") {
    auto all = problems(lines({"[dataplane]", "worker_cpus = [1,", "mbufs = 3"}));
    REQUIRE(all.size() == 1);
    CHECK(all[0].file == "t.toml");
    CHECK(all[0].line == 3);
    CHECK(all[0].column == 1);
    CHECK(all[0].message.find("Error while parsing") == 0);
}

TEST_CASE("a key defined twice is a syntax error at the second definition") {
    auto all = problems(lines({"[dataplane]", "mbufs = 1", "mbufs = 2"}));
    REQUIRE(all.size() == 1);
    CHECK(all[0].line == 3);
    CHECK(all[0].message.find("mbufs") != std::string::npos);
}

TEST_CASE("an integer beyond 64 bits is a syntax error, not a wrapped value") {
    auto all = problems(with_dataplane({"worker_cpus = [1]", "mbufs = 99999999999999999999"}));
    REQUIRE(all.size() == 1);
    CHECK(all[0].line == 3);
    CHECK(all[0].message.find("not representable") != std::string::npos);
}

TEST_CASE("load_file reports an unreadable file as FILE: cannot read: <strerror>") {
    try {
        (void)load_file("/nonexistent/sluice.toml");
        FAIL("expected config_error");
    } catch (const config_error& e) {
        REQUIRE(e.errors().size() == 1);
        CHECK(e.errors()[0].to_string() ==
              "/nonexistent/sluice.toml: cannot read: No such file or directory");
    }
    try {
        (void)load_file(SLUICE_SOURCE_DIR);
        FAIL("expected config_error");
    } catch (const config_error& e) {
        CHECK(std::string(e.what()) ==
              std::string(SLUICE_SOURCE_DIR) + ": cannot read: a directory, not a regular file");
    }
}

TEST_CASE("load_file refuses a FIFO, a device and an oversized file at once, naming the file") {
    auto message_of = [](const std::string& path) -> std::string {
        try {
            (void)load_file(path);
        } catch (const config_error& e) {
            REQUIRE(e.errors().size() == 1);
            return e.errors()[0].to_string();
        }
        return "loaded";
    };
    char dir_template[] = "/tmp/sluice-load-XXXXXX";
    REQUIRE(mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    const std::string fifo = dir + "/fifo.toml";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    // No writer ever opens the FIFO: a blocking open would hang this test.
    CHECK(message_of(fifo) == fifo + ": cannot read: a FIFO, not a regular file");
    CHECK(message_of("/dev/zero") ==
          "/dev/zero: cannot read: a character device, not a regular file");
    const std::string big = dir + "/big.toml";
    {
        FILE* f = fopen(big.c_str(), "w");
        REQUIRE(f != nullptr);
        REQUIRE(ftruncate(fileno(f), off_t(max_config_bytes) + 1) == 0);
        fclose(f);
    }
    CHECK(message_of(big) == big + ": cannot read: " + std::to_string(max_config_bytes + 1) +
                                 " bytes, over the 16 MiB limit");
    unlink(fifo.c_str());
    unlink(big.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("load_file names errors after the path it was given") {
    std::string path = std::string(SLUICE_SOURCE_DIR) + "/meson.build";  // not TOML
    try {
        (void)load_file(path);
        FAIL("expected config_error");
    } catch (const config_error& e) {
        REQUIRE(!e.errors().empty());
        CHECK(e.errors()[0].file == path);
        CHECK(e.errors()[0].line > 0);
    }
}

TEST_CASE("all problems are reported, sorted by line and column") {
    auto all = problems(lines({
        "[dataplane]",                            // 1
        "worker_cpus = [1]",                      // 2
        "burst = 0",                              // 3
        "mbufs = 5",                              // 4
        "[[port]]",                               // 5
        "name = 'client'",                        // 6
        "device = 'bogus'",                       // 7
        "addresses = ['198.18.0.1/24', 'nope']",  // 8
        "[[vip]]",                                // 9
        "address = '198.18.0.10'",                // 10
        "port = 0",                               // 11
        "protocol = 'sctp'",                      // 12
        "[timeouts]",                             // 13
        "udp = 0",                                // 14
        "tcp_syn = 0",                            // 15
    }));
    REQUIRE_MESSAGE(all.size() == 8, joined(all));
    CHECK(all[0].to_string() == "t.toml:3:9: dataplane.burst: must be between 1 and 256, got 0");
    CHECK(all[1].to_string() ==
          "t.toml:4:9: dataplane.mbufs: must be between 1023 and 16777215, got 5");
    CHECK(all[2].line == 7);
    CHECK(all[3].to_string() == "t.toml:8:31: port[0].addresses[1]: 'nope' is not an IP prefix");
    CHECK(all[4].to_string() == "t.toml:11:8: vip[0].port: must be between 1 and 65535, got 0");
    CHECK(all[5].to_string() ==
          "t.toml:12:12: vip[0].protocol: must be \"tcp\" or \"udp\", got \"sctp\"");
    CHECK(all[6].to_string() == "t.toml:14:7: timeouts.udp: must be between 1 and 604800, got 0");
    CHECK(all[7].to_string() ==
          "t.toml:15:11: timeouts.tcp_syn: must be between 1 and 604800, got 0");
}

TEST_CASE("file-wide problems (line 0) sort before positioned ones") {
    auto all = problems(lines({"[flows]", "capacity = 1"}));
    REQUIRE(all.size() == 3);
    CHECK(all[0].line == 0);
    CHECK(all[1].line == 0);
    CHECK(all[2].line == 2);
}

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
          "route, flows, timeouts, neighbor, control, metrics, vip)");
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

// --- [dataplane] -------------------------------------------------------------------------------

struct range_case {
    std::string_view section;
    std::string_view key;
    int64_t min;
    int64_t max;
    bool bounds_load;  // false where the bounds alone break a cross-field rule
};

TEST_CASE("every integer key rejects values just outside its range and accepts its bounds") {
    const range_case cases[] = {
        {"dataplane", "control_cpu", 0, 1023, true},
        {"dataplane", "mbufs", 1023, 16777215, true},
        {"dataplane", "mbuf_cache", 0, 512, true},
        {"dataplane", "rx_descriptors", 64, 16384, true},
        {"dataplane", "tx_descriptors", 64, 16384, true},
        {"dataplane", "ring_size", 64, 65536, true},
        {"dataplane", "burst", 1, 256, true},
        {"flows", "capacity", 1024, 134217728, true},
        {"flows", "local_port_min", 1, 65535, false},
        {"flows", "local_port_max", 1, 65535, false},
        {"timeouts", "tcp_syn", 1, 604800, true},
        {"timeouts", "tcp_established", 1, 604800, true},
        {"timeouts", "tcp_fin_wait", 1, 604800, true},
        {"timeouts", "tcp_time_wait", 1, 604800, true},
        {"timeouts", "tcp_close", 1, 604800, true},
        {"timeouts", "udp", 1, 604800, true},
        {"neighbor", "reachable_time", 1, 86400, true},
        {"neighbor", "retry_interval_ms", 10, 60000, true},
        {"neighbor", "retries", 1, 100, true},
    };
    for (const auto& c : cases) {
        CAPTURE(c.key);
        auto doc = [&](int64_t value) {
            // The key is always on line 3: "[section]" / (worker_cpus or filler) / key.
            std::string assignment = std::string(c.key) + " = " + std::to_string(value);
            if (c.section == "dataplane") return with_dataplane({"worker_cpus = [1]", assignment});
            return "[" + std::string(c.section) + "]\n\n" + assignment + "\n" +
                   with_dataplane({"worker_cpus = [1]"});
        };
        auto column = std::to_string(c.key.size() + 4);
        for (int64_t bad : {c.min - 1, c.max + 1}) {
            CHECK(problem(doc(bad)) == "t.toml:3:" + column + ": " + std::string(c.section) + "." +
                                           std::string(c.key) + ": must be between " +
                                           std::to_string(c.min) + " and " + std::to_string(c.max) +
                                           ", got " + std::to_string(bad));
        }
        if (c.bounds_load) {
            CHECK(problems(doc(c.min)).empty());
            CHECK(problems(doc(c.max)).empty());
        }
    }
}

TEST_CASE("integers too big for the model's field are rejected, never wrapped") {
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "mbufs = 4294967296"})) ==
          "t.toml:3:9: dataplane.mbufs: must be between 1023 and 16777215, got 4294967296");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "rx_descriptors = 65600"})) ==
          "t.toml:3:18: dataplane.rx_descriptors: must be between 64 and 16384, got 65600");
    CHECK(problem(with_dataplane({"worker_cpus = [4294967297]"})) ==
          "t.toml:2:16: dataplane.worker_cpus[0]: must be between 0 and 1023, got 4294967297");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "burst = -9223372036854775808"})) ==
          "t.toml:3:9: dataplane.burst: must be between 1 and 256, got -9223372036854775808");
    CHECK(problem(with_base(
              {"[[vip]]", "address = '198.18.0.10'", "port = 65616", "protocol = 'tcp'"})) ==
          "t.toml:13:8: vip[0].port: must be between 1 and 65535, got 65616");
}

TEST_CASE(
    "dataplane.worker_cpus is required and has 1 to 64 entries of 0..1023; repeats are fine") {
    CHECK(problem(with_dataplane({"mbufs = 2047"})) ==
          "t.toml:1:1: dataplane: missing required key 'worker_cpus'");
    CHECK(problem(with_dataplane({"worker_cpus = []"})) ==
          "t.toml:2:15: dataplane.worker_cpus: must have between 1 and 64 entries, got 0");
    std::string many = "worker_cpus = [";
    for (int i = 0; i < 65; ++i) many += (i ? ", " : "") + std::to_string(i);
    many += "]";
    CHECK(problem(with_dataplane({many})) ==
          "t.toml:2:15: dataplane.worker_cpus: must have between 1 and 64 entries, got 65");
    CHECK(problem(with_dataplane({"worker_cpus = [1, 1024]"})) ==
          "t.toml:2:19: dataplane.worker_cpus[1]: must be between 0 and 1023, got 1024");
    CHECK(problem(with_dataplane({"worker_cpus = [-1]"})) ==
          "t.toml:2:16: dataplane.worker_cpus[0]: must be between 0 and 1023, got -1");
    CHECK(loaded(with_dataplane({"worker_cpus = [1, 1, 1]"})).dataplane.worker_cpus.size() == 3);
}

TEST_CASE("dataplane.eal_args may not set lcores or devices, which sluiced derives") {
    const std::string lcores = "sluiced builds the lcore list from control_cpu and worker_cpus";
    const std::string devices = "sluiced builds the device list from the [[port]] tables";
    const std::pair<std::string_view, const std::string*> forbidden[] = {
        {"-l", &lcores},           {"-l1-3", &lcores},
        {"--lcores", &lcores},     {"--lcores=1@2", &lcores},
        {"-c", &lcores},           {"-c0x3", &lcores},
        {"--main-lcore", &lcores}, {"--main-lcore=0", &lcores},
        {"-a", &devices},          {"-a0000:03:00.0", &devices},
        {"--allow", &devices},     {"--allow=0000:03:00.0", &devices},
        {"-b", &devices},          {"--block=0000:03:00.0", &devices},
        {"--vdev", &devices},      {"--vdev=net_tap0", &devices},
    };
    for (const auto& entry : forbidden) {
        std::string_view arg = entry.first;
        const std::string* reason = entry.second;
        CAPTURE(arg);
        CHECK(problem(with_dataplane(
                  {"worker_cpus = [1]", "eal_args = ['-m', '" + std::string(arg) + "']"})) ==
              "t.toml:3:19: dataplane.eal_args[1]: '" + std::string(arg) +
                  "' is not allowed: " + *reason);
    }
    auto cfg = loaded(with_dataplane(
        {"worker_cpus = [1]",
         "eal_args = ['--log-level=lib.eal:debug', '--lcoresx', '--allowed', '-m', '64']"}));
    CHECK(cfg.dataplane.eal_args.size() == 5);
}

TEST_CASE("dataplane.eal_args may not combine --in-memory with --no-huge") {
    CHECK(
        problem(with_dataplane({"worker_cpus = [1]", "eal_args = ['--no-huge', '--in-memory']"})) ==
        "t.toml:3:26: dataplane.eal_args[1]: '--in-memory' cannot be combined with '--no-huge' "
        "(line 3): DPDK rejects the pair");
}

TEST_CASE("dataplane.netns must be a plain name") {
    for (std::string_view bad : {"/run/netns/lb", "a/b", "", ".", ".."}) {
        CAPTURE(bad);
        CHECK(
            problem(with_dataplane({"worker_cpus = [1]", "netns = '" + std::string(bad) + "'"})) ==
            "t.toml:3:9: dataplane.netns: must be a plain network namespace name (no '/', not "
            "'.' or '..'), got '" +
                std::string(bad) + "'");
    }
}

TEST_CASE("dataplane.idle is spin or backoff") {
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "idle = 'sleep'"})) ==
          "t.toml:3:8: dataplane.idle: must be \"spin\" or \"backoff\", got \"sleep\"");
}

TEST_CASE("dataplane.kernel_interfaces is a boolean") {
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "kernel_interfaces = 'no'"})) ==
          "t.toml:3:21: dataplane.kernel_interfaces: expected a boolean, got a string");
}

TEST_CASE("dataplane.kernel_packets_per_second and _burst are read and range-checked") {
    auto cfg = load_string(with_dataplane({"worker_cpus = [1]", "kernel_packets_per_second = 500",
                                           "kernel_packets_burst = 50"}),
                           "t.toml");
    CHECK(cfg.dataplane.kernel_packets_per_second == 500);
    CHECK(cfg.dataplane.kernel_packets_burst == 50);
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "kernel_packets_per_second = 0"})) ==
          "t.toml:3:29: dataplane.kernel_packets_per_second: must be between 1 and 100000000, "
          "got 0");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "kernel_packets_burst = -1"})) ==
          "t.toml:3:24: dataplane.kernel_packets_burst: must be between 1 and 100000000, got -1");
}

TEST_CASE("dataplane.icmp_echo_* and icmp_errors_* (0 = off) are read and range-checked") {
    auto dp = load_string(with_dataplane({"worker_cpus = [1]"}), "t.toml").dataplane;
    CHECK(dp.icmp_echo_per_second == 1000);
    CHECK(dp.icmp_echo_burst == 50);
    dp = load_string(with_dataplane(
                         {"worker_cpus = [1]", "icmp_echo_per_second = 0", "icmp_echo_burst = 7"}),
                     "t.toml")
             .dataplane;
    CHECK(dp.icmp_echo_per_second == 0);
    CHECK(dp.icmp_echo_burst == 7);
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "icmp_echo_per_second = -1"})) ==
          "t.toml:3:24: dataplane.icmp_echo_per_second: must be between 0 and 100000000, got -1");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "icmp_echo_burst = 0"})) ==
          "t.toml:3:19: dataplane.icmp_echo_burst: must be between 1 and 100000000, got 0");
    CHECK(dp.icmp_errors_per_second == 1000);
    CHECK(dp.icmp_errors_burst == 50);
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "icmp_errors_per_second = 100000001"})) ==
          "t.toml:3:26: dataplane.icmp_errors_per_second: must be between 0 and 100000000, got "
          "100000001");
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "icmp_errors_burst = 0"})) ==
          "t.toml:3:21: dataplane.icmp_errors_burst: must be between 1 and 100000000, got 0");
}

TEST_CASE("dataplane.fragment_max_datagrams (0 = off) and fragment_timeout_ms are range-checked") {
    auto dp = load_string(with_dataplane({"worker_cpus = [1]"}), "t.toml").dataplane;
    CHECK(dp.fragment_max_datagrams == 4096);
    CHECK(dp.fragment_timeout_ms == 2000);
    dp = load_string(with_dataplane({"worker_cpus = [1]", "fragment_max_datagrams = 0",
                                     "fragment_timeout_ms = 500"}),
                     "t.toml")
             .dataplane;
    CHECK(dp.fragment_max_datagrams == 0);
    CHECK(dp.fragment_timeout_ms == 500);
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "fragment_timeout_ms = 0"})) ==
          "t.toml:3:23: dataplane.fragment_timeout_ms: must be between 1 and 60000, got 0");
}

TEST_CASE("dataplane.ring_size must be a power of two") {
    CHECK(problem(with_dataplane({"worker_cpus = [1]", "ring_size = 1000"})) ==
          "t.toml:3:13: dataplane.ring_size: must be a power of two, got 1000");
}

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

TEST_CASE("port names and DPDK devices are unique") {
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

// --- [flows] -----------------------------------------------------------------------------------

TEST_CASE("flows.local_port_max must exceed local_port_min") {
    CHECK(problem(with_base({"[flows]", "local_port_min = 5000", "local_port_max = 5000"})) ==
          "t.toml:13:18: flows.local_port_max: must be greater than local_port_min (5000), got "
          "5000");
    CHECK(problem(with_base({"[flows]", "local_port_max = 1000"})) ==
          "t.toml:12:18: flows.local_port_max: must be greater than local_port_min (1024), got "
          "1000");
    CHECK(problem(with_base({"[flows]", "local_port_min = 65535"})) ==
          "t.toml:12:18: flows.local_port_min: must be less than local_port_max (60999), got "
          "65535");
}

TEST_CASE("every worker gets at least one local port") {
    auto doc = [](std::string_view max) {
        return with_dataplane({"worker_cpus = [1, 2, 3]"}) + "[flows]\n" +
               "local_port_min = 60000\n" + "local_port_max = " + std::string(max) + "\n";
    };
    CHECK(problem(doc("60001")) ==
          "t.toml:13:18: flows.local_port_max: the range 60000..60001 has 2 local ports, fewer "
          "than the 3 workers (each needs at least one)");
    CHECK(problems(doc("60002")).empty());
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

TEST_CASE("vip.scheduler and vip.hash must be known names, listed in the error") {
    CHECK(problem(with_vip({"scheduler = 'leastconn'"})) ==
          "t.toml:15:13: vip[0].scheduler: unknown scheduler 'leastconn' (expected one of rr, wrr, "
          "lc, wlc, maglev)");
    CHECK(problem(with_vip({"scheduler = 'RR'"})) ==
          "t.toml:15:13: vip[0].scheduler: unknown scheduler 'RR' (expected one of rr, wrr, lc, "
          "wlc, maglev)");
    CHECK(problem(with_vip({"scheduler = 'maglev'", "hash = 'src-port'"})) ==
          "t.toml:16:8: vip[0].hash: unknown hash key 'src-port' (expected one of src-ip, "
          "src-ip-port, 5-tuple)");
    CHECK(problem(with_vip({"scheduler = 'maglev'", "hash = '5tuple'"})) ==
          "t.toml:16:8: vip[0].hash: unknown hash key '5tuple' (expected one of src-ip, "
          "src-ip-port, 5-tuple)");
}

TEST_CASE("the scheduler keys have strict types") {
    CHECK(problem(with_vip({"scheduler = 1"})) ==
          "t.toml:15:13: vip[0].scheduler: expected a string, got an integer");
    CHECK(problem(with_vip({"scheduler = 'maglev'", "hash = ['src-ip']"})) ==
          "t.toml:16:8: vip[0].hash: expected a string, got an array");
    CHECK(problem(with_vip({"scheduler = 'maglev'", "maglev_table_size = 65537.0"})) ==
          "t.toml:16:21: vip[0].maglev_table_size: expected an integer, got a float");
    CHECK(problem(with_vip({"scheduler = 'maglev'", "hash_seed = '0'"})) ==
          "t.toml:16:13: vip[0].hash_seed: expected an integer, got a string");
    CHECK(problem(
              with_vip({"[[vip.backend]]", "address = '198.18.1.11'", "max_connections = true"})) ==
          "t.toml:17:19: vip[0].backend[0].max_connections: expected an integer, got a boolean");
}

TEST_CASE("hash, maglev_table_size and hash_seed are errors at the key unless maglev") {
    CHECK(problem(with_vip({"hash = 'src-ip'"})) ==
          "t.toml:15:1: vip[0].hash: only used with scheduler = \"maglev\" (this VIP has the "
          "default, \"rr\")");
    auto all = problems(with_vip(
        {"scheduler = 'wlc'", "maglev_table_size = 65537", "hash_seed = 7", "hash = 'bogus'"}));
    REQUIRE_MESSAGE(all.size() == 3, joined(all));
    CHECK(all[0].to_string() ==
          "t.toml:16:1: vip[0].maglev_table_size: only used with scheduler = \"maglev\" (this "
          "VIP's is \"wlc\")");
    CHECK(all[1].to_string() ==
          "t.toml:17:1: vip[0].hash_seed: only used with scheduler = \"maglev\" (this VIP's is "
          "\"wlc\")");
    CHECK(all[2].to_string() ==
          "t.toml:18:1: vip[0].hash: only used with scheduler = \"maglev\" (this VIP's is "
          "\"wlc\")");
    // Inline tables too, at the key.
    CHECK(problem("vip = [{ address = '198.18.0.10', port = 80, protocol = 'udp', "
                  "scheduler = 'wrr', hash_seed = 1 }]\n" +
                  with_base({})) ==
          "t.toml:1:83: vip[0].hash_seed: only used with scheduler = \"maglev\" (this VIP's is "
          "\"wrr\")");
    // With an unknown scheduler, only its own error and the maglev keys' own mistakes.
    all = problems(with_vip({"scheduler = 'maglve'", "hash = 'src'", "hash_seed = 3"}));
    REQUIRE_MESSAGE(all.size() == 2, joined(all));
    CHECK(all[0].to_string() ==
          "t.toml:15:13: vip[0].scheduler: unknown scheduler 'maglve' (expected one of rr, wrr, "
          "lc, wlc, maglev)");
    CHECK(all[1].to_string() ==
          "t.toml:16:8: vip[0].hash: unknown hash key 'src' (expected one of src-ip, "
          "src-ip-port, 5-tuple)");
}

TEST_CASE("vip.maglev_table_size is a prime in 7..16777213; a non-prime gets the next prime") {
    auto size = [](std::string_view value) {
        return with_vip({"scheduler = 'maglev'", "maglev_table_size = " + std::string(value)});
    };
    CHECK(problem(size("6")) ==
          "t.toml:16:21: vip[0].maglev_table_size: must be between 7 and 16777213, got 6");
    CHECK(problem(size("16777214")) ==
          "t.toml:16:21: vip[0].maglev_table_size: must be between 7 and 16777213, got 16777214");
    CHECK(problem(size("4294967311")) ==
          "t.toml:16:21: vip[0].maglev_table_size: must be between 7 and 16777213, got "
          "4294967311");
    CHECK(problem(size("65536")) ==
          "t.toml:16:21: vip[0].maglev_table_size: 65536 is not a prime (try 65537)");
    CHECK(problem(size("9")) ==
          "t.toml:16:21: vip[0].maglev_table_size: 9 is not a prime (try 11)");
    CHECK(problem(size("16777212")) ==
          "t.toml:16:21: vip[0].maglev_table_size: 16777212 is not a prime (try 16777213)");
    CHECK(loaded(size("65537")).vips[0].maglev_table_size == 65537);
    CHECK(loaded(size("7")).vips[0].maglev_table_size == 7);
    CHECK(loaded(size("16777213")).vips[0].maglev_table_size == 16777213);
    CHECK(loaded(size("251")).vips[0].maglev_table_size == 251);
}

TEST_CASE("vip.maglev_table_size is at least 10 entries per backend") {
    auto doc = [](std::string_view size, size_t backends) {
        return with_vip({"scheduler = 'maglev'", "maglev_table_size = " + std::string(size),
                         backends_line(backends)});
    };
    CHECK(problem(doc("101", 20)) ==
          "t.toml:16:21: vip[0].maglev_table_size: 101 is too small for 20 backends (use a prime "
          ">= 200, e.g. 65537)");
    CHECK(problem(doc("199", 20)) ==
          "t.toml:16:21: vip[0].maglev_table_size: 199 is too small for 20 backends (use a prime "
          ">= 200, e.g. 65537)");
    CHECK(problems(doc("211", 20)).empty());
    CHECK(problems(doc("211", 21)).empty());  // exactly 10 per backend is enough
    CHECK(problems(doc("7", 0)).empty());
    // Above the default, the example is the smallest prime that fits.
    CHECK(problem(doc("65537", 6554)) ==
          "t.toml:16:21: vip[0].maglev_table_size: 65537 is too small for 6554 backends (use a "
          "prime >= 65540, e.g. 65543)");
    CHECK(problems(doc("65543", 6554)).empty());
    // The default table is checked too, at the VIP.
    auto defaulted = with_vip({"scheduler = 'maglev'", backends_line(6554)});
    CHECK(problem(defaulted) ==
          "t.toml:11:1: vip[0]: the default maglev_table_size 65537 is too small for 6554 "
          "backends (use a prime >= 65540, e.g. 65543)");
    CHECK(problems(with_vip({"scheduler = 'maglev'", backends_line(6553)})).empty());
    // Not for other schedulers, and not again for a size already reported.
    CHECK(problems(with_vip({"scheduler = 'rr'", backends_line(6554)})).empty());
    CHECK(problem(doc("100", 20)) ==
          "t.toml:16:21: vip[0].maglev_table_size: 100 is not a prime (try 101)");
}

TEST_CASE("vip.hash_seed is 0..2^63-1") {
    auto seed = [](std::string_view value) {
        return with_vip({"scheduler = 'maglev'", "hash_seed = " + std::string(value)});
    };
    CHECK(problem(seed("-1")) ==
          "t.toml:16:13: vip[0].hash_seed: must be between 0 and 9223372036854775807, got -1");
    CHECK(problem(seed("-9223372036854775808")) ==
          "t.toml:16:13: vip[0].hash_seed: must be between 0 and 9223372036854775807, got "
          "-9223372036854775808");
    CHECK(loaded(seed("0")).vips[0].hash_seed == 0);
    CHECK(loaded(seed("0x7fffffffffffffff")).vips[0].hash_seed == 9223372036854775807ull);
    // 2^63 does not fit a TOML integer: a syntax error.
    auto beyond = problems(seed("9223372036854775808"));
    REQUIRE(beyond.size() == 1);
    CHECK(beyond[0].line == 16);
}

TEST_CASE("backend.max_connections is 0..16777215") {
    auto limit = [](std::string_view value) {
        return with_vip({"[[vip.backend]]", "address = '198.18.1.11'",
                         "max_connections = " + std::string(value)});
    };
    CHECK(problem(limit("-1")) ==
          "t.toml:17:19: vip[0].backend[0].max_connections: must be between 0 and 16777215, got "
          "-1");
    CHECK(problem(limit("16777216")) ==
          "t.toml:17:19: vip[0].backend[0].max_connections: must be between 0 and 16777215, got "
          "16777216");
    CHECK(loaded(limit("0")).vips[0].backends[0].max_connections == 0);
    CHECK(loaded(limit("16777215")).vips[0].backends[0].max_connections == 16777215);
    // Any scheduler may limit its backends.
    for (std::string_view scheduler : {"rr", "wrr", "lc", "wlc", "maglev"}) {
        CAPTURE(scheduler);
        CHECK(problems(with_vip({"scheduler = '" + std::string(scheduler) + "'", "[[vip.backend]]",
                                 "address = '198.18.1.11'", "max_connections = 100"}))
                  .empty());
    }
}

TEST_CASE("an invalid value is reported once, not again by the cross-checks that use it") {
    // A route with a bad next hop still routes its prefix; a VIP with a bad port is no duplicate.
    auto all = problems(with_base({
        "[[route]]", "prefix = '10.0.0.0/8'", "via = 'gateway'",               // 11-13
        "[[vip]]", "address = '198.18.0.10'", "port = 0", "protocol = 'tcp'",  // 14-17
        "backend = [{ address = '10.1.1.1' }, { address = '10.1.1.1' }]",      // 18
        "[[vip]]", "address = '198.18.0.10'", "port = 0", "protocol = 'tcp'",  // 19-22
    }));
    REQUIRE_MESSAGE(all.size() == 3, joined(all));
    CHECK(all[0].to_string() == "t.toml:13:7: route[0].via: 'gateway' is not an IP address");
    CHECK(all[1].to_string() == "t.toml:16:8: vip[0].port: must be between 1 and 65535, got 0");
    CHECK(all[2].to_string() == "t.toml:21:8: vip[1].port: must be between 1 and 65535, got 0");
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

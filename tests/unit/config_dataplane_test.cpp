// Unit tests for src/config: [dataplane] and [flows] keys, and every integer key's range.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::config::load_string;

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
        {"flows", "capacity", 1024, 67108863, true},
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

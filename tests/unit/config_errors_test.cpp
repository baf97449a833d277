// Unit tests for src/config's error reporting: positions, order, load_file refusals, no repeats.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>

#ifndef SLUICE_SOURCE_DIR
#error "SLUICE_SOURCE_DIR must name the source tree (set in tests/unit/meson.build)"
#endif

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::config::config_error;
using sluice::config::error;
using sluice::config::load_file;
using sluice::config::max_config_bytes;

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

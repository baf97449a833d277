// Unit tests for src/config: a VIP's scheduler and its keys (hash, table size, seed, limits).
#include <doctest/doctest.h>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::config::hash_key;
using sluice::config::scheduler_kind;

namespace {

// An inline backend array on one line: `count` backends on 198.18.1.11, ports 1..count.
std::string backends_line(size_t count) {
    std::string out = "backend = [";
    for (size_t i = 1; i <= count; ++i)
        out += (i > 1 ? ", " : "") + std::string("{ address = '198.18.1.11', port = ") +
               std::to_string(i) + " }";
    return out + "]";
}

}  // namespace

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

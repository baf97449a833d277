// Unit tests for [vip.health] and [vip.backend.health] (src/config/parse_health.cpp): defaults,
// values, per-backend overrides, and every rejection with its position.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;

using sluice::config::config;
using sluice::config::config_error;
using sluice::config::error;
using sluice::config::health_all_down;
using sluice::config::health_check_config;
using sluice::config::health_check_type;
using sluice::config::health_initial_state;
using sluice::config::health_on_down;
using sluice::config::http_method;
using sluice::config::http_status_range;
using sluice::config::load_string;

namespace {

// [vip.health] on line 15 with `keys` from line 16.
std::string with_health(std::initializer_list<std::string_view> keys) {
    return with_vip({"[vip.health]"}) + lines(keys);
}

// The VIP's [vip.health] after loading `keys` in it.
sluice::config::health_config vip_health(std::initializer_list<std::string_view> keys) {
    auto cfg = loaded(with_health(keys));
    REQUIRE(cfg.vips.size() == 1);
    return cfg.vips[0].health;
}

}  // namespace

TEST_CASE("a VIP without [vip.health] gets every documented default, and so do its backends") {
    auto cfg = loaded(with_vip({"[[vip.backend]]", "address = '198.18.1.11'"}));
    const auto& health = cfg.vips[0].health;
    const auto& check = health.check;
    CHECK(check.type == health_check_type::none);
    CHECK(check.interval_ms == 2000);
    CHECK(check.timeout_ms == 1000);
    CHECK(check.rise == 2);
    CHECK(check.fall == 3);
    CHECK(check.initial_jitter);
    CHECK(check.port == 0);
    CHECK(check.initial_state == health_initial_state::up);
    CHECK(check.method == http_method::get);
    CHECK(check.http_path == "/");
    CHECK(check.http_host.empty());
    CHECK(check.expect_status == std::vector<http_status_range>{{200, 399}});
    CHECK(health.on_down == health_on_down::keep);
    CHECK(health.all_down == health_all_down::drop);
    CHECK(health.slow_start_ms == 0);
    CHECK(health.passive_failures == 0);
    CHECK(health.passive_connect_timeout_ms == 1000);
    REQUIRE(cfg.vips[0].backends.size() == 1);
    CHECK(cfg.vips[0].backends[0].health == check);
    CHECK(check == health_check_config{});
}

TEST_CASE("every [vip.health] key is read into the model, and backends inherit the probe") {
    auto cfg = loaded(with_vip({
        "[vip.health]",
        "type = 'http'",
        "interval = '5s'",
        "timeout = '1500ms'",
        "rise = 4",
        "fall = 5",
        "initial_jitter = false",
        "port = 8080",
        "initial_state = 'down'",
        "http_method = 'HEAD'",
        "http_path = '/healthz?full=1'",
        "http_host = 'web.example'",
        "expect_status = ['200', '204-299', 302]",
        "on_down = 'reset'",
        "all_down = 'use-all'",
        "slow_start = '30s'",
        "passive_failures = 5",
        "passive_connect_timeout = '750ms'",
        "[[vip.backend]]",
        "address = '198.18.1.11'",
    }));
    const auto& health = cfg.vips[0].health;
    const auto& check = health.check;
    CHECK(check.type == health_check_type::http);
    CHECK(check.interval_ms == 5000);
    CHECK(check.timeout_ms == 1500);
    CHECK(check.rise == 4);
    CHECK(check.fall == 5);
    CHECK_FALSE(check.initial_jitter);
    CHECK(check.port == 8080);
    CHECK(check.initial_state == health_initial_state::down);
    CHECK(check.method == http_method::head);
    CHECK(check.http_path == "/healthz?full=1");
    CHECK(check.http_host == "web.example");
    CHECK(check.expect_status ==
          std::vector<http_status_range>{{200, 200}, {204, 299}, {302, 302}});
    CHECK(health.on_down == health_on_down::reset);
    CHECK(health.all_down == health_all_down::use_all);
    CHECK(health.slow_start_ms == 30000);
    CHECK(health.passive_failures == 5);
    CHECK(health.passive_connect_timeout_ms == 750);
    CHECK(cfg.vips[0].backends[0].health == check);
}

TEST_CASE("every spelling of type, http_method, initial_state, on_down and all_down maps") {
    CHECK(vip_health({"type = 'none'"}).check.type == health_check_type::none);
    CHECK(vip_health({"type = 'tcp'"}).check.type == health_check_type::tcp);
    CHECK(vip_health({"type = 'http'"}).check.type == health_check_type::http);
    CHECK(vip_health({"type = 'http'", "http_method = 'GET'"}).check.method == http_method::get);
    CHECK(vip_health({"type = 'http'", "http_method = 'HEAD'"}).check.method == http_method::head);
    CHECK(vip_health({"type = 'http'", "http_method = 'OPTIONS'"}).check.method ==
          http_method::options);
    CHECK(vip_health({"initial_state = 'up'"}).check.initial_state == health_initial_state::up);
    CHECK(vip_health({"initial_state = 'down'"}).check.initial_state == health_initial_state::down);
    CHECK(vip_health({"on_down = 'keep'"}).on_down == health_on_down::keep);
    CHECK(vip_health({"on_down = 'reset'"}).on_down == health_on_down::reset);
    CHECK(vip_health({"all_down = 'drop'"}).all_down == health_all_down::drop);
    CHECK(vip_health({"all_down = 'reset'"}).all_down == health_all_down::reset);
    CHECK(vip_health({"all_down = 'use-all'"}).all_down == health_all_down::use_all);
}

TEST_CASE("durations take ms, s and m with decimals, or a plain number of seconds") {
    const std::pair<std::string_view, uint32_t> cases[] = {
        {"'500ms'", 500},   {"'2s'", 2000},  {"'1.5s'", 1500},  {"'1.5m'", 90000},
        {"'60m'", 3600000}, {"'0.001s'", 1}, {"'1ms'", 1},      {"'2.50s'", 2500},
        {"3", 3000},        {"1.25", 1250},  {"3600", 3600000}, {"'007s'", 7000},
    };
    for (const auto& [text, ms] : cases) {
        const std::string_view value = text;  // CAPTURE's lambda: clang 14 cannot take a binding
        CAPTURE(value);
        CHECK(vip_health({"interval = " + std::string(text)}).check.interval_ms == ms);
    }
    CHECK(vip_health({"slow_start = '0s'"}).slow_start_ms == 0);
    CHECK(vip_health({"slow_start = 0"}).slow_start_ms == 0);
    CHECK(vip_health({"slow_start = '60m'"}).slow_start_ms == 3600000);
}

TEST_CASE("the default timeout is 1s, or the interval when that is shorter") {
    CHECK(vip_health({"interval = '500ms'"}).check.timeout_ms == 500);
    CHECK(vip_health({"interval = '10s'"}).check.timeout_ms == 1000);
    CHECK(vip_health({"interval = '500ms'", "timeout = '200ms'"}).check.timeout_ms == 200);
    CHECK(vip_health({"interval = '1s'", "timeout = '1s'"}).check.timeout_ms == 1000);
    // A backend's own shorter interval caps the default timeout too.
    auto cfg = loaded(with_health({"type = 'tcp'", "[[vip.backend]]", "address = '198.18.1.11'",
                                   "[vip.backend.health]", "interval = '300ms'"}));
    CHECK(cfg.vips[0].backends[0].health.interval_ms == 300);
    CHECK(cfg.vips[0].backends[0].health.timeout_ms == 300);
}

TEST_CASE("a backend's [vip.backend.health] overrides only the keys it sets") {
    auto cfg = loaded(with_vip({
        "[vip.health]",
        "type = 'tcp'",
        "interval = '3s'",
        "rise = 3",
        "on_down = 'reset'",
        "[[vip.backend]]",
        "address = '198.18.1.11'",
        "[[vip.backend]]",
        "address = '198.18.1.12'",
        "[vip.backend.health]",
        "type = 'http'",
        "interval = '1s'",
        "timeout = '400ms'",
        "rise = 1",
        "fall = 7",
        "port = 8081",
        "http_method = 'OPTIONS'",
        "http_path = '/ping'",
        "http_host = 'b2'",
        "expect_status = ['204']",
        "[[vip.backend]]",
        "address = '198.18.1.13'",
        "health = { port = 9000 }",
    }));
    const auto& vip = cfg.vips[0];
    REQUIRE(vip.backends.size() == 3);
    CHECK(vip.backends[0].health == vip.health.check);
    const auto& b = vip.backends[1].health;
    CHECK(b.type == health_check_type::http);
    CHECK(b.interval_ms == 1000);
    CHECK(b.timeout_ms == 400);
    CHECK(b.rise == 1);
    CHECK(b.fall == 7);
    CHECK(b.port == 8081);
    CHECK(b.method == http_method::options);
    CHECK(b.http_path == "/ping");
    CHECK(b.http_host == "b2");
    CHECK(b.expect_status == std::vector<http_status_range>{{204, 204}});
    CHECK(b.initial_jitter == vip.health.check.initial_jitter);
    const auto& c = vip.backends[2].health;
    CHECK(c.type == health_check_type::tcp);
    CHECK(c.interval_ms == 3000);
    CHECK(c.timeout_ms == 1000);
    CHECK(c.rise == 3);
    CHECK(c.fall == 3);
    CHECK(c.port == 9000);
    CHECK(vip.health.on_down == health_on_down::reset);
}

TEST_CASE("a backend of an http VIP inherits the VIP's request and expected statuses") {
    auto cfg = loaded(with_health({"type = 'http'", "http_path = '/up'", "expect_status = [200]",
                                   "[[vip.backend]]", "address = '198.18.1.11'",
                                   "health = { interval = '4s' }"}));
    const auto& b = cfg.vips[0].backends[0].health;
    CHECK(b.type == health_check_type::http);
    CHECK(b.http_path == "/up");
    CHECK(b.expect_status == std::vector<http_status_range>{{200, 200}});
    CHECK(b.interval_ms == 4000);
}

// --- errors ------------------------------------------------------------------------------------

TEST_CASE("[vip.health] must be a table, and its unknown keys are errors at the key") {
    CHECK(problem(with_vip({"health = 'tcp'"})) ==
          "t.toml:15:10: vip[0].health: expected a table, got a string");
    CHECK(problem(with_health({"type = 'tcp'", "intervall = '2s'"})) ==
          "t.toml:17:1: unknown key 'intervall' in [vip[0].health]");
    CHECK(problem(with_vip({"[[vip.backend]]", "address = '198.18.1.11'", "[vip.backend.health]",
                            "rize = 2"})) ==
          "t.toml:18:1: unknown key 'rize' in [vip[0].backend[0].health]");
}

TEST_CASE("keyword values are case-sensitive names, listed in the error") {
    CHECK(problem(with_health({"type = 'https'"})) ==
          "t.toml:16:8: vip[0].health.type: unknown health check type 'https' (expected one of "
          "none, tcp, http)");
    CHECK(problem(with_health({"type = 'http'", "http_method = 'get'"})) ==
          "t.toml:17:15: vip[0].health.http_method: unknown HTTP method 'get' (expected one of "
          "GET, HEAD, OPTIONS)");
    CHECK(problem(with_health({"initial_state = 'UP'"})) ==
          "t.toml:16:17: vip[0].health.initial_state: unknown initial state 'UP' (expected one "
          "of up, down)");
    CHECK(problem(with_health({"on_down = 'drop'"})) ==
          "t.toml:16:11: vip[0].health.on_down: unknown on_down action 'drop' (expected one of "
          "keep, reset)");
    CHECK(problem(with_health({"all_down = 'use_all'"})) ==
          "t.toml:16:12: vip[0].health.all_down: unknown all_down action 'use_all' (expected one "
          "of drop, reset, use-all)");
    CHECK(problem(with_health({"initial_jitter = 'yes'"})) ==
          "t.toml:16:18: vip[0].health.initial_jitter: expected a boolean, got a string");
}

TEST_CASE("a duration that is not a number with ms, s or m is rejected as written") {
    const std::string_view shapes[] = {"'2'",   "'2 s'", "'2h'",   "'s'", "'.5s'",
                                       "'5.s'", "'-1s'", "'2sec'", "''"};
    for (auto text : shapes) {
        CAPTURE(text);
        CHECK(problem(with_health({"interval = " + std::string(text)})) ==
              "t.toml:16:12: vip[0].health.interval: " + std::string(text) +
                  " is not a duration (a number and a unit ms, s or m: \"500ms\", \"2s\", "
                  "\"1.5m\")");
    }
    CHECK(problem(with_health({"interval = true"})) ==
          "t.toml:16:12: vip[0].health.interval: expected a duration (\"500ms\", \"2s\", "
          "\"1.5m\") or a number of seconds, got a boolean");
    CHECK(problem(with_health({"timeout = '1.0005s'"})) ==
          "t.toml:16:11: vip[0].health.timeout: '1.0005s' is not a whole number of "
          "milliseconds");
    CHECK(problem(with_health({"timeout = '0.5ms'"})) ==
          "t.toml:16:11: vip[0].health.timeout: '0.5ms' is not a whole number of milliseconds");
    CHECK(problem(with_health({"timeout = 0.0001"})) ==
          "t.toml:16:11: vip[0].health.timeout: 0.0001 s is not a whole number of milliseconds");
}

TEST_CASE("durations are above 0 (slow_start may be 0) and at most one hour") {
    for (std::string_view key : {"interval", "timeout", "passive_connect_timeout"}) {
        CAPTURE(key);
        auto column = std::to_string(key.size() + 4);
        auto at = "t.toml:17:" + column + ": vip[0].health." + std::string(key) + ": ";
        auto doc = [&](std::string_view value) {
            // interval = 1h keeps "timeout <= interval" out of the way.
            std::string filler = key == "interval" ? "rise = 2" : "interval = '60m'";
            return with_health({filler, std::string(key) + " = " + std::string(value)});
        };
        CHECK(problem(doc("'0s'")) == at + "must be between 1ms and 60m, got '0s'");
        CHECK(problem(doc("0")) == at + "must be between 1ms and 60m, got 0");
        CHECK(problem(doc("-2")) == at + "must be between 1ms and 60m, got -2");
        CHECK(problem(doc("'3600001ms'")) == at + "must be between 1ms and 60m, got '3600001ms'");
        CHECK(problem(doc("'61m'")) == at + "must be between 1ms and 60m, got '61m'");
        CHECK(problem(doc("3601")) == at + "must be between 1ms and 60m, got 3601");
        CHECK(problem(doc("inf")) == at + "must be between 1ms and 60m, got inf");
        CHECK(problem(doc("'99999999999999999999999s'")) ==
              at + "must be between 1ms and 60m, got '99999999999999999999999s'");
        CHECK(problems(doc("'1ms'")).empty());
        CHECK(problems(doc("'1h'")).size() == 1);  // no unit h
    }
    CHECK(problem(with_health({"slow_start = '2h'"})).find("is not a duration") !=
          std::string::npos);
    CHECK(problem(with_health({"slow_start = -1"})) ==
          "t.toml:16:14: vip[0].health.slow_start: must be between 0ms and 60m, got -1");
    CHECK(problem(with_health({"slow_start = '61m'"})) ==
          "t.toml:16:14: vip[0].health.slow_start: must be between 0ms and 60m, got '61m'");
}

TEST_CASE("rise, fall, port and passive_failures are range-checked integers") {
    CHECK(problem(with_health({"rise = 0"})) ==
          "t.toml:16:8: vip[0].health.rise: must be between 1 and 100, got 0");
    CHECK(problem(with_health({"rise = 101"})) ==
          "t.toml:16:8: vip[0].health.rise: must be between 1 and 100, got 101");
    CHECK(problem(with_health({"fall = 0"})) ==
          "t.toml:16:8: vip[0].health.fall: must be between 1 and 100, got 0");
    CHECK(problem(with_health({"fall = '3'"})) ==
          "t.toml:16:8: vip[0].health.fall: expected an integer, got a string");
    CHECK(problem(with_health({"port = 65536"})) ==
          "t.toml:16:8: vip[0].health.port: must be between 0 and 65535, got 65536");
    CHECK(problem(with_health({"type = 'tcp'", "passive_failures = 1001"})) ==
          "t.toml:17:20: vip[0].health.passive_failures: must be between 0 and 1000, got 1001");
    CHECK(vip_health({"rise = 1", "fall = 100"}).check.fall == 100);
    CHECK(vip_health({"type = 'tcp'", "passive_failures = 1000"}).passive_failures == 1000);
}

TEST_CASE("an explicit timeout longer than the interval is an error at the timeout") {
    CHECK(problem(with_health({"interval = '1s'", "timeout = '1500ms'"})) ==
          "t.toml:17:11: vip[0].health.timeout: must not be longer than the interval (1s), got "
          "1500ms");
    CHECK(problem(with_health({"timeout = 3"})) ==
          "t.toml:16:11: vip[0].health.timeout: must not be longer than the interval (2s), got "
          "3s");
}

TEST_CASE("a backend's interval or timeout keeps timeout <= interval, naming where each is set") {
    auto doc = [](std::initializer_list<std::string_view> vip_keys,
                  std::initializer_list<std::string_view> backend_keys) {
        // [vip.health] on 15, its keys from 16; the backend follows.
        return with_vip({"[vip.health]"}) + lines(vip_keys) +
               lines({"[[vip.backend]]", "address = '198.18.1.11'", "[vip.backend.health]"}) +
               lines(backend_keys);
    };
    CHECK(problem(doc({"timeout = '1s'"}, {"interval = '500ms'"})) ==
          "t.toml:20:12: vip[0].backend[0].health.interval: must not be shorter than the timeout "
          "(1s, from vip[0].health.timeout), got 500ms");
    CHECK(problem(doc({"interval = '1s'"}, {"timeout = '2s'"})) ==
          "t.toml:20:11: vip[0].backend[0].health.timeout: must not be longer than the interval "
          "(1s, from vip[0].health.interval), got 2s");
    CHECK(problem(doc({"rise = 2"}, {"timeout = '3s'"})) ==
          "t.toml:20:11: vip[0].backend[0].health.timeout: must not be longer than the interval "
          "(2s, the default), got 3s");
    CHECK(problem(doc({"rise = 2"}, {"interval = '1s'", "timeout = '2s'"})) ==
          "t.toml:21:11: vip[0].backend[0].health.timeout: must not be longer than the interval "
          "(1s), got 2s");
    // An override that raises the interval above the VIP's explicit timeout is fine.
    CHECK(problems(doc({"interval = '1s'", "timeout = '1s'"}, {"interval = '5s'"})).empty());
}

TEST_CASE("http keys are errors at the key unless the probe is http, saying whose type it is") {
    CHECK(problem(with_health({"http_path = '/x'"})) ==
          "t.toml:16:1: vip[0].health.http_path: only used with type = \"http\" (this VIP has "
          "the default, \"none\")");
    auto all = problems(with_health({"type = 'tcp'", "http_method = 'GET'", "http_path = '/'",
                                     "http_host = 'h'", "expect_status = ['200']"}));
    REQUIRE(all.size() == 4);
    CHECK(all[0].to_string() ==
          "t.toml:17:1: vip[0].health.http_method: only used with type = \"http\" (this VIP's is "
          "\"tcp\")");
    CHECK(all[1].line == 18);
    CHECK(all[2].line == 19);
    CHECK(all[3].to_string() ==
          "t.toml:20:1: vip[0].health.expect_status: only used with type = \"http\" (this VIP's "
          "is \"tcp\")");
    // In a backend: its own type, the VIP's, or the default.
    auto backend = [](std::string_view vip_type, std::string_view backend_keys) {
        return with_vip({"[vip.health]", vip_type, "[[vip.backend]]", "address = '198.18.1.11'",
                         "health = { " + std::string(backend_keys) + " }"});
    };
    CHECK(problem(backend("type = 'http'", "type = 'tcp', http_path = '/x'")) ==
          "t.toml:19:26: vip[0].backend[0].health.http_path: only used with type = \"http\" "
          "(this backend's is \"tcp\")");
    CHECK(problem(backend("type = 'tcp'", "http_host = 'x'")) ==
          "t.toml:19:12: vip[0].backend[0].health.http_host: only used with type = \"http\" "
          "(this backend's is \"tcp\", from vip[0].health.type)");
    CHECK(problem(backend("rise = 2", "expect_status = [200]")) ==
          "t.toml:19:12: vip[0].backend[0].health.expect_status: only used with type = \"http\" "
          "(this backend has the default, \"none\")");
    // A backend that turns http on may set them, whatever the VIP's type.
    CHECK(problems(backend("type = 'tcp'", "type = 'http', http_path = '/b'")).empty());
}

TEST_CASE("with an invalid type the http keys are still checked, without a follow-on error") {
    auto all = problems(with_health({"type = 'htp'", "http_path = 'x'"}));
    REQUIRE(all.size() == 2);
    CHECK(all[0].message.find("unknown health check type 'htp'") != std::string::npos);
    CHECK(all[1].to_string() ==
          "t.toml:17:13: vip[0].health.http_path: must start with '/' and be at most 1024 "
          "printable ASCII characters without spaces, got 'x'");
}

TEST_CASE("http_path starts with '/' and has no spaces or control characters; http_host too") {
    auto path = [](std::string_view value) {
        return with_health({"type = 'http'", "http_path = " + std::string(value)});
    };
    const std::string bad_path =
        "t.toml:17:13: vip[0].health.http_path: must start with '/' and be at most 1024 "
        "printable ASCII characters without spaces, got ";
    CHECK(problem(path("'health'")) == bad_path + "'health'");
    CHECK(problem(path("''")) == bad_path + "''");
    CHECK(problem(path("'/a b'")) == bad_path + "'/a b'");
    CHECK(problem(path("\"/a\\r\\nX: y\"")) == bad_path + "'/a\r\nX: y'");
    CHECK(problem(path("'/" + std::string(1024, 'a') + "'")) ==
          bad_path + "'/" + std::string(1024, 'a') + "'");
    CHECK(problems(path("'/" + std::string(1023, 'a') + "'")).empty());
    CHECK(problem(with_health({"type = 'http'", "http_host = 'a b'"})) ==
          "t.toml:17:13: vip[0].health.http_host: must be at most 255 printable ASCII characters "
          "without spaces, got 'a b'");
    CHECK(vip_health({"type = 'http'", "http_host = ''"}).check.http_host.empty());
}

TEST_CASE("expect_status lists statuses or ranges within 100..599, each checked at its element") {
    auto doc = [](std::string_view list) {
        return with_health({"type = 'http'", "expect_status = " + std::string(list)});
    };
    CHECK(problem(doc("[]")) ==
          "t.toml:17:17: vip[0].health.expect_status: must list at least one status or range");
    CHECK(problem(doc("'200'")) ==
          "t.toml:17:17: vip[0].health.expect_status: expected an array, got a string");
    CHECK(problem(doc("['200', '2xx']")) ==
          "t.toml:17:25: vip[0].health.expect_status[1]: '2xx' is not a status or a range of "
          "statuses (e.g. \"200\", \"200-399\")");
    CHECK(problem(doc("['200-']")) ==
          "t.toml:17:18: vip[0].health.expect_status[0]: '200-' is not a status or a range of "
          "statuses (e.g. \"200\", \"200-399\")");
    CHECK(problem(doc("['099-200']")) ==
          "t.toml:17:18: vip[0].health.expect_status[0]: '099-200': statuses are between 100 and "
          "599");
    CHECK(problem(doc("['600']")) ==
          "t.toml:17:18: vip[0].health.expect_status[0]: '600': statuses are between 100 and 599");
    CHECK(problem(doc("['399-200']")) ==
          "t.toml:17:18: vip[0].health.expect_status[0]: '399-200' is an empty range (write the "
          "lower status first)");
    CHECK(problem(doc("[99]")) ==
          "t.toml:17:18: vip[0].health.expect_status[0]: must be between 100 and 599, got 99");
    CHECK(problem(doc("[true]")) ==
          "t.toml:17:18: vip[0].health.expect_status[0]: expected a string (\"200\", "
          "\"200-399\") or an integer, got a boolean");
    // Every bad element is reported.
    CHECK(problems(doc("['1', '2', 700]")).size() == 3);
    CHECK(vip_health({"type = 'http'", "expect_status = ['100-599']"}).check.expect_status ==
          std::vector<http_status_range>{{100, 599}});
}

TEST_CASE("VIP-wide keys in a backend's health table are errors at the key") {
    const std::string_view keys[] = {"on_down = 'reset'",
                                     "all_down = 'drop'",
                                     "slow_start = '1s'",
                                     "passive_failures = 3",
                                     "initial_jitter = true",
                                     "initial_state = 'down'",
                                     "passive_connect_timeout = '1s'"};
    for (auto key : keys) {
        CAPTURE(key);
        std::string name(key.substr(0, key.find(' ')));
        CHECK(problem(with_health({"type = 'tcp'", "[[vip.backend]]", "address = '198.18.1.11'",
                                   "[vip.backend.health]", std::string(key)})) ==
              "t.toml:20:1: vip[0].backend[0].health." + name +
                  ": set per VIP in [vip.health], not per backend");
    }
}

TEST_CASE("tcp and http probes of a udp VIP need an explicit port, the error at the type") {
    auto udp = [](std::initializer_list<std::string_view> extra) { return with_vip(extra, "udp"); };
    // No backends: judged on [vip.health] alone.
    CHECK(problem(udp({"[vip.health]", "type = 'tcp'"})) ==
          "t.toml:16:8: vip[0].health.type: type \"tcp\" on a udp VIP needs an explicit port: "
          "probes connect over TCP, and the backend's port is a UDP port");
    CHECK(problems(udp({"[vip.health]", "type = 'http'", "port = 8080"})).empty());
    CHECK(problems(udp({"[vip.health]", "type = 'none'"})).empty());
    // Inherited by a backend without its own port: once, at the VIP's type.
    CHECK(problem(udp({"[vip.health]", "type = 'http'", "[[vip.backend]]",
                       "address = '198.18.1.11'", "[[vip.backend]]", "address = '198.18.1.12'"})) ==
          "t.toml:16:8: vip[0].health.type: type \"http\" on a udp VIP needs an explicit port: "
          "probes connect over TCP, and the backend's port is a UDP port");
    // Every backend with its own port: fine.
    CHECK(problems(udp({"[vip.health]", "type = 'tcp'", "[[vip.backend]]",
                        "address = '198.18.1.11'", "health = { port = 22 }"}))
              .empty());
    // A backend that sets the type itself gets the error at its type.
    CHECK(
        problem(udp({"[[vip.backend]]", "address = '198.18.1.11'", "health = { type = 'tcp' }"})) ==
        "t.toml:17:19: vip[0].backend[0].health.type: type \"tcp\" on a udp VIP needs an "
        "explicit port: probes connect over TCP, and the backend's port is a UDP port");
    auto cfg = loaded(udp({"[vip.health]", "type = 'tcp'", "port = 53"}));
    CHECK(cfg.vips[0].health.check.port == 53);
}

TEST_CASE("passive detection needs a tcp VIP and probes that can bring a backend back") {
    CHECK(problem(with_vip({"[vip.health]", "type = 'tcp'", "port = 22", "passive_failures = 3"},
                           "udp")) ==
          "t.toml:18:20: vip[0].health.passive_failures: passive detection watches TCP "
          "connects, and this VIP is udp");
    CHECK(problem(with_health({"passive_failures = 3"})) ==
          "t.toml:16:20: vip[0].health.passive_failures: needs probes, which bring a passively "
          "failed backend back up (type is the default, \"none\")");
    CHECK(problem(with_health({"type = 'none'", "passive_failures = 3"})) ==
          "t.toml:17:20: vip[0].health.passive_failures: needs probes, which bring a passively "
          "failed backend back up (type is \"none\")");
    CHECK(problem(with_health({"type = 'tcp'", "passive_failures = 3", "[[vip.backend]]",
                               "address = '198.18.1.11'", "health = { type = 'none' }"})) ==
          "t.toml:17:20: vip[0].health.passive_failures: needs probes, which bring a passively "
          "failed backend back up (vip[0].backend[0].health.type is \"none\")");
    // 0 is off and needs nothing; a VIP of "none" whose backends all probe is fine.
    CHECK(problems(with_health({"passive_failures = 0"})).empty());
    CHECK(problems(with_health({"passive_failures = 2", "[[vip.backend]]",
                                "address = '198.18.1.11'", "health = { type = 'tcp' }"}))
              .empty());
}

TEST_CASE("every health problem of a file is reported, sorted by position") {
    auto all = problems(with_vip({
        "[vip.health]",
        "type = 'tcp'",
        "interval = '0s'",
        "rise = 0",
        "http_path = '/'",
        "[[vip.backend]]",
        "address = '198.18.1.11'",
        "[vip.backend.health]",
        "fall = 101",
        "on_down = 'reset'",
        "bogus = 1",
    }));
    CHECK(joined(all) ==
          "t.toml:17:12: vip[0].health.interval: must be between 1ms and 60m, got '0s'\n"
          "t.toml:18:8: vip[0].health.rise: must be between 1 and 100, got 0\n"
          "t.toml:19:1: vip[0].health.http_path: only used with type = \"http\" (this VIP's is "
          "\"tcp\")\n"
          "t.toml:23:8: vip[0].backend[0].health.fall: must be between 1 and 100, got 101\n"
          "t.toml:24:1: vip[0].backend[0].health.on_down: set per VIP in [vip.health], not per "
          "backend\n"
          "t.toml:25:1: unknown key 'bogus' in [vip[0].backend[0].health]\n");
}

// Unit tests for a VIP's attack protection keys (src/config/parse_protect.cpp): [vip.limits],
// [[vip.rule]] with [vip.rules], and syn_proxy; defaults, values, and every rejection with its
// position.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;

using sluice::config::payload_rule_config;
using sluice::config::protect_action;
using sluice::config::rate_limit_config;
using sluice::config::syn_proxy_config;
using sluice::config::syn_proxy_mode;
using sluice::config::vip_config;
using sluice::config::vip_limits_config;

namespace {

vip_config vip_of(const std::string& text) {
    auto cfg = loaded(text);
    REQUIRE(cfg.vips.size() == 1);
    return cfg.vips[0];
}

}  // namespace

// ---- [vip.limits] ------------------------------------------------------------------------------

TEST_CASE("a VIP without protection keys is unlimited, has no rules and no SYN proxy") {
    auto vip = vip_of(with_vip({}));
    CHECK(vip.limits == vip_limits_config{});
    CHECK_FALSE(vip.limits.new_connections.limited());
    CHECK_FALSE(vip.limits.packets.limited());
    CHECK_FALSE(vip.limits.source_new_connections.limited());
    CHECK(vip.limits.source_table_size == 65536);
    CHECK(vip.limits.action == protect_action::drop);
    CHECK(vip.rules.empty());
    CHECK(vip.rule_inspect_bytes == 256);
    CHECK(vip.syn_proxy == syn_proxy_config{});
    CHECK(vip.syn_proxy.mode == syn_proxy_mode::off);
    CHECK(vip.syn_proxy.embryonic_timeout_ms == 5000);
}

TEST_CASE("every [vip.limits] key is read into the model") {
    auto vip = vip_of(with_vip({
        "[vip.limits]",
        "new_connections_per_second = 1000",
        "new_connections_burst = 200",
        "packets_per_second = 1000000",
        "packets_burst = 5000",
        "source_new_connections_per_second = 20",
        "source_new_connections_burst = 40",
        "source_table_size = 4096",
        "action = 'reset'",
    }));
    CHECK(vip.limits.new_connections == rate_limit_config{1000, 200});
    CHECK(vip.limits.packets == rate_limit_config{1000000, 5000});
    CHECK(vip.limits.source_new_connections == rate_limit_config{20, 40});
    CHECK(vip.limits.source_table_size == 4096);
    CHECK(vip.limits.action == protect_action::reset);
}

TEST_CASE("a burst left out or 0 is the rate; an unlimited rate keeps burst 0") {
    auto vip = vip_of(with_vip({
        "[vip.limits]",
        "new_connections_per_second = 300",
        "packets_per_second = 70",
        "packets_burst = 0",
        "source_new_connections_per_second = 0",
        "source_new_connections_burst = 0",
    }));
    CHECK(vip.limits.new_connections == rate_limit_config{300, 300});
    CHECK(vip.limits.packets == rate_limit_config{70, 70});
    CHECK(vip.limits.source_new_connections == rate_limit_config{0, 0});
}

TEST_CASE("[vip.limits] rejects out-of-range values, wrong types and unknown keys at the value") {
    CHECK(problem(with_vip({"[vip.limits]", "new_connections_per_second = -1"})) ==
          "t.toml:16:30: vip[0].limits.new_connections_per_second: must be between 0 and "
          "1000000000, got -1");
    CHECK(problem(with_vip({"[vip.limits]", "packets_per_second = 1000000001"})) ==
          "t.toml:16:22: vip[0].limits.packets_per_second: must be between 0 and 1000000000, got "
          "1000000001");
    CHECK(problem(with_vip({"[vip.limits]", "packets_per_second = '10'"})) ==
          "t.toml:16:22: vip[0].limits.packets_per_second: expected an integer, got a string");
    CHECK(problem(with_vip({"[vip.limits]", "source_new_connections_per_second = 5",
                            "source_table_size = 10"})) ==
          "t.toml:17:21: vip[0].limits.source_table_size: must be between 64 and 16777216, got "
          "10");
    CHECK(problem(with_vip({"[vip.limits]", "new_connection_per_second = 5"})) ==
          "t.toml:16:1: unknown key 'new_connection_per_second' in [vip[0].limits]");
    CHECK(problem(with_vip({"[vip.limits]", "new_connections_per_second = 5", "action = 'rst'"})) ==
          "t.toml:17:10: vip[0].limits.action: unknown limit action 'rst' (expected one of drop, "
          "reset)");
    CHECK(problem(with_vip({"limits = 5"})) ==
          "t.toml:15:10: vip[0].limits: expected a table, got an integer");
}

TEST_CASE("[vip.limits] keys that only matter with a limit are errors without one") {
    CHECK(problem(with_vip({"[vip.limits]", "new_connections_burst = 10"})) ==
          "t.toml:16:25: vip[0].limits.new_connections_burst: only used with "
          "new_connections_per_second > 0 (unlimited by default)");
    CHECK(problem(with_vip({"[vip.limits]", "packets_per_second = 0", "packets_burst = 10"})) ==
          "t.toml:17:17: vip[0].limits.packets_burst: only used with packets_per_second > 0 "
          "(this VIP's is 0)");
    CHECK(problem(with_vip({"[vip.limits]", "source_table_size = 1024"})) ==
          "t.toml:16:21: vip[0].limits.source_table_size: only used with "
          "source_new_connections_per_second > 0 (this VIP has no per-source limit)");
    CHECK(problem(with_vip({"[vip.limits]", "packets_per_second = 10", "action = 'drop'"})) ==
          "t.toml:17:10: vip[0].limits.action: only used with new_connections_per_second or "
          "source_new_connections_per_second > 0 (what a refused new connection gets; packets "
          "over packets_per_second are dropped)");
    // An invalid rate is reported once: its burst is not judged against it.
    CHECK(problem(with_vip({"[vip.limits]", "packets_per_second = -5", "packets_burst = 10"})) ==
          "t.toml:16:22: vip[0].limits.packets_per_second: must be between 0 and 1000000000, got "
          "-5");
}

TEST_CASE("a reset action on a udp VIP is an error (there is no connection to reset)") {
    CHECK(problem(with_vip({"[vip.limits]", "new_connections_per_second = 5", "action = 'reset'"},
                           "udp")) ==
          "t.toml:17:10: vip[0].limits.action: \"reset\" sends a TCP RST and this VIP is udp (use "
          "\"drop\")");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = 'x'", "action = 'reset'"}, "udp")) ==
          "t.toml:17:10: vip[0].rule[0].action: \"reset\" sends a TCP RST and this VIP is udp "
          "(use \"drop\")");
    auto vip = vip_of(with_vip({"[vip.limits]", "new_connections_per_second = 5"}, "udp"));
    CHECK(vip.limits.new_connections.limited());
}

// ---- [[vip.rule]] and [vip.rules] --------------------------------------------------------------

TEST_CASE("rules are read in file order with names, actions and inspect_bytes") {
    auto vip = vip_of(with_vip({
        "[vip.rules]",
        "inspect_bytes = 512",
        "[[vip.rule]]",
        "pattern = '^GET /admin'",
        "name = 'admin'",
        "action = 'reset'",
        "[[vip.rule]]",
        "pattern = '(?i)union\\s+select'",
    }));
    CHECK(vip.rule_inspect_bytes == 512);
    REQUIRE(vip.rules.size() == 2);
    CHECK(vip.rules[0] == payload_rule_config{"admin", "^GET /admin", protect_action::reset});
    CHECK(vip.rules[1] ==
          payload_rule_config{"rule[1]", "(?i)union\\s+select", protect_action::drop});
    // The inline form.
    auto inline_vip =
        vip_of(with_vip({"rule = [{ pattern = 'a' }, { pattern = 'b', name = 'bee' }]"}));
    REQUIRE(inline_vip.rules.size() == 2);
    CHECK(inline_vip.rules[1].name == "bee");
}

TEST_CASE("a pattern that does not compile is an error at the pattern naming the rule") {
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = 'GET (/admin'"})) ==
          "t.toml:16:11: vip[0].rule[0].pattern: 'GET (/admin' does not compile: Missing close "
          "parenthesis for group started at index 4.");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = 'ok'", "[[vip.rule]]", "name = 'bad'",
                            "pattern = 'a{2,1}'"})) ==
          "t.toml:19:11: vip[0].rule[1].pattern: rule 'bad': 'a{2,1}' does not compile: Invalid "
          "repeat at index 1.");
    // Every bad rule, in one run.
    auto all = problems(with_vip({"[[vip.rule]]", "pattern = '('", "[[vip.rule]]",
                                  "pattern = 'fine'", "[[vip.rule]]", "pattern = '[z-a]'"}));
    REQUIRE(all.size() == 2);
    CHECK(all[0].line == 16);
    CHECK(all[0].message.find("vip[0].rule[0].pattern: '(' does not compile: ") == 0);
    CHECK(all[1].line == 20);
    CHECK(all[1].message.find("vip[0].rule[2].pattern: '[z-a]' does not compile: ") == 0);
    // Matching the empty payload would match everything.
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = '.*'"}))
              .find("t.toml:16:11: vip[0].rule[0].pattern: '.*' does not compile: ") == 0);
}

TEST_CASE("rule keys are checked: pattern required and not empty, names unique and printable") {
    CHECK(problem(with_vip({"[[vip.rule]]", "name = 'x'"})) ==
          "t.toml:15:1: vip[0].rule[0]: missing required key 'pattern'");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = ''"})) ==
          "t.toml:16:11: vip[0].rule[0].pattern: must not be empty");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = 'a'", "name = 'has space'"})) ==
          "t.toml:17:8: vip[0].rule[0].name: must be 1 to 64 characters without spaces, got 'has "
          "space'");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = 'a'", "name = 'x'", "[[vip.rule]]",
                            "pattern = 'b'", "name = 'x'"})) ==
          "t.toml:20:8: vip[0].rule[1].name: 'x' is already the name of vip[0].rule[0]");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = 'a'", "name = 'rule[1]'", "[[vip.rule]]",
                            "pattern = 'b'"})) ==
          "t.toml:18:1: vip[0].rule[1]: default name 'rule[1]' is already the name of "
          "vip[0].rule[0]");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = 'a'", "action = 'block'"})) ==
          "t.toml:17:10: vip[0].rule[0].action: unknown rule action 'block' (expected one of "
          "drop, reset)");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = 'a'", "flags = 'i'"})) ==
          "t.toml:17:1: unknown key 'flags' in vip[0].rule[0]");
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = \"a\\u0000b\""})) ==
          "t.toml:16:11: vip[0].rule[0].pattern: contains a NUL character; to match a zero byte "
          "write the regex escape \\x00 (in TOML: '\\x00' or \"\\\\x00\")");
    // Control characters are shown escaped in messages.
    CHECK(problem(with_vip({"[[vip.rule]]", "pattern = \"(\\n\""})) ==
          "t.toml:16:11: vip[0].rule[0].pattern: '(\\x0a' does not compile: Missing close "
          "parenthesis for group started at index 0.");
}

TEST_CASE("[vip.rules] is checked, and mistaken for [[vip.rule]] it says so") {
    CHECK(
        problem(with_vip({"[vip.rules]", "inspect_bytes = 0", "[[vip.rule]]", "pattern = 'a'"})) ==
        "t.toml:16:17: vip[0].rules.inspect_bytes: must be between 1 and 65535, got 0");
    CHECK(problem(with_vip(
              {"[vip.rules]", "inspect_bytes = 65536", "[[vip.rule]]", "pattern = 'a'"})) ==
          "t.toml:16:17: vip[0].rules.inspect_bytes: must be between 1 and 65535, got 65536");
    CHECK(problem(with_vip({"[vip.rules]", "inspect_bytes = 64"})) ==
          "t.toml:15:1: vip[0].rules: only used with [[vip.rule]] (this VIP has none)");
    CHECK(problem(with_vip({"[[vip.rules]]", "pattern = 'a'"})) ==
          "t.toml:15:1: vip[0].rules: expected a table ([vip.rules] inspect_bytes = …); each rule "
          "is a [[vip.rule]]");
    CHECK(problem(with_vip({"[vip.rule]", "pattern = 'a'"})) ==
          "t.toml:15:1: vip[0].rule: expected an array of tables ([[vip.rule]]), got a table");
    CHECK(problem(with_vip({"[vip.rules]", "inspect = 64", "[[vip.rule]]", "pattern = 'a'"})) ==
          "t.toml:16:1: unknown key 'inspect' in [vip[0].rules]");
}

// ---- syn_proxy ---------------------------------------------------------------------------------

TEST_CASE("syn_proxy as a string sets the mode and keeps the default thresholds") {
    CHECK(vip_of(with_vip({"syn_proxy = 'on'"})).syn_proxy.mode == syn_proxy_mode::on);
    CHECK(vip_of(with_vip({"syn_proxy = 'off'"})).syn_proxy.mode == syn_proxy_mode::off);
    auto automatic = vip_of(with_vip({"syn_proxy = 'auto'"})).syn_proxy;
    CHECK(automatic.mode == syn_proxy_mode::automatic);
    CHECK(automatic.half_open_threshold == 1024);
    CHECK(automatic.syn_rate_threshold == 10000);
    CHECK(automatic.max_half_open == 0);
    CHECK(automatic.max_half_open_per_backend == 0);
}

TEST_CASE("[vip.syn_proxy] reads the mode and every threshold") {
    auto proxy = vip_of(with_vip({
                            "[vip.syn_proxy]",
                            "mode = 'auto'",
                            "half_open_threshold = 500",
                            "syn_rate_threshold = 20000",
                            "embryonic_timeout = '3s'",
                            "max_half_open = 100000",
                            "max_half_open_per_backend = 2000",
                        }))
                     .syn_proxy;
    CHECK(proxy == syn_proxy_config{syn_proxy_mode::automatic, 500, 20000, 3000, 100000, 2000});
    auto inline_proxy =
        vip_of(with_vip({"syn_proxy = { mode = 'on', embryonic_timeout = '250ms' }"})).syn_proxy;
    CHECK(inline_proxy.mode == syn_proxy_mode::on);
    CHECK(inline_proxy.embryonic_timeout_ms == 250);
}

TEST_CASE("syn_proxy rejections: modes, types, keys for another mode, udp, durations") {
    CHECK(problem(with_vip({"syn_proxy = 'yes'"})) ==
          "t.toml:15:13: vip[0].syn_proxy: unknown syn_proxy mode 'yes' (expected one of off, on, "
          "auto)");
    CHECK(
        problem(with_vip({"syn_proxy = true"})) ==
        "t.toml:15:13: vip[0].syn_proxy: expected a string (\"off\", \"on\", \"auto\") or a table "
        "([vip.syn_proxy] with mode = …), got a boolean");
    CHECK(problem(with_vip({"[vip.syn_proxy]", "max_half_open = 10"})) ==
          "t.toml:15:1: vip[0].syn_proxy: missing required key 'mode'");
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'on'", "syn_rate_threshold = 5"})) ==
          "t.toml:17:22: vip[0].syn_proxy.syn_rate_threshold: only used with mode = \"auto\" (this "
          "VIP's is \"on\")");
    // Half-open limits work without the proxy, for tcp only.
    CHECK(vip_of(with_vip({"[vip.syn_proxy]", "mode = 'off'", "max_half_open = 5"}))
              .syn_proxy.max_half_open == 5);
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'off'", "max_half_open = 5"}, "udp")) ==
          "t.toml:17:17: vip[0].syn_proxy.max_half_open: half-open limits are for tcp; this VIP is "
          "udp");
    CHECK(problem(with_vip({"syn_proxy = 'on'"}, "udp")) ==
          "t.toml:15:13: vip[0].syn_proxy: the SYN proxy answers TCP handshakes and this VIP is "
          "udp");
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'auto'"}, "udp")) ==
          "t.toml:16:8: vip[0].syn_proxy.mode: the SYN proxy answers TCP handshakes and this VIP "
          "is udp");
    CHECK(vip_of(with_vip({"syn_proxy = 'off'"}, "udp")).syn_proxy.mode == syn_proxy_mode::off);
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'on'", "embryonic_timeout = '2h'"})) ==
          "t.toml:17:21: vip[0].syn_proxy.embryonic_timeout: '2h' is not a duration (a number and "
          "a unit ms, s or m: \"500ms\", \"2s\", \"1.5m\")");
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'on'", "embryonic_timeout = 0"})) ==
          "t.toml:17:21: vip[0].syn_proxy.embryonic_timeout: must be between 1ms and 60m, got 0");
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'auto'", "half_open_threshold = 0"})) ==
          "t.toml:17:23: vip[0].syn_proxy.half_open_threshold: must be between 1 and 16777216, got "
          "0");
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'on'", "backlog = 5"})) ==
          "t.toml:17:1: unknown key 'backlog' in [vip[0].syn_proxy]");
}

TEST_CASE("[vip.syn_proxy] mss is read, range-checked, and only used with the proxy on or auto") {
    CHECK(vip_of(with_vip({"syn_proxy = 'on'"})).syn_proxy.mss == 0);  // derived from the MTU
    CHECK(vip_of(with_vip({"[vip.syn_proxy]", "mode = 'on'", "mss = 1400"})).syn_proxy.mss == 1400);
    CHECK(vip_of(with_vip({"syn_proxy = { mode = 'auto', mss = 8960 }"})).syn_proxy.mss == 8960);
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'on'", "mss = 500"})) ==
          "t.toml:17:7: vip[0].syn_proxy.mss: must be between 536 and 65535, got 500");
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'off'", "mss = 1400"})) ==
          "t.toml:17:7: vip[0].syn_proxy.mss: only used with mode = \"on\" or \"auto\" (this "
          "VIP's is \"off\")");
}

TEST_CASE("auto: a half-open cap below the threshold is an error (the proxy would never engage)") {
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'auto'", "half_open_threshold = 600",
                            "max_half_open = 500"})) ==
          "t.toml:17:23: vip[0].syn_proxy.half_open_threshold: must not be above max_half_open "
          "(500), or the cap refuses connections before the proxy engages; got 600");
    CHECK(problem(with_vip({"[vip.syn_proxy]", "mode = 'auto'", "max_half_open = 500"})) ==
          "t.toml:17:17: vip[0].syn_proxy.max_half_open: must not be below half_open_threshold "
          "(1024, the default), or the cap refuses connections before the proxy engages; got 500");
    // With mode "on" the threshold means nothing, so the cap alone is fine.
    auto proxy =
        vip_of(with_vip({"[vip.syn_proxy]", "mode = 'on'", "max_half_open = 500"})).syn_proxy;
    CHECK(proxy.max_half_open == 500);
}

TEST_CASE("protection problems of several VIPs and keys are all reported in one run") {
    auto all = problems(with_vip({
        "[vip.limits]",
        "packets_per_second = -1",  // 16
        "[[vip.rule]]",
        "pattern = '('",  // 18
        "[[vip]]", "address = '198.18.0.11'", "port = 80", "protocol = 'udp'",
        "syn_proxy = 'on'",  // 23
    }));
    REQUIRE(all.size() == 3);
    CHECK(all[0].line == 16);
    CHECK(all[1].line == 18);
    CHECK(all[2].line == 23);
    CHECK(all[2].message.find("vip[1].syn_proxy: ") == 0);
}

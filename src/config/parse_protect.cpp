// [vip.limits], [[vip.rule]], [vip.rules] and syn_proxy: rate limits, payload rules and the SYN
// proxy's settings of one VIP.
#include "config/parse_protect.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/describe.hpp"
#include "config/parse.hpp"
#include "protect/rule_set.hpp"

namespace sluice::config::detail {

namespace {

constexpr int64_t max_rate = 1'000'000'000;  // events per second, and burst
constexpr int64_t min_source_table = 64;
constexpr int64_t max_source_table = 16'777'216;  // × 32 bytes = 512 MiB per worker
constexpr size_t max_rules = 4096;
constexpr size_t max_pattern = 4096;
constexpr size_t max_rule_name = 64;
constexpr int64_t max_half_open = 16'777'216;

std::string quoted(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

// A reset action needs a TCP connection to reset.
void check_reset(table_reader& table, const origin& at, protect_action action, bool udp) {
    if (udp && action == protect_action::reset)
        table.diag().report(at, "\"reset\" sends a TCP RST and this VIP is udp (use \"drop\")");
}

// One rate and its burst: `<what>_per_second` and `<what>_burst`. Returns whether the rate is
// known (valid or defaulted), with the resolved limit in `out`.
bool read_rate(table_reader& limits, std::string_view rate_key, std::string_view burst_key,
               rate_limit_config& out) {
    auto rate_at = limits.integer(rate_key, 0, max_rate, out.per_second);
    bool rate_known = rate_at || !limits.has(rate_key);
    uint32_t burst = 0;
    auto burst_at = limits.integer(burst_key, 0, max_rate, burst);
    if (burst_at && burst > 0 && rate_known && out.per_second == 0) {
        std::string why = rate_at ? "this VIP's is 0" : "unlimited by default";
        limits.diag().report(*burst_at,
                             "only used with " + std::string(rate_key) + " > 0 (" + why + ")");
    }
    out.burst = out.per_second == 0 ? 0 : burst == 0 ? out.per_second : burst;
    return rate_known;
}

void parse_limits(table_reader& vip, bool udp, vip_limits_config& out) {
    auto limits = vip.table("limits");
    if (!limits) return;
    bool connections_known = read_rate(*limits, "new_connections_per_second",
                                       "new_connections_burst", out.new_connections);
    read_rate(*limits, "packets_per_second", "packets_burst", out.packets);
    bool source_known = read_rate(*limits, "source_new_connections_per_second",
                                  "source_new_connections_burst", out.source_new_connections);

    auto size_at = limits->integer("source_table_size", min_source_table, max_source_table,
                                   out.source_table_size);
    if (size_at && source_known && !out.source_new_connections.limited())
        limits->diag().report(*size_at,
                              "only used with source_new_connections_per_second > 0 (this VIP "
                              "has no per-source limit)");

    if (auto action_at =
            read_keyword(*limits, "action", "limit action", protect_action_names, out.action)) {
        if (connections_known && source_known && !out.new_connections.limited() &&
            !out.source_new_connections.limited())
            limits->diag().report(*action_at,
                                  "only used with new_connections_per_second or "
                                  "source_new_connections_per_second > 0 (what a refused new "
                                  "connection gets; packets over packets_per_second are dropped)");
        else
            check_reset(*limits, *action_at, out.action, udp);
    }
    limits->report_unknown_keys();
}

// Names are metric labels and sluicectl arguments: no spaces or control characters.
bool is_rule_name(std::string_view name) {
    if (name.empty() || name.size() > max_rule_name) return false;
    for (unsigned char c : name)
        if (c <= ' ' || c == 0x7f) return false;
    return true;
}

// A pattern as messages quote it: control characters (a TOML "\n") as \xNN.
std::string shown(std::string_view pattern) {
    std::string out;
    for (unsigned char c : pattern) {
        if (c >= ' ' && c != 0x7f) {
            out += char(c);
            continue;
        }
        static constexpr char hex[] = "0123456789abcdef";
        out += "\\x";
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

// Where one rule's values came from, for the checks across rules.
struct rule_origins {
    origin table;
    std::optional<origin> name;     // explicit and valid
    std::optional<origin> pattern;  // present, a non-empty string
};

void parse_rule(table_reader& rule, size_t index, bool udp, std::vector<payload_rule_config>& out,
                std::vector<rule_origins>& where) {
    payload_rule_config cfg;
    rule_origins at{rule.where(), {}, {}};
    cfg.name = "rule[" + std::to_string(index) + "]";
    std::string name;
    if (auto name_at = rule.string("name", name)) {
        if (is_rule_name(name)) {
            cfg.name = name;
            at.name = name_at;
        } else {
            rule.diag().report(*name_at,
                               "must be 1 to 64 characters without spaces, got '" + name + "'");
        }
    }
    if (auto pattern_at = rule.string("pattern", cfg.pattern, presence::required)) {
        if (cfg.pattern.empty())
            rule.diag().report(*pattern_at, "must not be empty");
        else if (cfg.pattern.size() > max_pattern)
            rule.diag().report(*pattern_at, "must be at most 4096 characters, got " +
                                                std::to_string(cfg.pattern.size()));
        else if (cfg.pattern.find('\0') != std::string::npos)
            // Hyperscan reads C strings: the pattern would end at the NUL.
            rule.diag().report(*pattern_at,
                               "contains a NUL character; to match a zero byte write the regex "
                               "escape \\x00 (in TOML: '\\x00' or \"\\\\x00\")");
        else
            at.pattern = pattern_at;
    }
    if (auto action_at =
            read_keyword(rule, "action", "rule action", protect_action_names, cfg.action))
        check_reset(rule, *action_at, cfg.action, udp);
    rule.report_unknown_keys();
    out.push_back(std::move(cfg));
    where.push_back(std::move(at));
}

// Names are unique within the VIP: they label the rule's counters.
void check_rule_names(const std::vector<payload_rule_config>& rules,
                      const std::vector<rule_origins>& where, diagnostics& diag) {
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < rules.size(); ++i) {
        auto [first, fresh] = seen.emplace(rules[i].name, i);
        if (fresh) continue;
        std::string message =
            "'" + rules[i].name + "' is already the name of " + where[first->second].table.path;
        if (where[i].name)
            diag.report(*where[i].name, message);
        else
            diag.report(where[i].table, "default name " + message);
    }
}

// Every pattern Hyperscan cannot compile, each at its own position.
void compile_rules(const std::vector<payload_rule_config>& rules,
                   const std::vector<rule_origins>& where, const origin& array,
                   uint32_t inspect_bytes, diagnostics& diag) {
    std::vector<std::string> patterns;
    std::vector<size_t> rule_of;  // patterns[k] is rules[rule_of[k]]
    for (size_t i = 0; i < rules.size(); ++i) {
        if (!where[i].pattern) continue;  // missing or invalid: already reported
        patterns.push_back(rules[i].pattern);
        rule_of.push_back(i);
    }
    auto compiled = protect::rule_set::compile(patterns, inspect_bytes);
    for (const auto& error : compiled.errors) {
        if (!error.rule) {
            diag.report(array, "the rules do not compile together: " + error.message);
            continue;
        }
        size_t i = rule_of[*error.rule];
        std::string named = where[i].name ? "rule '" + rules[i].name + "': " : "";
        diag.report(*where[i].pattern,
                    named + "'" + shown(rules[i].pattern) + "' does not compile: " + error.message);
    }
}

void parse_rules(table_reader& vip, bool udp, vip_config& cfg) {
    // [vip.rules]: options of the rule list. [[vip.rules]] is the likely slip for [[vip.rule]].
    std::optional<origin> options_at;
    const toml::node* options = vip.find("rules", presence::optional);
    if (options && options->is_array()) {
        origin at = vip.where().child("rules");
        at.at = options->source().begin;
        vip.diag().report(at,
                          "expected a table ([vip.rules] inspect_bytes = …); each rule is a "
                          "[[vip.rule]]");
    } else if (auto table = vip.table("rules")) {
        options_at = table->where();
        table->integer("inspect_bytes", 1, protect::rule_set::max_inspect_bytes,
                       cfg.rule_inspect_bytes);
        table->report_unknown_keys();
    }

    auto rules = vip.tables("rule");
    if (!rules || rules->size == 0) {
        if (options_at)
            vip.diag().report(*options_at, "only used with [[vip.rule]] (this VIP has none)");
        return;
    }
    if (rules->size > max_rules) {
        vip.diag().report(rules->where,
                          "at most 4096 rules per VIP, got " + std::to_string(rules->size));
        return;
    }
    std::vector<rule_origins> where;
    for (size_t i = 0; i < rules->tables.size(); ++i)
        parse_rule(rules->tables[i], i, udp, cfg.rules, where);
    check_rule_names(cfg.rules, where, vip.diag());
    compile_rules(cfg.rules, where, rules->where, cfg.rule_inspect_bytes, vip.diag());
}

std::string mode_text(syn_proxy_mode mode) {
    return quoted(syn_proxy_mode_names[size_t(mode)]);
}

// The table form: mode (required) and the thresholds.
void parse_syn_proxy_table(table_reader& table, bool udp, syn_proxy_config& out) {
    std::optional<origin> mode_at;
    if (table.find("mode", presence::required))
        mode_at = read_keyword(table, "mode", "syn_proxy mode", syn_proxy_mode_names, out.mode);
    if (mode_at && udp && out.mode != syn_proxy_mode::off)
        table.diag().report(*mode_at, "the SYN proxy answers TCP handshakes and this VIP is udp");

    auto half_open_at =
        table.integer("half_open_threshold", 1, max_half_open, out.half_open_threshold);
    auto syn_rate_at = table.integer("syn_rate_threshold", 1, max_rate, out.syn_rate_threshold);
    auto timeout_at = read_duration(table, "embryonic_timeout", 1, out.embryonic_timeout_ms);
    auto max_at = table.integer("max_half_open", 0, max_half_open, out.max_half_open);
    auto per_backend_at =
        table.integer("max_half_open_per_backend", 0, max_half_open, out.max_half_open_per_backend);
    // 536: the smallest MSS every IPv4 host must accept (RFC 9293); 65535: the option's field.
    auto mss_at = table.integer("mss", 536, 65535, out.mss);
    table.report_unknown_keys();
    if (!mode_at) return;  // missing or invalid: the other keys cannot be judged

    auto not_for = [&](const std::optional<origin>& at, std::string_view modes) {
        if (at)
            table.diag().report(*at, "only used with mode = " + std::string(modes) +
                                         " (this VIP's is " + mode_text(out.mode) + ")");
    };
    // Half-open limits and the embryonic timeout also apply without the proxy (forwarded SYNs).
    if (udp) {
        for (const auto* at : {&timeout_at, &max_at, &per_backend_at})
            if (*at) table.diag().report(**at, "half-open limits are for tcp; this VIP is udp");
    }
    if (out.mode == syn_proxy_mode::off) not_for(mss_at, "\"on\" or \"auto\"");
    if (out.mode != syn_proxy_mode::automatic) {
        not_for(half_open_at, "\"auto\"");
        not_for(syn_rate_at, "\"auto\"");
        return;
    }
    // auto: a cap below the threshold refuses half-open connections before the proxy engages.
    if (out.max_half_open != 0 && out.half_open_threshold > out.max_half_open) {
        if (half_open_at)
            table.diag().report(*half_open_at,
                                "must not be above max_half_open (" +
                                    std::to_string(out.max_half_open) +
                                    "), or the cap refuses connections before the proxy engages; "
                                    "got " +
                                    std::to_string(out.half_open_threshold));
        else if (max_at)
            table.diag().report(*max_at, "must not be below half_open_threshold (" +
                                             std::to_string(out.half_open_threshold) +
                                             ", the default), or the cap refuses connections "
                                             "before the proxy engages; got " +
                                             std::to_string(out.max_half_open));
    }
}

// syn_proxy = "off" | "on" | "auto", or a table with mode and thresholds.
void parse_syn_proxy(table_reader& vip, bool udp, syn_proxy_config& out) {
    const toml::node* node = vip.find("syn_proxy", presence::optional);
    if (!node) return;
    if (node->is_table()) {
        if (auto table = vip.table("syn_proxy")) parse_syn_proxy_table(*table, udp, out);
        return;
    }
    if (!node->is_string()) {
        origin at = vip.where().child("syn_proxy");
        at.at = node->source().begin;
        vip.diag().report(at,
                          "expected a string (\"off\", \"on\", \"auto\") or a table "
                          "([vip.syn_proxy] with mode = …), got " +
                              std::string(type_name(node->type())));
        return;
    }
    auto mode_at = read_keyword(vip, "syn_proxy", "syn_proxy mode", syn_proxy_mode_names, out.mode);
    if (mode_at && udp && out.mode != syn_proxy_mode::off)
        vip.diag().report(*mode_at, "the SYN proxy answers TCP handshakes and this VIP is udp");
}

}  // namespace

void parse_vip_protection(table_reader& vip, bool protocol_known, vip_config& cfg) {
    bool udp = protocol_known && cfg.protocol == l4_protocol::udp;  // reset, proxy: tcp only
    parse_limits(vip, udp, cfg.limits);
    parse_rules(vip, udp, cfg);
    parse_syn_proxy(vip, udp, cfg.syn_proxy);
}

}  // namespace sluice::config::detail

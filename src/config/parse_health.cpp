// [vip.health] and [vip.backend.health]: probe type, timing, hysteresis, the HTTP request and
// expected statuses, and what the VIP does when backends go down.
#include "config/parse_health.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "config/describe.hpp"
#include "config/parse.hpp"

namespace sluice::config::detail {

namespace {

constexpr uint64_t max_duration_ms = 3600 * 1000;  // 1 h: a longer interval is no health check
// const, not constexpr: health_check_config has std::string members, which clang 14's
// libstdc++ 12 cannot build in a constant expression.
const uint32_t default_timeout_ms = health_check_config{}.timeout_ms;
constexpr int64_t max_rise_fall = 100;
constexpr int64_t max_passive_failures = 1000;
constexpr size_t max_http_path = 1024;
constexpr size_t max_http_host = 255;  // a DNS name's maximum

// The keys only an http probe reads.
constexpr std::array<std::string_view, 4> http_keys{"http_method", "http_path", "http_host",
                                                    "expect_status"};
// The keys of the VIP as a whole, which a backend's table may not override.
constexpr std::array<std::string_view, 7> vip_only_keys{
    "on_down",        "all_down",     "slow_start", "passive_failures", "passive_connect_timeout",
    "initial_jitter", "initial_state"};

}  // namespace

std::string duration_text(uint64_t ms) {
    if (ms >= 60000 && ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
    if (ms >= 1000 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

namespace {

enum class duration_parse { ok, not_duration, not_whole_ms };

// "500ms", "2s", "1.5s", "2m" -> milliseconds. Values far above the maximum saturate (still far
// above it) instead of overflowing.
duration_parse parse_duration_text(std::string_view text, uint64_t& ms) {
    constexpr uint64_t cap = 1'000'000'000'000;  // × 60000 still fits 64 bits
    constexpr uint64_t max_scale = 1'000'000'000;
    auto digit = [&](size_t i) { return i < text.size() && text[i] >= '0' && text[i] <= '9'; };
    size_t i = 0;
    uint64_t whole = 0;
    for (; digit(i); ++i) whole = std::min(cap, whole * 10 + uint64_t(text[i] - '0'));
    if (i == 0) return duration_parse::not_duration;
    uint64_t fraction = 0, scale = 1;
    bool beyond_nanos = false;  // a non-zero digit past the 9th decimal: never whole ms
    if (i < text.size() && text[i] == '.') {
        size_t first = ++i;
        for (; digit(i); ++i) {
            if (scale < max_scale) {
                fraction = fraction * 10 + uint64_t(text[i] - '0');
                scale *= 10;
            } else if (text[i] != '0') {
                beyond_nanos = true;
            }
        }
        if (i == first) return duration_parse::not_duration;
    }
    std::string_view unit = text.substr(i);
    uint64_t unit_ms = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60000 : 0;
    if (unit_ms == 0) return duration_parse::not_duration;
    if (beyond_nanos || fraction * unit_ms % scale != 0) return duration_parse::not_whole_ms;
    ms = whole * unit_ms + fraction * unit_ms / scale;
    return duration_parse::ok;
}

}  // namespace

std::optional<origin> read_duration(table_reader& table, std::string_view key, uint64_t min_ms,
                                    uint32_t& out) {
    const toml::node* node = table.find(key, presence::optional);
    if (!node) return std::nullopt;
    origin at = table.where().child(key);
    at.at = node->source().begin;
    uint64_t ms = 0;
    bool negative = false;
    std::string written;
    if (const auto* text = node->as_string()) {
        written = "'" + text->get() + "'";
        switch (parse_duration_text(text->get(), ms)) {
            case duration_parse::ok:
                break;
            case duration_parse::not_duration:
                table.diag().report(at, written +
                                            " is not a duration (a number and a unit ms, s or m: "
                                            "\"500ms\", \"2s\", \"1.5m\")");
                return std::nullopt;
            case duration_parse::not_whole_ms:
                table.diag().report(at, written + " is not a whole number of milliseconds");
                return std::nullopt;
        }
    } else if (const auto* integer = node->as_integer()) {
        int64_t seconds = integer->get();
        written = std::to_string(seconds);
        negative = seconds < 0;
        ms = negative ? 0 : uint64_t(std::min<int64_t>(seconds, 1'000'000'000'000)) * 1000;
    } else if (const auto* floating = node->as_floating_point()) {
        double seconds = floating->get();
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%g", seconds);
        written = buffer;
        negative = !(seconds >= 0);  // also NaN
        double exact = seconds * 1000;
        if (!negative && exact < 1e15) {
            double rounded = std::round(exact);
            if (std::fabs(exact - rounded) > 1e-6) {
                table.diag().report(at, written + " s is not a whole number of milliseconds");
                return std::nullopt;
            }
            ms = uint64_t(rounded);
        } else if (!negative) {
            ms = max_duration_ms + 1;  // also infinity
        }
    } else {
        table.diag().report(at,
                            "expected a duration (\"500ms\", \"2s\", \"1.5m\") or a number of "
                            "seconds, got " +
                                std::string(type_name(node->type())));
        return std::nullopt;
    }
    if (negative || ms < min_ms || ms > max_duration_ms) {
        table.diag().report(at, "must be between " + duration_text(min_ms) + " and " +
                                    duration_text(max_duration_ms) + ", got " + written);
        return std::nullopt;
    }
    out = uint32_t(ms);
    return at;
}

namespace {

// Printable ASCII without spaces: safe to put into a request line or header as is.
bool is_token_text(std::string_view text) {
    for (unsigned char c : text)
        if (c <= ' ' || c >= 0x7f) return false;
    return true;
}

void read_http_path(table_reader& table, std::string& out) {
    std::string path;
    auto at = table.string("http_path", path);
    if (!at) return;
    if (path.empty() || path[0] != '/' || path.size() > max_http_path || !is_token_text(path)) {
        table.diag().report(*at,
                            "must start with '/' and be at most 1024 printable ASCII characters "
                            "without spaces, got '" +
                                path + "'");
        return;
    }
    out = path;
}

void read_http_host(table_reader& table, std::string& out) {
    std::string host;
    auto at = table.string("http_host", host);
    if (!at) return;
    if (host.size() > max_http_host || !is_token_text(host)) {
        table.diag().report(
            *at,
            "must be at most 255 printable ASCII characters without spaces, got '" + host + "'");
        return;
    }
    out = host;
}

bool three_digits(std::string_view text) {
    return text.size() == 3 && std::all_of(text.begin(), text.end(), [](char c) {
               return std::isdigit(static_cast<unsigned char>(c));
           });
}

// One element of expect_status: "200", "200-399", or the integer 200.
std::optional<http_status_range> read_status_range(const element& item, diagnostics& diag) {
    if (item.node->is_integer()) {
        int64_t status = 0;
        if (!read_integer(*item.node, item.where, 100, 599, status, diag)) return std::nullopt;
        return http_status_range{uint16_t(status), uint16_t(status)};
    }
    const auto* text = item.node->as_string();
    if (!text) {
        diag.report(item.where, "expected a string (\"200\", \"200-399\") or an integer, got " +
                                    std::string(type_name(item.node->type())));
        return std::nullopt;
    }
    std::string_view value = text->get();
    auto dash = value.find('-');
    std::string_view first = value.substr(0, dash);
    std::string_view last = dash == std::string_view::npos ? first : value.substr(dash + 1);
    std::string written = "'" + std::string(value) + "'";
    if (!three_digits(first) || !three_digits(last)) {
        diag.report(item.where, written +
                                    " is not a status or a range of statuses (e.g. \"200\", "
                                    "\"200-399\")");
        return std::nullopt;
    }
    auto number = [](std::string_view digits) {
        return uint16_t((digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0'));
    };
    http_status_range range{number(first), number(last)};
    if (range.first < 100 || range.last > 599 || range.first > 599 || range.last < 100) {
        diag.report(item.where, written + ": statuses are between 100 and 599");
        return std::nullopt;
    }
    if (range.first > range.last) {
        diag.report(item.where, written + " is an empty range (write the lower status first)");
        return std::nullopt;
    }
    return range;
}

void read_expect_status(table_reader& table, std::vector<http_status_range>& out) {
    auto array = table.array("expect_status");
    if (!array) return;
    if (array->elements.empty()) {
        table.diag().report(array->where, "must list at least one status or range");
        return;
    }
    std::vector<http_status_range> ranges;
    bool valid = true;
    for (const auto& item : array->elements) {
        auto range = read_status_range(item, table.diag());
        if (range)
            ranges.push_back(*range);
        else
            valid = false;
    }
    if (valid) out = std::move(ranges);
}

// The keys of a probe, in [vip.health] or [vip.backend.health]; the table's type is already read.
// `not_http`: why the http keys do not apply, when this table's probe is known not to be http;
// they are then errors at the key. Otherwise (http, or a type that is itself invalid) they are
// read, so their own mistakes show.
void read_probe_keys(table_reader& table, const std::optional<std::string>& not_http,
                     health_check_config& check, probe_key_origins& at) {
    at.interval = read_duration(table, "interval", 1, check.interval_ms);
    at.interval_known = at.interval || !table.has("interval");
    at.timeout = read_duration(table, "timeout", 1, check.timeout_ms);
    at.timeout_known = at.timeout || !table.has("timeout");
    table.integer("rise", 1, max_rise_fall, check.rise);
    table.integer("fall", 1, max_rise_fall, check.fall);
    at.port = table.integer("port", 0, 65535, check.port);
    at.port_known = at.port || !table.has("port");
    if (not_http) {
        for (auto key : http_keys) {
            if (auto key_at = table.key_origin(key))
                table.diag().report(*key_at, "only used with type = \"http\" (" + *not_http + ")");
        }
        return;
    }
    read_keyword(table, "http_method", "HTTP method", http_method_names, check.method);
    read_http_path(table, check.http_path);
    read_http_host(table, check.http_host);
    read_expect_status(table, check.expect_status);
}

std::string quoted_type(health_check_type type) {
    return "\"" + std::string(health_check_type_name(type)) + "\"";
}

bool is_probed(health_check_type type) {
    return type != health_check_type::none;
}

}  // namespace

vip_health_origins parse_vip_health(table_reader& vip, health_config& out) {
    vip_health_origins at;
    auto table = vip.table("health");
    if (!table) return at;
    auto& check = out.check;
    auto& keys = at.keys;
    keys.type =
        read_keyword(*table, "type", "health check type", health_check_type_names, check.type);
    keys.type_known = keys.type || !table->has("type");
    std::optional<std::string> not_http;
    if (keys.type_known && check.type != health_check_type::http)
        not_http = keys.type ? "this VIP's is " + quoted_type(check.type)
                             : "this VIP has the default, " + quoted_type(check.type);
    read_probe_keys(*table, not_http, check, keys);
    table->boolean("initial_jitter", check.initial_jitter);
    read_keyword(*table, "initial_state", "initial state", health_initial_state_names,
                 check.initial_state);
    read_keyword(*table, "on_down", "on_down action", health_on_down_names, out.on_down);
    read_keyword(*table, "all_down", "all_down action", health_all_down_names, out.all_down);
    read_duration(*table, "slow_start", 0, out.slow_start_ms);
    auto passive =
        table->integer("passive_failures", 0, max_passive_failures, out.passive_failures);
    if (passive && out.passive_failures > 0) at.passive_failures = passive;
    read_duration(*table, "passive_connect_timeout", 1, out.passive_connect_timeout_ms);

    if (keys.timeout) {
        if (keys.interval_known && check.timeout_ms > check.interval_ms)
            table->diag().report(*keys.timeout, "must not be longer than the interval (" +
                                                    duration_text(check.interval_ms) + "), got " +
                                                    duration_text(check.timeout_ms));
    } else if (keys.timeout_known) {
        check.timeout_ms = std::min(default_timeout_ms, check.interval_ms);
    }
    table->report_unknown_keys();
    return at;
}

void parse_backend_health(table_reader& backend, const health_config& vip,
                          vip_health_origins& vip_at, health_check_config& out) {
    out = vip.check;
    probe_key_origins at;
    if (auto table = backend.table("health")) {
        at.type =
            read_keyword(*table, "type", "health check type", health_check_type_names, out.type);
        at.type_known = at.type || !table->has("type");
        bool type_known = at.type || (at.type_known && vip_at.keys.type_known);
        std::optional<std::string> not_http;
        if (type_known && out.type != health_check_type::http) {
            if (at.type)
                not_http = "this backend's is " + quoted_type(out.type);
            else if (vip_at.keys.type)
                not_http = "this backend's is " + quoted_type(out.type) + ", from " +
                           vip_at.keys.type->path;
            else
                not_http = "this backend has the default, " + quoted_type(out.type);
        }
        read_probe_keys(*table, not_http, out, at);
        for (auto key : vip_only_keys) {
            if (auto key_at = table->key_origin(key))
                table->diag().report(*key_at, "set per VIP in [vip.health], not per backend");
        }
        table->report_unknown_keys();
    }

    // The timeout: the backend's, else the VIP's explicit one, else 1 s capped at the interval.
    // A backend that sets interval or timeout must keep timeout <= interval.
    const auto& vip_keys = vip_at.keys;
    bool interval_known = at.interval || (at.interval_known && vip_keys.interval_known);
    std::string interval_source = at.interval         ? ""
                                  : vip_keys.interval ? ", from " + vip_keys.interval->path
                                                      : ", the default";
    if (at.timeout) {
        if (interval_known && out.timeout_ms > out.interval_ms)
            backend.diag().report(*at.timeout, "must not be longer than the interval (" +
                                                   duration_text(out.interval_ms) +
                                                   interval_source + "), got " +
                                                   duration_text(out.timeout_ms));
    } else if (!at.timeout_known) {
        // invalid here: already reported
    } else if (vip_keys.timeout) {
        if (at.interval && out.timeout_ms > out.interval_ms)
            backend.diag().report(*at.interval, "must not be shorter than the timeout (" +
                                                    duration_text(out.timeout_ms) + ", from " +
                                                    vip_keys.timeout->path + "), got " +
                                                    duration_text(out.interval_ms));
    } else if (vip_keys.timeout_known) {
        out.timeout_ms = std::min(default_timeout_ms, out.interval_ms);
    }
    vip_at.backends.push_back(std::move(at));
}

void check_vip_health(const vip_config& vip, bool protocol_known, const vip_health_origins& at,
                      diagnostics& diag) {
    bool udp = protocol_known && vip.protocol == l4_protocol::udp;
    const auto& vip_check = vip.health.check;
    // Effective values of backend b that are valid (or defaulted), so they can be judged.
    auto type_known = [&](size_t b) {
        return at.backends[b].type || (at.backends[b].type_known && at.keys.type_known);
    };
    auto port_known = [&](size_t b) {
        return at.backends[b].port || (at.backends[b].port_known && at.keys.port_known);
    };

    if (udp) {
        // Probes are TCP connects (and HTTP over them): a udp VIP's backend port is no TCP port.
        auto message = [](health_check_type type) {
            return "type " + quoted_type(type) +
                   " on a udp VIP needs an explicit port: probes connect over TCP, and the "
                   "backend's port is a UDP port";
        };
        bool vip_type_needs_port = vip.backends.empty() && at.keys.type &&
                                   is_probed(vip_check.type) && vip_check.port == 0 &&
                                   at.keys.port_known;
        for (size_t b = 0; b < vip.backends.size(); ++b) {
            const auto& probe = vip.backends[b].health;
            if (!type_known(b) || !port_known(b) || !is_probed(probe.type) || probe.port != 0)
                continue;
            if (at.backends[b].type)
                diag.report(*at.backends[b].type, message(probe.type));
            else
                vip_type_needs_port = true;  // inherited, so [vip.health] set it
        }
        if (vip_type_needs_port && at.keys.type)
            diag.report(*at.keys.type, message(vip_check.type));
    }

    if (!at.passive_failures) return;
    if (udp) {
        diag.report(*at.passive_failures,
                    "passive detection watches TCP connects, and this VIP is udp");
        return;
    }
    // Passive detection marks a backend down; only probes bring it back up.
    std::string unprobed;
    if (vip.backends.empty() && at.keys.type_known && !is_probed(vip_check.type))
        unprobed = at.keys.type ? "type is \"none\"" : "type is the default, \"none\"";
    for (size_t b = 0; b < vip.backends.size() && unprobed.empty(); ++b) {
        if (!type_known(b) || is_probed(vip.backends[b].health.type)) continue;
        if (at.backends[b].type)
            unprobed = at.backends[b].type->path + " is \"none\"";
        else
            unprobed = at.keys.type ? "type is \"none\"" : "type is the default, \"none\"";
    }
    if (!unprobed.empty())
        diag.report(
            *at.passive_failures,
            "needs probes, which bring a passively failed backend back up (" + unprobed + ")");
}

}  // namespace sluice::config::detail

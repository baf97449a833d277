#include "control/operator_state.hpp"

#include <time.h>

#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <set>
#include <tuple>

#include "config/describe.hpp"

namespace sluice::control {

namespace {

using nlohmann::json;

constexpr uint64_t max_weight = 65535;
constexpr uint64_t max_rate = 1'000'000'000;  // as the config and set_limit

const char* const limit_keys[] = {"new_connections", "packets", "source_new_connections"};

std::optional<config::rate_limit_config>& limit_slot(limits_state& l, size_t i) {
    return i == 0 ? l.new_connections : i == 1 ? l.packets : l.source_new_connections;
}
const std::optional<config::rate_limit_config>& limit_slot(const limits_state& l, size_t i) {
    return i == 0 ? l.new_connections : i == 1 ? l.packets : l.source_new_connections;
}

json backend_json(const backend_state& b) {
    json out = {{"address", b.address.to_string()}, {"port", b.port}};
    if (b.added) out["added"] = true;
    if (b.weight) out["weight"] = *b.weight;
    if (b.admin != model::backend_admin::up) out["admin"] = model::backend_admin_name(b.admin);
    if (b.drain_deadline_ms) out["drain_deadline_unix"] = double(*b.drain_deadline_ms) / 1000.0;
    return out;
}

json vip_json(const vip_state& v) {
    json out = {{"address", v.address.to_string()},
                {"port", v.port},
                {"protocol", config::detail::protocol_name(v.protocol)}};
    if (!v.name.empty()) out["name"] = v.name;
    if (!v.limits.empty()) {
        json limits = json::object();
        for (size_t i = 0; i < 3; ++i)
            if (const auto& r = limit_slot(v.limits, i))
                limits[limit_keys[i]] = {{"per_second", r->per_second}, {"burst", r->burst}};
        out["limits"] = limits;
    }
    json backends = json::array();
    for (const auto& b : v.backends) backends.push_back(backend_json(b));
    out["backends"] = backends;
    return out;
}

// Strict reading of one JSON object: every key is known, every value checked; the first
// problem wins and names its place ("vips[0].backends[1].port").
class reader {
public:
    reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

    // An error when `j_` is not an object or has a key outside `known`.
    std::optional<std::string> object(std::initializer_list<const char*> known) const {
        if (!j_.is_object()) return path_ + ": expected an object, got " + j_.type_name();
        for (const auto& [key, _] : j_.items()) {
            bool ok = false;
            for (const char* k : known) ok |= key == k;
            if (!ok) return at(key) + ": unknown key";
        }
        return std::nullopt;
    }
    bool has(const char* key) const { return j_.contains(key); }
    std::string at(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
    const json& get(const char* key) const { return j_.at(key); }

    result<uint64_t> integer(const char* key, uint64_t min, uint64_t max) const {
        if (!has(key)) return fail(at(key) + ": missing");
        const json& v = j_.at(key);
        // Negative integers first: read as unsigned they would wrap.
        const bool integer =
            v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
        const bool in_range = integer && v.get<uint64_t>() >= min && v.get<uint64_t>() <= max;
        if (!in_range)
            return fail(at(key) + ": must be an integer from " + std::to_string(min) + " to " +
                        std::to_string(max) + ", got " + v.dump());
        return v.get<uint64_t>();
    }
    result<std::string> string(const char* key) const {
        if (!has(key)) return fail(at(key) + ": missing");
        if (!j_.at(key).is_string())
            return fail(at(key) + ": expected a string, got " + j_.at(key).dump());
        return j_.at(key).get<std::string>();
    }
    result<ip_address> address(const char* key) const {
        auto text = string(key);
        if (!text) return text.error();
        auto a = ip_address::parse(*text);
        if (!a) return fail(at(key) + ": '" + *text + "' is not an IP address");
        return *a;
    }

private:
    const json& j_;
    std::string path_;
};

result<config::rate_limit_config> parse_rate(const reader& r) {
    if (auto bad = r.object({"per_second", "burst"})) return fail(*bad);
    auto per_second = r.integer("per_second", 0, max_rate);
    if (!per_second) return per_second.error();
    auto burst = r.integer("burst", 0, max_rate);
    if (!burst) return burst.error();
    if ((*per_second == 0) != (*burst == 0))
        return fail(r.at("burst") + ": must be 0 exactly when per_second is 0 (unlimited), got " +
                    std::to_string(*burst));
    return config::rate_limit_config{uint32_t(*per_second), uint32_t(*burst)};
}

result<model::backend_admin> parse_admin(const reader& r) {
    auto text = r.string("admin");
    if (!text) return text.error();
    for (auto a : {model::backend_admin::draining, model::backend_admin::disabled,
                   model::backend_admin::removing})
        if (*text == model::backend_admin_name(a)) return a;
    return fail(r.at("admin") + ": '" + *text + "' is not draining, disabled or removing");
}

// The optional parts of a backend entry (weight, admin, deadline, added).
result<> parse_backend_details(const reader& r, backend_state& b) {
    if (r.has("added")) {
        if (!r.get("added").is_boolean())
            return fail(r.at("added") + ": expected true or false, got " + r.get("added").dump());
        b.added = r.get("added").get<bool>();
    }
    if (r.has("weight")) {
        auto w = r.integer("weight", 0, max_weight);
        if (!w) return w.error();
        b.weight = uint32_t(*w);
    }
    if (b.added && !b.weight) return fail(r.at("weight") + ": an added backend needs its weight");
    if (r.has("admin")) {
        auto a = parse_admin(r);
        if (!a) return a.error();
        b.admin = *a;
    }
    if (r.has("drain_deadline_unix")) {
        const json& d = r.get("drain_deadline_unix");
        if (!d.is_number() || !(d.get<double>() >= 0) || d.get<double>() > 1e12)
            return fail(r.at("drain_deadline_unix") + ": must be Unix time in seconds, got " +
                        d.dump());
        if (b.admin != model::backend_admin::draining)
            return fail(r.at("drain_deadline_unix") + ": only for admin \"draining\"");
        b.drain_deadline_ms = int64_t(std::llround(d.get<double>() * 1000.0));
    }
    return {};
}

result<backend_state> parse_backend(const json& j, const std::string& path) {
    reader r(j, path);
    if (auto bad = r.object({"address", "port", "added", "weight", "admin", "drain_deadline_unix"}))
        return fail(*bad);
    backend_state b;
    auto address = r.address("address");
    if (!address) return address.error();
    b.address = *address;
    auto port = r.integer("port", 1, 65535);
    if (!port) return port.error();
    b.port = uint16_t(*port);
    if (auto details = parse_backend_details(r, b); !details) return details.error();
    return b;
}

result<limits_state> parse_limits(const reader& r) {
    limits_state out;
    if (auto bad = r.object({limit_keys[0], limit_keys[1], limit_keys[2]})) return fail(*bad);
    for (size_t i = 0; i < 3; ++i) {
        if (!r.has(limit_keys[i])) continue;
        auto rate = parse_rate(reader(r.get(limit_keys[i]), r.at(limit_keys[i])));
        if (!rate) return rate.error();
        limit_slot(out, i) = *rate;
    }
    return out;
}

result<> parse_vip_backends(const reader& r, vip_state& v) {
    if (!r.has("backends")) return {};
    const json& list = r.get("backends");
    if (!list.is_array()) return fail(r.at("backends") + ": expected an array");
    std::set<std::tuple<std::array<uint8_t, 16>, uint8_t, uint16_t>> seen;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string at = r.at("backends") + "[" + std::to_string(i) + "]";
        auto b = parse_backend(list[i], at);
        if (!b) return b.error();
        if (!seen.emplace(b->address.bytes, uint8_t(b->address.family), b->port).second)
            return fail(at + ": " + config::detail::endpoint(b->address, b->port) +
                        " is listed twice");
        v.backends.push_back(*b);
    }
    return {};
}

result<vip_state> parse_vip(const json& j, const std::string& path) {
    reader r(j, path);
    if (auto bad = r.object({"address", "port", "protocol", "name", "limits", "backends"}))
        return fail(*bad);
    vip_state v;
    auto address = r.address("address");
    if (!address) return address.error();
    v.address = *address;
    auto port = r.integer("port", 1, 65535);
    if (!port) return port.error();
    v.port = uint16_t(*port);
    auto protocol = r.string("protocol");
    if (!protocol) return protocol.error();
    if (*protocol != "tcp" && *protocol != "udp")
        return fail(r.at("protocol") + ": must be \"tcp\" or \"udp\", got \"" + *protocol + "\"");
    v.protocol = *protocol == "tcp" ? config::l4_protocol::tcp : config::l4_protocol::udp;
    if (r.has("name")) {
        auto name = r.string("name");
        if (!name) return name.error();
        v.name = *name;
    }
    if (r.has("limits")) {
        auto limits = parse_limits(reader(r.get("limits"), r.at("limits")));
        if (!limits) return limits.error();
        v.limits = *limits;
    }
    if (auto backends = parse_vip_backends(r, v); !backends) return backends.error();
    return v;
}

}  // namespace

std::string iso_utc(int64_t unix_ms) {
    time_t secs = time_t(unix_ms / 1000);
    tm t{};
    gmtime_r(&secs, &t);
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                  t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, int(unix_ms % 1000));
    return buf;
}

std::string describe_vip(const vip_state& v) {
    std::string label = config::detail::vip_label(v.address, v.port, v.protocol);
    return v.name.empty() || v.name == label ? label : label + " (" + v.name + ")";
}

json state_to_json(const operator_state& s, int64_t written_ms) {
    json vips = json::array();
    for (const auto& v : s.vips) vips.push_back(vip_json(v));
    return {{"version", state_format_version}, {"written", iso_utc(written_ms)}, {"vips", vips}};
}

std::string state_to_text(const operator_state& s, int64_t written_ms) {
    return state_to_json(s, written_ms).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

result<operator_state> state_from_json(const json& j) {
    reader r(j, "");
    if (!j.is_object()) return fail(std::string("expected a JSON object, got ") + j.type_name());
    if (auto bad = r.object({"version", "written", "vips"})) return fail(*bad);
    if (!r.has("version")) return fail("version: missing (this sluiced writes version 1)");
    if (!r.get("version").is_number_integer() ||
        r.get("version").get<int64_t>() != state_format_version)
        return fail("version: " + r.get("version").dump() +
                    " is not a version this sluiced reads (" +
                    std::to_string(state_format_version) + ")");
    if (r.has("written") && !r.get("written").is_string())
        return fail("written: expected a string, got " + r.get("written").dump());
    operator_state out;
    if (!r.has("vips")) return out;
    if (!r.get("vips").is_array()) return fail("vips: expected an array");
    std::set<std::tuple<std::array<uint8_t, 16>, uint8_t, uint16_t, uint8_t>> seen;
    for (size_t i = 0; i < r.get("vips").size(); ++i) {
        const std::string at = "vips[" + std::to_string(i) + "]";
        auto v = parse_vip(r.get("vips")[i], at);
        if (!v) return v.error();
        if (!seen.emplace(v->address.bytes, uint8_t(v->address.family), v->port,
                          uint8_t(v->protocol))
                 .second)
            return fail(at + ": " + describe_vip(*v) + " is listed twice");
        out.vips.push_back(std::move(*v));
    }
    return out;
}

result<operator_state> state_from_text(std::string_view text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        // "[json.exception.parse_error.101] parse error at line 3, column 5: …" without the tag.
        std::string what = e.what();
        if (auto close = what.find("] "); what.rfind("[json.", 0) == 0 && close != what.npos)
            what = what.substr(close + 2);
        return fail("not valid JSON: " + what);
    }
    return state_from_json(j);
}

}  // namespace sluice::control

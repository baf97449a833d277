#include "control/control_api.hpp"

#include <time.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "config/describe.hpp"
#include "control/api_ports.hpp"
#include "control/api_requests.hpp"

namespace sluice::control {

namespace {

using model::backend_admin;
using nlohmann::json;
using namespace api_requests;

constexpr double max_drain_timeout_s = 86400;
constexpr uint32_t default_flow_limit = 100;
constexpr uint32_t max_flow_limit = 100000;
constexpr uint64_t max_rate = 1'000'000'000;

// Messages quote what the client sent and file names (bytes, not necessarily UTF-8): what is
// not UTF-8 is replaced instead of throwing.
std::string response_line(const json& response) {
    return response.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::string ok_line(const json& result) {
    return response_line({{"ok", true}, {"result", result}});
}
std::string error_line(const error& e) {
    json response = {{"ok", false}, {"error", e.message}};
    if (!e.details.empty()) response["details"] = e.details;
    return response_line(response);
}
std::string answer_line(const result<json>& r) {
    return r ? ok_line(*r) : error_line(r.error());
}

// The VIP and backend a request names, by position in the configuration.
struct backend_ref {
    size_t vip;
    size_t backend;
};

struct flow_names {
    std::string vip, backend;
};

json flows_json(const std::vector<dataplane_view::listed_flow>& flows, bool truncated,
                uint32_t limit, const std::map<uint32_t, flow_names>& names) {
    json list = json::array();
    for (const auto& lf : flows) {
        const flow::flow_entry& f = lf.flow;
        auto addr_of = [](uint8_t family, const uint8_t* bytes) {
            return family == 4 ? ip_address::v4_from_network(bytes)
                               : ip_address::v6_from_network(bytes);
        };
        const flow::flow_key& c = lf.client;
        const flow::flow_key& r = lf.reply;
        auto it = names.find(f.backend_id);
        const bool tcp = c.protocol == 6;
        list.push_back({{"worker", lf.worker},
                        {"protocol", tcp ? "tcp" : "udp"},
                        {"client", backend_label(addr_of(c.family, c.src), c.src_port)},
                        {"vip", it != names.end() ? it->second.vip : "-"},
                        {"vip_address", backend_label(addr_of(c.family, c.dst), c.dst_port)},
                        {"backend", backend_label(addr_of(r.family, r.src), r.src_port)},
                        {"local", backend_label(addr_of(r.family, r.dst), r.dst_port)},
                        {"state", tcp ? flow::tcp_state_name(f.state) : "udp"},
                        {"expires_in", lf.expires_in_s}});
    }
    return {{"flows", list}, {"truncated", truncated}, {"limit", limit}};
}

class api {
public:
    api(control_plane& plane, dataplane_view& dp, std::string& config_path, state_keeper& state,
        const metrics::process_info& process)
        : plane_(plane), dp_(dp), path_(config_path), state_(state), process_(process) {}

    result<json> dispatch(const json& req) {
        if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
            return fail("request must be a JSON object with a string 'cmd'");
        const std::string cmd = req["cmd"];
        if (cmd == "show_vips") return show_vips();
        if (cmd == "show_backends") return show_backends(req);
        if (cmd == "show_stats") return show_stats();
        if (cmd == "show_ports") return ports_json(dp_);
        if (cmd == "show_info")
            return info_json(dp_, plane_, process_, path_, uint64_t(time(nullptr)));
        if (cmd == "set_weight") return set_weight(req);
        if (cmd == "show_protection") return show_protection(req);
        if (cmd == "set_limit") return set_limit(req);
        if (cmd == "drain") return change_admin(req, backend_admin::draining);
        if (cmd == "enable") return change_admin(req, backend_admin::up);
        if (cmd == "disable") return change_admin(req, backend_admin::disabled);
        if (cmd == "remove_backend") return change_admin(req, backend_admin::removing);
        if (cmd == "add_backend") return add_backend(req);
        if (cmd == "reload") return reload(req);
        if (cmd == "show_state") return show_state(req);
        return fail("unknown command '" + cmd + "'");
    }

    static bool is_show_flows(const json& req) {
        return req.is_object() && req.contains("cmd") && req["cmd"] == "show_flows";
    }

    // show_flows: the arguments are checked now (a refusal answers at once); the flows come
    // from the workers over their command rings and `done` gets the answer from a later pass.
    void show_flows(const json& req, const control_api::reply& done) {
        uint32_t limit = default_flow_limit;
        if (has(req, "limit")) {
            auto asked = integer_arg(req, "limit", max_flow_limit);
            if (!asked) return done(error_line(asked.error()));
            if (*asked == 0)
                return done(
                    error_line(fail("'limit' must be 1.." + std::to_string(max_flow_limit))));
            limit = *asked;
        }
        auto ids = flow_ids(req);
        if (!ids) return done(error_line(ids.error()));
        // Backend ids of the current snapshot name each flow's VIP and backend.
        auto names = std::make_shared<std::map<uint32_t, flow_names>>();
        for (const auto& v : dp_.current_snapshot().vips)
            for (const auto& b : v.backends)
                (*names)[b.id] = {v.name, backend_label(b.address, b.port)};
        // A VIP without backends has no flows; an empty id list would mean "all".
        if (has(req, "vip") && ids->empty())
            return done(ok_line(flows_json({}, false, limit, *names)));
        dp_.list_flows(
            *ids, limit, [names, limit, done](const result<dataplane_view::flow_list>& listed) {
                if (!listed) return done(error_line(listed.error()));
                done(ok_line(flows_json(listed->flows, listed->truncated, limit, *names)));
            });
    }

private:
    const config::config& cfg() const { return plane_.configuration(); }

    // The backend ids show_flows lists: a backend's, a VIP's, or all (empty).
    result<std::vector<uint32_t>> flow_ids(const json& req) const {
        std::vector<uint32_t> ids;
        if (has(req, "backend") && !has(req, "vip")) return fail("'backend' needs 'vip'");
        if (!has(req, "vip")) return ids;
        auto vi = find_vip(cfg(), req);
        if (!vi) return vi.error();
        const model::vip_entry& entry = dp_.current_snapshot().vips[*vi];
        if (has(req, "backend")) {
            auto bi = find_backend(cfg().vips[*vi], req);
            if (!bi) return bi.error();
            ids.push_back(entry.backends[*bi].id);
        } else {
            for (const auto& b : entry.backends) ids.push_back(b.id);
        }
        return ids;
    }

    result<backend_ref> find(const json& req) const {
        auto vi = find_vip(cfg(), req);
        if (!vi) return vi.error();
        auto bi = find_backend(cfg().vips[*vi], req);
        if (!bi) return bi.error();
        return backend_ref{*vi, *bi};
    }

    json backend_json(size_t vi, size_t bi) const {
        const auto& v = cfg().vips[vi];
        const auto& b = v.backends[bi];
        const model::snapshot& s = dp_.current_snapshot();
        const model::backend_entry& e = s.vips[vi].backends[bi];
        const dataplane_view::connections c = dp_.connections_of(e.id);
        const backend_values t = dp_.traffic(e.id);
        backend_admin a = plane_.admin_of(identity(v, b));
        std::optional<uint64_t> deadline = plane_.drain_deadline_in(identity(v, b), monotonic_ns());
        std::string state = model::backend_admin_name(a);
        if (a == backend_admin::draining && c.active + c.inactive == 0) state = "drained";
        json out = {{"vip", v.name},
                    {"backend", backend_label(b.address, b.port)},
                    {"state", state},
                    {"weight", s.vips[vi].weights[bi]},
                    {"configured_weight", b.weight},
                    {"max_connections", b.max_connections},
                    {"active", c.active},
                    {"inactive", c.inactive},
                    {"new_connections_per_second", dp_.connection_rate(e.id)},
                    {"drain_deadline_in", deadline ? json(double(*deadline) / 1e9) : json(nullptr)},
                    {"health", health_json(e)}};
        for (size_t k = 0; k < backend_counter_count; ++k)
            out[std::string(backend_counter_defs[k].key)] = t.v[k];
        return out;
    }

    // {"state": up|down|unchecked, "last_result", "last_detail", "last_check_ago",
    //  "consecutive_successes", "consecutive_failures", "checks": {result: n}, "state_changes"}
    json health_json(const model::backend_entry& e) const {
        auto h = plane_.health_status(e.id);
        if (!h || !h->probed) return {{"state", e.health_up ? "unchecked" : "down"}};
        json checks = json::object();
        for (size_t k = 0; k < health::result_kind_count; ++k)
            checks[health::result_kind_name(health::result_kind(k))] = h->checks[k];
        json out = {{"state", h->up ? "up" : "down"},
                    {"consecutive_successes", h->consecutive_successes},
                    {"consecutive_failures", h->consecutive_failures},
                    {"checks", checks},
                    {"state_changes", h->state_changes}};
        if (h->last_result) {
            out["last_result"] = health::result_kind_name(*h->last_result);
            out["last_detail"] = h->last_detail;
            out["last_check_ago"] = double(monotonic_ns() - h->last_check_ns) / 1e9;
        }
        return out;
    }

    result<json> show_vips() const {
        json out = json::array();
        const model::snapshot& s = dp_.current_snapshot();
        for (size_t vi = 0; vi < cfg().vips.size(); ++vi) {
            const auto& v = cfg().vips[vi];
            uint64_t active = 0, inactive = 0;
            for (const auto& e : s.vips[vi].backends) {
                const dataplane_view::connections c = dp_.connections_of(e.id);
                active += c.active;
                inactive += c.inactive;
            }
            out.push_back({{"name", v.name},
                           {"address", v.address.to_string()},
                           {"port", v.port},
                           {"protocol", config::detail::protocol_name(v.protocol)},
                           {"scheduler", config::detail::scheduler_name(v.scheduler)},
                           {"backends", v.backends.size()},
                           {"active", active},
                           {"inactive", inactive}});
        }
        return out;
    }

    // A VIP's limits, rules and what they refused (docs/operations.md, "Attack protection").
    json protection_json(size_t vi) const {
        const auto& v = cfg().vips[vi];
        const model::vip_entry& e = dp_.current_snapshot().vips[vi];
        auto rate = [](const config::rate_limit_config& r) {
            return json{{"per_second", r.per_second}, {"burst", r.burst}};
        };
        const auto action = [](config::protect_action a) {
            return config::detail::protect_action_names[size_t(a)];
        };
        uint64_t half_open = 0;
        for (const auto& b : e.backends) half_open += dp_.connections_of(b.id).half_open;
        json out = {{"vip", v.name},
                    {"new_connections", rate(v.limits.new_connections)},
                    {"packets", rate(v.limits.packets)},
                    {"source_new_connections", rate(v.limits.source_new_connections)},
                    {"source_table_size", v.limits.source_table_size},
                    {"action", action(v.limits.action)},
                    {"half_open", half_open},
                    {"max_half_open", v.syn_proxy.max_half_open},
                    {"max_half_open_per_backend", v.syn_proxy.max_half_open_per_backend},
                    {"syn_proxy", config::detail::syn_proxy_mode_names[size_t(v.syn_proxy.mode)]},
                    {"workers", dp_.worker_count()}};
        json refused = json::object();
        json rules = json::array();
        if (e.protect.guard) {
            metrics::protect_metrics m = dp_.protection_of(e);
            for (const auto& [reason, n] : m.refused) refused[reason] = n;
            for (size_t i = 0; i < m.rules.size(); ++i)
                rules.push_back({{"name", m.rules[i].name},
                                 {"pattern", v.rules[i].pattern},
                                 {"action", m.rules[i].action},
                                 {"matches", m.rules[i].matches}});
            if (m.source_table) {
                out["source_entries"] = m.source_entries;
                out["source_evictions"] = m.source_evictions;
            }
            out["syn_proxy_engaged_workers"] = m.proxy_engaged;
        }
        out["refused"] = refused;
        out["rules"] = rules;
        return out;
    }

    result<json> show_protection(const json& req) const {
        json out = json::array();
        if (has(req, "vip")) {
            auto vi = find_vip(cfg(), req);
            if (!vi) return vi.error();
            out.push_back(protection_json(*vi));
            return out;
        }
        for (size_t vi = 0; vi < cfg().vips.size(); ++vi) out.push_back(protection_json(vi));
        return out;
    }

    // The [vip.limits] rate a set_limit request names in `v`, or null.
    static config::rate_limit_config* limit_named(config::vip_config& v, const std::string& which) {
        if (which == "new_connections") return &v.limits.new_connections;
        if (which == "packets") return &v.limits.packets;
        if (which == "source_new_connections") return &v.limits.source_new_connections;
        return nullptr;
    }

    // Changes one [vip.limits] rate until the next reload (the file stays the source of truth).
    result<json> set_limit(const json& req) {
        auto vi = find_vip(cfg(), req);
        if (!vi) return vi.error();
        if (!req.contains("limit") || !req["limit"].is_string())
            return fail("missing 'limit' (new_connections, packets or source_new_connections)");
        const std::string which = req["limit"];
        auto per_second = integer_arg(req, "per_second", max_rate);
        if (!per_second) return per_second.error();
        uint32_t burst = 0;
        if (has(req, "burst")) {
            auto asked = integer_arg(req, "burst", max_rate);
            if (!asked) return asked.error();
            burst = *asked;
        }
        if (*per_second == 0 && burst != 0)
            return fail("'burst' needs a rate above 0 (0 means unlimited)");
        config::config next = cfg();
        config::vip_config& v = next.vips[*vi];
        config::rate_limit_config* target = limit_named(v, which);
        if (!target)
            return fail("unknown limit '" + which +
                        "' (one of new_connections, packets, source_new_connections)");
        const config::rate_limit_config old = *target;
        target->per_second = *per_second;
        target->burst = *per_second == 0 ? 0 : burst == 0 ? *per_second : burst;
        if (auto applied = plane_.reload(next, monotonic_ns()); !applied) return applied.error();
        SLUICE_LOG_INFO("control: vip %s: %s limit %u/s burst %u -> %u/s burst %u", v.name.c_str(),
                        which.c_str(), old.per_second, old.burst, target->per_second,
                        target->burst);
        return protection_json(*vi);
    }

    result<json> show_backends(const json& req) const {
        json out = json::array();
        if (has(req, "vip")) {
            auto vi = find_vip(cfg(), req);
            if (!vi) return vi.error();
            for (size_t bi = 0; bi < cfg().vips[*vi].backends.size(); ++bi)
                out.push_back(backend_json(*vi, bi));
            return out;
        }
        for (size_t vi = 0; vi < cfg().vips.size(); ++vi)
            for (size_t bi = 0; bi < cfg().vips[vi].backends.size(); ++bi)
                out.push_back(backend_json(vi, bi));
        return out;
    }

    result<json> show_stats() const {
        json totals = json::object();
        for (const auto& [k, v] : dp_.totals()) totals[k] = v;
        json workers = json::array();
        for (const metrics::worker_metrics& w : dp_.workers()) {
            json o = {{"worker", w.worker}};
            for (size_t k = 0; k < worker_counter_count; ++k)
                o[std::string(worker_counter_defs[k].key)] = w.counters.v[k];
            for (const auto& [reason, n] : w.drops) o["drop_" + reason] = n;
            workers.push_back(o);
        }
        json tuples = json::array();
        for (const auto& t : dp_.local_tuples())
            tuples.push_back(
                {{"port", t.port}, {"address", t.address}, {"in_use", t.in_use}, {"free", t.free}});
        return json{{"totals", totals}, {"workers", workers}, {"local_tuples", tuples}};
    }

    result<json> set_weight(const json& req) {
        auto ref = find(req);
        if (!ref) return ref.error();
        auto w = integer_arg(req, "weight", 65535);
        if (!w) return w.error();
        config::config next = cfg();
        config::backend_config& b = next.vips[ref->vip].backends[ref->backend];
        const uint32_t old = b.weight;
        b.weight = *w;
        if (auto applied = plane_.reload(next, monotonic_ns()); !applied) return applied.error();
        const std::string label = backend_label(b.address, b.port);
        log::write_fields(log::level::info, {{"VIP", next.vips[ref->vip].name}, {"BACKEND", label}},
                          "control: vip %s backend %s: weight %u -> %u",
                          next.vips[ref->vip].name.c_str(), label.c_str(), old, *w);
        return backend_json(ref->vip, ref->backend);
    }

    // drain's optional 'timeout' in seconds.
    static result<std::optional<double>> drain_timeout(const json& req, backend_admin a) {
        if (!has(req, "timeout")) return std::optional<double>{};
        if (a != backend_admin::draining) return fail("'timeout' only applies to drain");
        if (!req["timeout"].is_number() || req["timeout"].get<double>() < 0 ||
            req["timeout"].get<double>() > max_drain_timeout_s)
            return fail("'timeout' must be a number of seconds, 0.." +
                        std::to_string(int(max_drain_timeout_s)));
        return std::optional<double>{req["timeout"].get<double>()};
    }

    // disable's optional 'reset'.
    static result<bool> reset_flag(const json& req, backend_admin a) {
        if (!has(req, "reset")) return false;
        if (!req["reset"].is_boolean()) return fail("'reset' must be true or false");
        const bool reset = req["reset"].get<bool>();
        if (reset && a != backend_admin::disabled) return fail("'reset' only applies to disable");
        return reset;
    }

    result<json> change_admin(const json& req, backend_admin a) {
        auto ref = find(req);
        if (!ref) return ref.error();
        auto timeout = drain_timeout(req, a);
        if (!timeout) return timeout.error();
        auto reset = reset_flag(req, a);
        if (!reset) return reset.error();
        const auto& v = cfg().vips[ref->vip];
        const auto who = identity(v, v.backends[ref->backend]);
        const std::string vip_name = v.name;
        const uint64_t now = monotonic_ns();
        backend_admin before = plane_.admin_of(who);
        plane_.set_admin(who, a);
        if (auto applied = plane_.reload(cfg(), now); !applied) {
            plane_.set_admin(who, before);
            return applied.error();
        }
        const std::string label = backend_label(who.backend, who.backend_port);
        const std::initializer_list<log::field> fields{{"VIP", vip_name}, {"BACKEND", label}};
        log::write_fields(log::level::info, fields, "control: vip %s backend %s: %s -> %s",
                          vip_name.c_str(), label.c_str(), model::backend_admin_name(before),
                          model::backend_admin_name(a));
        if (*timeout) {
            plane_.set_drain_deadline(who, now, uint64_t(**timeout * 1e9));
            log::write_fields(log::level::info, fields,
                              "control: flows still open in %.3g s will be reset", **timeout);
        }
        if (*reset) {
            dp_.reset_flows(plane_.backend_ids_of(who), model::reset_cause::disabled);
            log::write_fields(log::level::info, fields, "control: resetting the flows of %s",
                              label.c_str());
        }
        return backend_json(ref->vip, ref->backend);
    }

    result<json> add_backend(const json& req) {
        auto vi = find_vip(cfg(), req);
        if (!vi) return vi.error();
        const config::vip_config& v = cfg().vips[*vi];
        auto named = parse_backend(req, v.port);
        if (!named) return named.error();
        for (const auto& b : v.backends)
            if (b.address == named->address && b.port == named->port)
                return fail("VIP " + v.name + " already has backend " +
                            backend_label(named->address, named->port));
        config::backend_config b;
        b.address = named->address;
        b.port = named->port;
        b.weight = 1;
        if (has(req, "weight")) {
            auto w = integer_arg(req, "weight", 65535);
            if (!w) return w.error();
            b.weight = *w;
        }
        config::config next = cfg();
        next.vips[*vi].backends.push_back(b);
        if (auto applied = plane_.reload(next, monotonic_ns()); !applied) return applied.error();
        const std::string label = backend_label(b.address, b.port);
        log::write_fields(log::level::info, {{"VIP", next.vips[*vi].name}, {"BACKEND", label}},
                          "control: vip %s: backend %s added (weight %u)",
                          next.vips[*vi].name.c_str(), label.c_str(), b.weight);
        return backend_json(*vi, cfg().vips[*vi].backends.size() - 1);
    }

    // The configuration in `file`, or its errors ("FILE:LINE:COL: problem" each) as details.
    static result<config::config> load(const std::string& file) {
        try {
            return config::load_file(file);
        } catch (const config::config_error& e) {
            error refused{std::to_string(e.errors().size()) + " error(s) in " + file +
                              "; the running configuration stays",
                          {}};
            for (const auto& err : e.errors()) refused.details.push_back(err.to_string());
            return refused;
        }
    }

    result<json> reload(const json& req) {
        std::string file = path_;
        if (req.contains("file") && req["file"].is_string()) file = req["file"];
        auto next = load(file);
        if (!next) {
            plane_.count_reload(false);
            for (const auto& d : next.error().details) SLUICE_LOG_ERROR("%s", d.c_str());
            SLUICE_LOG_ERROR("reload refused: %s", next.message().c_str());
            return next.error();
        }
        const result<> applied = state_.reload(plane_, *next, monotonic_ns(), wall_clock_ms());
        plane_.count_reload(applied.ok());
        if (!applied) {
            SLUICE_LOG_ERROR("reload refused: %s; the running configuration stays",
                             applied.message().c_str());
            return fail(applied.message() + "; the running configuration stays");
        }
        path_ = file;
        SLUICE_LOG_INFO("reload: applied %s (generation %llu)", file.c_str(),
                        (unsigned long long)plane_.generation());
        return json{{"generation", plane_.generation()}, {"file", file}};
    }

    // The operator's state as the daemon holds it (docs/operations.md, "State that survives").
    result<json> show_state(const json& req) const {
        for (const auto& [key, _] : req.items())
            if (key != "cmd") return fail("show_state takes no arguments, got '" + key + "'");
        return state_.show();
    }

    control_plane& plane_;
    dataplane_view& dp_;
    std::string& path_;
    state_keeper& state_;
    const metrics::process_info& process_;
};

}  // namespace

control_api::control_api(control_plane& plane, dataplane_view& dataplane, std::string config_path,
                         state_keeper* state)
    : plane_(plane),
      dataplane_(dataplane),
      config_path_(std::move(config_path)),
      state_(state ? state : &no_state_) {}

void control_api::handle_async(std::string_view line, const reply& done) {
    api a(plane_, dataplane_, config_path_, *state_, process_);
    try {
        json req = json::parse(line);
        if (api::is_show_flows(req)) return a.show_flows(req, done);
        const result<json> answer = a.dispatch(req);
        if (answer && state_keeper::is_change(req["cmd"].get<std::string>()))
            state_->changed(plane_, monotonic_ns(), wall_clock_ms());
        done(answer_line(answer));
    } catch (const json::exception& e) {
        done(error_line(fail(std::string("bad request: ") + e.what())));
    } catch (const std::exception& e) {  // a bug must not take the daemon down with it
        SLUICE_LOG_ERROR("control: request failed: %s", e.what());
        done(error_line(fail(std::string("internal error: ") + e.what())));
    }
}

std::string control_api::handle(std::string_view line) {
    std::optional<std::string> answer;
    handle_async(line, [&answer](std::string l) { answer = std::move(l); });
    // Only a flow listing answers later: wait for the workers here (callers outside the
    // control loop: SIGHUP's reload, tests). Bounded by the listing's own time limit.
    while (!answer) {
        dataplane_.collect_commands();
        if (answer) break;
        timespec pause{0, 100'000};
        nanosleep(&pause, nullptr);
    }
    return *answer;
}

}  // namespace sluice::control

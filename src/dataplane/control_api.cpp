#include "dataplane/control_api.hpp"

#include <rte_cycles.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "config/describe.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::dataplane {

namespace {

using model::backend_admin;
using nlohmann::json;

constexpr double max_drain_timeout_s = 86400;
constexpr uint32_t default_flow_limit = 100;
constexpr uint32_t max_flow_limit = 100000;

struct refusal {
    std::string message;
    std::vector<std::string> details;
};

std::string vip_label(const config::vip_config& v) {
    return config::detail::vip_label(v.address, v.port, v.protocol);
}

std::string backend_label(const ip_address& a, uint16_t port) {
    return config::detail::endpoint(a, port);
}

size_t find_vip(const config::config& cfg, const json& req) {
    if (!req.contains("vip") || !req["vip"].is_string()) throw refusal{"missing 'vip'", {}};
    const std::string name = req["vip"];
    for (size_t i = 0; i < cfg.vips.size(); ++i)
        if (cfg.vips[i].name == name || vip_label(cfg.vips[i]) == name) return i;
    throw refusal{"unknown VIP '" + name + "'", {}};
}

// "ADDR:PORT", "[V6]:PORT" or "ADDR" (the VIP's port).
std::pair<ip_address, uint16_t> parse_backend(const json& req, uint16_t default_port) {
    if (!req.contains("backend") || !req["backend"].is_string())
        throw refusal{"missing 'backend'", {}};
    const std::string text = req["backend"];
    std::string host = text;
    uint16_t port = default_port;
    auto colon = text.rfind(':');
    bool bracketed = !text.empty() && text[0] == '[';
    if (colon != std::string::npos && (bracketed || text.find(':') == colon)) {
        host = text.substr(0, colon);
        std::string p = text.substr(colon + 1);
        if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(p) == 0 || std::stoul(p) > 65535)
            throw refusal{"bad port in backend '" + text + "'", {}};
        port = uint16_t(std::stoul(p));
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    auto addr = ip_address::parse(host);
    if (!addr) throw refusal{"'" + text + "' is not an address", {}};
    return {*addr, port};
}

size_t find_backend(const config::vip_config& v, const json& req) {
    auto [addr, port] = parse_backend(req, v.port);
    for (size_t i = 0; i < v.backends.size(); ++i)
        if (v.backends[i].address == addr && v.backends[i].port == port) return i;
    throw refusal{"VIP " + v.name + " has no backend " + backend_label(addr, port), {}};
}

control::backend_identity identity(const config::vip_config& v, const config::backend_config& b) {
    return {v.address, v.port, uint8_t(v.protocol), b.address, b.port};
}

uint32_t integer_arg(const json& req, const char* key, uint64_t max) {
    if (!req.contains(key) || !req[key].is_number_integer())
        throw refusal{std::string("missing or non-integer '") + key + "'", {}};
    int64_t v = req[key];
    if (v < 0 || uint64_t(v) > max)
        throw refusal{std::string("'") + key + "' must be 0.." + std::to_string(max), {}};
    return uint32_t(v);
}

// Messages quote what the client sent and file names (bytes, not necessarily UTF-8): what is
// not UTF-8 is replaced instead of throwing.
std::string response_line(const json& response) {
    return response.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::string ok_line(const json& result) {
    return response_line({{"ok", true}, {"result", result}});
}
std::string error_line(const std::string& message, const std::vector<std::string>& details) {
    json response = {{"ok", false}, {"error", message}};
    if (!details.empty()) response["details"] = details;
    return response_line(response);
}

class api {
public:
    api(runtime& rt, std::string& config_path) : rt_(rt), path_(config_path) {}

    json dispatch(const json& req) {
        if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
            throw refusal{"request must be a JSON object with a string 'cmd'", {}};
        const std::string cmd = req["cmd"];
        if (cmd == "show_vips") return show_vips();
        if (cmd == "show_backends") return show_backends(req);
        if (cmd == "show_stats") return show_stats();
        if (cmd == "set_weight") return set_weight(req);
        if (cmd == "show_protection") return show_protection(req);
        if (cmd == "set_limit") return set_limit(req);
        if (cmd == "drain") return change_admin(req, backend_admin::draining);
        if (cmd == "enable") return change_admin(req, backend_admin::up);
        if (cmd == "disable") return change_admin(req, backend_admin::disabled);
        if (cmd == "remove_backend") return change_admin(req, backend_admin::removing);
        if (cmd == "add_backend") return add_backend(req);
        if (cmd == "reload") return reload(req);
        throw refusal{"unknown command '" + cmd + "'", {}};
    }

private:
    const config::config& cfg() const { return ctl().configuration(); }
    control::control_plane& ctl() const { return rt_.control(); }

    json backend_json(size_t vi, size_t bi) const {
        const auto& v = cfg().vips[vi];
        const auto& b = v.backends[bi];
        const model::snapshot& s = rt_.current_snapshot();
        const model::backend_entry& e = s.vips[vi].backends[bi];
        conn_totals c = rt_.connections(e.id);
        const backend_values t = rt_.traffic(e.id);
        backend_admin a = ctl().admin_of(identity(v, b));
        std::optional<uint64_t> deadline = ctl().drain_deadline_in(identity(v, b), monotonic_ns());
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
                    {"new_connections_per_second", rt_.connection_rate(e.id)},
                    {"drain_deadline_in", deadline ? json(double(*deadline) / 1e9) : json(nullptr)},
                    {"health", health_json(e)}};
        for (size_t k = 0; k < backend_counter_count; ++k)
            out[std::string(backend_counter_defs[k].key)] = t.v[k];
        return out;
    }

    // {"state": up|down|unchecked, "last_result", "last_detail", "last_check_ago",
    //  "consecutive_successes", "consecutive_failures", "checks": {result: n}, "state_changes"}
    json health_json(const model::backend_entry& e) const {
        auto h = ctl().health_status(e.id);
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

    json show_vips() const {
        json out = json::array();
        const model::snapshot& s = rt_.current_snapshot();
        for (size_t vi = 0; vi < cfg().vips.size(); ++vi) {
            const auto& v = cfg().vips[vi];
            uint64_t active = 0, inactive = 0;
            for (const auto& e : s.vips[vi].backends) {
                conn_totals c = rt_.connections(e.id);
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
        const model::vip_entry& e = rt_.current_snapshot().vips[vi];
        auto rate = [](const config::rate_limit_config& r) {
            return json{{"per_second", r.per_second}, {"burst", r.burst}};
        };
        const auto action = [](config::protect_action a) {
            return config::detail::protect_action_names[size_t(a)];
        };
        uint64_t half_open = 0;
        for (const auto& b : e.backends) half_open += rt_.connections(b.id).half_open;
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
                    {"workers", rt_.worker_count()}};
        json refused = json::object();
        json rules = json::array();
        if (e.protect.guard) {
            metrics::protect_metrics m = rt_.protection_of(e);
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

    json show_protection(const json& req) const {
        json out = json::array();
        if (req.contains("vip") && !req["vip"].is_null()) {
            out.push_back(protection_json(find_vip(cfg(), req)));
            return out;
        }
        for (size_t vi = 0; vi < cfg().vips.size(); ++vi) out.push_back(protection_json(vi));
        return out;
    }

    // Changes one [vip.limits] rate until the next reload (the file stays the source of truth).
    json set_limit(const json& req) {
        size_t vi = find_vip(cfg(), req);
        if (!req.contains("limit") || !req["limit"].is_string())
            throw refusal{"missing 'limit' (new_connections, packets or source_new_connections)",
                          {}};
        const std::string which = req["limit"];
        constexpr uint64_t max_rate = 1'000'000'000;
        uint32_t per_second = integer_arg(req, "per_second", max_rate);
        uint32_t burst = req.contains("burst") && !req["burst"].is_null()
                             ? integer_arg(req, "burst", max_rate)
                             : 0;
        if (per_second == 0 && burst != 0)
            throw refusal{"'burst' needs a rate above 0 (0 means unlimited)", {}};
        config::config next = cfg();
        config::vip_config& v = next.vips[vi];
        config::rate_limit_config* target = which == "new_connections" ? &v.limits.new_connections
                                            : which == "packets"       ? &v.limits.packets
                                            : which == "source_new_connections"
                                                ? &v.limits.source_new_connections
                                                : nullptr;
        if (!target)
            throw refusal{"unknown limit '" + which +
                              "' (one of new_connections, packets, source_new_connections)",
                          {}};
        const config::rate_limit_config old = *target;
        target->per_second = per_second;
        target->burst = per_second == 0 ? 0 : burst == 0 ? per_second : burst;
        apply(next);
        SLUICE_LOG_INFO("control: vip %s: %s limit %u/s burst %u -> %u/s burst %u", v.name.c_str(),
                        which.c_str(), old.per_second, old.burst, target->per_second,
                        target->burst);
        return protection_json(vi);
    }

    json show_backends(const json& req) const {
        json out = json::array();
        if (req.contains("vip") && !req["vip"].is_null()) {
            size_t vi = find_vip(cfg(), req);
            for (size_t bi = 0; bi < cfg().vips[vi].backends.size(); ++bi)
                out.push_back(backend_json(vi, bi));
            return out;
        }
        for (size_t vi = 0; vi < cfg().vips.size(); ++vi)
            for (size_t bi = 0; bi < cfg().vips[vi].backends.size(); ++bi)
                out.push_back(backend_json(vi, bi));
        return out;
    }

    json show_stats() const {
        json totals = json::object();
        for (const auto& [k, v] : rt_.stats()) totals[k] = v;
        json workers = json::array();
        for (unsigned w = 0; w < rt_.worker_count(); ++w) {
            const worker_counters& c = rt_.worker_stats(w);
            json o = {{"worker", w}};
            const worker_values values = c.values();
            for (size_t k = 0; k < worker_counter_count; ++k)
                o[std::string(worker_counter_defs[k].key)] = values.v[k];
            for (unsigned r = 0; r < drop_reason_count; ++r)
                o["drop_" + std::string(drop_reason_name(drop_reason(r)))] = read(c.drops[r]);
            workers.push_back(o);
        }
        json tuples = json::array();
        for (const auto& t : rt_.local_tuples())
            tuples.push_back(
                {{"port", t.port}, {"address", t.address}, {"in_use", t.in_use}, {"free", t.free}});
        return {{"totals", totals}, {"workers", workers}, {"local_tuples", tuples}};
    }

public:
    static bool is_show_flows(const json& req) {
        return req.is_object() && req.contains("cmd") && req["cmd"] == "show_flows";
    }

    // show_flows: the arguments are checked now (a refusal throws); the flows come from the
    // workers over their command rings and `done` gets the answer from a later control pass.
    void show_flows(const json& req, const control_api::reply& done) {
        uint32_t limit = default_flow_limit;
        if (req.contains("limit") && !req["limit"].is_null()) {
            limit = integer_arg(req, "limit", max_flow_limit);
            if (limit == 0)
                throw refusal{"'limit' must be 1.." + std::to_string(max_flow_limit), {}};
        }
        // Backend ids of the current snapshot name each flow's VIP and backend.
        auto names = std::make_shared<std::map<uint32_t, flow_names>>();
        const model::snapshot& s = rt_.current_snapshot();
        for (const auto& v : s.vips)
            for (const auto& b : v.backends)
                (*names)[b.id] = {v.name, backend_label(b.address, b.port)};
        std::vector<uint32_t> ids;
        const bool by_vip = req.contains("vip") && !req["vip"].is_null();
        const bool by_backend = req.contains("backend") && !req["backend"].is_null();
        if (by_backend && !by_vip) throw refusal{"'backend' needs 'vip'", {}};
        if (by_vip) {
            size_t vi = find_vip(cfg(), req);
            if (by_backend) {
                ids.push_back(s.vips[vi].backends[find_backend(cfg().vips[vi], req)].id);
            } else {
                for (const auto& b : s.vips[vi].backends) ids.push_back(b.id);
            }
        }
        // A VIP without backends has no flows; an empty id list would mean "all".
        if (by_vip && ids.empty()) {
            done(ok_line(flows_json(rt_, {}, false, limit, *names)));
            return;
        }
        runtime& rt = rt_;
        rt_.list_flows(ids, limit,
                       [&rt, names, limit, done](const std::string& error,
                                                 const std::vector<runtime::listed_flow>& flows,
                                                 bool truncated) {
                           if (!error.empty()) return done(error_line(error, {}));
                           done(ok_line(flows_json(rt, flows, truncated, limit, *names)));
                       });
    }

private:
    struct flow_names {
        std::string vip, backend;
    };
    static json flows_json(runtime& rt, const std::vector<runtime::listed_flow>& flows,
                           bool truncated, uint32_t limit,
                           const std::map<uint32_t, flow_names>& names) {
        json list = json::array();
        for (const auto& lf : flows) {
            const flow::flow_entry& f = lf.flow;
            const bool v4 = f.client.family == 4;
            auto addr = [v4](const uint8_t* bytes) {
                return v4 ? ip_address::v4_from_network(bytes) : ip_address::v6_from_network(bytes);
            };
            auto it = names.find(f.backend_id);
            const bool tcp = f.client.protocol == 6;
            list.push_back(
                {{"worker", lf.worker},
                 {"protocol", tcp ? "tcp" : "udp"},
                 {"client", backend_label(addr(f.client.src), f.client.src_port)},
                 {"vip", it != names.end() ? it->second.vip : "-"},
                 {"vip_address", backend_label(addr(f.client.dst), f.client.dst_port)},
                 {"backend", backend_label(addr(f.backend_addr), f.backend_port)},
                 {"local", backend_label(addr(rt.worker_at(lf.worker).flows().local_address(f)),
                                         f.local_port)},
                 {"state", tcp ? flow::tcp_state_name(f.state) : "udp"},
                 {"expires_in", lf.expires_in_s}});
        }
        return {{"flows", list}, {"truncated", truncated}, {"limit", limit}};
    }

    void apply(const config::config& next) {
        if (auto applied = ctl().reload(next, monotonic_ns()); !applied)
            throw refusal{applied.message(), {}};
    }

    json set_weight(const json& req) {
        size_t vi = find_vip(cfg(), req);
        size_t bi = find_backend(cfg().vips[vi], req);
        uint32_t w = integer_arg(req, "weight", 65535);
        config::config next = cfg();
        uint32_t old = next.vips[vi].backends[bi].weight;
        next.vips[vi].backends[bi].weight = w;
        apply(next);
        SLUICE_LOG_INFO(
            "control: vip %s backend %s: weight %u -> %u", next.vips[vi].name.c_str(),
            backend_label(next.vips[vi].backends[bi].address, next.vips[vi].backends[bi].port)
                .c_str(),
            old, w);
        return backend_json(vi, bi);
    }

    json change_admin(const json& req, backend_admin a) {
        size_t vi = find_vip(cfg(), req);
        size_t bi = find_backend(cfg().vips[vi], req);
        std::optional<double> timeout;
        if (req.contains("timeout") && !req["timeout"].is_null()) {
            if (a != backend_admin::draining) throw refusal{"'timeout' only applies to drain", {}};
            if (!req["timeout"].is_number() || req["timeout"].get<double>() < 0 ||
                req["timeout"].get<double>() > max_drain_timeout_s)
                throw refusal{"'timeout' must be a number of seconds, 0.." +
                                  std::to_string(int(max_drain_timeout_s)),
                              {}};
            timeout = req["timeout"].get<double>();
        }
        bool reset = false;
        if (req.contains("reset") && !req["reset"].is_null()) {
            if (!req["reset"].is_boolean()) throw refusal{"'reset' must be true or false", {}};
            reset = req["reset"].get<bool>();
            if (reset && a != backend_admin::disabled)
                throw refusal{"'reset' only applies to disable", {}};
        }
        const auto who = identity(cfg().vips[vi], cfg().vips[vi].backends[bi]);
        backend_admin before = ctl().admin_of(who);
        ctl().set_admin(who, a);
        if (auto applied = ctl().reload(cfg(), monotonic_ns()); !applied) {
            ctl().set_admin(who, before);
            throw refusal{applied.message(), {}};
        }
        SLUICE_LOG_INFO("control: vip %s backend %s: %s -> %s", cfg().vips[vi].name.c_str(),
                        backend_label(who.backend, who.backend_port).c_str(),
                        model::backend_admin_name(before), model::backend_admin_name(a));
        if (timeout) {
            ctl().set_drain_deadline(who, monotonic_ns(), uint64_t(*timeout * 1e9));
            SLUICE_LOG_INFO("control: flows still open in %.3g s will be reset", *timeout);
        }
        if (reset) {
            rt_.reset_flows(ctl().backend_ids_of(who), model::reset_cause::disabled);
            SLUICE_LOG_INFO("control: resetting the flows of %s",
                            backend_label(who.backend, who.backend_port).c_str());
        }
        return backend_json(vi, bi);
    }

    json add_backend(const json& req) {
        size_t vi = find_vip(cfg(), req);
        auto [addr, port] = parse_backend(req, cfg().vips[vi].port);
        for (const auto& b : cfg().vips[vi].backends)
            if (b.address == addr && b.port == port)
                throw refusal{"VIP " + cfg().vips[vi].name + " already has backend " +
                                  backend_label(addr, port),
                              {}};
        if (addr.family != cfg().vips[vi].address.family)
            throw refusal{"backend and VIP address families differ", {}};
        config::config next = cfg();
        config::backend_config b;
        b.address = addr;
        b.port = port;
        b.weight = req.contains("weight") && !req["weight"].is_null()
                       ? integer_arg(req, "weight", 65535)
                       : 1;
        next.vips[vi].backends.push_back(b);
        apply(next);
        SLUICE_LOG_INFO("control: vip %s: backend %s added (weight %u)", next.vips[vi].name.c_str(),
                        backend_label(addr, port).c_str(), b.weight);
        return backend_json(vi, cfg().vips[vi].backends.size() - 1);
    }

    json reload(const json& req) {
        std::string file = path_;
        if (req.contains("file") && req["file"].is_string()) file = req["file"];
        config::config next;
        try {
            next = config::load_file(file);
        } catch (const config::config_error& e) {
            ctl().count_reload(false);
            refusal r{std::to_string(e.errors().size()) + " error(s) in " + file +
                          "; the running configuration stays",
                      {}};
            for (const auto& err : e.errors()) {
                r.details.push_back(err.to_string());
                SLUICE_LOG_ERROR("%s", err.to_string().c_str());
            }
            SLUICE_LOG_ERROR("reload refused: %s", r.message.c_str());
            throw r;
        }
        const result<> applied = ctl().reload(next, monotonic_ns());
        ctl().count_reload(applied.ok());
        if (!applied) {
            SLUICE_LOG_ERROR("reload refused: %s; the running configuration stays",
                             applied.message().c_str());
            throw refusal{applied.message() + "; the running configuration stays", {}};
        }
        path_ = file;
        SLUICE_LOG_INFO("reload: applied %s (generation %llu)", file.c_str(),
                        (unsigned long long)rt_.current_snapshot().generation);
        return {{"generation", rt_.current_snapshot().generation}, {"file", file}};
    }

    runtime& rt_;
    std::string& path_;
};

}  // namespace

control_api::control_api(runtime& rt, std::string config_path)
    : rt_(rt), config_path_(std::move(config_path)) {}

void control_api::handle_async(std::string_view line, const reply& done) {
    api a(rt_, config_path_);
    try {
        json req = json::parse(line);
        if (api::is_show_flows(req)) return a.show_flows(req, done);
        done(ok_line(a.dispatch(req)));
    } catch (const refusal& r) {
        done(error_line(r.message, r.details));
    } catch (const json::exception& e) {
        done(error_line(std::string("bad request: ") + e.what(), {}));
    } catch (const std::exception& e) {  // a bug must not take the daemon down with it
        SLUICE_LOG_ERROR("control: request failed: %s", e.what());
        done(error_line(std::string("internal error: ") + e.what(), {}));
    }
}

std::string control_api::handle(std::string_view line) {
    std::optional<std::string> answer;
    handle_async(line, [&answer](std::string l) { answer = std::move(l); });
    // Only a flow listing answers later: wait for the workers here (callers outside the
    // control loop: SIGHUP's reload, tests). Bounded by the listing's own time limit.
    while (!answer) {
        rt_.collect_commands();
        if (!answer) rte_delay_us_sleep(100);
    }
    return *answer;
}

}  // namespace sluice::dataplane

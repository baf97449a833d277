// sluicectl: the operator CLI of sluiced. Parses and checks the command line, sends one request
// over the control socket (include/sluice/control_protocol.hpp), prints the answer as a table, a
// one-line change summary or JSON.
//
// Exit status: 0 done, 1 refused by sluiced, 2 usage error (nothing sent), 3 sluiced not reachable
// or not answering.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/arguments.hpp"
#include "cli/control_client.hpp"
#include "cli/render.hpp"
#include "sluice/control_protocol.hpp"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "unknown"
#endif

namespace {

using namespace sluice::cli;
using sluice::error;
using sluice::fail;
using sluice::result;

enum exit_status : int { exit_done = 0, exit_refused = 1, exit_usage = 2, exit_unreachable = 3 };

// Seconds the daemon gets to answer. Reload compiles tables, so not too tight.
constexpr const char* default_timeout = "10";

enum class command_kind {
    show_vips,
    show_backends,
    show_stats,
    show_flows,
    show_protection,
    show_state,
    show_ports,
    show_info,
    set_weight,
    set_limit,
    drain,
    enable,
    disable,
    add_backend,
    remove_backend,
    reload,
};

// Everything the command line says, after CLI11 parsed and checked it.
struct invocation {
    std::string socket_path{sluice::control_protocol::default_socket_path};
    bool json_output = false;
    std::string timeout = default_timeout;

    command_kind kind = command_kind::show_vips;
    std::string vip;
    std::string backend;
    std::string weight;         // set weight, add backend --weight
    std::string drain_timeout;  // drain --timeout
    bool reset = false;         // disable --reset
    std::string file;           // reload FILE
    std::string limit;          // show flows --limit
    std::string limit_name;     // set limit: new_connections | packets | source_new_connections
    std::string rate;           // set limit RATE
    std::string burst;          // set limit --burst
};

// Descriptions stay empty: the option's type name already says what is expected.
CLI::Validator check_with(std::string (*check)(const std::string&)) {
    return CLI::Validator([check](std::string& text) { return check(text); }, "");
}

// "1.5" → 1.5; only called on text check_seconds accepted.
double seconds_of(const std::string& text) {
    return std::stod(text);
}

// A whole number of seconds goes out as an integer, else as a fraction.
json seconds_json(const std::string& text) {
    double s = seconds_of(text);
    if (s == std::floor(s)) return json(uint64_t(s));
    return json(s);
}

json build_request(const invocation& inv) {
    json req = json::object();
    auto with_target = [&](const char* cmd) {
        req["cmd"] = cmd;
        req["vip"] = inv.vip;
        req["backend"] = inv.backend;
    };
    switch (inv.kind) {
        case command_kind::show_vips:
            req["cmd"] = "show_vips";
            break;
        case command_kind::show_backends:
            req["cmd"] = "show_backends";
            if (!inv.vip.empty()) req["vip"] = inv.vip;
            break;
        case command_kind::show_stats:
            req["cmd"] = "show_stats";
            break;
        case command_kind::show_ports:
            req["cmd"] = "show_ports";
            break;
        case command_kind::show_info:
            req["cmd"] = "show_info";
            break;
        case command_kind::show_flows:
            req["cmd"] = "show_flows";
            if (!inv.vip.empty()) req["vip"] = inv.vip;
            if (!inv.backend.empty()) req["backend"] = inv.backend;
            if (!inv.limit.empty()) req["limit"] = std::stoul(inv.limit);
            break;
        case command_kind::show_protection:
            req["cmd"] = "show_protection";
            if (!inv.vip.empty()) req["vip"] = inv.vip;
            break;
        case command_kind::show_state:
            req["cmd"] = "show_state";
            break;
        case command_kind::set_weight:
            with_target("set_weight");
            req["weight"] = std::stoul(inv.weight);
            break;
        case command_kind::set_limit:
            req["cmd"] = "set_limit";
            req["vip"] = inv.vip;
            req["limit"] = inv.limit_name;
            req["per_second"] = std::stoul(inv.rate);
            if (!inv.burst.empty()) req["burst"] = std::stoul(inv.burst);
            break;
        case command_kind::drain:
            with_target("drain");
            if (!inv.drain_timeout.empty()) req["timeout"] = seconds_json(inv.drain_timeout);
            break;
        case command_kind::enable:
            with_target("enable");
            break;
        case command_kind::disable:
            with_target("disable");
            if (inv.reset) req["reset"] = true;
            break;
        case command_kind::add_backend:
            with_target("add_backend");
            if (!inv.weight.empty()) req["weight"] = std::stoul(inv.weight);
            break;
        case command_kind::remove_backend:
            with_target("remove_backend");
            break;
        case command_kind::reload:
            req["cmd"] = "reload";
            if (!inv.file.empty()) {
                // The daemon does not share our working directory.
                std::error_code ec;
                auto absolute = std::filesystem::absolute(inv.file, ec);
                req["file"] = ec ? inv.file : absolute.lexically_normal().string();
            }
            break;
    }
    return req;
}

// Commands whose summary line shows the backend as it was before.
bool wants_previous_state(command_kind kind) {
    switch (kind) {
        case command_kind::set_weight:
        case command_kind::drain:
        case command_kind::enable:
        case command_kind::disable:
        case command_kind::remove_backend:
            return true;
        default:
            return false;
    }
}

int report_transport(const error& err) {
    std::fprintf(stderr, "sluicectl: %s\n", err.message.c_str());
    return exit_unreachable;
}

int report_refusal(const response& r) {
    std::fprintf(stderr, "sluicectl: %s\n", r.error.c_str());
    for (const auto& d : r.details) std::fprintf(stderr, "  %s\n", d.c_str());
    return exit_refused;
}

// The backend as the daemon reports it before the change, for "weight 1 -> 0". Best effort: null
// when the VIP or backend is not found (the command itself then says what is wrong).
result<json> previous_backend(control_client& client, const invocation& inv) {
    auto got = client.request(json{{"cmd", "show_backends"}, {"vip", inv.vip}});
    if (!got) return got.error();
    const response& r = *got;
    if (!r.ok || !r.result.is_array()) return json();
    json match;
    for (const auto& b : r.result) {
        if (!b.is_object() || !b.contains("backend") || !b["backend"].is_string()) continue;
        if (!same_backend(inv.backend, b["backend"].get<std::string>())) continue;
        if (!match.is_null()) return json();  // a bare ADDR naming several ports: ambiguous
        match = b;
    }
    return match;
}

// The result's shape must match the command before the human renderer reads it.
std::string shape_problem(command_kind kind, const json& result) {
    switch (kind) {
        case command_kind::show_vips:
        case command_kind::show_backends:
        case command_kind::show_protection:
        case command_kind::show_ports:
            return result.is_array() ? "" : "result is not a list";
        default:
            return result.is_object() ? "" : "result is not an object";
    }
}

std::string human_output(command_kind kind, bool reset, const json& before, const json& result) {
    switch (kind) {
        case command_kind::show_vips:
            return render_vips(result);
        case command_kind::show_backends:
            return render_backends(result);
        case command_kind::show_stats:
            return render_stats(result);
        case command_kind::show_ports:
            return render_ports(result);
        case command_kind::show_info:
            return render_info(result);
        case command_kind::show_flows:
            return render_flows(result);
        case command_kind::show_protection:
            return render_protection(result);
        case command_kind::show_state:
            return render_state(result);
        case command_kind::set_weight:
            return describe_weight_change(before, result) + "\n";
        case command_kind::set_limit:
            return render_protection(json::array({result}));
        case command_kind::disable:
            return describe_state_change(before, result) + (reset ? ", flows reset\n" : "\n");
        case command_kind::drain:
        case command_kind::enable:
        case command_kind::remove_backend:
            return describe_state_change(before, result) + "\n";
        case command_kind::add_backend:
            return describe_added(result) + "\n";
        case command_kind::reload:
            return describe_reload(result) + "\n";
    }
    return "";
}

int execute(const invocation& inv) {
    json request = build_request(inv);
    auto timeout = std::chrono::milliseconds(std::llround(seconds_of(inv.timeout) * 1000.0));
    if (timeout.count() == 0) timeout = std::chrono::milliseconds(1);

    control_client client;
    if (auto connected = client.connect(inv.socket_path, timeout); !connected)
        return report_transport(connected.error());

    json before;
    if (!inv.json_output && wants_previous_state(inv.kind)) {
        auto prev = previous_backend(client, inv);
        if (!prev) return report_transport(prev.error());
        before = *prev;
    }

    auto got = client.request(request);
    if (!got) return report_transport(got.error());
    const response& r = *got;
    if (!r.ok) return report_refusal(r);

    std::string out;
    if (inv.json_output) {
        out = r.result.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    } else {
        if (auto why = shape_problem(inv.kind, r.result); !why.empty())
            return report_transport(fail("unexpected answer from sluiced to " +
                                         request["cmd"].get<std::string>() + ": " + why));
        out = human_output(inv.kind, inv.reset, before, r.result);
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    return exit_done;
}

// The subcommand chosen at each level, outermost first.
std::vector<CLI::App*> chosen_path(CLI::App& app) {
    std::vector<CLI::App*> path{&app};
    for (;;) {
        auto subs = path.back()->get_subcommands();
        if (subs.empty()) return path;
        path.push_back(subs.front());
    }
}

std::string command_names(CLI::App& app) {
    std::string names;
    for (const auto* sub : app.get_subcommands({}))
        names += (names.empty() ? "" : ", ") + sub->get_name();
    return names;
}

// "sluicectl set weight VIP BACKEND WEIGHT": a leaf command's synopsis for its usage errors.
std::string synopsis(const std::vector<CLI::App*>& path) {
    std::string line = "sluicectl";
    for (size_t i = 1; i < path.size(); ++i) line += " " + path[i]->get_name();
    for (const CLI::Option* opt : path.back()->get_options()) {
        if (opt->get_name() == "--help") continue;
        if (opt->get_positional()) {
            line += opt->get_required() ? " " + opt->get_name() : " [" + opt->get_name() + "]";
            continue;
        }
        std::string value = opt->get_type_name();  // empty for a flag
        line += " [" + opt->get_name() + (value.empty() ? "" : " " + value) + "]";
    }
    return line;
}

// Says what is wrong and, on a second line, how the command is used. CLI11's words for a missing
// or unknown command are generic; these say which level wanted which commands.
std::string usage_problem(CLI::App& app, const CLI::ParseError& e) {
    auto path = chosen_path(app);
    CLI::App* level = path.back();
    std::string where;
    for (size_t i = 1; i < path.size(); ++i) where += " " + path[i]->get_name();
    if (level->get_subcommands({}).empty())
        return std::string(e.what()) + "\nusage: " + synopsis(path);
    std::string problem;
    std::string expected = " (one of: " + command_names(*level) + ")";
    std::string prefix = where.empty() ? "" : "'" + where.substr(1) + "' ";
    auto extras = app.remaining();
    if (!extras.empty())
        problem = "unknown " + prefix + "command '" + extras.front() + "'" + expected;
    else if (dynamic_cast<const CLI::RequiredError*>(&e))
        problem = "missing " + prefix + "command" + expected;
    else
        problem = e.what();
    return problem + "\nrun 'sluicectl" + where + " --help' for usage";
}

// sluicectl's command tree over one invocation (CLI11): one method per command group; each leaf
// command is remembered with its kind, so that after parsing the chosen one is known.
class command_tree {
public:
    command_tree(CLI::App& app, invocation& inv) : app_(app), inv_(inv) {
        add_globals();
        add_show();
        add_set();
        add_backend_state();
        add_configuration();
    }
    // The kind of the leaf command the parsed arguments chose.
    command_kind chosen() const {
        command_kind kind = command_kind::show_vips;
        for (const auto& [cmd, k] : leaves_)
            if (cmd->parsed()) kind = k;
        return kind;
    }

private:
    void add_globals();
    void add_show();
    void add_set();
    void add_backend_state();  // drain, enable, disable
    void add_configuration();  // add backend, remove backend, reload
    // The VIP and BACKEND positionals every backend command takes.
    void add_target(CLI::App* cmd, const char* backend_name) {
        cmd->add_option("VIP", inv_.vip, "VIP name or ADDR:PORT/PROTO")
            ->required()
            ->type_name("")
            ->check(vip_check_);
        cmd->add_option(backend_name, inv_.backend, "backend ADDR:PORT ([IPV6]:PORT), or ADDR")
            ->required()
            ->type_name("")
            ->check(backend_check_);
    }

    CLI::App& app_;
    invocation& inv_;
    CLI::Validator vip_check_ = check_with(check_vip);
    CLI::Validator backend_check_ = check_with(check_backend);
    CLI::Validator weight_check_ = check_with(check_weight);
    std::vector<std::pair<CLI::App*, command_kind>> leaves_;
};

void command_tree::add_globals() {
    app_.set_version_flag("--version", SLUICE_VERSION);
    app_.footer(
        "Commands:\n"
        "  show vips | show backends [VIP] | show stats | show ports | show info\n"
        "  show flows [--vip VIP [--backend BACKEND]] [--limit N]\n"
        "  show protection [VIP]\n"
        "  show state\n"
        "  set weight VIP BACKEND WEIGHT\n"
        "  set limit VIP new_connections|packets|source_new_connections RATE [--burst N]\n"
        "  drain VIP BACKEND [--timeout SECONDS]\n"
        "  enable VIP BACKEND\n"
        "  disable VIP BACKEND [--reset]\n"
        "  add backend VIP ADDR:PORT [--weight W]\n"
        "  remove backend VIP BACKEND\n"
        "  reload [FILE]\n"
        "VIP is a name or ADDR:PORT/PROTO; BACKEND is ADDR:PORT, [IPV6]:PORT or ADDR.\n"
        "Exit status: 0 done, 1 refused by sluiced, 2 usage error (nothing sent),\n"
        "3 sluiced not reachable or not answering.\n");
    app_.require_subcommand(1);
    app_.fallthrough();  // global options may also follow the command
    app_.add_option("--socket", inv_.socket_path, "control socket of sluiced")
        ->type_name("PATH")
        ->envname("SLUICE_SOCKET")
        ->capture_default_str();
    app_.add_flag("--json", inv_.json_output, "print the daemon's result as JSON");
    app_.add_option("--timeout", inv_.timeout, "seconds to wait for sluiced's answer")
        ->type_name("SECONDS")
        ->check(check_with(check_seconds))
        ->capture_default_str();
}

void command_tree::add_show() {
    auto* show = app_.add_subcommand("show", "show VIPs, backends or counters");
    show->require_subcommand(1);
    leaves_.emplace_back(show->add_subcommand("vips", "list the VIPs"), command_kind::show_vips);
    auto* show_backends = show->add_subcommand("backends", "list backends, of one VIP or all");
    show_backends->add_option("VIP", inv_.vip, "VIP name or ADDR:PORT/PROTO")
        ->type_name("")
        ->check(vip_check_);
    leaves_.emplace_back(show_backends, command_kind::show_backends);
    leaves_.emplace_back(show->add_subcommand("stats", "counters: totals, drops, per worker"),
                         command_kind::show_stats);
    leaves_.emplace_back(
        show->add_subcommand("ports", "ports: link, queues, offloads, NIC counters"),
        command_kind::show_ports);
    leaves_.emplace_back(show->add_subcommand("info", "the daemon: versions, uptime, tables"),
                         command_kind::show_info);
    auto* show_flows = show->add_subcommand("flows", "list flows, of one VIP or backend or all");
    auto* flows_vip = show_flows->add_option("--vip", inv_.vip, "only this VIP's flows")
                          ->type_name("VIP")
                          ->check(vip_check_);
    show_flows->add_option("--backend", inv_.backend, "only this backend's flows (needs --vip)")
        ->type_name("BACKEND")
        ->check(backend_check_)
        ->needs(flows_vip);
    show_flows->add_option("--limit", inv_.limit, "at most N flows (default 100)")
        ->type_name("N")
        ->check(check_with(check_flow_limit));
    leaves_.emplace_back(show_flows, command_kind::show_flows);
    auto* show_protection =
        show->add_subcommand("protection", "limits, payload rules and what they refused");
    show_protection->add_option("VIP", inv_.vip, "VIP name or ADDR:PORT/PROTO")
        ->type_name("")
        ->check(vip_check_);
    leaves_.emplace_back(show_protection, command_kind::show_protection);
    leaves_.emplace_back(
        show->add_subcommand("state", "the operator's changes kept across restarts (state file)"),
        command_kind::show_state);
}

void command_tree::add_set() {
    auto* set = app_.add_subcommand("set", "change a setting");
    set->require_subcommand(1);
    auto* set_weight =
        set->add_subcommand("weight", "set a backend's weight (0 takes no new flows)");
    add_target(set_weight, "BACKEND");
    set_weight->add_option("WEIGHT", inv_.weight, "0 to 65535")
        ->required()
        ->type_name("")
        ->check(weight_check_);
    leaves_.emplace_back(set_weight, command_kind::set_weight);
    auto* set_limit = set->add_subcommand(
        "limit", "change a VIP's rate limit until the next reload (RATE 0 = unlimited)");
    set_limit->add_option("VIP", inv_.vip, "VIP name or ADDR:PORT/PROTO")
        ->required()
        ->type_name("")
        ->check(vip_check_);
    set_limit
        ->add_option("LIMIT", inv_.limit_name, "new_connections, packets, source_new_connections")
        ->required()
        ->type_name("")
        ->check(CLI::IsMember({"new_connections", "packets", "source_new_connections"}));
    set_limit->add_option("RATE", inv_.rate, "per second, 0 to 1000000000")
        ->required()
        ->type_name("")
        ->check(check_with(check_rate));
    set_limit->add_option("--burst", inv_.burst, "events at once (default: the rate)")
        ->type_name("N")
        ->check(check_with(check_rate));
    leaves_.emplace_back(set_limit, command_kind::set_limit);
}

void command_tree::add_backend_state() {
    auto* drain = app_.add_subcommand("drain", "no new flows; existing flows run to their end");
    add_target(drain, "BACKEND");
    drain->add_option("--timeout", inv_.drain_timeout, "drain time limit in seconds")
        ->type_name("SECONDS")
        ->check(check_with(check_seconds));
    leaves_.emplace_back(drain, command_kind::drain);

    auto* enable = app_.add_subcommand("enable", "take new flows again");
    add_target(enable, "BACKEND");
    leaves_.emplace_back(enable, command_kind::enable);

    auto* disable = app_.add_subcommand("disable", "maintenance: no new flows at once");
    add_target(disable, "BACKEND");
    disable->add_flag("--reset", inv_.reset, "also reset the backend's flows");
    leaves_.emplace_back(disable, command_kind::disable);
}

void command_tree::add_configuration() {
    auto* add = app_.add_subcommand("add", "add to the running configuration");
    add->require_subcommand(1);
    auto* add_backend = add->add_subcommand("backend", "add a backend to a VIP");
    add_target(add_backend, "ADDR:PORT");
    add_backend->add_option("--weight", inv_.weight, "0 to 65535 (default: the VIP's default)")
        ->type_name("W")
        ->check(weight_check_);
    leaves_.emplace_back(add_backend, command_kind::add_backend);

    auto* remove = app_.add_subcommand("remove", "remove from the running configuration");
    remove->require_subcommand(1);
    auto* remove_backend =
        remove->add_subcommand("backend", "drain a backend, then remove it from its VIP");
    add_target(remove_backend, "BACKEND");
    leaves_.emplace_back(remove_backend, command_kind::remove_backend);

    auto* reload = app_.add_subcommand("reload", "re-read the configuration (or FILE)");
    reload->add_option("FILE", inv_.file, "configuration file (default: the one sluiced runs)")
        ->type_name("");
    leaves_.emplace_back(reload, command_kind::reload);
}

}  // namespace

int main(int argc, char** argv) {
    invocation inv;
    CLI::App app{"Operate a running sluiced over its control socket.", "sluicectl"};
    command_tree tree(app, inv);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
        std::fprintf(stderr, "sluicectl: %s\n", usage_problem(app, e).c_str());
        return exit_usage;
    }
    inv.kind = tree.chosen();
    return execute(inv);
}

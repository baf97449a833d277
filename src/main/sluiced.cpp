// sluiced: the Sluice daemon. Loads and validates the config, initialises EAL (inside the
// configured network namespace for kernel-backed PMDs), starts the data plane, and runs the
// control loop on the main lcore until SIGINT/SIGTERM. Under systemd it reports readiness,
// reloads, stopping and watchdog pings (service_notify.hpp) and logs to the journal.
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_version.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "control/api_server.hpp"
#include "control/control_api.hpp"
#include "control/state_keeper.hpp"
#include "control/status_builder.hpp"
#include "dataplane/eal_args.hpp"
#include "dataplane/netns.hpp"
#include "dataplane/runtime.hpp"
#include "dataplane/runtime_view.hpp"
#include "dataplane/telemetry.hpp"
#include "main/dpdk_log.hpp"
#include "main/service_notify.hpp"
#include "metrics/http_listener.hpp"
#include "metrics/prometheus_text.hpp"
#include "metrics/status_service.hpp"
#include "sluice/config.hpp"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "unknown"
#endif

namespace {

std::atomic<int> stop_signal{0};
uint64_t start_time_s = 0;  // Unix time main() began: sluice_start_time_seconds
std::atomic<bool> dump_requested{false};
std::atomic<bool> reload_requested{false};

void on_signal(int sig) {
    if (sig == SIGUSR1)
        dump_requested.store(true);
    else if (sig == SIGHUP)
        reload_requested.store(true);
    else
        stop_signal.store(sig);
}

constexpr const char* default_config_path = "/etc/sluice/sluice.toml";

void usage(FILE* out) {
    fprintf(out,
            "usage: sluiced [--config FILE] [--check] [--log-level LEVEL]\n"
            "  --config FILE      TOML configuration (default %s; see docs/config.md)\n"
            "  --check            validate the configuration and exit (0 valid, 2 invalid)\n"
            "  --log-level LEVEL  debug, info, warn or error; overrides [log] level\n"
            "signals: SIGINT/SIGTERM stop, SIGHUP reloads the config, SIGUSR1 prints counters\n",
            default_config_path);
}

// The command line. Startup only.
struct options {
    std::string config_path = default_config_path;
    bool check_only = false;
    std::optional<sluice::log::level> log_level;  // --log-level, wins over [log] level
};

// Parses argv into `out`; an exit status when the process should end now (help, a bad argument).
std::optional<int> parse_options(int argc, char** argv, options& out) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        std::optional<std::string> level;
        if (a == "--config" && i + 1 < argc) {
            out.config_path = argv[++i];
        } else if (a.rfind("--config=", 0) == 0) {
            out.config_path = a.substr(9);
        } else if (a == "--check") {
            out.check_only = true;
        } else if (a == "--log-level" && i + 1 < argc) {
            level = argv[++i];
        } else if (a.rfind("--log-level=", 0) == 0) {
            level = a.substr(12);
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sluiced: unknown argument '%s'\n", a.c_str());
            usage(stderr);
            return 2;
        }
        if (level && !(out.log_level = sluice::log::parse_level(*level))) {
            fprintf(stderr, "sluiced: --log-level must be debug, info, warn or error, got '%s'\n",
                    level->c_str());
            return 2;
        }
    }
    if (out.config_path.empty()) {
        usage(stderr);
        return 2;
    }
    return std::nullopt;
}

sluice::log::level log_level_of(sluice::config::log_level l) {
    switch (l) {
        case sluice::config::log_level::debug:
            return sluice::log::level::debug;
        case sluice::config::log_level::info:
            return sluice::log::level::info;
        case sluice::config::log_level::warn:
            return sluice::log::level::warn;
        case sluice::config::log_level::error:
            return sluice::log::level::error;
    }
    return sluice::log::level::info;
}

// What the control loop tells systemd and the logger as the configuration changes. Main lcore
// only.
struct service_hooks {
    sluice::service::notifier notify;
    std::optional<sluice::log::level> level_override;
    const sluice::control::control_plane* plane = nullptr;

    // STATUS= text: what is running now.
    std::string status() const {
        const auto& cfg = plane->configuration();
        size_t backends = 0;
        for (const auto& v : cfg.vips) backends += v.backends.size();
        return "serving " + std::to_string(cfg.vips.size()) + " VIPs, " + std::to_string(backends) +
               " backends (generation " + std::to_string(plane->generation()) + ")";
    }
    void apply_log_level() const {
        sluice::log::set_min_level(
            level_override.value_or(log_level_of(plane->configuration().logging.level)));
    }
    // Around a reload (SIGHUP or the API's): RELOADING=1, then READY=1 whatever its outcome (a
    // refused reload keeps the running configuration, which is still serving).
    void before_reload() { notify.reloading(); }
    void after_reload() {
        apply_log_level();
        notify.ready(status());
    }
};

// Whether a control API request line is a reload (so systemd hears RELOADING=1 for it too).
bool is_reload_request(std::string_view line) {
    if (line.find("reload") == std::string_view::npos) return false;  // the cheap common case
    const auto req = nlohmann::json::parse(line, nullptr, false);
    return req.is_object() && req.contains("cmd") && req["cmd"] == "reload";
}

void sleep_us(long us) {
    timespec ts{0, us * 1000};
    nanosleep(&ts, nullptr);
}

// sluice_build_info and sluice_start_time_seconds, the same text for every scrape.
std::string process_metrics() {
    std::string_view dpdk = rte_version();  // "DPDK 22.11.5"
    if (dpdk.starts_with("DPDK ")) dpdk.remove_prefix(5);
    return sluice::metrics::format_process_info({SLUICE_VERSION, std::string(dpdk), start_time_s});
}

uint64_t now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

// EAL, the runtime (ports, pools, tables, control plane) and the worker lcores; null after a
// failure it logged (EAL cleaned up).
// `state` restores the operator's saved admin states before the first snapshot.
sluice::dataplane::runtime* start_dataplane(const sluice::config::config& cfg, const char* argv0,
                                            sluice::control::state_keeper& state) {
    using namespace sluice;
    auto args = dataplane::build_eal_args(cfg, argv0);
    std::string joined;
    for (size_t i = 1; i < args.size(); ++i) joined += " " + args[i];
    SLUICE_LOG_INFO("EAL arguments:%s", joined.c_str());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    dataplane::runtime* rt = nullptr;
    try {
        dataplane::netns_switch ns(cfg.dataplane.netns);
        service::route_dpdk_log();
        if (rte_eal_init(int(args.size()), argv.data()) < 0) {
            SLUICE_LOG_ERROR("EAL initialisation failed: %s", rte_strerror(rte_errno));
            return nullptr;
        }
        rt = new dataplane::runtime(cfg);
        rt->before_first_snapshot([&state](control::control_plane& plane) {
            state.restore_admin(plane, monotonic_ns(), control::wall_clock_ms());
        });
        rt->start();
        ns.restore();  // ports are bound; later sockets (control API, metrics) live outside
        rt->launch_workers();
        rt->announce_addresses();
    } catch (const std::exception& e) {
        SLUICE_LOG_ERROR("startup failed: %s", e.what());
        delete rt;
        rte_eal_cleanup();
        return nullptr;
    }
    return rt;
}

// The control socket (root only, mode 0600); without it sluiced runs on, sluicectl cannot reach
// it.
std::optional<sluice::control::api_server> open_control_socket(const sluice::config::config& cfg) {
    auto opened = sluice::control::api_server::open(cfg.control.socket);
    if (!opened) {
        SLUICE_LOG_ERROR("control socket: %s (sluicectl will not work)", opened.message().c_str());
        return std::nullopt;
    }
    SLUICE_LOG_INFO("control socket %s (mode 0600)", opened->path().c_str());
    return std::move(*opened);
}

// The /metrics listener when [metrics] listen is set.
std::optional<sluice::metrics::http_listener> open_metrics(const sluice::config::config& cfg) {
    if (cfg.metrics.listen.empty()) return std::nullopt;
    auto opened = sluice::metrics::http_listener::open(cfg.metrics.listen);
    if (!opened) {
        SLUICE_LOG_ERROR("metrics: %s (no /metrics)", opened.message().c_str());
        return std::nullopt;
    }
    SLUICE_LOG_INFO("metrics on http://%s/metrics", cfg.metrics.listen.c_str());
    return std::move(*opened);
}

// The status page's data (/status, /status.json): what the control plane and the data plane's
// read side show now, with the version and uptime. Main lcore (the metrics listener's poll).
sluice::metrics::status_view status_of(sluice::dataplane::runtime& rt,
                                       const sluice::control::dataplane_view& view) {
    sluice::metrics::status_view v =
        sluice::control::build_status(rt.control(), view, sluice::monotonic_ns());
    v.version = SLUICE_VERSION;
    v.uptime_s = uint64_t(time(nullptr)) - start_time_s;
    return v;
}

// The main lcore's loop until a stop signal: the runtime's control pass, then the control
// socket, /metrics, telemetry, signal requests and systemd's watchdog. Short sleeps keep ARP
// answers prompt without spinning the control core.
void control_loop(sluice::dataplane::runtime& rt, sluice::control::control_api& api,
                  std::optional<sluice::control::api_server>& server,
                  std::optional<sluice::metrics::http_listener>& metrics_listener,
                  service_hooks& hooks) {
    using namespace sluice;
    auto handle = control::api_server::async_handler(
        [&api, &hooks](std::string_view line, const control::api_server::reply& done) {
            const bool reload = is_reload_request(line);
            if (reload) hooks.before_reload();
            api.handle_async(line, done);  // a reload answers at once (only show_flows waits)
            if (reload) hooks.after_reload();
        });
    const std::string process_text = process_metrics();
    auto scrape = [&rt, &process_text] {
        return metrics::format_prometheus(rt.readings().metrics()) + process_text;
    };
    const dataplane::runtime_view status_reader(rt);
    metrics::status_service status([&rt, &status_reader] { return status_of(rt, status_reader); });
    metrics::http_routes routes = metrics::metrics_routes(scrape);  // /metrics
    routes.push_back(status.page_route());
    routes.push_back(status.json_route());
    const uint64_t started = now_ms();
    uint64_t telemetry_ms = 0;
    bool ready = false;
    while (!stop_signal.load()) {
        rt.control_poll();
        hooks.notify.watchdog_poll(service::monotonic_usec());
        if (!ready && (rt.neighbors_ready() || now_ms() - started > 3000)) {
            if (!rt.neighbors_ready())
                SLUICE_LOG_WARN("unresolved next hops (still retrying): %s",
                                rt.unresolved_neighbors().c_str());
            fprintf(stderr, "sluiced: ready\n");
            hooks.notify.ready(hooks.status());
            ready = true;
        }
        if (reload_requested.exchange(false)) {
            hooks.before_reload();
            api.handle(R"({"cmd":"reload"})");
            hooks.after_reload();
        }
        if (server) server->poll(handle);
        if (metrics_listener) metrics_listener->poll(routes);
        if (now_ms() - telemetry_ms >= 1000) {
            telemetry_ms = now_ms();
            dataplane::publish_telemetry_view(rt.readings().metrics());
            log::flush_suppressed();
        }
        if (dump_requested.exchange(false))
            fprintf(stderr, "sluiced: stats %s\n", rt.readings().stats_json().c_str());
        sleep_us(200);
    }
}

int run(const sluice::config::config& file_cfg, const options& opts, const char* argv0) {
    using namespace sluice;
    // The operator's changes saved before the restart, laid over the file ([control] state_file).
    control::state_keeper state(file_cfg.control.state_file);
    const config::config cfg = state.start(file_cfg);
    service_hooks hooks;
    hooks.level_override = opts.log_level;
    hooks.notify.status("starting: EAL, ports and pools");
    dataplane::runtime* rt = start_dataplane(cfg, argv0, state);
    if (!rt) return 1;
    dataplane::set_telemetry_runtime(rt);
    hooks.plane = &rt->control();
    {
        dataplane::runtime_view view(*rt);
        control::control_api api(rt->control(), view, opts.config_path, &state);
        api.set_process({SLUICE_VERSION, rte_version(), start_time_s});
        auto server = open_control_socket(cfg);
        auto metrics_listener = open_metrics(cfg);
        control_loop(*rt, api, server, metrics_listener, hooks);
    }
    hooks.notify.stopping();
    SLUICE_LOG_INFO("signal %d: stopping", stop_signal.load());
    dataplane::set_telemetry_runtime(nullptr);
    rt->stop_workers();
    fprintf(stderr, "sluiced: stats %s\n", rt->readings().stats_json().c_str());
    delete rt;  // releases ports, rings, tables and pools
    rte_eal_cleanup();
    fprintf(stderr, "sluiced: stopped\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    start_time_s = uint64_t(time(nullptr));
    sluice::log::set_sink(sluice::log::detect_sink());  // the journal under systemd
    options opts;
    if (auto status = parse_options(argc, argv, opts)) return *status;
    if (opts.log_level) sluice::log::set_min_level(*opts.log_level);
    sluice::config::config cfg;
    try {
        cfg = sluice::config::load_file(opts.config_path);
    } catch (const sluice::config::config_error& e) {
        for (const auto& err : e.errors()) fprintf(stderr, "%s\n", err.to_string().c_str());
        fprintf(stderr, "sluiced: %zu error(s) in %s, not started\n", e.errors().size(),
                opts.config_path.c_str());
        return 2;
    }
    if (opts.check_only) {
        printf("%s: configuration is valid\n", opts.config_path.c_str());
        return 0;
    }
    sluice::log::set_min_level(opts.log_level.value_or(log_level_of(cfg.logging.level)));
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGUSR1, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    return run(cfg, opts, argv[0]);
}

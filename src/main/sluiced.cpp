// sluiced: the Sluice daemon. Loads and validates the config, initialises EAL (inside the
// configured network namespace for kernel-backed PMDs), starts the data plane, and runs the
// control loop on the main lcore until SIGINT/SIGTERM.
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_version.h>
#include <signal.h>
#include <time.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "control/api_server.hpp"
#include "control/control_api.hpp"
#include "dataplane/eal_args.hpp"
#include "dataplane/netns.hpp"
#include "dataplane/runtime.hpp"
#include "dataplane/runtime_view.hpp"
#include "dataplane/telemetry.hpp"
#include "metrics/http_listener.hpp"
#include "metrics/prometheus_text.hpp"
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

void usage(FILE* out) {
    fprintf(out,
            "usage: sluiced --config FILE [--check]\n"
            "  --config FILE  TOML configuration (see docs/config.md)\n"
            "  --check        validate the configuration and exit (0 valid, 2 invalid)\n"
            "signals: SIGINT/SIGTERM stop, SIGHUP reloads the config, SIGUSR1 prints counters\n");
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
sluice::dataplane::runtime* start_dataplane(const sluice::config::config& cfg, const char* argv0) {
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
        if (rte_eal_init(int(args.size()), argv.data()) < 0) {
            SLUICE_LOG_ERROR("EAL initialisation failed: %s", rte_strerror(rte_errno));
            return nullptr;
        }
        rt = new dataplane::runtime(cfg);
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

// The main lcore's loop until a stop signal: the runtime's control pass, then the control
// socket, /metrics, telemetry and signal requests. Short sleeps keep ARP answers prompt without
// spinning the control core.
void control_loop(sluice::dataplane::runtime& rt, sluice::control::control_api& api,
                  std::optional<sluice::control::api_server>& server,
                  std::optional<sluice::metrics::http_listener>& metrics_listener) {
    using namespace sluice;
    auto handle = control::api_server::async_handler(
        [&api](std::string_view line, const control::api_server::reply& done) {
            api.handle_async(line, done);
        });
    const std::string process_text = process_metrics();
    auto scrape = [&rt, &process_text] {
        return metrics::format_prometheus(rt.readings().metrics()) + process_text;
    };
    const uint64_t started = now_ms();
    uint64_t telemetry_ms = 0;
    bool ready = false;
    while (!stop_signal.load()) {
        rt.control_poll();
        if (!ready && (rt.neighbors_ready() || now_ms() - started > 3000)) {
            if (!rt.neighbors_ready())
                SLUICE_LOG_WARN("unresolved next hops (still retrying): %s",
                                rt.unresolved_neighbors().c_str());
            fprintf(stderr, "sluiced: ready\n");
            ready = true;
        }
        if (reload_requested.exchange(false)) api.handle(R"({"cmd":"reload"})");
        if (server) server->poll(handle);
        if (metrics_listener) metrics_listener->poll(scrape);
        if (now_ms() - telemetry_ms >= 1000) {
            telemetry_ms = now_ms();
            dataplane::publish_telemetry_view(rt.readings().metrics());
        }
        if (dump_requested.exchange(false))
            fprintf(stderr, "sluiced: stats %s\n", rt.readings().stats_json().c_str());
        sleep_us(200);
    }
}

int run(const sluice::config::config& cfg, const std::string& config_path, const char* argv0) {
    using namespace sluice;
    dataplane::runtime* rt = start_dataplane(cfg, argv0);
    if (!rt) return 1;
    dataplane::set_telemetry_runtime(rt);
    {
        dataplane::runtime_view view(*rt);
        control::control_api api(rt->control(), view, config_path);
        auto server = open_control_socket(cfg);
        auto metrics_listener = open_metrics(cfg);
        control_loop(*rt, api, server, metrics_listener);
    }
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
    std::string config_path;
    bool check_only = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--config" && i + 1 < argc) {
            config_path = argv[++i];
        } else if (a.rfind("--config=", 0) == 0) {
            config_path = a.substr(9);
        } else if (a == "--check") {
            check_only = true;
        } else if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "sluiced: unknown argument '%s'\n", a.c_str());
            usage(stderr);
            return 2;
        }
    }
    if (config_path.empty()) {
        usage(stderr);
        return 2;
    }
    sluice::config::config cfg;
    try {
        cfg = sluice::config::load_file(config_path);
    } catch (const sluice::config::config_error& e) {
        for (const auto& err : e.errors()) fprintf(stderr, "%s\n", err.to_string().c_str());
        fprintf(stderr, "sluiced: %zu error(s) in %s, not started\n", e.errors().size(),
                config_path.c_str());
        return 2;
    }
    if (check_only) {
        printf("%s: configuration is valid\n", config_path.c_str());
        return 0;
    }
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGUSR1, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    return run(cfg, config_path, argv[0]);
}

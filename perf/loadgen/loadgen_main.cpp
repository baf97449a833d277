// sluice-loadgen: plays the clients on one DPDK port and the backends on another, with the load
// balancer between them, and measures it (docs/hil.md). `sluice-loadgen [EAL args] -- [options]`.
//
// Exit status: 0 done; 1 the run failed its checks (validation failures, nothing received, no
// usable flow) or could not start; 2 a usage error.
//
// Threads: everything runs on the main lcore (EAL's -l: one CPU): setup, the trials (the engine
// polls both ports and sends from this thread), the report.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>

#include "engine.hpp"
#include "options.hpp"
#include "report.hpp"

using namespace sluice::loadgen;

namespace {

constexpr double link_wait_s = 15;
constexpr double resolve_wait_s = 10;
constexpr unsigned pool_mbufs = 32767;

// The index of "--" (the options follow it), or argc when there is none.
int options_start(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--") == 0) return i;
    return argc;
}

engine_ports open_ports(const options& o) {
    engine_ports p;
    p.pool = create_packet_pool(pool_mbufs);
    p.client = find_port(o.client_port_name, 0);
    p.server = find_port(o.server_port_name, 1);
    if (p.client == p.server) throw std::runtime_error("the client and server ports are one port");
    p.client_mac = start_port(p.client, p.pool);
    p.server_mac = start_port(p.server, p.pool);
    for (uint16_t port : {p.client, p.server})
        if (!wait_link(port, link_wait_s))
            throw std::runtime_error("port " + std::to_string(port) + ": link still down after " +
                                     std::to_string(int(link_wait_s)) + " s");
    return p;
}

// The trials: a search (NDR/PDR, repeated) or one trial at a fixed rate.
void run_trials(engine& e, const options& o, run_report& r) {
    unsigned number = 0;
    auto trial = [&](double rate, double duration) {
        trial_stats t = e.run_trial(rate, duration);
        r.trials.push_back(t);
        if (!o.quiet) print_trial(stderr, ++number, t);
        return t.counts;
    };
    if (o.rate_pps > 0) {
        trial(o.rate_pps, o.duration_s);
        return;
    }
    r.searched = true;
    r.search = search_repeatedly(trial, o.search, o.repeats);
}

int run(const options& o) {
    const engine_ports ports = open_ports(o);
    engine e(o, ports);
    if (!e.resolve(resolve_wait_s)) {
        std::fprintf(stderr, "sluice-loadgen: the balancer does not answer ARP on both ports\n");
        return 1;
    }
    const uint32_t usable = e.open_flows();
    std::fprintf(stderr, "sluice-loadgen: %s: %u of %u flows usable\n", scenario_name(o).c_str(),
                 usable, o.flows);
    run_report r;
    r.scenario = scenario_name(o);
    r.opt = &o;
    r.usable_flows = usable;
    r.frame_len = paced_frame_len(o);
    if (usable > 0 || runs_connections(o.mode)) run_trials(e, o, r);
    r.totals = e.totals();
    print_summary(stdout, r);
    if (!o.json_path.empty()) {
        std::ofstream(o.json_path) << report_json(r);
    }
    const uint64_t failures = r.totals.validation_failures();
    const uint64_t received = r.totals.received_client + r.totals.received_server;
    if (failures || received == 0 || (usable == 0 && !runs_connections(o.mode))) {
        std::fprintf(stderr,
                     "sluice-loadgen: FAILED: %llu validation failures, %llu frames received, %u "
                     "usable flows\n",
                     (unsigned long long)failures, (unsigned long long)received, usable);
        return 1;
    }
    return 0;
}

// --hold: SIGTERM and SIGINT are blocked from the start (every EAL thread inherits the mask), so
// the main thread takes them here, after the report, with nothing polling the ports.
void wait_for_stop(const sigset_t& stop) {
    std::fprintf(stderr, "sluice-loadgen: done, holding the ports until SIGTERM\n");
    int sig = 0;
    sigwait(&stop, &sig);
}

}  // namespace

int main(int argc, char** argv) {
    const int split = options_start(argc, argv);
    options o;
    const std::string error = parse_options(argc, argv, split + 1, o);
    if (error == "help") {
        std::fputs(usage().c_str(), stdout);
        return 0;
    }
    if (!error.empty()) {
        std::fprintf(stderr, "sluice-loadgen: %s (--help lists the options)\n", error.c_str());
        return 2;
    }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    if (o.hold) pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    if (rte_eal_init(split, argv) < 0) {
        std::fprintf(stderr, "sluice-loadgen: EAL initialisation failed: %s\n",
                     rte_strerror(rte_errno));
        return 1;
    }
    int rc = 1;
    try {
        rc = run(o);
    } catch (const std::exception& ex) {
        std::fprintf(stderr, "sluice-loadgen: %s\n", ex.what());
    }
    if (o.hold) wait_for_stop(stop);
    rte_eal_cleanup();
    return rc;
}

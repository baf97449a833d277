// sluice-loadgen: plays the clients on one DPDK port and the backends on another, with the load
// balancer between them, and measures it (docs/hil.md). `sluice-loadgen [EAL args] -- [options]`.
//
// Exit status: 0 done; 1 the run failed its checks (validation failures, nothing received, no
// usable flow) or could not start; 2 a usage error.
//
// Threads: everything runs on the main lcore (EAL's -l: one CPU): setup, the trials (the engine
// polls both ports and sends from this thread), the per-second lines (written from inside a
// trial by the engine's sink, once a second), the report.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
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
// Between the soak's announcement and its first packet: perf/hil.sh reads sluiced's /metrics
// (mbufs_in_use, flows) while nothing is in flight.
constexpr double soak_quiet_s = 2;

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

// Per-second lines of every trial (when asked for, and always during a soak): text on stderr
// unless --quiet, JSON lines in --per-second FILE, and the soak's seconds kept for its report.
// Called by the engine on this lcore, once a second.
class second_lines {
public:
    second_lines(const options& o, run_report& r) : opt_(o), report_(r) {
        if (o.per_second_path.empty()) return;
        file_ = std::fopen(o.per_second_path.c_str(), "w");
        if (!file_) throw std::runtime_error("cannot write " + o.per_second_path);
    }
    ~second_lines() {
        if (file_) std::fclose(file_);
    }
    second_lines(const second_lines&) = delete;
    second_lines& operator=(const second_lines&) = delete;

    bool wanted() const { return file_ || opt_.soak_s > 0; }
    void keep(bool on) { keep_ = on; }
    void operator()(const second_record& s) {
        if (!opt_.quiet) print_second(stderr, s);
        if (file_) {
            std::fputs(second_json_line(report_.scenario, s).c_str(), file_);
            std::fflush(file_);  // a soak's lines are read while it runs
        }
        if (keep_) report_.soak.seconds.push_back(s);
    }

private:
    const options& opt_;
    run_report& report_;
    std::FILE* file_ = nullptr;
    bool keep_ = false;
};

// The soak: its rate (--rate, or a share of the NDR the search found), announced, two quiet
// seconds, then one trial of --soak seconds. False when there is no rate to soak at.
bool run_soak(engine& e, const options& o, run_report& r, second_lines& lines) {
    soak_report& k = r.soak;
    k.rate_pps = o.rate_pps;
    if (k.rate_pps <= 0) {
        if (r.search.runs.empty() || !r.search.runs.back().ndr.found) {
            std::fprintf(stderr, "sluice-loadgen: soak: no NDR found, nothing to soak at\n");
            return false;
        }
        k.rate_from_ndr = true;
        k.ndr_pps = r.search.ndr.median;
        k.ndr_fraction = o.soak_ndr_fraction;
        k.rate_pps = k.ndr_pps * k.ndr_fraction;
    }
    std::fprintf(stderr, "sluice-loadgen: soak starts in %.0f s: %.0f s at %.0f pps\n",
                 soak_quiet_s, o.soak_s, k.rate_pps);
    e.idle(soak_quiet_s);
    lines.keep(true);
    k.trial = r.trials.size();
    r.trials.push_back(e.run_trial(k.rate_pps, o.soak_s));
    lines.keep(false);
    k.ran = true;
    if (!o.quiet) print_trial(stderr, unsigned(r.trials.size()), r.trials.back());
    print_soak(stderr, r);
    return true;
}

// The trials: a search (NDR/PDR, repeated) or one trial at a fixed rate; then the soak, if
// asked for. False when a soak was asked for and could not run.
bool run_trials(engine& e, const options& o, run_report& r, second_lines& lines) {
    unsigned number = 0;
    auto trial = [&](double rate, double duration) {
        trial_stats t = e.run_trial(rate, duration);
        r.trials.push_back(t);
        if (!o.quiet) print_trial(stderr, ++number, t);
        return t.counts;
    };
    if (o.rate_pps > 0 && o.soak_s <= 0) {
        trial(o.rate_pps, o.duration_s);
    } else if (o.rate_pps <= 0) {
        r.searched = true;
        r.search = search_repeatedly(trial, o.search, o.repeats);
    }
    return o.soak_s <= 0 || run_soak(e, o, r, lines);
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
    second_lines lines(o, r);
    if (lines.wanted()) e.report_seconds(std::ref(lines));
    bool soaked = true;
    if (usable > 0 || runs_connections(o.mode)) soaked = run_trials(e, o, r, lines);
    e.report_seconds({});
    r.totals = e.totals();
    print_summary(stdout, r);
    if (!o.json_path.empty()) {
        std::ofstream(o.json_path) << report_json(r);
    }
    const uint64_t failures = r.totals.validation_failures();
    const uint64_t received = r.totals.received_client + r.totals.received_server;
    if (failures || received == 0 || (usable == 0 && !runs_connections(o.mode)) || !soaked) {
        std::fprintf(stderr,
                     "sluice-loadgen: FAILED: %llu validation failures, %llu frames received, %u "
                     "usable flows%s\n",
                     (unsigned long long)failures, (unsigned long long)received, usable,
                     soaked ? "" : ", no soak");
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

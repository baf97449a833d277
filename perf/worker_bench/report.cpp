// The report (see report.hpp). Benchmark thread only.
#include "report.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "addresses.hpp"
#include "bench_runtime.hpp"
#include "connections.hpp"

#ifndef SLUICE_BUILDTYPE
#define SLUICE_BUILDTYPE "unknown"
#endif

namespace sluice::worker_bench {

namespace {

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

// 4096 → 4 KiB, 2097152 → 2 MiB (the pages EAL's memory is on).
std::string fixed2(double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.2f", v);
    return b;
}

std::string page_name(uint64_t bytes) {
    const std::string n = binary_name(bytes);
    return n.back() == 'i' ? n.substr(0, n.size() - 2) + " " + n.substr(n.size() - 2) + "B"
                           : n + " B";
}

double vs_baseline(const result& r, double baseline_mpps) {
    return baseline_mpps > 0 ? r.mpps() / baseline_mpps : 1.0;
}

// The figures the attack-protection scenarios are for, from this run's results (null: not run
// or failed).
struct protection_figures {
    const result* syn = nullptr;     // syn_cookies
    const result* bucket = nullptr;  // established_bucket

    // SYN-ACKs per second: one per SYN (checked), so the rate of SYNs handled.
    double answers_mpps() const {
        return result::finite(double(syn->m.sent[client]) / syn->seconds() / 1e6);
    }
    // established_bucket without the limit (its `plain` slices), as result figures.
    double plain_ns() const {
        return result::finite(double(bucket->plain.loop_cycles) * 1e9 / bucket->tsc_hz /
                              double(bucket->plain.packets));
    }
    double plain_step_ns() const {
        return result::finite(double(bucket->plain.step_cycles) * 1e9 / bucket->tsc_hz /
                              double(bucket->plain.packets));
    }
    double bucket_step_ns() const {
        return bucket->step_cycles_per_packet() * 1e9 / bucket->tsc_hz;
    }
    // Only client→VIP packets take a token (about half of the frames; replies do not).
    double checked_share() const {
        return result::finite(double(bucket->m.injected[client]) / double(bucket->m.packets));
    }
    double per_checked(double per_packet) const {
        return checked_share() > 0 ? per_packet / checked_share() : 0.0;
    }
};

protection_figures protection_of(const std::vector<result>& results) {
    protection_figures p;
    for (const result& r : results) {
        if (!r.error.empty()) continue;
        if (r.sc->row->traffic == pattern::syn_flood) p.syn = &r;
        if (r.sc->row->packet_limit) p.bucket = &r;
    }
    return p;
}

void print_protection(const protection_figures& p, double baseline_mpps) {
    if (p.syn || p.bucket) std::printf("\n");
    if (p.syn)
        std::printf(
            "SYN proxy (syn_cookies): %.2f M SYN-ACKs/s on one core, %.1f ns and %.0f cycles "
            "per SYN (worker step: %.0f cycles), %.2f x baseline\n",
            p.answers_mpps(), p.syn->ns_per_packet(), p.syn->cycles_per_packet(),
            p.syn->step_cycles_per_packet(), vs_baseline(*p.syn, baseline_mpps));
    if (p.bucket)
        std::printf(
            "token bucket (established_bucket, %u alternating pairs of slices): without the limit "
            "%.2f ns/pkt (worker step %.2f), with it %.2f (%.2f); difference, median of the "
            "pairs: %+.2f ns/pkt (pairs from %+.2f to %+.2f; worker step %+.2f); per checked "
            "client->VIP packet (%.0f%% of them): %+.2f ns (%+.2f)\n",
            p.bucket->pairs, p.plain_ns(), p.plain_step_ns(), p.bucket->ns_per_packet(),
            p.bucket_step_ns(), p.bucket->bucket_ns, p.bucket->bucket_ns_min,
            p.bucket->bucket_ns_max, p.bucket->bucket_step_ns, p.checked_share() * 100,
            p.per_checked(p.bucket->bucket_ns), p.per_checked(p.bucket->bucket_step_ns));
}

// The scenario a variant's new flows/s are compared with (its row's ratio_to) in this run (null:
// not run or measured nothing; one that failed a check still serves, marked so).
const result* ratio_reference(const result& r, const std::vector<result>& results) {
    if (r.sc->ratio_to.empty()) return nullptr;
    for (const result& ref : results)
        if (ref.m.packets && ref.sc->name == r.sc->ratio_to) return &ref;
    return nullptr;
}

// A variant that opens new flows is compared by its new flows/s, one of established traffic by
// its packets/s.
bool by_new_flows(const result& r) {
    return r.sc->row->traffic == pattern::new_syns || r.sc->row->traffic == pattern::mixed;
}

// New flows/s (or packets/s) of a variant over its reference's (whole loop, worker step); 0 when
// either is missing.
std::pair<double, double> vs_reference(const result& r, const std::vector<result>& results) {
    const result* ref = ratio_reference(r, results);
    if (!ref || &r == ref || !r.error.empty()) return {0, 0};
    if (!by_new_flows(r))
        return {result::finite(r.mpps() / ref->mpps()),
                result::finite(r.step_mpps() / ref->step_mpps())};
    return {result::finite(r.flows_per_second() / ref->flows_per_second()),
            result::finite(r.step_flows_per_second() / ref->step_flows_per_second())};
}

void print_ratios(const std::vector<result>& results) {
    for (const result& r : results) {
        const auto [loop, step] = vs_reference(r, results);
        if (loop <= 0) continue;
        const result* ref = ratio_reference(r, results);
        const char* flagged = ref->error.empty() ? "" : " (that reference FAILED its checks)";
        if (by_new_flows(r)) {
            std::printf("%s: %.2fM new flows/s (worker step %.2fM) = %.3f x %s (step %.3f x)%s\n",
                        r.sc->name.c_str(), r.flows_per_second() / 1e6,
                        r.step_flows_per_second() / 1e6, loop, ref->sc->name.c_str(), step,
                        flagged);
            continue;
        }
        // Cycles per packet too: the step's difference is what the variant's path adds.
        std::printf(
            "%s: %.2f Mpps (worker step %.0f cycles/pkt) = %.3f x %s (step %.3f x, "
            "%+.0f cycles/pkt)%s\n",
            r.sc->name.c_str(), r.mpps(), r.step_cycles_per_packet(), loop, ref->sc->name.c_str(),
            step, r.step_cycles_per_packet() - ref->step_cycles_per_packet(), flagged);
    }
}

// Whole connections (tcp_cps): connections per second, and what each packet of a connection
// costs the worker step (its pass).
void print_connections(const std::vector<result>& results) {
    for (const result& r : results) {
        if (!r.connections || !r.error.empty()) continue;
        const double per_connection = double(r.m.loop_cycles) / double(r.connections);
        const double step_per_connection = double(r.m.step_cycles) / double(r.connections);
        std::printf(
            "\n%s: %.2fM connections/s on one core (worker step alone %.2fM), %u packets each, "
            "%.2f Mpps; %.0f cycles per connection (worker step %.0f)\n  worker step cycles per "
            "packet, by pass:",
            r.sc->name.c_str(), r.connections_per_second() / 1e6,
            r.step_connections_per_second() / 1e6, connection_packets, r.mpps(), per_connection,
            step_per_connection);
        for (unsigned k = 0; k < r.passes.size(); ++k)
            std::printf(" %s %.0f", connection_packet_name(k),
                        double(r.passes[k].step_cycles) / double(r.passes[k].packets));
        std::printf("\n");
    }
}

// Scaling rows (tcp_established_{flows}_w{N}) that ran without error, in the table's order
// (N = 1 first); each N's packets/s against the N = 1 row of this run.
struct scaling_point {
    unsigned workers = 0;
    double mpps = 0;
    std::vector<double> per_worker;  // frames fed to each worker's queue, Mpps
    double vs_one = 0;               // 0: no N = 1 row in this run
};

std::vector<scaling_point> scaling_of(const std::vector<result>& results) {
    std::vector<scaling_point> v;
    double one = 0;
    for (const result& r : results) {
        if (!r.sc->scaling() || !r.error.empty()) continue;
        scaling_point p{r.sc->workers, r.mpps(), {}, 0};
        for (unsigned w = 0; w < p.workers; ++w)
            p.per_worker.push_back(result::finite(double(r.m.by_worker[w]) / r.seconds() / 1e6));
        if (p.workers == 1) one = p.mpps;
        v.push_back(std::move(p));
    }
    for (auto& p : v) p.vs_one = one > 0 ? p.mpps / one : 0;
    return v;
}

// "scaling: N=1 x.xx Mpps, N=2 y.yy Mpps (z.zz x)" per N > 1 (perf/run.sh and the docs quote
// them), each with its workers' shares.
void print_scaling(const std::vector<scaling_point>& v) {
    if (v.empty()) return;
    std::printf("\nscaling across workers (worker 0 shares the main lcore with the feeder):\n");
    const scaling_point* one = v.front().workers == 1 ? &v.front() : nullptr;
    for (const auto& p : v) {
        std::string shares;
        for (double w : p.per_worker) shares += (shares.empty() ? "" : " / ") + fixed2(w);
        if (p.workers == 1 || !one) {
            std::printf("  N=%u %.2f Mpps (per worker %s)\n", p.workers, p.mpps, shares.c_str());
            continue;
        }
        std::printf("scaling: N=1 %.2f Mpps, N=%u %.2f Mpps (%.2f x); per worker %s Mpps\n",
                    one->mpps, p.workers, p.mpps, p.vs_one, shares.c_str());
    }
}

void write_json_scaling(FILE* f, const std::vector<scaling_point>& v) {
    std::fprintf(f, ",\n  \"scaling\": [");
    for (size_t i = 0; i < v.size(); ++i) {
        std::fprintf(f,
                     "%s\n    {\"workers\": %u, \"mpps\": %.4f, \"vs_one_worker\": %.4f, "
                     "\"per_worker_mpps\": [",
                     i ? "," : "", v[i].workers, v[i].mpps, v[i].vs_one);
        for (size_t w = 0; w < v[i].per_worker.size(); ++w)
            std::fprintf(f, "%s%.4f", w ? ", " : "", v[i].per_worker[w]);
        std::fprintf(f, "]}");
    }
    std::fprintf(f, "\n  ]");
}

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o;
}

void write_json_header(FILE* f, const options& o, const run_facts& facts) {
    std::fprintf(f,
                 "{\n  \"tool\": \"worker_bench\",\n  \"build_type\": \"%s\",\n  \"smoke\": %s,\n"
                 "  \"cpu_model\": \"%s\",\n  \"cpus\": %ld,\n  \"tsc_hz\": %llu,\n"
                 "  \"eal_memory_mb\": %llu,\n  \"page_bytes\": %llu,\n"
                 "  \"seconds_per_scenario\": %g,\n"
                 "  \"frame_bytes\": %u,\n  \"burst\": %u,\n  \"backends\": %u,\n"
                 "  \"flow_entry_bytes\": %zu,\n  \"results\": [",
                 SLUICE_BUILDTYPE, o.smoke ? "true" : "false", json_escape(facts.cpu_model).c_str(),
                 facts.cpus, static_cast<unsigned long long>(facts.tsc_hz),
                 static_cast<unsigned long long>(facts.eal_mb),
                 static_cast<unsigned long long>(facts.page_bytes), o.seconds, frame_len + 4u,
                 unsigned(burst), backend_count, flow_entry_bytes());
}

// Every row's connections figures (0 but for tcp_cps), and tcp_cps's passes.
void write_json_connections(FILE* f, const result& r) {
    std::fprintf(f,
                 ", \"connections\": %llu, \"connections_per_second\": %.0f, "
                 "\"worker_connections_per_second\": %.0f",
                 static_cast<unsigned long long>(r.connections), r.connections_per_second(),
                 r.connections ? r.step_connections_per_second() : 0.0);
    if (r.passes.empty()) return;
    std::fprintf(f, ", \"passes\": [");
    for (unsigned k = 0; k < r.passes.size(); ++k) {
        const measured& p = r.passes[k];
        std::fprintf(
            f,
            "%s{\"packet\": \"%s\", \"packets\": %llu, \"cycles_per_packet\": %.1f, "
            "\"worker_cycles_per_packet\": %.1f}",
            k ? ", " : "", connection_packet_name(k), static_cast<unsigned long long>(p.packets),
            double(p.loop_cycles) / double(p.packets), double(p.step_cycles) / double(p.packets));
    }
    std::fprintf(f, "]");
}

void write_json_result(FILE* f, const result& r, bool first, double baseline_mpps,
                       const std::vector<result>& results) {
    const scenario& s = *r.sc;
    const auto [loop, step] = vs_reference(r, results);
    const bool new_flows = by_new_flows(r);  // vs_tcp_new: new flows/s only (perf/run.sh)
    std::fprintf(f,
                 "%s\n    {\"name\": \"%s\", \"what\": \"%s\", \"flows\": %u, "
                 "\"capacity\": %u, \"bytes_per_flow\": %.1f, \"packets\": %llu, "
                 "\"seconds\": %.4f, \"setup_seconds\": %.2f, \"mpps\": %.4f, "
                 "\"ns_per_packet\": %.2f, \"cycles_per_packet\": %.1f, "
                 "\"worker_cycles_per_packet\": %.1f, \"worker_mpps\": %.4f, "
                 "\"new_flows\": %llu, \"flows_per_second\": %.0f, "
                 "\"worker_flows_per_second\": %.0f, \"vs_baseline\": %.4f, "
                 "\"cpu_share\": %.3f, \"vs_tcp_new\": %.4f, \"worker_vs_tcp_new\": %.4f, "
                 "\"ratio_to\": \"%s\", \"vs_ratio_to\": %.4f, \"worker_vs_ratio_to\": %.4f, "
                 "\"ok\": %s, \"error\": \"%s\"",
                 first ? "" : ",", s.name.c_str(), json_escape(s.what).c_str(), s.flows,
                 s.io_only() ? 0u : s.capacity, s.io_only() ? 0.0 : r.bytes_per_flow(),
                 static_cast<unsigned long long>(r.m.packets), r.seconds(), r.setup_seconds,
                 r.mpps(), r.ns_per_packet(), r.cycles_per_packet(), r.step_cycles_per_packet(),
                 r.step_mpps(), static_cast<unsigned long long>(r.new_flows), r.flows_per_second(),
                 r.new_flows ? r.step_flows_per_second() : 0.0, vs_baseline(r, baseline_mpps),
                 r.cpu_share(), new_flows ? loop : 0.0, new_flows ? step : 0.0, s.ratio_to.c_str(),
                 loop, step, r.error.empty() ? "true" : "false", json_escape(r.error).c_str());
    write_json_connections(f, r);
    if (s.scaling()) {
        std::fprintf(f, ", \"workers\": %u, \"per_worker_mpps\": [", s.workers);
        for (unsigned w = 0; w < s.workers; ++w)
            std::fprintf(f, "%s%.4f", w ? ", " : "",
                         result::finite(double(r.m.by_worker[w]) / r.seconds() / 1e6));
        std::fprintf(f, "]");
    }
    std::fprintf(f, "}");
}

void write_json_protection(FILE* f, const protection_figures& p, double baseline_mpps) {
    std::fprintf(f, ",\n  \"syn_cookies\": ");
    if (p.syn)
        std::fprintf(f,
                     "{\"syns\": %llu, \"syn_acks\": %llu, \"syn_frame_bytes\": %u, "
                     "\"sources\": %u, \"syn_acks_mpps\": %.4f, \"ns_per_syn\": %.2f, "
                     "\"cycles_per_syn\": %.1f, \"worker_cycles_per_syn\": %.1f, "
                     "\"vs_baseline\": %.4f}",
                     static_cast<unsigned long long>(p.syn->m.injected[client]),
                     static_cast<unsigned long long>(p.syn->m.sent[client]), syn_frame_len + 4u,
                     spoofed_sources, p.answers_mpps(), p.syn->ns_per_packet(),
                     p.syn->cycles_per_packet(), p.syn->step_cycles_per_packet(),
                     vs_baseline(*p.syn, baseline_mpps));
    else
        std::fprintf(f, "null");
    std::fprintf(f, ",\n  \"token_bucket\": ");
    if (p.bucket)
        std::fprintf(f,
                     "{\"scenario\": \"%s\", \"flows\": %u, \"pairs\": %u, "
                     "\"plain_ns_per_packet\": %.2f, \"bucket_ns_per_packet\": %.2f, "
                     "\"plain_worker_ns_per_packet\": %.2f, "
                     "\"bucket_worker_ns_per_packet\": %.2f, "
                     "\"ns_per_packet_difference\": %.2f, "
                     "\"ns_per_packet_difference_min\": %.2f, "
                     "\"ns_per_packet_difference_max\": %.2f, "
                     "\"worker_ns_per_packet_difference\": %.2f, \"checked_share\": %.3f, "
                     "\"ns_per_checked_packet_difference\": %.2f}",
                     p.bucket->sc->name.c_str(), p.bucket->sc->flows, p.bucket->pairs, p.plain_ns(),
                     p.bucket->ns_per_packet(), p.plain_step_ns(), p.bucket_step_ns(),
                     p.bucket->bucket_ns, p.bucket->bucket_ns_min, p.bucket->bucket_ns_max,
                     p.bucket->bucket_step_ns, p.checked_share(),
                     p.per_checked(p.bucket->bucket_ns));
    else
        std::fprintf(f, "null");
}

}  // namespace

run_facts describe_run(uint64_t tsc_hz, uint64_t eal_mb, uint64_t page_bytes) {
    return {cpu_model(), sysconf(_SC_NPROCESSORS_ONLN), tsc_hz, eal_mb, page_bytes};
}

void print_header(const run_facts& f) {
    std::printf(
        "worker_bench: %s build, %s, %ld CPUs, TSC %.3f GHz, EAL -m %llu on %s pages, "
        "%u-byte frames, bursts of %u, %u backends, flow entry %zu B\n",
        SLUICE_BUILDTYPE, f.cpu_model.c_str(), f.cpus, double(f.tsc_hz) / 1e9,
        static_cast<unsigned long long>(f.eal_mb), page_name(f.page_bytes).c_str(), frame_len + 4u,
        unsigned(burst), backend_count, flow_entry_bytes());
    std::printf(
        "Mpps, ns/pkt, cyc/pkt: the whole loop (harness + step), one core. step: "
        "cycles inside worker.poll_once()\n(baseline: inside rx_burst+tx_burst) per "
        "packet, and the rate that alone would allow. x base: Mpps / baseline Mpps. cpu: share of\n"
        "the wall time this thread ran (below ~95%%: the machine was busy, figures "
        "inflated).\n\n");
    std::printf("%-27s %6s %6s %5s %10s %6s %7s %7s %8s %9s %8s %8s %6s %5s\n", "scenario", "flows",
                "cap", "B/flw", "packets", "Mpps", "ns/pkt", "cyc/pkt", "step cyc", "step Mpps",
                "flows/s", "step f/s", "x base", "cpu");
}

void print_row(const result& r, double baseline_mpps) {
    const scenario& s = *r.sc;
    char flows_s[32] = "-", step_flows_s[32] = "-", bpf[32] = "-";
    if (r.new_flows) {
        std::snprintf(flows_s, sizeof flows_s, "%.2fM", r.flows_per_second() / 1e6);
        std::snprintf(step_flows_s, sizeof step_flows_s, "%.2fM", r.step_flows_per_second() / 1e6);
    }
    if (!s.io_only()) std::snprintf(bpf, sizeof bpf, "%.0f", r.bytes_per_flow());
    // tcp_cps opens one flow per connection: its flows/s are its connections/s.
    const std::string note = !r.error.empty() ? "FAILED: " + r.error
                             : r.connections  ? "(flows/s = connections/s)"
                                              : "";
    std::printf("%-27s %6s %6s %5s %10llu %6.2f %7.1f %7.0f %8.0f %9.2f %8s %8s %6.2f %4.0f%% %s\n",
                s.name.c_str(), s.io_only() ? "-" : count_name(s.flows).c_str(),
                s.io_only() ? "-" : binary_name(s.capacity).c_str(), bpf,
                static_cast<unsigned long long>(r.m.packets), r.mpps(), r.ns_per_packet(),
                r.cycles_per_packet(), r.step_cycles_per_packet(), r.step_mpps(), flows_s,
                step_flows_s, vs_baseline(r, baseline_mpps), r.cpu_share() * 100, note.c_str());
    std::fflush(stdout);
}

void print_skipped(const scenario& s) {
    std::printf("%-27s skipped: %s\n", s.name.c_str(), s.skipped.c_str());
}

void print_failed(const scenario& s, const std::string& error) {
    std::printf("%-27s FAILED: %s\n", s.name.c_str(), error.c_str());
}

void print_summary(const std::vector<scenario>& scenarios, const std::vector<result>& results,
                   double baseline_mpps) {
    print_protection(protection_of(results), baseline_mpps);
    print_ratios(results);
    print_connections(results);
    print_scaling(scaling_of(results));
    std::printf("\nscenarios:\n");
    for (const scenario& s : scenarios) std::printf("  %-27s %s\n", s.name.c_str(), s.what.c_str());
}

void write_json(const std::string& path, const std::vector<scenario>& scenarios,
                const std::vector<result>& results, double baseline_mpps, const options& o,
                const run_facts& facts) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    write_json_header(f, o, facts);
    bool first = true;
    for (const result& r : results) {
        write_json_result(f, r, first, baseline_mpps, results);
        first = false;
    }
    std::fprintf(f, "\n  ],\n  \"skipped\": [");
    first = true;
    for (const scenario& s : scenarios) {
        if (s.skipped.empty()) continue;
        std::fprintf(f, "%s\n    {\"name\": \"%s\", \"reason\": \"%s\"}", first ? "" : ",",
                     s.name.c_str(), json_escape(s.skipped).c_str());
        first = false;
    }
    std::fprintf(f, "\n  ]");
    write_json_protection(f, protection_of(results), baseline_mpps);
    write_json_scaling(f, scaling_of(results));
    std::fprintf(f, "\n}\n");
    std::fclose(f);
}

}  // namespace sluice::worker_bench

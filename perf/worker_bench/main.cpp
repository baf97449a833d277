// Benchmark of the real worker path: the runtime and worker that sluiced runs (src/dataplane), on
// one lcore, fed with synthetic frames (60 bytes, 64 on the wire with the FCS) through two net_ring
// ports, next to a baseline that moves the same frames RX→TX with no processing through the same
// harness (mbuf alloc, 64-byte copy, ring enqueue, TX ring dequeue, mbuf free).
//
// Property checked (every run; the perf_worker_smoke test runs --smoke): every injected packet is
// forwarded to the other port, none dropped, and every figure is finite and positive.
// Also checked: setup flows reach ESTABLISHED, each SYN creates exactly one flow, and with
// --smoke every output frame's family, addresses, MACs, TTL or hop limit and IPv4/L4 checksums
// (IPv6 rows: IPv6 out; NAT64/NAT46: the backends' family towards them, the clients' towards
// them; IPv6 to IPv6: the client's destination options kept). For the SYN proxy
// (syn_cookies): every SYN is answered by one SYN-ACK on the client port, nothing reaches the
// servers and no flow is created; with --smoke each SYN-ACK goes to its SYN's source with ack =
// ISN + 1, valid checksums and a cookie the proxy accepts. For whole connections (tcp_cps): each
// of the 7 passes forwards every packet to the other port, and every connection's flow ends in
// TIME_WAIT. Speeds are never checked: docs/performance.md has the figures.
//
//   build/perf/worker_bench [--smoke] [--seconds S] [--max-flows N] [--only a,b] [--json FILE]
//                           [--huge] [--huge-dir DIR] [--plan-memory] [--nic-checksums]
//
// The parts: scenarios.cpp (the scenario table), harness.cpp (EAL, ports, runtime), traffic.cpp
// (setup flows and prepared frames), measure.cpp (the measured loop), connections.cpp (tcp_cps's
// passes), run.cpp (one scenario and its checks), output_check.cpp (output frames), report.cpp
// (table, summaries, JSON) and bench_runtime.cpp (the only calls into src/). One thread, EAL's
// main lcore, except in the scaling rows' measured loops (tcp_established_1M_w{N}: workers
// 1..N-1 on lcores of their own, measure_workers.cpp; rows of more workers than usable CPUs,
// or than 4, are skipped).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "harness.hpp"
#include "report.hpp"
#include "result.hpp"
#include "scenarios.hpp"

using namespace sluice::worker_bench;

namespace {

int usage(const char* self) {
    std::fprintf(stderr,
                 "usage: %s [--smoke] [--seconds S] [--max-flows N] [--only NAME,NAME] "
                 "[--json FILE] [--huge] [--huge-dir DIR] [--plan-memory] [--nic-checksums]\n"
                 "  --smoke      tiny sizes, every output frame checked (the test suite)\n"
                 "  --seconds    measured time per established and syn_cookies scenario "
                 "(default 2)\n"
                 "  --max-flows  skip scenarios of more than N flows (default 10000000)\n"
                 "  --only       run only these scenarios (the baseline always runs)\n"
                 "  --huge       EAL memory on hugepages (reserved beforehand, a hugetlbfs "
                 "mount), not --no-huge\n"
                 "  --huge-dir   that mount (implies --huge; default: EAL finds one)\n"
                 "  --plan-memory  print the MiB of EAL memory this run needs, and exit\n"
                 "  --nic-checksums  mark injected mbufs checksum-good, as a NIC with RX "
                 "offload does\n",
                 self);
    return 2;
}

std::vector<std::string> split_commas(const std::string& list) {
    std::vector<std::string> v;
    for (size_t p = 0; p <= list.size();) {
        size_t q = list.find(',', p);
        if (q == std::string::npos) q = list.size();
        if (q > p) v.push_back(list.substr(p, q - p));
        p = q + 1;
    }
    return v;
}

// Parses the command line into `o`; false on a bad one (usage printed by the caller).
bool parse_options(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        try {
            if (a == "--smoke") {
                o.smoke = true;
            } else if (a == "--seconds") {
                o.seconds = std::stod(value());
            } else if (a == "--max-flows") {
                o.max_flows = std::stoull(value());
            } else if (a == "--json") {
                o.json = value();
            } else if (a == "--plan-memory") {
                o.plan_only = true;
            } else if (a == "--nic-checksums") {
                o.nic_checksums = true;
            } else if (a == "--huge") {
                o.huge = true;
            } else if (a == "--huge-dir") {
                o.huge = true;
                o.huge_dir = value();
            } else if (a == "--only") {
                for (auto& name : split_commas(value())) o.only.push_back(name);
            } else {
                return false;
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "worker_bench: %s\n", e.what());
            return false;
        }
    }
    return o.seconds > 0;
}

// A /proc/meminfo value: bytes for the lines in kB, a count for the others (HugePages_Free);
// 0 when missing.
uint64_t meminfo(const std::string& key) {
    std::ifstream f("/proc/meminfo");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind(key + ":", 0) != 0) continue;
        const uint64_t n = std::stoull(line.substr(key.size() + 1));
        return line.find(" kB") != std::string::npos ? n * 1024 : n;
    }
    return 0;
}

// Memory one scenario needs: the flow table in EAL memory, frames and per-flow state on the heap.
uint64_t eal_bytes(const scenario& s) {
    return flow_table_bytes(s.capacity) * s.workers;  // a table per worker
}
uint64_t heap_bytes(const scenario& s) {
    // The frame's slots, its port, and (two slots) its length.
    const uint64_t frame_bytes = 64 * s.frame_slots() + 1 + (s.frame_slots() > 1 ? 2 : 0);
    // tcp_cps: one pass's frames at a time, one per connection (`packets`).
    return uint64_t(s.packets) * frame_bytes + s.opened() * 4;
}

// EAL gets enough for the largest flow table plus pools; a scenario whose table and frames do
// not fit in the host's available memory (with 1 GiB to spare) is skipped. With --huge, EAL's
// part must fit in the free hugepages (of the default size: a --huge-dir of another size is not
// foreseen) and the rest in MemAvailable, which reserved hugepages do not count in. Returns
// EAL's MiB (perf/run.sh reserves hugepages from it: --plan-memory).
uint64_t plan_memory(std::vector<scenario>& scenarios, const options& o) {
    const uint64_t available = meminfo("MemAvailable");
    const uint64_t huge_free = meminfo("HugePages_Free") * meminfo("Hugepagesize");
    const uint64_t fixed = 256ull << 20;  // pools, rings, snapshots, EAL's own
    uint64_t largest = 0;
    for (auto& s : scenarios) {
        if (!s.skipped.empty()) continue;
        const uint64_t eal = eal_bytes(s) + fixed;
        // --plan-memory runs before the pages are reserved: they still count in MemAvailable.
        const uint64_t need = (o.huge && !o.plan_only ? 0 : eal) + heap_bytes(s) + (1ull << 30);
        if (available && need > available) {
            s.skipped = "needs " + std::to_string(need >> 20) + " MiB, MemAvailable is " +
                        std::to_string(available >> 20) + " MiB";
            continue;
        }
        if (o.huge && !o.plan_only && eal > huge_free) {
            s.skipped = "needs " + std::to_string(eal >> 20) + " MiB of hugepages, " +
                        std::to_string(huge_free >> 20) + " MiB free";
            continue;
        }
        largest = std::max(largest, eal_bytes(s));
    }
    return (largest + fixed) >> 20;
}

// EAL's lcores: one per worker of the largest scaling row that runs (1 without one).
unsigned lcores_needed(const std::vector<scenario>& scenarios) {
    unsigned n = 1;
    for (const auto& s : scenarios)
        if (s.skipped.empty()) n = std::max(n, s.workers);
    return n;
}

// Runs every scenario not skipped, printing each row as it finishes. Returns the exit status.
int run_all(harness& h, const std::vector<scenario>& scenarios, const options& o,
            std::vector<result>& results, double& baseline_mpps) {
    int rc = 0;
    for (const scenario& s : scenarios) {
        if (!s.skipped.empty()) {
            print_skipped(s);
            continue;
        }
        try {
            results.push_back(run_scenario(h, s, o));
        } catch (const std::exception& e) {
            result r;
            r.sc = &s;
            r.tsc_hz = double(h.tsc_hz);
            r.error = e.what();
            print_failed(s, r.error);
            stop_runtime(h);  // also removes ring ports a failed start left behind
            results.push_back(r);
            rc = 1;
            continue;
        }
        const result& r = results.back();
        if (s.io_only()) baseline_mpps = r.mpps();
        print_row(r, baseline_mpps);
        if (!r.error.empty()) rc = 1;
    }
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    if (!parse_options(argc, argv, o)) return usage(argv[0]);
    std::vector<scenario> scenarios = plan(o);
    const uint64_t eal_mb = plan_memory(scenarios, o);
    if (o.plan_only) {
        std::printf("%llu\n", static_cast<unsigned long long>(eal_mb));
        return 0;
    }

    quiet_runtime_logs();
    harness h;
    if (!start_eal(h, {eal_mb, o.huge, o.huge_dir}, lcores_needed(scenarios))) return 1;
    h.check.verify = o.smoke;
    if (o.nic_checksums) h.rx_ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
    const run_facts facts = describe_run(h.tsc_hz, eal_mb, h.page_bytes);
    print_header(facts);
    if (o.nic_checksums)
        std::printf(
            "--nic-checksums: injected mbufs marked IP and L4 checksum good "
            "(no software IPv4 header check)\n\n");

    std::vector<result> results;
    double baseline_mpps = 0;
    const int rc = run_all(h, scenarios, o, results, baseline_mpps);
    print_summary(scenarios, results, baseline_mpps);
    if (!o.json.empty()) write_json(o.json, scenarios, results, baseline_mpps, o, facts);
    stop_eal(h);
    std::printf("%s\n", rc ? "worker_bench: FAILED" : "worker_bench: all checks passed");
    return rc;
}

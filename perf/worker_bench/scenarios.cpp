// The scenario table (see scenarios.hpp). Capacities leave room for 12.5% more than the flows a
// scenario opens, rounded up to a power of two (the index is a power of two of buckets anyway),
// but never below 4096; early_drop's table is 1/16 of its SYNs (at least 1024).
#include "scenarios.hpp"

#include <sched.h>

#include <algorithm>
#include <iterator>

#include "addresses.hpp"

namespace sluice::worker_bench {

namespace {

constexpr uint32_t mi = 1u << 20;

const scenario_row table[] = {
    {.name = "baseline",
     .what = "I/O only: the same harness, frames moved RX→TX by the ring PMD",
     .traffic = pattern::io_only,
     .step = step_kind::io_forward,
     .output = expect::unchanged,
     .full = {0, mi, 4096},
     .smoke = {0, 4096, 4096},
     .ratio_to = ""},
    {.name = "tcp_established_{flows}",
     .what = "ACK+data (6 B) both directions, random flows of {flows} established",
     .traffic = pattern::established,
     .full = {1000, 65536, 4096},
     .smoke = {256, 4096, 4096}},
    // The same flows and frames, in slices alternately without and with a packet limit every
    // packet passes: the difference is the cost of a token bucket check in the real path.
    {.name = "established_bucket",
     .what = "as tcp_established_{flows}, alternately without and with [vip.limits] "
             "packets_per_second = 1e9 (all pass); row: with",
     .traffic = pattern::established,
     .full = {1000, 65536, 4096},
     .smoke = {256, 4096, 4096},
     .packet_limit = 1000000000},
    {.name = "tcp_established_{flows}",
     .what = "ACK+data (6 B) both directions, random flows of {flows} established",
     .traffic = pattern::established,
     .full = {100000, 100000, 131072}},
    {.name = "tcp_established_{flows}",
     .what = "ACK+data (6 B) both directions, random flows of {flows} established",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi}},
    {.name = "tcp_established_{flows}",
     .what = "ACK+data (6 B) both directions, random flows of {flows} established",
     .traffic = pattern::established,
     .full = {10000000, 2 * mi, 16 * mi}},
    {.name = "tcp_new_{packets}",
     .what = "SYNs of new flows (miss, rr, local port, insert, rewrite) into an empty table",
     .traffic = pattern::new_syns,
     .full = {0, 1000000, 2 * mi},
     .smoke = {0, 2048, 4096},
     .single_pass = true},
    {.name = "tcp_new_{packets}_pool16",
     .what = "as tcp_new, the servers port with 16 local addresses (local_addresses, a /28)",
     .traffic = pattern::new_syns,
     .full = {0, 1000000, 2 * mi},
     .smoke = {0, 2048, 4096},
     .single_pass = true,
     .local_addresses = 16,
     .ratio_to = "tcp_new_{packets}"},
    {.name = "tcp_new_{packets}_early_drop",
     .what = "as tcp_new into a table of {capacity}: past it each SYN evicts a half-open flow "
             "(early drop, RST to its backend)",
     .traffic = pattern::new_syns,
     .full = {0, 1000000, 62500},
     .smoke = {0, 2048, 1024},
     .single_pass = true,
     .early_drop = true,
     .ratio_to = "tcp_new_{packets}"},
    // Room for the established flows and the new ones (10% of the packets, +2% slack).
    {.name = "tcp_mixed_{flows}",
     .what = "90% data on {flows} established flows, 10% SYNs of new",
     .traffic = pattern::mixed,
     .full = {1000000, 2000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .single_pass = true,
     .syn_one_in = 10},
    // CSIT's CPS: a connection is SYN, SYN-ACK, ACK+request, response, FIN, FIN-ACK, ACK, all
    // through the worker. Measured in 7 single passes, one per packet kind over all connections:
    // every later packet names the local port the SYN's pass chose (learnt from its output).
    {.name = "tcp_cps_{packets}",
     .what = "{packets} whole TCP connections of 7 packets (SYN, SYN-ACK, ACK+request, response, "
             "FIN, FIN-ACK, ACK), one pass per packet",
     .traffic = pattern::connections,
     .full = {0, 1000000, 2 * mi},
     .smoke = {0, 2048, 4096},
     .single_pass = true},
    {.name = "udp_established_{flows}",
     .what = "18 B datagrams both directions, random flows of {flows}",
     .traffic = pattern::established,
     .protocol = 17,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096}},
    // The established rows of the other families: the same flows and frames (80 bytes for IPv6,
    // one slot more to copy than IPv4's 60), each against the IPv4 row of its size in this run.
    {.name = "tcp6_established_{flows}",
     .what = "as tcp_established_{flows} over IPv6: IPv6 VIP, backends and full-NAT source",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .family = families::v6,
     .ratio_to = "tcp_established_{flows}"},
    {.name = "udp6_established_{flows}",
     .what = "as udp_established_{flows} over IPv6",
     .traffic = pattern::established,
     .protocol = 17,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .family = families::v6,
     .ratio_to = "udp_established_{flows}"},
    // Every packet translated (RFC 7915): client IPv6 in, IPv4 to the backend, and back.
    {.name = "tcp_nat64_established_{flows}",
     .what = "as tcp_established_{flows}, IPv6 VIP and clients, IPv4 backends (NAT64)",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .family = families::nat64,
     .ratio_to = "tcp_established_{flows}"},
    {.name = "udp_nat64_established_{flows}",
     .what = "as udp_established_{flows}, IPv6 VIP and clients, IPv4 backends (NAT64)",
     .traffic = pattern::established,
     .protocol = 17,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .family = families::nat64,
     .ratio_to = "udp_established_{flows}"},
    {.name = "tcp_nat46_established_{flows}",
     .what = "as tcp_established_{flows}, IPv4 VIP and clients, IPv6 backends (NAT46)",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .family = families::nat46,
     .ratio_to = "tcp_established_{flows}"},
    // Only client packets carry it (the LB forwards it to the backend; replies have none).
    {.name = "tcp6_dstopt_established_{flows}",
     .what = "as tcp6_established_{flows}, an 8-byte destination options header in every "
             "client packet",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .family = families::v6,
     .dest_options = true,
     .ratio_to = "tcp6_established_{flows}"},
    // Scaling across workers: the flows and frames of tcp_established_1M, spread over N workers
    // (the feeder puts each frame on its flow's owner's queue, as RSS and the runtime's
    // steering would); each row against the N = 1 row of this run (report.cpp: scaling).
    {.name = "tcp_established_{flows}_w1",
     .what = "as tcp_established_{flows}, 1 worker on 1 lcore, each its own queues",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .workers = 1},
    {.name = "tcp_established_{flows}_w2",
     .what = "as tcp_established_{flows}, 2 workers on 2 lcores, each its own queues",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {256, 4096, 4096},
     .workers = 2},
    {.name = "tcp_established_{flows}_w3",
     .what = "as tcp_established_{flows}, 3 workers on 3 lcores, each its own queues",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {},
     .workers = 3},
    {.name = "tcp_established_{flows}_w4",
     .what = "as tcp_established_{flows}, 4 workers on 4 lcores, each its own queues",
     .traffic = pattern::established,
     .full = {1000000, 1000000, 2 * mi},
     .smoke = {},
     .workers = 4},
    // Every source once per pass; the proxy keeps nothing, so later passes are new SYNs too.
    {.name = "syn_cookies",
     .what = "SYNs (MSS, SACK, TS, WS) from {sources} spoofed sources to a syn_proxy = \"on\" "
             "VIP: cookie SYN-ACKs",
     .traffic = pattern::syn_flood,
     .output = expect::syn_ack,
     .full = {0, spoofed_sources, 4096},
     .smoke = {0, spoofed_sources, 4096},
     .syn_proxy = true},
};

// Fills in {flows}, {packets}, {capacity} and {sources}.
std::string expand(const char* text, const sizes& s) {
    std::string t = text;
    const std::pair<const char*, std::string> keys[] = {
        {"{flows}", count_name(s.flows)},
        {"{packets}", count_name(s.packets)},
        {"{capacity}", binary_name(s.capacity)},
        {"{sources}", binary_name(spoofed_sources)}};
    for (const auto& [key, value] : keys)
        for (size_t p; (p = t.find(key)) != std::string::npos;)
            t.replace(p, std::char_traits<char>::length(key), value);
    return t;
}

}  // namespace

std::vector<scenario> plan(const options& o) {
    std::vector<scenario> v;
    for (const scenario_row& row : table) {
        const sizes& s = o.smoke ? row.smoke : row.full;
        if (!s.packets) continue;
        scenario sc{&row,    expand(row.name, s), expand(row.what, s), expand(row.ratio_to, s),
                    s.flows, s.packets,           s.capacity,          ""};
        if (row.workers) sc.workers = row.workers;
        if (sc.opened() > o.max_flows) sc.skipped = "above --max-flows";
        if (sc.workers > std::min(usable_cpus(), max_bench_workers))
            sc.skipped = "needs " + std::to_string(sc.workers) + " CPUs, " +
                         std::to_string(usable_cpus()) + " usable (at most " +
                         std::to_string(max_bench_workers) + ")";
        if (!o.only.empty() && !sc.io_only() &&
            std::find(o.only.begin(), o.only.end(), sc.name) == o.only.end())
            sc.skipped = "not in --only";
        v.push_back(std::move(sc));
    }
    return v;
}

unsigned usable_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    return unsigned(std::max(1, CPU_COUNT(&set)));
}

std::string binary_name(uint64_t n) {
    if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + "Mi";
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + "Ki";
    return std::to_string(n);
}

std::string count_name(uint64_t n) {
    if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
    if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
    return std::to_string(n);
}

}  // namespace sluice::worker_bench

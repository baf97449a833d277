// The benchmark's scenarios as data: one row per scenario (scenarios.cpp), materialised for a
// run by plan(). Nothing here touches DPDK or the runtime; benchmark thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::worker_bench {

// How a scenario's prepared packets are made (traffic.cpp).
enum class pattern : uint8_t {
    io_only,      // frames of one made-up flow: the step only moves them, nothing looks at them
    established,  // ACK+data (TCP) or datagrams (UDP) on random established flows, both ways
    new_syns,     // one SYN per new flow, into an empty table
    mixed,        // data on random established flows, one packet in `syn_one_in` a new flow's SYN
    syn_flood,    // SYNs with options from the spoofed sources, to a syn_proxy = "on" VIP
    // Whole TCP connections of 7 packets (connections.cpp), one pass per packet of the
    // connection: `packets` is the number of connections.
    connections,
};

// The measured step after each burst: the worker, or testpmd-style io forwarding (baseline).
enum class step_kind : uint8_t { io_forward, worker };

// What the measured loop's output frames must look like (checked with --smoke): unchanged
// (baseline), rewritten by the full-NAT path, or the SYN proxy's answers.
enum class expect : uint8_t { unchanged, nat, syn_ack };

// The address families of a scenario: its clients and VIP, then its backends (and full-NAT
// source). Of two families (NAT64, NAT46) the worker translates every packet (RFC 7915).
enum class families : uint8_t { v4, v6, nat64, nat46 };
inline bool client_v6(families f) {
    return f == families::v6 || f == families::nat64;
}
inline bool backend_v6(families f) {
    return f == families::v6 || f == families::nat46;
}

struct sizes {
    uint32_t flows = 0;     // established before the measurement
    uint32_t packets = 0;   // prepared frames (one pass for single_pass scenarios)
    uint32_t capacity = 0;  // flows.capacity of the scenario's runtime
};

// One row of the table. Names and descriptions may hold {flows} and {packets} (as 1k, 1M),
// {capacity} (as 4Ki, 2Mi) and {sources} (the spoofed sources, as 64Ki).
struct scenario_row {
    const char* name;
    const char* what;  // what it measures: the one line printed with the results
    pattern traffic;
    step_kind step = step_kind::worker;
    expect output = expect::nat;
    uint8_t protocol = 6;
    sizes full = {};
    sizes smoke = {};  // --smoke (tiny) sizes; packets 0: not part of the smoke run
    // One pass over the prepared frames (a SYN opens its flow once); otherwise the frames are
    // cycled through for --seconds (smoke: one pass).
    bool single_pass = false;
    uint32_t syn_one_in = 0;  // mixed: one packet in this many is a new flow's SYN
    bool syn_proxy = false;   // the tcp VIP's syn_proxy = "on" (and the spoofed sources' route)
    // The tcp VIP's [vip.limits] packets_per_second (0: no limits, no guard), set so high that
    // every packet passes: measured in alternating slices without and with it (a reload between).
    uint64_t packet_limit = 0;
    uint32_t local_addresses = 1;  // full-NAT source addresses on the servers port (1 or 16)
    // The table holds fewer flows than the SYNs open: past it each SYN evicts a half-open flow
    // (the worker sends the evicted flow's backend an RST).
    bool early_drop = false;
    families family = families::v4;
    // Every client frame carries an 8-byte destination options header (IPv6 clients only): the
    // parser's walk over it is what the row adds.
    bool dest_options = false;
    // Every row is compared with the baseline (x base); a variant also with this scenario (its
    // new flows/s as a ratio, or its packets/s when neither opens flows), "" for none.
    const char* ratio_to = "";
    // Scaling rows (tcp_established_{flows}_w{workers}): `workers` workers, each polling its own
    // RX/TX queue pair of both ports; worker 0 runs inline on the main lcore with the feeder,
    // the others on their own lcores (measure_workers.cpp). 0: the single-worker path of every
    // other row.
    uint8_t workers = 0;
};

struct options {
    bool smoke = false;
    double seconds = 2.0;
    uint64_t max_flows = 10000000;
    std::string json;
    std::vector<std::string> only;
    bool huge = false;       // EAL on hugepages (--huge), not --no-huge
    std::string huge_dir;    // --huge-dir: the hugetlbfs mount to use
    bool plan_only = false;  // --plan-memory: print EAL's MiB, run nothing
    // --nic-checksums: injected mbufs carry RX_IP_CKSUM_GOOD | RX_L4_CKSUM_GOOD, as from a NIC
    // with RX checksum offload (the worker then skips its software IPv4 header check).
    bool nic_checksums = false;
};

// A row as this run has it: sizes of the run (full or smoke), names filled in.
struct scenario {
    const scenario_row* row;
    std::string name;
    std::string what;
    std::string ratio_to;
    uint32_t flows = 0;
    uint32_t packets = 0;
    uint32_t capacity = 0;
    std::string skipped;   // why it does not run, when it does not
    unsigned workers = 1;  // the runtime's workers (scaling rows: the row's; otherwise 1)
    bool scaling() const { return row->workers != 0; }

    bool io_only() const { return row->traffic == pattern::io_only; }
    // 64-byte slots of one prepared frame (2 for the 74-byte SYNs with options and for the
    // 80-byte IPv6 frames).
    unsigned frame_slots() const {
        return row->traffic == pattern::syn_flood || row->family != families::v4 ? 2 : 1;
    }
    // Flows in the table before the measurement, or opened by it (new flows).
    uint64_t opened() const {
        const bool opens =
            row->traffic == pattern::new_syns || row->traffic == pattern::connections;
        return opens ? packets : flows;
    }
};

// The scenarios of this run, in the table's order; skipped ones say why (--max-flows, --only,
// a scaling row of more workers than usable CPUs or max_bench_workers; the baseline always runs).
std::vector<scenario> plan(const options& o);

// The most workers a scaling row runs (its queues per port, EAL's lcores).
inline constexpr unsigned max_bench_workers = 4;
// CPUs this process may run on (its affinity mask).
unsigned usable_cpus();

std::string count_name(uint64_t n);   // 1000 → 1k, 1000000 → 1M
std::string binary_name(uint64_t n);  // 4096 → 4Ki, 2097152 → 2Mi

}  // namespace sluice::worker_bench

// The one place the benchmark calls into src/ (runtime, worker, config, flow table, SYN cookies,
// logging): everything else in perf/worker_bench/ sees only these types, so an API change under
// src/dataplane touches bench_runtime.cpp alone. All of it runs on the benchmark's main thread,
// which is EAL's main lcore, the runtime's control thread and its worker 0; a scaling row's
// workers 1..N-1 run on their own lcores between launch_others() and stop_others() only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"

namespace sluice::config {
struct config;
}
namespace sluice::dataplane {
class runtime;
class worker;
}  // namespace sluice::dataplane

namespace sluice::worker_bench {

// A parsed configuration (TOML text of the benchmark): parsed once, then started or reloaded.
class parsed_config {
public:
    explicit parsed_config(const std::string& toml);  // throws on a bad configuration
    ~parsed_config();
    parsed_config(parsed_config&&) noexcept;
    const config::config& get() const { return *config_; }

private:
    std::unique_ptr<config::config> config_;
};

struct port_facts {
    uint8_t mac[6];
    uint16_t dpdk_port;
};

// The tcp VIP's protection as the running snapshot has it (the scenario checks that what it
// measures is really switched on).
struct vip_protection_facts {
    bool guard;              // the VIP's guard is set up
    bool packets_unlimited;  // no packets_per_second bucket
    bool syn_proxy_on;
};

// The worker's counters a scenario compares before and after its measurement.
struct worker_counts {
    uint64_t drops = 0;  // every drop counter summed
    uint64_t flows_created = 0;
    uint64_t syn_cookies_sent = 0;
    uint64_t resets_sent = 0;
    uint64_t flows_early_dropped = 0;
};

// The flows in the table by TCP state (tcp_cps checks its connections ended in TIME_WAIT).
struct flow_states {
    uint64_t syn_sent = 0, syn_recv = 0, established = 0, fin_wait = 0, time_wait = 0, close = 0;
    uint64_t not_tcp = 0;
};

// What the SYN proxy would make of the client's ACK answering one SYN-ACK.
struct cookie_verdict {
    bool valid = false;    // the SYN-ACK's sequence number is a cookie the proxy accepts
    uint16_t mss = 0;      // the MSS the cookie encodes
    uint8_t wscale = 0;    // the client's window scale, from the SYN-ACK's TSval
    bool sack_ok = false;  // the client's SACK_PERM, from the TSval
};

// The runtime of one scenario (its workers; worker 0 on this lcore) with its ports started.
class bench_runtime {
public:
    explicit bench_runtime(const parsed_config& cfg);
    ~bench_runtime();  // stops the other workers' lcores first, when launched

    port_facts port(unsigned index) const;
    vip_protection_facts tcp_vip_protection() const;

    // One pass of each worker this thread runs: the measured step. Worker 0 only while the
    // others run on their lcores; every worker, one after the other, otherwise (setup).
    unsigned poll_once();
    unsigned workers() const;
    // Workers 1..N-1 on lcores 1..N-1 (worker::lcore_main, spinning on their queues), and back:
    // a stop command to every worker, the lcores waited for. Main lcore.
    void launch_others();
    void stop_others();
    void control_poll();
    bool neighbors_ready() const;
    std::string unresolved_neighbors() const;
    result<> reload(const parsed_config& next);

    worker_counts counts() const;
    size_t flows_in_table() const;
    uint64_t active_flows(size_t vip) const;  // TCP established flows over the VIP's backends
    flow_states states() const;               // a walk over the whole table: not per packet
    // Checks the cookie of a SYN-ACK to `client`:`client_port` for the SYN with `client_isn`.
    cookie_verdict check_cookie(uint32_t client, uint16_t client_port, uint32_t client_isn,
                                uint32_t syn_ack_seq, uint32_t syn_ack_tsval) const;

private:
    std::unique_ptr<dataplane::runtime> runtime_;
    dataplane::worker* worker_;
    unsigned inline_workers_ = 1;  // workers poll_once runs: all, or 1 while the others run
    bool others_running_ = false;
};

// Flow table memory for `capacity` flows (EAL memory: the memory plan, B/flow).
uint64_t flow_table_bytes(uint32_t capacity);
size_t flow_entry_bytes();
// The private area the runtime expects in every mbuf it receives.
uint16_t mbuf_private_bytes();
// Runtime logs from warnings up only (the benchmark's own output stays readable).
void quiet_runtime_logs();

}  // namespace sluice::worker_bench

#pragma once
// Health of every backend: when to probe it, what the results say (rise/fall), and what the data
// path reported (passive detection). The control thread calls set_targets() at start and on
// every reload, poll() from its loop (about every 200 µs), and passive_failure()/passive_success()
// when workers report connect outcomes; it applies the returned transitions to the next snapshot.
// Control thread only; not thread-safe. Times are the caller's monotonic nanoseconds.
#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "health/health_state.hpp"
#include "health/probe_engine.hpp"
#include "sluice/config.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::health {

// One backend to watch.
struct target {
    uint32_t id = 0;  // stable backend id (control::backend_registry); unique among targets
    ip_address address;
    uint16_t port = 0;                  // the backend's port; check.port overrides when not 0
    config::health_check_config check;  // the effective probe (backend_config::health)
    uint32_t passive_failures = 0;      // consecutive failed connects that mark it down; 0 = off
};

// A backend's state changed.
struct transition {
    uint32_t id = 0;
    bool up = false;  // the new state
    // "3 consecutive failures, last: connection refused", "2 consecutive successes",
    // "passive: 5 consecutive failed connects", "health checks off (type \"none\")"
    std::string reason;
    uint64_t at_ns = 0;
};

// What sluicectl and the metrics show for one backend.
struct target_status {
    bool up = true;
    bool probed = false;  // type is not "none"
    std::optional<result_kind> last_result;
    std::string last_detail;  // "HTTP 503", "connection refused", ...
    uint16_t last_http_status = 0;
    uint64_t last_latency_ns = 0;
    uint64_t last_check_ns = 0;  // when the last result came; 0 = none yet
    uint32_t consecutive_successes = 0;
    uint32_t consecutive_failures = 0;
    uint32_t consecutive_passive_failures = 0;
    std::array<uint64_t, result_kind_count> checks{};  // results so far, indexed by result_kind
    uint64_t state_changes = 0;
    uint64_t last_change_ns = 0;  // 0 = never changed
};

class health_monitor {
public:
    // `engine` runs the probes and must outlive the monitor. `seed` makes the initial jitter
    // reproducible.
    health_monitor(prober& engine, uint64_t seed);
    ~health_monitor();
    health_monitor(const health_monitor&) = delete;
    health_monitor& operator=(const health_monitor&) = delete;

    // The backends to watch (start, reload). Ids that stay keep their state, counters and
    // schedule; a changed probe (address, port, type, timing, HTTP request) cancels the one in
    // flight. New ids start in check.initial_state with their first probe within the first
    // interval (at a random point when check.initial_jitter, else at once). Ids not listed are
    // forgotten. Type "none" targets are up and never probed; switching a down target to "none"
    // is a transition to up. A repeated id is ignored after its first entry.
    void set_targets(const std::vector<target>& targets, uint64_t now_ns);

    // Collects finished probes, starts due ones; never blocks. Returns the state changes since
    // the last call, including passive ones, in the order they happened.
    std::vector<transition> poll(uint64_t now_ns);

    // The data path saw a connect to this backend fail (a forwarded SYN without SYN-ACK within
    // passive_connect_timeout, or an RST). `passive_failures` in a row mark it down until probes
    // pass `rise` times. Ignored for unknown ids, type "none" and passive_failures = 0.
    void passive_failure(uint32_t id, uint64_t now_ns);
    // A connect to this backend succeeded: the run of passive failures is over.
    void passive_success(uint32_t id);

    std::optional<target_status> status(uint32_t id) const;
    bool is_up(uint32_t id) const;  // false for unknown ids
    size_t size() const { return entries_.size(); }

private:
    struct entry {
        target spec;
        probe_request request;  // prebuilt from spec
        health_state state;
        target_status shown;
        uint64_t next_probe_ns = 0;
        uint64_t in_flight_key = 0;  // 0 = none
        uint32_t passive_run = 0;
    };

    void schedule_first(entry& e, uint64_t now_ns);
    void start_probe(entry& e, uint64_t now_ns);
    void on_result(entry& e, const probe_result& result);
    void change(entry& e, std::string reason, uint64_t now_ns);

    prober* engine_;
    std::mt19937_64 rng_;
    uint64_t next_probe_serial_ = 1;  // upper 32 bits of probe keys; the lower are the id
    std::unordered_map<uint32_t, entry> entries_;
    std::vector<transition> pending_;
};

}  // namespace sluice::health

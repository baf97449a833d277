#pragma once
// What the status page (/status, /status.json) shows: every VIP with its backends' operator
// state, health, weight, connections and traffic, the drops by reason, SYN-proxy state and flow
// table occupancy. Pure data: control::build_status fills it on the control thread from the
// control plane and the data plane's read side; status_rates adds the per-second rates;
// status_json and status_page format it without touching the data plane.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/counters.hpp"

namespace sluice::metrics {

// Per-second rates from counter deltas between two samples (status_rates.hpp); absent until two
// samples at least a second apart exist, or when a counter went backwards (a backend re-added).
struct status_rates_of {
    std::optional<double> connections;  // new connections/s
    std::optional<double> packets;      // packets/s, both directions
    std::optional<double> bytes;        // bytes/s, both directions
};

struct status_backend {
    std::string backend;               // "ADDR:PORT" or "[IPV6]:PORT"
    std::string state;                 // up | draining | drained | disabled | removing
    uint32_t weight = 0;               // in force (0 while draining, disabled, removing)
    uint32_t configured_weight = 0;    // from the file or `set weight`
    std::string health = "unchecked";  // up | down | unchecked (no probes)
    std::string last_result;           // last probe's result (ok, refused, …); "" = none yet
    std::string last_detail;           // "HTTP 503", "connection refused", …
    std::optional<double> last_check_ago_s;
    uint64_t active = 0;                     // ESTABLISHED flows
    uint64_t inactive = 0;                   // flows in other states (UDP included)
    std::optional<double> drain_reset_in_s;  // drain --timeout: flows reset in this many seconds
    backend_values traffic;                  // connections_total, packets/bytes to/from backend
    status_rates_of rates;
};

struct status_vip {
    std::string name;
    std::string address;
    uint16_t port = 0;
    std::string protocol;            // tcp | udp
    std::string scheduler;           // rr | wrr | lc | maglev | …
    std::string syn_proxy = "off";   // off | on | auto
    uint64_t syn_proxy_engaged = 0;  // workers answering SYNs with cookies now
    std::vector<std::pair<std::string, uint64_t>> refused;  // protection refusals by reason
    std::vector<std::pair<std::string, uint64_t>> drops;    // packets to it dropped, by reason
    std::vector<status_backend> backends;
    status_rates_of rates;  // the sum over its backends (absent when one of theirs is)
};

struct status_drop {
    std::string reason;  // drop_reason name, e.g. "no_backend"
    uint64_t count = 0;
    std::optional<double> per_second;
};

struct status_view {
    std::string version;      // Sluice's version
    uint64_t uptime_s = 0;    // since the daemon started
    uint64_t generation = 0;  // snapshot generation
    unsigned workers = 0;
    uint64_t flows_active = 0;         // flows in all workers' tables
    uint64_t flow_table_capacity = 0;  // flows all workers can hold
    worker_values totals;              // the workers' counters summed
    std::vector<status_drop> drops;    // every reason that counted something
    std::vector<status_vip> vips;
    // Rates of the totals: received and transmitted packets and bytes, new flows.
    std::optional<double> rx_packets_per_second, tx_packets_per_second;
    std::optional<double> rx_bytes_per_second, tx_bytes_per_second;
    std::optional<double> flows_per_second;
    std::optional<double> rate_interval_s;  // the window the rates cover
};

// What a backend's row shows at a glance, as its CSS class `state-…`: the operator's state when
// it is not up (draining, drained, disabled, removing), else the health: down when probes (or
// passive detection) failed, up otherwise (unchecked backends are up).
inline std::string_view display_state(const status_backend& b) {
    if (b.state != "up") return b.state;
    return b.health == "down" ? std::string_view("down") : std::string_view("up");
}

}  // namespace sluice::metrics

#pragma once
// A VIP's attack protection as the workers see it ([vip.limits], [[vip.rule]], half-open limits):
// immutable parameters in the snapshot (vip_protection) plus per-worker mutable state
// (guard_worker) that outlives snapshots. The control thread builds both; a reload that keeps a
// VIP's rules and source-table size hands the same vip_guard to the next snapshot, so buckets,
// source tables and counters carry over. Each guard_worker is written by its worker only; its
// counters are read by the control thread (relaxed atomics).
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protect/rule_set.hpp"
#include "protect/source_limiter.hpp"
#include "protect/token_bucket.hpp"
#include "sluice/config.hpp"

namespace sluice::model {

// Why a new connection or packet of a protected VIP was refused; one counter each.
#define SLUICE_REFUSALS(X)                                                    \
    X(vip_connections)    /* [vip.limits] new_connections exhausted */        \
    X(source_connections) /* the client's source_new_connections exhausted */ \
    X(packets)            /* [vip.limits] packets exhausted */                \
    X(half_open)          /* max_half_open of the VIP reached */              \
    X(rule)               /* the first payload matched a drop or reset rule */

enum class refusal : uint8_t {
#define SLUICE_X(name) name,
    SLUICE_REFUSALS(SLUICE_X)
#undef SLUICE_X
        count
};
inline constexpr unsigned refusal_count = unsigned(refusal::count);
const char* refusal_name(refusal r);

// One worker's state for one VIP. Worker-owned; control reads the counters.
struct alignas(64) guard_worker {
    protect::bucket_state new_connections;
    protect::bucket_state packets;
    std::optional<protect::source_limiter> sources;  // when a per-source limit is configured
    protect::rule_scratch scratch;                   // fitted to the guard's rule set
    std::atomic<uint64_t> refused[refusal_count]{};
    std::unique_ptr<std::atomic<uint64_t>[]> rule_matches;  // per rule, in rule order
    // syn_proxy = "auto": SYNs seen in the current tick, and whether this worker answers with
    // cookies now (control reads it for logs and metrics).
    uint32_t syn_tick = 0;
    uint32_t syns = 0;
    std::atomic<bool> proxy_engaged{false};
    std::atomic<uint64_t> proxy_engagements{0};  // off -> engaged transitions
};

// Per VIP, shared by the snapshots that keep the same rules and table size.
struct vip_guard {
    std::vector<config::payload_rule_config> rule_config;  // what `rules` was compiled from
    uint32_t inspect_bytes = 0;
    uint32_t source_table_size = 0;  // 0 = no per-source table
    protect::rule_set rules;
    std::vector<std::unique_ptr<guard_worker>> workers;  // by worker index
};

// The immutable half, in model::vip_entry. Per-worker rates are already split (rate / N).
struct vip_protection {
    protect::bucket_params new_connections;
    protect::bucket_params packets;
    protect::bucket_params source_new_connections;
    config::protect_action action = config::protect_action::drop;
    uint32_t max_half_open = 0;              // VIP-wide, summed over workers; 0 = unlimited
    uint32_t max_half_open_per_backend = 0;  // 0 = unlimited
    uint32_t embryonic_ticks = 0;            // SYN_SENT/SYN_RECV timeout; 0 = the global one
    bool limits_connections = false;         // any new-connection check to make
    bool has_rules = false;
    config::syn_proxy_mode syn_proxy = config::syn_proxy_mode::off;
    // auto: per worker and per tick (the worker's share), SYNs that engage the proxy; and the
    // VIP-wide half-open count that does.
    uint32_t syn_threshold_per_tick = 0;
    uint32_t half_open_threshold = 0;
    uint16_t syn_proxy_mss = 1460;  // offered in cookie SYN-ACKs (set by control::build_snapshot)
    std::shared_ptr<vip_guard> guard;  // null when the VIP has no limits and no rules
};

}  // namespace sluice::model

#pragma once
// Every counter Sluice keeps, declared once. Each table row names the counter (its key in
// `show stats`, the JSON and the telemetry), its Prometheus type, the family it is exposed in,
// an optional label that tells the members of a family apart, and the family's HELP text (on the
// family's first row; rows of a family are adjacent, which unit_counters checks). The data plane
// declares its per-core structs from these tables (dataplane/counters.hpp, conn_counts.hpp); the
// stats, /metrics, telemetry, the control API's JSON and the CLI all iterate them, so a counter
// added here shows up everywhere. No DPDK: the metrics module and the CLI include it too.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sluice {

enum class metric_kind : uint8_t { counter, gauge };

struct counter_def {
    std::string_view key;     // stats/JSON/telemetry key
    metric_kind kind;         // Prometheus type of the family
    std::string_view family;  // Prometheus family name
    std::string_view label;   // label telling the family's members apart ("" = none)
    std::string_view value;   // this row's value of that label
    std::string_view help;    // HELP of the family (first row of the family only)
};

// X(key, kind, family, label, value, help). Per worker; written by the worker lcore.
#define SLUICE_WORKER_COUNTERS(X)                                                                  \
    X(rx_packets, counter, "sluice_worker_packets_total", "direction", "rx",                       \
      "Packets received (rx) and transmitted (tx) by the worker.")                                 \
    X(tx_packets, counter, "sluice_worker_packets_total", "direction", "tx", "")                   \
    X(rx_bytes, counter, "sluice_worker_bytes_total", "direction", "rx",                           \
      "Bytes (Ethernet frames) received (rx) and transmitted (tx) by the worker.")                 \
    X(tx_bytes, counter, "sluice_worker_bytes_total", "direction", "tx", "")                       \
    X(handoff_sent, counter, "sluice_handoff_packets_total", "direction", "sent",                  \
      "Packets passed to the owning worker's ring (sent) and taken from other workers' rings "     \
      "(received).")                                                                               \
    X(handoff_received, counter, "sluice_handoff_packets_total", "direction", "received", "")      \
    X(to_control, counter, "sluice_worker_to_control_total", "", "",                               \
      "Frames the worker passed to the control thread (ARP, resolution requests, frames for the "  \
      "host kernel).")                                                                             \
    X(flows_created, counter, "sluice_flows_created_total", "", "",                                \
      "Flows created by the worker since start.")                                                  \
    X(flows_expired, counter, "sluice_flows_expired_total", "", "",                                \
      "Flows removed by the worker after their idle timeout or close.")                            \
    X(flows_reused, counter, "sluice_flows_reused_total", "", "",                                  \
      "Closed flows replaced by a new connection's SYN on the same tuple.")                        \
    X(flows_early_dropped, counter, "sluice_flows_early_dropped_total", "", "",                    \
      "Non-established flows evicted to make room for a new flow (early drop).")                   \
    X(flows_reset_drain_timeout, counter, "sluice_flows_reset_total", "cause", "drain_timeout",    \
      "Flows the load balancer reset (RST to client and backend), by cause.")                      \
    X(flows_reset_disabled, counter, "sluice_flows_reset_total", "cause", "disabled", "")          \
    X(flows_reset_backend_down, counter, "sluice_flows_reset_total", "cause", "backend_down", "")  \
    X(resets_sent, counter, "sluice_resets_sent_total", "", "",                                    \
      "TCP RST segments the load balancer built and sent.")                                        \
    X(resets_unsent, counter, "sluice_resets_unsent_total", "", "",                                \
      "TCP RST segments the load balancer could not send for want of an mbuf.")                    \
    X(mss_clamped, counter, "sluice_mss_clamped_total", "", "",                                    \
      "SYNs and SYN-ACKs whose MSS option was lowered to their VIP's mss_clamp.")                  \
    X(syn_cookies_sent, counter, "sluice_syn_proxy_total", "event", "cookie_sent",                 \
      "SYN proxy events: cookies sent, valid cookie ACKs accepted, flows spliced, backend "        \
      "connects that failed, SYNs to a backend re-sent on the timer.")                             \
    X(syn_proxy_accepted, counter, "sluice_syn_proxy_total", "event", "accepted", "")              \
    X(syn_proxy_spliced, counter, "sluice_syn_proxy_total", "event", "spliced", "")                \
    X(syn_proxy_backend_failed, counter, "sluice_syn_proxy_total", "event", "backend_failed", "")  \
    X(syn_proxy_syn_retransmits, counter, "sluice_syn_proxy_total", "event", "syn_retransmit", "") \
    X(icmp_echo_replies, counter, "sluice_icmp_total", "event", "echo_reply",                      \
      "ICMP the data plane answered or sent itself: echo replies to pings of a VIP, time "         \
      "exceeded errors; errors not sent for the icmp_errors_per_second limit; errors about a "     \
      "flow passed on to its other end.")                                                          \
    X(icmp_time_exceeded_sent, counter, "sluice_icmp_total", "event", "time_exceeded_sent", "")    \
    X(icmp_errors_limited, counter, "sluice_icmp_total", "event", "error_rate_limited", "")        \
    X(icmp_errors_translated, counter, "sluice_icmp_total", "event", "error_translated", "")       \
    X(icmp_too_big_sent, counter, "sluice_icmp_total", "event", "too_big_sent", "")                \
    X(translated_to_ipv6, counter, "sluice_translated_packets_total", "to", "ipv6",                \
      "Packets of NAT46/NAT64 flows translated to the other family (RFC 7915), by the new "        \
      "family.")                                                                                   \
    X(translated_to_ipv4, counter, "sluice_translated_packets_total", "to", "ipv4", "")            \
    X(fragments_received_ipv4, counter, "sluice_fragments_received_total", "family", "ipv4",       \
      "IP fragments to a VIP or an LB address taken for reassembly, by family.")                   \
    X(fragments_received_ipv6, counter, "sluice_fragments_received_total", "family", "ipv6", "")   \
    X(datagrams_reassembled, counter, "sluice_fragment_datagrams_total", "event", "reassembled",   \
      "Datagrams reassembled from fragments (reassembled) and packets over the egress MTU sent "   \
      "as fragments (fragmented).")                                                                \
    X(datagrams_fragmented, counter, "sluice_fragment_datagrams_total", "event", "fragmented", "") \
    X(fragments_sent, counter, "sluice_fragments_sent_total", "", "",                              \
      "Fragments the load balancer built from packets over the egress port's MTU.")                \
    X(rst_accepted, counter, "sluice_rst_total", "verdict", "accepted",                            \
      "RSTs judged by RFC 5961: exact ones accepted (the flow closes), in-window inexact ones "    \
      "forwarded with the flow kept. Out-of-window ones are drops (rst_out_of_window).")           \
    X(rst_in_window, counter, "sluice_rst_total", "verdict", "in_window", "")                      \
    X(busy_cycles, counter, "sluice_worker_cycles_total", "state", "busy",                         \
      "TSC cycles of the worker's loop: in passes that handled packets (busy) and in empty "       \
      "passes and idle sleeps (idle); busy / (busy + idle) is the share of its core at work.")     \
    X(idle_cycles, counter, "sluice_worker_cycles_total", "state", "idle", "")                     \
    X(flows_active, gauge, "sluice_flow_table_entries", "", "", "Flows in the worker's flow table.")

// Control thread's own counters.
#define SLUICE_CONTROL_COUNTERS(X)                                                               \
    X(arp_requests_answered, counter, "sluice_arp_total", "event", "request_answered",           \
      "ARP on the data ports: requests answered, requests sent, replies received, frames "       \
      "ignored (not for us and about no neighbour we track).")                                   \
    X(arp_requests_sent, counter, "sluice_arp_total", "event", "request_sent", "")               \
    X(arp_replies_received, counter, "sluice_arp_total", "event", "reply_received", "")          \
    X(arp_ignored, counter, "sluice_arp_total", "event", "ignored", "")                          \
    X(ndp_solicits_answered, counter, "sluice_ndp_total", "event", "solicit_answered",           \
      "IPv6 neighbour discovery on the data ports: solicitations answered, solicitations sent, " \
      "advertisements received, frames ignored (malformed, or not for us).")                     \
    X(ndp_solicits_sent, counter, "sluice_ndp_total", "event", "solicit_sent", "")               \
    X(ndp_adverts_received, counter, "sluice_ndp_total", "event", "advert_received", "")         \
    X(ndp_ignored, counter, "sluice_ndp_total", "event", "ignored", "")                          \
    X(neighbors_resolved, counter, "sluice_neighbor_events_total", "event", "resolved",          \
      "Neighbour resolution: unresolved to resolved transitions, resolutions that failed, "      \
      "resolution requests from workers.")                                                       \
    X(neighbor_resolve_failures, counter, "sluice_neighbor_events_total", "event", "failed", "") \
    X(neighbor_requests, counter, "sluice_neighbor_events_total", "event", "requested", "")      \
    X(control_tx_dropped, counter, "sluice_control_tx_dropped_total", "", "",                    \
      "Frames the control thread sent that found no room or no mbuf.")                           \
    X(kernel_delivered, counter, "sluice_kernel_frames_total", "event", "delivered",             \
      "Exception path: frames handed to the host kernel (delivered), frames for it dropped for " \
      "want of an interface or queue room (dropped), frames the kernel sent out through the "    \
      "data ports (sent).")                                                                      \
    X(kernel_dropped, counter, "sluice_kernel_frames_total", "event", "dropped", "")             \
    X(kernel_sent, counter, "sluice_kernel_frames_total", "event", "sent", "")                   \
    X(neighbor_budget_exhausted, counter, "sluice_exception_budget_exhausted_total", "ring",     \
      "neighbor",                                                                                \
      "Control passes that left exception-path frames for the next pass (budget used up), by "   \
      "ring.")                                                                                   \
    X(kernel_budget_exhausted, counter, "sluice_exception_budget_exhausted_total", "ring",       \
      "kernel", "")

// Traffic of a backend's flows, per worker (conn_counts.hpp), summed over workers on read.
#define SLUICE_BACKEND_COUNTERS(X)                                                                \
    X(connections_total, counter, "sluice_backend_connections_total", "", "",                     \
      "Flows scheduled to the backend since start.")                                              \
    X(packets_to_backend, counter, "sluice_backend_packets_total", "direction", "to_backend",     \
      "Packets forwarded to or received from the backend.")                                       \
    X(packets_from_backend, counter, "sluice_backend_packets_total", "direction", "from_backend", \
      "")                                                                                         \
    X(bytes_to_backend, counter, "sluice_backend_bytes_total", "direction", "to_backend",         \
      "Bytes (Ethernet frames) forwarded to or received from the backend.")                       \
    X(bytes_from_backend, counter, "sluice_backend_bytes_total", "direction", "from_backend", "")

// A data port's NIC figures (rte_eth_stats and the link), read by the control thread.
#define SLUICE_PORT_COUNTERS(X)                                                             \
    X(rx_packets, counter, "sluice_port_packets_total", "direction", "rx",                  \
      "Frames the port received (rx) and transmitted (tx), as the NIC counts them.")        \
    X(tx_packets, counter, "sluice_port_packets_total", "direction", "tx", "")              \
    X(rx_bytes, counter, "sluice_port_bytes_total", "direction", "rx",                      \
      "Bytes the port received (rx) and transmitted (tx), as the NIC counts them.")         \
    X(tx_bytes, counter, "sluice_port_bytes_total", "direction", "tx", "")                  \
    X(rx_missed, counter, "sluice_port_rx_missed_total", "", "",                            \
      "Frames the NIC dropped because no worker took them in time (RX queue full).")        \
    X(rx_nombuf, counter, "sluice_port_rx_nombuf_total", "", "",                            \
      "Frames the NIC dropped for want of an mbuf.")                                        \
    X(rx_errors, counter, "sluice_port_errors_total", "direction", "rx",                    \
      "Erroneous frames received (rx) and failed transmissions (tx).")                      \
    X(tx_errors, counter, "sluice_port_errors_total", "direction", "tx", "")                \
    X(link_up, gauge, "sluice_port_link_up", "", "", "1 if the port's link is up, else 0.") \
    X(link_speed_mbps, gauge, "sluice_port_link_speed_mbps", "", "",                        \
      "The port's link speed in Mbit/s as the driver reports it (0 when unknown or down).") \
    X(link_changes, counter, "sluice_port_link_changes_total", "", "",                      \
      "Times the port's link went down or up since start (polled each second, and at once " \
      "on the NIC's link-state interrupt where it has one).")

#define SLUICE_COUNTER_ENUM(key, ...) key,
#define SLUICE_COUNTER_DEF(key, kind, family, label, value, help) \
    counter_def{#key, metric_kind::kind, family, label, value, help},

enum class worker_counter : uint8_t { SLUICE_WORKER_COUNTERS(SLUICE_COUNTER_ENUM) count };
enum class control_counter : uint8_t { SLUICE_CONTROL_COUNTERS(SLUICE_COUNTER_ENUM) count };
enum class backend_counter : uint8_t { SLUICE_BACKEND_COUNTERS(SLUICE_COUNTER_ENUM) count };
enum class port_counter : uint8_t { SLUICE_PORT_COUNTERS(SLUICE_COUNTER_ENUM) count };

inline constexpr counter_def worker_counter_defs[] = {SLUICE_WORKER_COUNTERS(SLUICE_COUNTER_DEF)};
inline constexpr counter_def control_counter_defs[] = {SLUICE_CONTROL_COUNTERS(SLUICE_COUNTER_DEF)};
inline constexpr counter_def backend_counter_defs[] = {SLUICE_BACKEND_COUNTERS(SLUICE_COUNTER_DEF)};
inline constexpr counter_def port_counter_defs[] = {SLUICE_PORT_COUNTERS(SLUICE_COUNTER_DEF)};

#undef SLUICE_COUNTER_ENUM
#undef SLUICE_COUNTER_DEF

inline constexpr size_t worker_counter_count = size_t(worker_counter::count);
inline constexpr size_t control_counter_count = size_t(control_counter::count);
inline constexpr size_t backend_counter_count = size_t(backend_counter::count);
inline constexpr size_t port_counter_count = size_t(port_counter::count);

// Values of one table's counters, in table order (a worker's, a backend's, a port's, control's).
template <class Enum, size_t N>
struct counter_values {
    using index = Enum;
    std::array<uint64_t, N> v{};
    uint64_t& operator[](Enum e) { return v[size_t(e)]; }
    uint64_t operator[](Enum e) const { return v[size_t(e)]; }
    counter_values& operator+=(const counter_values& o) {
        for (size_t i = 0; i < N; ++i) v[i] += o.v[i];
        return *this;
    }
};
using worker_values = counter_values<worker_counter, worker_counter_count>;
using control_values = counter_values<control_counter, control_counter_count>;
using backend_values = counter_values<backend_counter, backend_counter_count>;
using port_values = counter_values<port_counter, port_counter_count>;

}  // namespace sluice

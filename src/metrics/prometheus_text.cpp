#include "metrics/prometheus_text.hpp"

#include <charconv>
#include <initializer_list>
#include <span>

#include "sluice/counters.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::metrics {

namespace {

struct label {
    std::string_view name;
    std::string_view value;
};

// Decimal text of a number, on the stack: worker ids become label values.
struct decimal {
    char text[24];
    std::string_view view;

    decimal(const decimal&) = delete;  // view points into text
    decimal& operator=(const decimal&) = delete;

    explicit decimal(uint64_t value) {
        auto [end, ec] = std::to_chars(text, text + sizeof text, value);
        (void)ec;  // 20 digits always fit
        view = std::string_view(text, size_t(end - text));
    }
};

void append_number(std::string& out, uint64_t value) {
    out += decimal(value).view;
}

// HELP text escapes backslash and newline (not quotes), per the 0.0.4 format.
void append_help(std::string& out, std::string_view help) {
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    append_help(out, help);
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

void sample(std::string& out, std::string_view name, std::initializer_list<label> labels,
            uint64_t value) {
    out += name;
    // A label without a name is left out (a counter-table row without a label of its own).
    bool first = true;
    for (const label& l : labels) {
        if (l.name.empty()) continue;
        out += first ? '{' : ',';
        first = false;
        out += l.name;
        out += "=\"";
        append_escaped_label_value(out, l.value);
        out += '"';
    }
    if (!first) out += '}';
    out += ' ';
    append_number(out, value);
    out += '\n';
}

// The families of one counter table (sluice/counters.hpp) over `rows` (workers, backends,
// ports…): HELP and TYPE once per family (its rows are adjacent in the table), then for each
// row every member of the family. `value(row, k)` reads row's k-th counter; `labels(row, def,
// emit)` calls emit with the row's labels, the def's own label last (an empty label is left out).
template <class Rows, class Value, class Labels>
void counter_table(std::string& out, std::span<const counter_def> defs, const Rows& rows,
                   Value value, Labels labels) {
    for (size_t first = 0; first < defs.size();) {
        size_t end = first + 1;
        while (end < defs.size() && defs[end].family == defs[first].family) ++end;
        const counter_def& head = defs[first];
        family(out, head.family, head.kind == metric_kind::gauge ? "gauge" : "counter", head.help);
        for (const auto& row : rows) {
            for (size_t k = first; k < end; ++k) {
                labels(row, defs[k], [&](std::initializer_list<label> l) {
                    sample(out, defs[k].family, l, value(row, k));
                });
            }
        }
        first = end;
    }
}

// Drops of one reason as listed by the view; a reason the view lacks counts zero.
uint64_t drops_of(const worker_metrics& w, std::string_view reason) {
    uint64_t sum = 0;
    for (const auto& [name, count] : w.drops) {
        if (name == reason) sum += count;
    }
    return sum;
}

bool is_known_reason(std::string_view reason) {
    for (unsigned r = 0; r < drop_reason_count; ++r) {
        if (drop_reason_name(drop_reason(r)) == reason) return true;
    }
    return false;
}

// One gauge or counter per backend with the (vip, backend) labels.
template <typename Field>
void backend_family(std::string& out, const metrics_view& v, std::string_view name,
                    std::string_view type, std::string_view help, Field field) {
    family(out, name, type, help);
    for (const backend_metrics& b : v.backends) {
        sample(out, name, {{"vip", b.vip}, {"backend", b.backend}}, field(b));
    }
}

void backend_families(std::string& out, const metrics_view& v) {
    backend_family(out, v, "sluice_backend_up", "gauge",
                   "1 if the backend takes new flows (state up, health up and weight > 0), else 0.",
                   [](const backend_metrics& b) { return uint64_t(b.up ? 1 : 0); });
    backend_family(out, v, "sluice_backend_weight", "gauge",
                   "Current scheduling weight of the backend.",
                   [](const backend_metrics& b) { return uint64_t(b.weight); });

    family(out, "sluice_backend_state", "gauge",
           "1 for the backend's current state (up, draining, drained, disabled, removing).");
    for (const backend_metrics& b : v.backends) {
        sample(out, "sluice_backend_state",
               {{"vip", b.vip}, {"backend", b.backend}, {"state", b.state}}, 1);
    }

    family(out, "sluice_backend_health", "gauge",
           "1 for the backend's health: up, down, or unchecked (no health checks).");
    for (const backend_metrics& b : v.backends) {
        sample(out, "sluice_backend_health",
               {{"vip", b.vip}, {"backend", b.backend}, {"health", b.health}}, 1);
    }
    family(out, "sluice_health_checks_total", "counter",
           "Health check results of the backend, by result (ok, refused, timeout, bad_status, "
           "malformed, error).");
    for (const backend_metrics& b : v.backends) {
        for (const auto& [result, n] : b.checks)
            sample(out, "sluice_health_checks_total",
                   {{"vip", b.vip}, {"backend", b.backend}, {"result", result}}, n);
    }
    backend_family(out, v, "sluice_backend_state_changes_total", "counter",
                   "Health transitions of the backend (up to down and down to up).",
                   [](const backend_metrics& b) { return b.state_changes; });

    backend_family(out, v, "sluice_backend_active_connections", "gauge",
                   "Flows to the backend in an active state (TCP established, UDP).",
                   [](const backend_metrics& b) { return b.active; });
    backend_family(out, v, "sluice_backend_inactive_connections", "gauge",
                   "Flows to the backend in an inactive state (TCP opening or closing).",
                   [](const backend_metrics& b) { return b.inactive; });
    backend_family(out, v, "sluice_backend_max_connection_rate", "gauge",
                   "The most new connections per second the backend took in any one-second "
                   "interval since start.",
                   [](const backend_metrics& b) { return b.max_connection_rate; });
    counter_table(
        out, std::span(backend_counter_defs), v.backends,
        [](const backend_metrics& b, size_t k) { return b.traffic.v[k]; },
        [](const backend_metrics& b, const counter_def& d, auto&& emit) {
            emit({{"vip", b.vip}, {"backend", b.backend}, {d.label, d.value}});
        });
}

void worker_families(std::string& out, const metrics_view& v) {
    counter_table(
        out, std::span(worker_counter_defs), v.workers,
        [](const worker_metrics& w, size_t k) { return w.counters.v[k]; },
        [](const worker_metrics& w, const counter_def& d, auto&& emit) {
            const decimal id(w.worker);
            emit({{"worker", id.view}, {d.label, d.value}});
        });
    family(out, "sluice_drops_total", "counter", "Packets dropped by the worker, by reason.");
    for (const worker_metrics& w : v.workers) {
        const decimal id(w.worker);
        for (unsigned r = 0; r < drop_reason_count; ++r) {
            const std::string_view reason = drop_reason_name(drop_reason(r));
            sample(out, "sluice_drops_total", {{"worker", id.view}, {"reason", reason}},
                   drops_of(w, reason));
        }
        // A reason the view knows and this build does not still gets exposed (once).
        for (size_t i = 0; i < w.drops.size(); ++i) {
            const std::string_view reason = w.drops[i].first;
            if (is_known_reason(reason)) continue;
            bool seen = false;
            for (size_t j = 0; j < i; ++j) seen = seen || w.drops[j].first == reason;
            if (seen) continue;
            sample(out, "sluice_drops_total", {{"worker", id.view}, {"reason", reason}},
                   drops_of(w, reason));
        }
    }
}

// The control thread's counters (no label but the row's own) and each port's NIC figures.
void control_and_port_families(std::string& out, const metrics_view& v) {
    const control_values* control[] = {&v.control};
    counter_table(
        out, std::span(control_counter_defs), std::span(control),
        [](const control_values* c, size_t k) { return c->v[k]; },
        [](const control_values*, const counter_def& d, auto&& emit) {
            emit({{d.label, d.value}});
        });
    counter_table(
        out, std::span(port_counter_defs), v.ports,
        [](const port_metrics& p, size_t k) { return p.counters.v[k]; },
        [](const port_metrics& p, const counter_def& d, auto&& emit) {
            emit({{"port", p.port}, {d.label, d.value}});
        });
    // Every extended statistic the driver keeps (rte_eth_xstats), under the driver's own names:
    // per-queue counts, error classes, what the generic counters above sum up.
    family(out, "sluice_port_nic_stat_total", "counter",
           "The NIC driver's extended statistics (rte_eth_xstats), by the driver's name for each.");
    for (const port_metrics& p : v.ports)
        for (const auto& [name, value] : p.xstats)
            sample(out, "sluice_port_nic_stat_total", {{"port", p.port}, {"stat", name}}, value);
}

void protect_families(std::string& out, const metrics_view& v) {
    family(out, "sluice_vip_drops_total", "counter",
           "Packets to a VIP dropped, by VIP and reason (the reasons that concern a VIP: its "
           "backends, limits, rules, table room, attacks on it); pairs never counted are "
           "absent. Every drop is also in sluice_drops_total.");
    for (const vip_drop_metrics& d : v.vip_drops)
        sample(out, "sluice_vip_drops_total", {{"vip", d.vip}, {"reason", d.reason}}, d.count);
    family(out, "sluice_protect_refused_total", "counter",
           "New connections or packets of a VIP refused by its limits or payload rules, by "
           "reason.");
    for (const protect_metrics& p : v.protection)
        for (const auto& [reason, count] : p.refused)
            sample(out, "sluice_protect_refused_total", {{"vip", p.vip}, {"reason", reason}},
                   count);
    family(out, "sluice_rule_matches_total", "counter",
           "Connections whose first payload matched a [[vip.rule]], by rule.");
    for (const protect_metrics& p : v.protection)
        for (const auto& r : p.rules)
            sample(out, "sluice_rule_matches_total",
                   {{"vip", p.vip}, {"rule", r.name}, {"action", r.action}}, r.matches);
    family(out, "sluice_source_table_entries", "gauge",
           "Client addresses tracked by the per-source limit (all workers).");
    for (const protect_metrics& p : v.protection)
        if (p.source_table)
            sample(out, "sluice_source_table_entries", {{"vip", p.vip}}, p.source_entries);
    family(out, "sluice_syn_proxy_engaged", "gauge",
           "Workers answering the VIP's SYNs with SYN cookies now (syn_proxy on, or auto while "
           "attacked).");
    for (const protect_metrics& p : v.protection)
        if (p.syn_proxy != "off")
            sample(out, "sluice_syn_proxy_engaged", {{"vip", p.vip}, {"mode", p.syn_proxy}},
                   p.proxy_engaged);
    family(out, "sluice_syn_proxy_engagements_total", "counter",
           "Times a worker engaged the SYN proxy of a syn_proxy = auto VIP.");
    for (const protect_metrics& p : v.protection)
        if (p.syn_proxy == "auto")
            sample(out, "sluice_syn_proxy_engagements_total", {{"vip", p.vip}},
                   p.proxy_engagements);
    family(out, "sluice_source_table_evictions_total", "counter",
           "Sources forgotten while still limited, for lack of room in the per-source table.");
    for (const protect_metrics& p : v.protection)
        if (p.source_table)
            sample(out, "sluice_source_table_evictions_total", {{"vip", p.vip}},
                   p.source_evictions);
}

void local_tuple_families(std::string& out, const metrics_view& v) {
    family(out, "sluice_local_tuples", "gauge",
           "Full-NAT source tuples (local address, local port) of a port's local address, summed "
           "over workers: in_use = held by a flow, free = not held by a flow (includes tuples "
           "still resting for reuse_after before reuse). A new flow refused for want of a tuple "
           "counts in sluice_drops_total with reason local_port_exhausted.");
    for (const local_tuple_metrics& t : v.local_tuples) {
        sample(out, "sluice_local_tuples",
               {{"port", t.port}, {"address", t.address}, {"state", "in_use"}}, t.in_use);
        sample(out, "sluice_local_tuples",
               {{"port", t.port}, {"address", t.address}, {"state", "free"}}, t.free);
    }
}

void process_families(std::string& out, const metrics_view& v) {
    family(out, "sluice_flow_table_capacity", "gauge", "Flow table capacity of all workers.");
    sample(out, "sluice_flow_table_capacity", {}, v.flow_table_capacity);
    family(out, "sluice_mbufs_in_use", "gauge", "Packet buffers (mbufs) currently allocated.");
    sample(out, "sluice_mbufs_in_use", {}, v.mbufs_in_use);
    // Not "_total": that suffix is for counters (promtool flags a gauge named so).
    family(out, "sluice_mbufs_capacity", "gauge", "Packet buffers (mbufs) in the pools.");
    sample(out, "sluice_mbufs_capacity", {}, v.mbufs_total);
    family(out, "sluice_config_generation", "gauge",
           "Generation of the configuration in use; every applied reload increases it.");
    sample(out, "sluice_config_generation", {}, v.config_generation);
    family(out, "sluice_config_reloads_total", "counter",
           "Configuration reloads applied (ok) and refused (error).");
    sample(out, "sluice_config_reloads_total", {{"result", "ok"}}, v.reloads_total);
    sample(out, "sluice_config_reloads_total", {{"result", "error"}}, v.reload_failures_total);
}

}  // namespace

void append_escaped_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        switch (c) {
            case '\\':
                out += "\\\\";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\n':
                out += "\\n";
                break;
            default:
                out += c;
        }
    }
}

std::string format_process_info(const process_info& p) {
    std::string out;
    family(out, "sluice_build_info", "gauge",
           "Always 1; the labels name the running build: Sluice's version and DPDK's.");
    sample(out, "sluice_build_info",
           {{"version", p.version}, {p.dpdk_version.empty() ? "" : "dpdk", p.dpdk_version}}, 1);
    family(out, "sluice_start_time_seconds", "gauge",
           "Start time of the sluiced process in seconds since the Unix epoch.");
    sample(out, "sluice_start_time_seconds", {}, p.start_time_seconds);
    return out;
}

std::string format_prometheus(const metrics_view& v) {
    std::string out;
    // About 120 bytes a series; one allocation for the common case.
    out.reserve(4096 + v.backends.size() * 1400 +
                v.workers.size() * (drop_reason_count + 10) * 100 + v.local_tuples.size() * 200);
    backend_families(out, v);
    worker_families(out, v);
    control_and_port_families(out, v);
    protect_families(out, v);
    local_tuple_families(out, v);
    process_families(out, v);
    return out;
}

}  // namespace sluice::metrics

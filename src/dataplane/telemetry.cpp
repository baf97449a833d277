#include "dataplane/telemetry.hpp"

#include <rte_telemetry.h>

#include <cctype>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "dataplane/runtime.hpp"

namespace sluice::dataplane {

namespace {

// Telemetry requests arrive on DPDK's telemetry thread, which is no RCU reader: it must never
// touch a snapshot. It reads only what the control thread copied here under the mutex (counters
// summed by the runtime, and the last per-backend view), and shutdown takes the same mutex.
std::mutex current_mutex;
runtime* current = nullptr;
metrics::metrics_view last_view;

int stats_cmd(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(current_mutex);
    rte_tel_data_start_dict(d);
    if (!current) return 0;
    for (const auto& [key, value] : current->readings().stats())
        rte_tel_data_add_dict_u64(d, key.c_str(), value);
    return 0;
}

// /sluice/workers: per worker (keyed by its index), every worker counter and drop reason.
int workers_cmd(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(current_mutex);
    rte_tel_data_start_dict(d);
    if (!current) return 0;
    for (const metrics::worker_metrics& m : current->readings().workers()) {
        rte_tel_data* o = rte_tel_data_alloc();
        if (!o) return -ENOMEM;
        rte_tel_data_start_dict(o);
        for (size_t k = 0; k < worker_counter_count; ++k)
            rte_tel_data_add_dict_u64(o, std::string(worker_counter_defs[k].key).c_str(),
                                      m.counters.v[k]);
        for (const auto& [reason, count] : m.drops)
            rte_tel_data_add_dict_u64(o, ("drop_" + reason).c_str(), count);
        rte_tel_data_add_dict_container(d, std::to_string(m.worker).c_str(), o, 0);
    }
    return 0;
}

// DPDK accepts only [A-Za-z0-9_/-] in dict keys: other characters become '_', and the exact
// names travel as string fields.
std::string telemetry_key(std::string s) {
    for (char& c : s)
        if (!isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '/' && c != '-') c = '_';
    return s;
}

void add_backend_fields(rte_tel_data* c, const metrics::backend_metrics& b) {
    rte_tel_data_start_dict(c);
    rte_tel_data_add_dict_string(c, "vip", b.vip.c_str());
    rte_tel_data_add_dict_string(c, "backend", b.backend.c_str());
    rte_tel_data_add_dict_string(c, "state", b.state.c_str());
    rte_tel_data_add_dict_u64(c, "weight", b.weight);
    rte_tel_data_add_dict_u64(c, "active", b.active);
    rte_tel_data_add_dict_u64(c, "inactive", b.inactive);
    for (size_t k = 0; k < backend_counter_count; ++k)
        rte_tel_data_add_dict_u64(c, std::string(backend_counter_defs[k].key).c_str(),
                                  b.traffic.v[k]);
}

// /sluice/backends[,VIP]: one entry per backend, keyed "VIP/ADDR_PORT" (or "ADDR_PORT" with a
// VIP parameter), see telemetry_key.
int backends_cmd(const char*, const char* params, rte_tel_data* d) {
    std::lock_guard lock(current_mutex);
    rte_tel_data_start_dict(d);
    const bool one_vip = params && *params;
    for (const auto& b : last_view.backends) {
        if (one_vip && b.vip != params) continue;
        rte_tel_data* c = rte_tel_data_alloc();
        if (!c) return -ENOMEM;
        add_backend_fields(c, b);
        std::string key = telemetry_key(one_vip ? b.backend : b.vip + "/" + b.backend);
        rte_tel_data_add_dict_container(d, key.c_str(), c, 0);
    }
    return 0;
}

// /sluice/vips: per VIP, its backend count and summed connections.
int vips_cmd(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(current_mutex);
    rte_tel_data_start_dict(d);
    std::vector<std::string> order;
    struct sums {
        uint64_t backends = 0, up = 0, active = 0, inactive = 0, connections_total = 0;
    };
    std::vector<sums> totals;
    for (const auto& b : last_view.backends) {
        size_t i = 0;
        while (i < order.size() && order[i] != b.vip) ++i;
        if (i == order.size()) {
            order.push_back(b.vip);
            totals.emplace_back();
        }
        sums& s = totals[i];
        ++s.backends;
        s.up += b.up;
        s.active += b.active;
        s.inactive += b.inactive;
        s.connections_total += b.traffic[backend_counter::connections_total];
    }
    for (size_t i = 0; i < order.size(); ++i) {
        rte_tel_data* c = rte_tel_data_alloc();
        if (!c) return -ENOMEM;
        rte_tel_data_start_dict(c);
        rte_tel_data_add_dict_string(c, "name", order[i].c_str());
        rte_tel_data_add_dict_u64(c, "backends", totals[i].backends);
        rte_tel_data_add_dict_u64(c, "backends_up", totals[i].up);
        rte_tel_data_add_dict_u64(c, "active", totals[i].active);
        rte_tel_data_add_dict_u64(c, "inactive", totals[i].inactive);
        rte_tel_data_add_dict_u64(c, "connections_total", totals[i].connections_total);
        rte_tel_data_add_dict_container(d, telemetry_key(order[i]).c_str(), c, 0);
    }
    return 0;
}

}  // namespace

void set_telemetry_runtime(runtime* rt) {
    static bool registered = false;
    std::lock_guard lock(current_mutex);
    current = rt;
    if (!rt) last_view = {};
    if (!registered && rt) {
        rte_telemetry_register_cmd("/sluice/stats", stats_cmd,
                                   "Sluice counters summed over workers. Takes no parameters");
        rte_telemetry_register_cmd(
            "/sluice/workers", workers_cmd,
            "Sluice counters of each worker (keyed by worker index). Takes no parameters");
        rte_telemetry_register_cmd("/sluice/vips", vips_cmd,
                                   "Sluice VIPs: backends and connections. Takes no parameters");
        rte_telemetry_register_cmd(
            "/sluice/backends", backends_cmd,
            "Sluice backends: state, weight, connections, traffic. Parameter: VIP name (optional)");
        registered = true;
    }
}

void publish_telemetry_view(metrics::metrics_view view) {
    std::lock_guard lock(current_mutex);
    last_view = std::move(view);
}

}  // namespace sluice::dataplane

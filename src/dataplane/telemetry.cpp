#include "dataplane/telemetry.hpp"

#include <rte_telemetry.h>

#include <mutex>

#include "dataplane/runtime.hpp"

namespace sluice::dataplane {

namespace {

// The mutex keeps a telemetry request from reading a runtime that shutdown is tearing down.
std::mutex current_mutex;
runtime* current = nullptr;

int stats_cmd(const char*, const char*, rte_tel_data* d) {
    std::lock_guard lock(current_mutex);
    rte_tel_data_start_dict(d);
    if (!current) return 0;
    for (const auto& [key, value] : current->stats())
        rte_tel_data_add_dict_u64(d, key.c_str(), value);
    return 0;
}

}  // namespace

void set_telemetry_runtime(runtime* rt) {
    static bool registered = false;
    std::lock_guard lock(current_mutex);
    current = rt;
    if (!registered && rt) {
        rte_telemetry_register_cmd("/sluice/stats", stats_cmd,
                                   "Sluice counters summed over workers. Takes no parameters");
        registered = true;
    }
}

}  // namespace sluice::dataplane

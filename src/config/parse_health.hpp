#pragma once
// [vip.health] and [vip.backend.health]: health probes per VIP, with per-backend overrides.
// parse_vip() reads [vip.health] first, then each backend's overrides on top of the VIP's values,
// then checks the rules that need both (a udp VIP's probes need a TCP port; passive detection
// needs probes). Control thread / startup only.
#include <optional>
#include <vector>

#include "config/diagnostics.hpp"
#include "config/toml_reader.hpp"
#include "sluice/config.hpp"

namespace sluice::config::detail {

// Where one table's probe keys were written, and whether values they decide are usable.
struct probe_key_origins {
    std::optional<origin> type;      // explicit and valid
    bool type_known = true;          // explicit and valid, or not written here
    std::optional<origin> interval;  // explicit and valid
    bool interval_known = true;      // explicit and valid, or not written here
    std::optional<origin> timeout;   // explicit and valid
    bool timeout_known = true;       // explicit and valid, or not written here
    std::optional<origin> port;      // explicit and valid
    bool port_known = true;          // explicit and valid, or not written here
};

// What [vip.health] said, kept while the VIP's backends are read.
struct vip_health_origins {
    probe_key_origins keys;
    std::optional<origin> passive_failures;   // explicit, valid and not 0
    std::vector<probe_key_origins> backends;  // parallel to vip_config::backends
};

// Reads [vip.health] into `out` (defaults when absent). Call before the backends.
vip_health_origins parse_vip_health(table_reader& vip, health_config& out);
// Reads the backend's [vip.backend.health] over the VIP's probe into `out`; appends to
// `vip_at.backends`. Call once per backend, in order, with every backend.
void parse_backend_health(table_reader& backend, const health_config& vip,
                          vip_health_origins& vip_at, health_check_config& out);
// The rules between [vip.health], the backends' probes and the VIP's protocol. `protocol_known`:
// the VIP's protocol is valid. Call after every backend.
void check_vip_health(const vip_config& vip, bool protocol_known, const vip_health_origins& at,
                      diagnostics& diag);

}  // namespace sluice::config::detail

#pragma once
// Where the values that validate() cross-checks came from, kept beside the model (which carries
// no positions). Vectors run parallel to the model's: ports[i] describes config::ports[i]. An
// empty optional means the value was missing or invalid and has already been reported, so the
// cross-checks skip it instead of stacking a second error on the first.
#include <optional>
#include <vector>

#include "config/diagnostics.hpp"

namespace sluice::config::detail {

struct port_origins {
    origin table;
    std::optional<origin> name;
    std::optional<origin> device;
    std::vector<origin> addresses;        // parallel to port_config::addresses (the valid ones)
    std::vector<origin> local_addresses;  // parallel to port_config::local_addresses
    std::optional<origin> vlan;
    std::optional<origin> mtu;
    std::optional<origin> queues;
    std::optional<origin> rx_descriptors;
    std::optional<origin> tx_descriptors;
    std::optional<origin> rss;
    std::optional<origin> rx_checksum_offload;
    std::optional<origin> flow_steering;
};

struct route_origins {
    origin table;
    std::optional<origin> prefix;
    std::optional<origin> via;
};

struct backend_origins {
    origin table;
    std::optional<origin> address;
    bool port_known = false;  // its own port, or the VIP's, is valid
};

struct vip_origins {
    origin table;
    std::optional<origin> address;
    std::optional<origin> name;  // the explicit name; the default name has none
    bool name_known = false;     // explicit and valid, or defaulted from a valid address:port/proto
    bool endpoint_known = false;              // address, port and protocol all valid
    std::optional<origin> maglev_table_size;  // explicit and valid (a prime in range)
    bool maglev_table_size_known = true;      // explicit and valid, or defaulted
    std::vector<backend_origins> backends;    // parallel to vip_config::backends
};

struct origins {
    std::optional<origin> no_pci;  // the "--no-pci" EAL argument, if given
    bool workers_known = false;    // worker_cpus has a valid number of entries
    std::optional<origin> local_port_min;
    std::optional<origin> local_port_max;
    bool local_ports_known = true;  // both bounds valid or defaulted
    std::vector<port_origins> ports;
    std::vector<route_origins> routes;
    std::vector<vip_origins> vips;
};

}  // namespace sluice::config::detail

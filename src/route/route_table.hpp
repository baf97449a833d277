#pragma once
// Longest-prefix-match routes: connected subnets of the ports plus static routes from the config.
// Immutable after build; lives in the snapshot, read by workers when a flow is created (never per
// established packet), so a short sorted vector is enough.
#include <cstdint>
#include <optional>
#include <vector>

#include "sluice/ip_address.hpp"

namespace sluice::route {

struct next_hop {
    uint16_t port;       // index into the snapshot's ports
    ip_address address;  // the neighbour to resolve: the gateway, or the destination if on-link
};

class route_table {
public:
    // Connected route: destinations inside `prefix` are on-link on `port`.
    void add_connected(const ip_prefix& prefix, uint16_t port);
    // Static route via a gateway; the gateway must be on-link (resolved with add_connected
    // routes at finish()).
    void add_static(const ip_prefix& prefix, const ip_address& via);
    // Sorts by prefix length and builds the IPv4 lookup list (lookup is valid only after it);
    // returns false if a gateway is not on-link.
    bool finish();

    std::optional<next_hop> lookup(const ip_address& dst) const;

private:
    struct entry {
        ip_prefix prefix;
        bool connected;
        ip_address via;
        uint16_t port;
    };
    std::vector<entry> entries_;
    // The IPv4 entries again, in the same order, as (network, mask) integers: the per-new-flow
    // lookup is then one AND and one compare per route (finish() builds it).
    struct v4_entry {
        uint32_t network;  // host order, masked
        uint32_t mask;
        uint32_t index;  // into entries_
    };
    std::vector<v4_entry> v4_;
};

}  // namespace sluice::route

#include "route/route_table.hpp"

#include <algorithm>

namespace sluice::route {

void route_table::add_connected(const ip_prefix& prefix, uint16_t port) {
    entries_.push_back({prefix, true, {}, port});
}

void route_table::add_static(const ip_prefix& prefix, const ip_address& via) {
    entries_.push_back({prefix, false, via, 0});
}

bool route_table::finish() {
    std::stable_sort(entries_.begin(), entries_.end(), [](const entry& a, const entry& b) {
        return a.prefix.length > b.prefix.length;
    });
    for (auto& e : entries_) {
        if (e.connected) continue;
        auto found = std::find_if(entries_.begin(), entries_.end(), [&](const entry& c) {
            return c.connected && c.prefix.contains(e.via);
        });
        if (found == entries_.end()) return false;
        e.port = found->port;
    }
    v4_.clear();
    for (uint32_t i = 0; i < entries_.size(); ++i) {
        const ip_prefix& p = entries_[i].prefix;
        if (!p.address.is_v4()) continue;
        const uint32_t mask = p.length ? ~uint32_t(0) << (32 - p.length) : 0;
        v4_.push_back({p.address.v4_host() & mask, mask, i});
    }
    return true;
}

std::optional<next_hop> route_table::lookup(const ip_address& dst) const {
    if (dst.is_v4()) {
        // Per new flow and per SYN-cookie answer: integer compares, not the generic match.
        const uint32_t a = dst.v4_host();
        for (const v4_entry& v : v4_) {
            if ((a & v.mask) != v.network) continue;
            const entry& e = entries_[v.index];
            return next_hop{e.port, e.connected ? dst : e.via};
        }
        return std::nullopt;
    }
    for (const auto& e : entries_) {
        if (!e.prefix.contains(dst)) continue;
        return next_hop{e.port, e.connected ? dst : e.via};
    }
    return std::nullopt;
}

}  // namespace sluice::route

#pragma once
// Stable backend and VIP ids across reloads. Per-worker connection counts and flow entries refer to
// a backend by id, so a reload that reorders, adds or removes backends keeps every surviving
// backend's counts. Ids of removed backends are recycled only once no flow counts them any more.
// Control thread only.
#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <tuple>
#include <vector>

#include "model/ids.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::control {

using model::max_backends;
using model::max_vips;
using model::no_backend_id;
using model::no_vip_id;

struct backend_identity {
    ip_address vip;
    uint16_t vip_port;
    uint8_t protocol;
    ip_address backend;
    uint16_t backend_port;
    auto tie() const {
        return std::tie(vip.bytes, vip.family, vip_port, protocol, backend.bytes, backend.family,
                        backend_port);
    }
    bool operator<(const backend_identity& o) const { return tie() < o.tie(); }
};

class backend_registry {
public:
    // Id for this backend: its existing one, else a free one; no_backend_id when all are taken.
    uint32_t acquire(const backend_identity& who);
    // Called after a snapshot is published: ids not in `live` are retired.
    void retain_only(const std::vector<uint32_t>& live);
    // Frees retired ids whose connection count is zero (`in_use(id)` sums the workers' counts).
    void recycle(const std::function<bool(uint32_t)>& in_use);
    size_t size() const { return ids_.size(); }
    // Full-NAT tuple group (flow::tuple_pool) of a backend endpoint: each new endpoint takes the
    // next group in turn, and keeps it while sluiced runs — a tuple is exclusive only within its
    // group, so an endpoint must never move to another (all VIPs of the endpoint share it).
    uint8_t tuple_group(const ip_address& backend, uint16_t port, uint8_t protocol,
                        uint32_t groups);
    // Id of the VIP (address, port, protocol): its existing one, else a free one (never-used
    // ids first, then the longest free, so a removed VIP's id comes back as late as possible);
    // no_vip_id when all max_vips are taken.
    uint16_t vip_id(const ip_address& vip, uint16_t port, uint8_t protocol);
    // Called after a snapshot is published: ids of VIPs not in `live` become free.
    void retain_vips(const std::vector<uint16_t>& live);

private:
    using vip_key = std::tuple<std::array<uint8_t, 16>, uint8_t, uint16_t, uint8_t>;
    std::map<vip_key, uint16_t> vip_ids_;
    std::deque<uint16_t> vip_free_;
    uint32_t next_vip_ = 0;
    std::map<std::tuple<std::array<uint8_t, 16>, uint16_t, uint8_t>, uint8_t> groups_;
    uint32_t next_group_ = 0;
    std::map<backend_identity, uint32_t> ids_;
    std::vector<uint32_t> free_;
    std::vector<backend_identity> retired_;
    uint32_t next_ = 0;
};

}  // namespace sluice::control

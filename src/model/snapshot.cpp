#include "model/snapshot.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "flow/flow_key.hpp"
#include "packet/wire.hpp"

namespace sluice::model {

std::vector<uint16_t> snapshot::vip_ids() const {
    std::vector<uint16_t> ids;
    for (const auto& v : vips) ids.push_back(v.id);
    return ids;
}

int32_t snapshot::local_v6_port(const uint8_t* dst) const {
    for (const auto& l : locals_v6_)
        if (flow::same_address(l.bytes, dst)) return l.port;
    return -1;
}

const ip_address* snapshot::source_address(uint16_t port, address_family family) const {
    for (const auto& p : ports[port].addresses)
        if (p.address.family == family) return &p.address;
    return nullptr;
}

bool snapshot::answers_neighbor_for(uint16_t port, const ip_address& a) const {
    for (const auto& p : ports[port].addresses)
        if (p.address == a) return true;
    if (local_address_port(a.bytes.data(), uint8_t(a.family)) == int32_t(port)) return true;
    for (const auto& v : vips)
        if (v.address == a) return true;
    return false;
}

std::vector<uint32_t> snapshot::backend_ids() const {
    std::vector<uint32_t> ids;
    for (const auto& v : vips)
        for (const auto& b : v.backends) ids.push_back(b.id);
    return ids;
}

bool snapshot::uses_syn_proxy() const {
    for (const auto& v : vips)
        if (v.protect.syn_proxy != config::syn_proxy_mode::off) return true;
    return false;
}

void snapshot::add_local_address(const ip_address& a, uint16_t port) {
    if (a.is_v4()) {
        // The next address of the last range, on the same port: the range grows (a pool
        // listed as a prefix becomes one range).
        if (!v4_ranges_.empty()) {
            v4_range& last = v4_ranges_.back();
            if (last.port == port && a.v4_host() == last.first + last.count) {
                ++last.count;
                return;
            }
        }
        v4_ranges_.push_back({a.v4_host(), 1, port});
        return;
    }
    local_address l{};
    std::memcpy(l.bytes, a.bytes.data(), 16);
    l.port = port;
    locals_v6_.push_back(l);
}

void snapshot::index_vips() {
    const uint32_t slots = std::bit_ceil(uint32_t(vips.size() * 2 + 16));
    vip_slots_.assign(slots, -1);
    vip_mask_ = slots - 1;
    vip_of_id_.clear();
    for (size_t v = 0; v < vips.size(); ++v) {
        const auto& e = vips[v];
        uint32_t i =
            vip_hash(e.address.bytes.data(), uint8_t(e.address.family), e.port, e.protocol) &
            vip_mask_;
        while (vip_slots_[i] >= 0) i = (i + 1) & vip_mask_;
        vip_slots_[i] = int32_t(v);
        if (vip_of_id_.size() <= e.id) vip_of_id_.resize(size_t(e.id) + 1, -1);
        vip_of_id_[e.id] = int32_t(v);
    }
    vip_v4_.clear();
    vip_v6_.clear();
    for (const auto& e : vips) {
        if (e.address.is_v4()) {
            vip_v4_.push_back(e.address.v4_host());
        } else {
            std::array<uint8_t, 16> a;
            std::memcpy(a.data(), e.address.bytes.data(), 16);
            vip_v6_.push_back(a);
        }
    }
    std::sort(vip_v4_.begin(), vip_v4_.end());
    vip_v4_.erase(std::unique(vip_v4_.begin(), vip_v4_.end()), vip_v4_.end());
    std::sort(vip_v6_.begin(), vip_v6_.end());
    vip_v6_.erase(std::unique(vip_v6_.begin(), vip_v6_.end()), vip_v6_.end());
}

bool snapshot::has_vip_address(const uint8_t* a, uint8_t family) const {
    if (family == 4) {
        return std::binary_search(vip_v4_.begin(), vip_v4_.end(), packet::load_be32(a));
    }
    std::array<uint8_t, 16> k;
    std::memcpy(k.data(), a, 16);
    return std::binary_search(vip_v6_.begin(), vip_v6_.end(), k);
}

}  // namespace sluice::model

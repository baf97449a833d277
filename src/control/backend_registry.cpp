#include "control/backend_registry.hpp"

#include <algorithm>

namespace sluice::control {

uint32_t backend_registry::acquire(const backend_identity& who) {
    auto it = ids_.find(who);
    if (it != ids_.end()) {
        // A retired backend that came back keeps its id (and its still-open flows' counts).
        auto r = std::find_if(retired_.begin(), retired_.end(),
                              [&](const backend_identity& x) { return !(x < who) && !(who < x); });
        if (r != retired_.end()) retired_.erase(r);
        return it->second;
    }
    uint32_t id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
    } else if (next_ < max_backends) {
        id = next_++;
    } else {
        return no_backend_id;
    }
    ids_.emplace(who, id);
    return id;
}

void backend_registry::retain_only(const std::vector<uint32_t>& live) {
    for (const auto& entry : ids_) {
        // Named members, not a structured binding: C++20 lambdas may capture bindings, clang 14
        // does not implement it yet.
        const backend_identity& who = entry.first;
        const uint32_t id = entry.second;
        bool alive = std::find(live.begin(), live.end(), id) != live.end();
        bool already = std::find_if(retired_.begin(), retired_.end(), [&](const auto& x) {
                           return !(x < who) && !(who < x);
                       }) != retired_.end();
        if (!alive && !already) retired_.push_back(who);
    }
}

void backend_registry::recycle(const std::function<bool(uint32_t)>& in_use) {
    for (size_t i = 0; i < retired_.size();) {
        auto it = ids_.find(retired_[i]);
        if (it != ids_.end() && !in_use(it->second)) {
            free_.push_back(it->second);
            ids_.erase(it);
            retired_[i] = retired_.back();
            retired_.pop_back();
        } else {
            ++i;
        }
    }
}

uint8_t backend_registry::tuple_group(const ip_address& backend, uint16_t port, uint8_t protocol,
                                      uint32_t groups) {
    auto [it, fresh] = groups_.try_emplace({backend.bytes, port, protocol}, uint8_t(0));
    if (fresh) it->second = uint8_t(next_group_++ % (groups ? groups : 1));
    return it->second;
}

uint16_t backend_registry::vip_id(const ip_address& vip, uint16_t port, uint8_t protocol) {
    const vip_key key{vip.bytes, uint8_t(vip.family), port, protocol};
    if (auto it = vip_ids_.find(key); it != vip_ids_.end()) return it->second;
    uint16_t id;
    if (next_vip_ < max_vips) {
        id = uint16_t(next_vip_++);
    } else if (!vip_free_.empty()) {
        id = vip_free_.front();
        vip_free_.pop_front();
    } else {
        return no_vip_id;
    }
    vip_ids_.emplace(key, id);
    return id;
}

void backend_registry::retain_vips(const std::vector<uint16_t>& live) {
    std::vector<bool> is_live(max_vips, false);
    for (uint16_t id : live)
        if (id < max_vips) is_live[id] = true;
    for (auto it = vip_ids_.begin(); it != vip_ids_.end();) {
        if (!is_live[it->second]) {
            vip_free_.push_back(it->second);
            it = vip_ids_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace sluice::control

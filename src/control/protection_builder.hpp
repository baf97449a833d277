#pragma once
// Builds a VIP's protection (model/protection.hpp) from its configuration: per-worker shares of
// the rates, the compiled payload rules, the per-worker guard state. Control thread only.
#include <cstdint>
#include <memory>

#include "model/protection.hpp"
#include "sluice/config.hpp"

namespace sluice::control {

// What build_snapshot needs to size and split the protection.
struct guard_setup {
    unsigned workers = 1;
    uint64_t tsc_hz = 1000000000;  // the workers' clock for token buckets
};

// Builds the VIP's protection, reusing `previous` (the same VIP's guard in the last snapshot,
// may be null) when its rules, inspect size and table size are unchanged. Throws
// std::runtime_error naming the VIP and rule when a pattern does not compile. Control thread.
model::vip_protection build_protection(const config::vip_config& vip, const guard_setup& setup,
                                       uint32_t ticks_per_second,
                                       const std::shared_ptr<model::vip_guard>& previous);

}  // namespace sluice::control

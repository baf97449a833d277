#pragma once
// Prefix arithmetic the validator needs beyond ip_prefix::contains.
#include "sluice/ip_address.hpp"

namespace sluice::config::detail {

// The prefix with its host bits cleared: 198.18.0.1/24 -> 198.18.0.0/24.
ip_prefix network_of(const ip_prefix& prefix);
// True when the two prefixes share at least one address (same family, one contains the other).
bool overlaps(const ip_prefix& a, const ip_prefix& b);
// `network` + k, for k below 256 and a network whose last byte has at least k's bits clear.
ip_address nth_address(const ip_address& network, size_t k);

}  // namespace sluice::config::detail

#pragma once
// Minimal rtnetlink requests for the exception interfaces: give an interface an address, add a
// route through it. Acts on the network namespace of the calling thread. Control thread, at
// start-up only (blocking request/acknowledge).
#include <string>

#include "sluice/ip_address.hpp"

namespace sluice::dataplane::netlink {

// Each returns "" on success, else what failed (the kernel's error text). An address or route
// that already exists counts as success.
std::string add_address(const std::string& ifname, const ip_prefix& prefix);
std::string add_route(const std::string& ifname, const ip_prefix& destination,
                      const ip_address& via);

}  // namespace sluice::dataplane::netlink

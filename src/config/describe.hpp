#pragma once
// How config messages and default names spell addresses, endpoints and VIPs.
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/config.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::config::detail {

std::string_view protocol_name(l4_protocol protocol);  // "tcp"
std::string endpoint(const ip_address& address,
                     uint16_t port);  // "198.18.0.10:80", "[2001:2::1]:80"
std::string vip_label(const ip_address& address, uint16_t port, l4_protocol protocol);  // ".../tcp"
std::string_view family_name(const ip_address& address);                                // "IPv4"

}  // namespace sluice::config::detail

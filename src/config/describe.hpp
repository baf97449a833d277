#pragma once
// How config messages and default names spell addresses, endpoints, VIPs and schedulers.
#include <array>
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

// The config file's spellings, indexed by the enum's value.
inline constexpr std::array<std::string_view, 5> scheduler_names{"rr", "wrr", "lc", "wlc",
                                                                 "maglev"};
inline constexpr std::array<std::string_view, 3> hash_key_names{"src-ip", "src-ip-port", "5-tuple"};
static_assert(size_t(scheduler_kind::maglev) + 1 == scheduler_names.size());
static_assert(size_t(hash_key::five_tuple) + 1 == hash_key_names.size());
inline constexpr std::array<std::string_view, 3> health_check_type_names{"none", "tcp", "http"};
inline constexpr std::array<std::string_view, 2> health_initial_state_names{"up", "down"};
inline constexpr std::array<std::string_view, 3> http_method_names{"GET", "HEAD", "OPTIONS"};
inline constexpr std::array<std::string_view, 2> health_on_down_names{"keep", "reset"};
inline constexpr std::array<std::string_view, 3> health_all_down_names{"drop", "reset", "use-all"};
static_assert(size_t(health_check_type::http) + 1 == health_check_type_names.size());
static_assert(size_t(health_initial_state::down) + 1 == health_initial_state_names.size());
static_assert(size_t(http_method::options) + 1 == http_method_names.size());
static_assert(size_t(health_on_down::reset) + 1 == health_on_down_names.size());
static_assert(size_t(health_all_down::use_all) + 1 == health_all_down_names.size());

inline constexpr std::array<std::string_view, 2> protect_action_names{"drop", "reset"};
inline constexpr std::array<std::string_view, 3> syn_proxy_mode_names{"off", "on", "auto"};
static_assert(size_t(protect_action::reset) + 1 == protect_action_names.size());
static_assert(size_t(syn_proxy_mode::automatic) + 1 == syn_proxy_mode_names.size());

inline std::string_view scheduler_name(scheduler_kind kind) {
    return scheduler_names[size_t(kind)];
}
inline std::string_view health_check_type_name(health_check_type type) {
    return health_check_type_names[size_t(type)];
}

}  // namespace sluice::config::detail

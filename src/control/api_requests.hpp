#pragma once
// The control API's request arguments (include/sluice/control_protocol.hpp): the VIP and backend a
// request names, integer arguments within bounds. A missing or malformed argument is an error
// naming it; nothing is changed by reading them. Control thread only (control_api.cpp).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/result.hpp"
#include "control/backend_registry.hpp"
#include "sluice/config.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::control::api_requests {

std::string vip_label(const config::vip_config& v);
std::string backend_label(const ip_address& a, uint16_t port);
// `key` is present and not null.
bool has(const nlohmann::json& req, const char* key);
// Position of the VIP named by 'vip' (its name or ADDR:PORT/PROTOCOL).
result<size_t> find_vip(const config::config& cfg, const nlohmann::json& req);

struct endpoint {
    ip_address address;
    uint16_t port;
};
// 'backend' as "ADDR:PORT", "[V6]:PORT" or "ADDR" (then `default_port`).
result<endpoint> parse_backend(const nlohmann::json& req, uint16_t default_port);
// Position of the backend 'backend' names in `v`.
result<size_t> find_backend(const config::vip_config& v, const nlohmann::json& req);
backend_identity identity(const config::vip_config& v, const config::backend_config& b);
// Integer argument `key` in 0..max.
result<uint32_t> integer_arg(const nlohmann::json& req, const char* key, uint64_t max);

}  // namespace sluice::control::api_requests

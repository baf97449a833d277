#pragma once
// Checks of sluicectl's arguments that need no daemon: a bad weight, address or port is refused
// before anything is sent. Each check returns an empty string when the text is valid, else what is
// wrong with it (CLI11 prefixes the argument's name).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/ip_address.hpp"

namespace sluice::cli {

inline constexpr uint32_t max_weight = 65535;
inline constexpr uint32_t max_flow_limit = 100000;  // show flows --limit (sluiced's bound too)

// A backend as typed: "ADDR:PORT", "[IPV6]:PORT" or a bare "ADDR" (the VIP's port).
struct endpoint {
    ip_address address;
    std::optional<uint16_t> port;
};

// nullopt with `why` set when `text` is not an endpoint.
std::optional<endpoint> parse_endpoint(std::string_view text, std::string& why);

std::string check_weight(const std::string& text);      // integer 0..65535
std::string check_rate(const std::string& text);        // integer 0..1000000000
std::string check_seconds(const std::string& text);     // number > 0
std::string check_flow_limit(const std::string& text);  // integer 1..max_flow_limit
std::string check_backend(const std::string& text);     // parse_endpoint accepts it
std::string check_vip(const std::string& text);         // a VIP name or "ADDR:PORT/PROTO"

// Whether the backend `typed` on the command line names the daemon's `reported` "ADDR:PORT".
bool same_backend(std::string_view typed, std::string_view reported);

}  // namespace sluice::cli

#include "config/validate.hpp"

namespace sluice::config::detail {

void validate(const config& cfg, const origins& where, diagnostics& diag) {
    validate_network(cfg, where, diag);
    validate_vips(cfg, where, diag);
}

bool is_connected(const config& cfg, const ip_address& address) {
    for (const auto& port : cfg.ports)
        for (const auto& prefix : port.addresses)
            if (prefix.contains(address)) return true;
    return false;
}

std::string defined_at(const origin& earlier) {
    return "defined at line " + std::to_string(earlier.at.line);
}

}  // namespace sluice::config::detail

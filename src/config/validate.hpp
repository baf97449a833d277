#pragma once
// Cross-field rules over the parsed model: uniqueness, overlaps, reachability, ranges that depend
// on other keys. Runs after parse_document() on whatever parsed; values whose origin is missing
// were already reported and are skipped.
#include "config/diagnostics.hpp"
#include "config/origins.hpp"
#include "sluice/config.hpp"

namespace sluice::config::detail {

void validate(const config& cfg, const origins& where, diagnostics& diag);

// The two halves of validate(), one file each.
void validate_network(const config& cfg, const origins& where, diagnostics& diag);
void validate_vips(const config& cfg, const origins& where, diagnostics& diag);

// True when one of the ports' connected subnets contains the address.
bool is_connected(const config& cfg, const ip_address& address);

// "defined at line 12", for messages pointing at an earlier definition.
std::string defined_at(const origin& earlier);

}  // namespace sluice::config::detail

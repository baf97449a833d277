#pragma once
// TOML document -> config model. Checks what one value (or one table) can say about itself:
// types, ranges, formats, required and unknown keys. Cross-table rules live in validate.hpp.
#include <toml++/toml.h>

#include "config/diagnostics.hpp"
#include "config/origins.hpp"
#include "config/toml_reader.hpp"
#include "sluice/config.hpp"

namespace sluice::config::detail {

void parse_document(const toml::table& root, config& cfg, origins& where, diagnostics& diag);

// One function per top-level key; each takes the root reader and reads its own key.
void parse_dataplane(table_reader& root, dataplane_config& out, origins& where);
void parse_ports(table_reader& root, std::vector<port_config>& out, origins& where);
void parse_routes(table_reader& root, std::vector<route_config>& out, origins& where);
void parse_vips(table_reader& root, std::vector<vip_config>& out, origins& where);

}  // namespace sluice::config::detail

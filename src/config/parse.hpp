#pragma once
// TOML document -> config model. Checks what one value (or one table) can say about itself:
// types, ranges, formats, required and unknown keys. Cross-table rules live in validate.hpp.
#include <toml++/toml.h>

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <string_view>

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

// A duration: "500ms", "2s", "1.5m", or a plain number of seconds (2, 1.5); min_ms..1 h
// (src/config/parse_health.cpp).
std::optional<origin> read_duration(table_reader& table, std::string_view key, uint64_t min_ms,
                                    uint32_t& out);
// "1500ms", "2s", "60m": how messages spell a duration.
std::string duration_text(uint64_t ms);

// A string that must be one of `names` (the enum's spellings, in enum order): `out` receives the
// match. Otherwise "unknown WHAT 'x' (expected one of a, b, c)".
template <typename E>
std::optional<origin> read_keyword(table_reader& table, std::string_view key, std::string_view what,
                                   std::span<const std::string_view> names, E& out) {
    std::string text;
    auto at = table.string(key, text);
    if (!at) return std::nullopt;
    auto match = std::find(names.begin(), names.end(), text);
    if (match != names.end()) {
        out = E(match - names.begin());
        return at;
    }
    std::string expected;
    for (auto name : names) expected += (expected.empty() ? "" : ", ") + std::string(name);
    table.diag().report(
        *at, "unknown " + std::string(what) + " '" + text + "' (expected one of " + expected + ")");
    return std::nullopt;
}

}  // namespace sluice::config::detail

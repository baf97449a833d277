#pragma once
// Attack protection per VIP: [vip.limits], [[vip.rule]] with [vip.rules], and syn_proxy (a mode
// string or a [vip.syn_proxy] table). Rule patterns are compiled with src/protect/ here, so a
// pattern Hyperscan refuses is a config error (also for `sluiced --check`). Control thread /
// startup only.
#include "config/toml_reader.hpp"
#include "sluice/config.hpp"

namespace sluice::config::detail {

// Reads the VIP's protection keys into `cfg`. `protocol_known`: cfg.protocol is valid (reset
// actions and the SYN proxy need tcp).
void parse_vip_protection(table_reader& vip, bool protocol_known, vip_config& cfg);

}  // namespace sluice::config::detail

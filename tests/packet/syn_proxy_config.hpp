#pragma once
// The configuration shared by the SYN proxy's packet tests (syn_proxy_*_test.cpp, not _bounds and
// _reuse) and the ports of its VIPs: two proxied VIPs (syn_proxy written both ways, the table form
// with embryonic_timeout 250ms) and two unproxied ones with half-open limits. Cookies and the
// proxy's TSval clock come from the TSC, so the tests read them from the SYN-ACKs the LB sends,
// never assume them.
#include <cstdint>

namespace sluice::packet_test {

inline constexpr const char* syn_proxy_config_text = R"(
[dataplane]
worker_cpus = [0]
mbufs = 4095
mbuf_cache = 32
rx_descriptors = 256
tx_descriptors = 256
ring_size = 256

[[port]]
name = "client"
device = "net_ring_client"
addresses = ["198.18.0.1/24"]

[[port]]
name = "servers"
device = "net_ring_servers"
addresses = ["198.18.1.1/24"]

[flows]
capacity = 4096

[[vip]]
name = "proxied"
address = "198.18.0.10"
port = 80
protocol = "tcp"
syn_proxy = "on"
  [[vip.backend]]
  address = "198.18.1.11"
  [[vip.backend]]
  address = "198.18.1.12"
  [[vip.backend]]
  address = "198.18.1.13"

[[vip]]
name = "proxied-table"
address = "198.18.0.10"
port = 8080
protocol = "tcp"
  [vip.syn_proxy]
  mode = "on"
  embryonic_timeout = "250ms"
  [[vip.backend]]
  address = "198.18.1.11"

[[vip]]
name = "half-open"
address = "198.18.0.10"
port = 81
protocol = "tcp"
  [vip.syn_proxy]
  mode = "off"
  max_half_open = 2
  [[vip.backend]]
  address = "198.18.1.11"
  [[vip.backend]]
  address = "198.18.1.12"
  [[vip.backend]]
  address = "198.18.1.13"

[[vip]]
name = "half-open-per-backend"
address = "198.18.0.10"
port = 82
protocol = "tcp"
  [vip.syn_proxy]
  mode = "off"
  max_half_open_per_backend = 1
  [[vip.backend]]
  address = "198.18.1.11"
  [[vip.backend]]
  address = "198.18.1.12"
  [[vip.backend]]
  address = "198.18.1.13"
)";

inline constexpr uint16_t proxied_port = 80;
inline constexpr uint16_t proxied_table_port = 8080;
inline constexpr uint16_t half_open_port = 81;
inline constexpr uint16_t per_backend_port = 82;

}  // namespace sluice::packet_test

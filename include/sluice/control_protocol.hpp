#pragma once
// The control API between sluicectl (or any client) and sluiced: a Unix stream socket, root-only
// (mode 0600), carrying JSON lines. Each request is one JSON object on one line; each response is
// one JSON object on one line; a connection may carry several requests in turn.
//
//   request:  {"cmd": "<command>", <arguments>}
//   response: {"ok": true, "result": <value>}
//             {"ok": false, "error": "<what is wrong>", "details": ["FILE:LINE:COL: …", …]}
//
// A refused command changes nothing. Commands (arguments; result):
//   show_vips       ()                                  [vip]
//   show_backends   (vip?)                              [backend]
//   show_stats      ()                                  {"totals": {k: v}, "workers": [{k: v}]}
//   show_flows      (vip?, backend?, limit?)            {"flows": [flow], "truncated", "limit"}
//   show_ports      ()                                  [port]
//   show_info       ()                                  {"version", "dpdk", "pid", "started",
//                                                        "uptime_s", "config", "workers", ...}
//   set_weight      (vip, backend, weight)              backend
//   drain           (vip, backend, timeout?)            backend      flows still open after
//                                                                    `timeout` s are reset
//   enable          (vip, backend)                      backend
//   disable         (vip, backend, reset?)              backend      reset: RST its flows now
//   add_backend     (vip, backend, weight?)             backend
//   remove_backend  (vip, backend)                      backend      drains first
//   reload          (file?)                             {"generation": n, "file": path}
//   show_state      ()                                  {"file": path or null, "state": the
//                                                        state file's JSON as held, "written":
//                                                        ISO time or null, "problem"?,
//                                                        "write_error"?} (docs/operations.md,
//                                                        "State that survives")
//
// `vip` is a VIP's name or "ADDR:PORT/PROTO" (IPv6 as "[ADDR]:PORT/PROTO"); `backend` is
// "ADDR:PORT" or "ADDR" (port = the VIP's port).
//
// vip:     {"name", "address", "port", "protocol", "scheduler", "backends", "active", "inactive"}
// backend: {"vip", "backend", "state", "weight", "configured_weight", "max_connections",
//           "active", "inactive", "connections_total", "new_connections_per_second",
//           "packets_to_backend", "packets_from_backend", "bytes_to_backend",
//           "bytes_from_backend", "drain_deadline_in" (seconds until drain --timeout
//           resets what is left, or null)}
// port:    {"name", "device", "dpdk_port", "mac", "mtu", "vlan",
//           "link" ("up, 10 Gbps, full-duplex", "down"), "link_up",
//           "nic": {"driver", "numa_socket", "rx_queues", "tx_queues", "rx_descriptors",
//           "tx_descriptors", "rss", "rx_checksum_offload", "vlan_strip", "vlan_insert",
//           "link_interrupt", "steering", "steering_rules"}, "counters": {port counter: value}}
// flow:    {"worker", "protocol", "client", "vip", "vip_address", "backend", "local" (the LB's
//           full-NAT source), "state" (TCP state or "udp"), "expires_in" (seconds idle left)}
//   `backend` needs `vip`; limit 1..100000, default 100.
//   state: "up" | "draining" | "drained" | "disabled" | "removing"
//     up        takes new flows (if weight > 0)
//     draining  no new flows; existing flows run to their end ("drained" once none is left)
//     disabled  maintenance: no new flows at once (flows reset when asked with reset)
//     removing  remove_backend: draining, then gone from the VIP when empty
#include <string_view>

namespace sluice::control_protocol {

inline constexpr std::string_view default_socket_path = "/run/sluice/sluiced.sock";
// Limits of the server (docs/operations.md, "Control socket limits"): a request line, newline
// included, is at most max_request_bytes (longer: an error answer, then the connection is closed);
// at most max_clients connections are served at once; a connection that neither sends a request
// nor takes its answer for idle_timeout_s is closed.
inline constexpr unsigned max_request_bytes = 65536;
inline constexpr unsigned max_clients = 64;
inline constexpr unsigned idle_timeout_s = 30;

}  // namespace sluice::control_protocol

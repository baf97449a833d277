#pragma once
// The validated configuration model. Produced by sluice::config::load_file (src/config/),
// consumed by the control thread to build data-plane snapshots. Everything here has already been
// checked: addresses parse, ranges hold, every backend has a route.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sluice/ip_address.hpp"

namespace sluice::config {

enum class l4_protocol : uint8_t { tcp = 6, udp = 17 };
enum class idle_policy : uint8_t { spin, backoff };
// How a VIP picks the backend of a new flow (docs/config.md, docs/architecture.md).
enum class scheduler_kind : uint8_t { rr, wrr, lc, wlc, maglev };
// What Maglev hashes: the client address, address and port, or the whole 5-tuple.
enum class hash_key : uint8_t { src_ip, src_ip_port, five_tuple };

inline constexpr size_t max_local_addresses = 256;  // per port

// [[port]] rss: the header fields the NIC hashes to spread flows over the RX queues.
namespace port_rss {
inline constexpr uint8_t ip = 1;   // source and destination addresses (IPv4 and IPv6)
inline constexpr uint8_t tcp = 2;  // TCP ports too
inline constexpr uint8_t udp = 4;  // UDP ports too
inline constexpr uint8_t all = ip | tcp | udp;
}  // namespace port_rss

struct port_config {
    std::string name;    // operator's name, e.g. "client"
    std::string device;  // PCI address ("0000:03:00.0") or vdev ("net_af_packet0,iface=…")
    std::vector<ip_prefix> addresses;  // the LB's own addresses on this port (connected subnets)
    // Full-NAT source addresses of flows leaving on this port (expanded from addresses and
    // prefixes, at most max_local_addresses); empty = the port's first address of the family.
    std::vector<ip_address> local_addresses;
    // 802.1Q VLAN id 1..4094 of every frame on this port; 0 = untagged. Ports that share one
    // device (sub-ports, docs/config.md "VLANs") are told apart by this VID on reception.
    uint16_t vlan = 0;
    // Largest IP packet the port sends (and the device receives), 576..9000; 0 = the device's
    // own MTU at start. Sub-ports of one device may differ: the device gets the largest.
    uint16_t mtu = 0;
    // The device's NIC settings (docs/config.md "NIC settings"); sub-ports of one device that set
    // one must agree. 0 / empty = the default. RX queues spread by RSS, 1..workers (default one
    // per worker; workers past it poll no queue of the device, its TX queues stay one per
    // worker); descriptors per queue (default [dataplane] rx_/tx_descriptors); RSS hash fields
    // (port_rss bits, default all); RX checksum offload (default on when the NIC offers it);
    // reply steering by rte_flow (dataplane/flow_steering.hpp).
    uint16_t queues = 0;
    uint16_t rx_descriptors = 0;
    uint16_t tx_descriptors = 0;
    uint8_t rss = 0;
    std::optional<bool> rx_checksum_offload{};
    // rte_flow rules steering replies to their worker's RX queue where the NIC takes them
    // (default on; off: RSS and the handoff ring, as on drivers without rte_flow).
    std::optional<bool> flow_steering{};
    // The full-NAT source addresses of this family: local_addresses of the family, or else the
    // port's first address of the family (empty when it has none).
    std::vector<ip_address> full_nat_sources(address_family family) const;
    bool is_pci() const;            // true when device is a PCI BDF
    std::string dpdk_name() const;  // name DPDK gives the port: BDF or vdev name before ','
    bool operator==(const port_config&) const = default;
};

struct route_config {
    ip_prefix prefix;
    ip_address via;  // next hop; must be on a connected subnet of some port
};

// Health checks (docs/config.md, "Health checks"). Durations are milliseconds.
enum class health_check_type : uint8_t { none, tcp, http };
enum class health_initial_state : uint8_t { up, down };
enum class http_method : uint8_t { get, head, options };
// What happens to the established flows of a backend that goes down.
enum class health_on_down : uint8_t { keep, reset };
// What new flows of a VIP do when none of its backends is up.
enum class health_all_down : uint8_t { drop, reset, use_all };

// An inclusive range of HTTP status codes, 100..599; "200" is {200, 200}.
struct http_status_range {
    uint16_t first = 200;
    uint16_t last = 399;
    bool contains(uint16_t status) const { return status >= first && status <= last; }
    bool operator==(const http_status_range&) const = default;
};

// One backend's probe: [vip.health] with the backend's [vip.backend.health] applied. Defaults
// are HAProxy's where it has one. initial_jitter and initial_state are set per VIP only.
struct health_check_config {
    health_check_type type = health_check_type::none;  // none: never probed, always up
    uint32_t interval_ms = 2000;                       // between probe starts; 1 ms..1 h
    uint32_t timeout_ms = 1000;  // <= interval_ms; default 1 s, or the interval when shorter
    uint32_t rise = 2;           // consecutive successes that bring a down backend up; 1..100
    uint32_t fall = 3;           // consecutive failures that take an up backend down; 1..100
    bool initial_jitter = true;  // first probe at a random point within the first interval
    uint16_t port = 0;           // 0 = the backend's port
    health_initial_state initial_state = health_initial_state::up;  // before the first results
    http_method method = http_method::get;                          // http only
    std::string http_path = "/";  // http only; starts with '/', no spaces or control characters
    std::string http_host;        // http only; Host header, "" = the backend's address
    std::vector<http_status_range> expect_status{{200, 399}};  // http only; any range matches
    bool operator==(const health_check_config&) const = default;
};

// [vip.health]: the VIP's probe (before per-backend overrides) and the VIP-wide reactions.
struct health_config {
    health_check_config check;
    health_on_down on_down = health_on_down::keep;     // established flows of a down backend
    health_all_down all_down = health_all_down::drop;  // new flows when no backend is up
    uint32_t slow_start_ms = 0;     // ramp of the effective weight after coming up; 0 = off; <= 1 h
    uint32_t passive_failures = 0;  // consecutive failed connects that mark a backend down;
                                    // 0 = off; up to 1000; tcp VIPs with probes only
    uint32_t passive_connect_timeout_ms = 1000;  // a forwarded SYN without SYN-ACK in this time
                                                 // is a failed connect; 1 ms..1 h
    bool operator==(const health_config&) const = default;
};

// Attack protection (docs/config.md, "Attack protection"): rate limits, payload rules and the
// SYN proxy's settings, per VIP. Built by src/protect/ (limits, rules); the SYN proxy comes later.

// What a new connection refused by a limit or a payload rule gets: dropped silently, or an RST
// (tcp VIPs only).
enum class protect_action : uint8_t { drop, reset };

// `per_second` events per second, at most `burst` at once. per_second 0 = unlimited. The file's
// burst 0 means "the rate": the loader stores the resolved value (burst == per_second).
struct rate_limit_config {
    uint32_t per_second = 0;  // 0..1000000000
    uint32_t burst = 0;       // 0 while unlimited, else 1..1000000000
    bool limited() const { return per_second != 0; }
    bool operator==(const rate_limit_config&) const = default;
};

// [vip.limits]. VIP-wide limits are enforced per worker, each worker a 1/N share
// (src/protect/token_bucket.hpp explains the split); per-source ones per worker too.
struct vip_limits_config {
    rate_limit_config new_connections;         // new flows of the VIP, over all clients
    rate_limit_config packets;                 // client->VIP packets, new flows or not
    rate_limit_config source_new_connections;  // new flows per client address
    uint32_t source_table_size = 65536;        // client addresses tracked per worker; 64..16777216
    protect_action action = protect_action::drop;  // for a new connection over a connection limit
    bool operator==(const vip_limits_config&) const = default;
};

// [[vip.rule]]: a regular expression (Hyperscan's dialect) over the first payload bytes of a
// connection from the client; known to compile.
struct payload_rule_config {
    std::string name;  // unique within the VIP; default "rule[i]"
    std::string pattern;
    protect_action action = protect_action::drop;
    bool operator==(const payload_rule_config&) const = default;
};

// When the SYN proxy answers a VIP's SYNs itself: never, always, or while the VIP looks attacked.
enum class syn_proxy_mode : uint8_t { off, on, automatic };

// syn_proxy = "…" or [vip.syn_proxy]. Parsed and validated only: the proxy is not built yet.
struct syn_proxy_config {
    syn_proxy_mode mode = syn_proxy_mode::off;
    uint32_t half_open_threshold = 1024;     // auto: engage at this many half-open flows of the VIP
    uint32_t syn_rate_threshold = 10000;     // auto: engage at this many SYNs per second
    uint32_t embryonic_timeout_ms = 5000;    // a half-open connection is dropped after this
    uint32_t max_half_open = 0;              // half-open flows of the VIP; 0 = unlimited
    uint32_t max_half_open_per_backend = 0;  // half-open flows per backend; 0 = unlimited
    uint16_t mss = 0;  // MSS our SYN-ACKs offer; 0 = the backends' port MTU - 40 (IPv6: - 60)
    bool operator==(const syn_proxy_config&) const = default;
};

struct backend_config {
    ip_address address;
    uint16_t port = 0;
    uint32_t weight = 1;           // 0..65535; 0 = no new flows
    uint32_t max_connections = 0;  // 0 = unlimited; else active+inactive flows above which the
                                   // backend gets no new flows (HAProxy maxconn, IPVS u-threshold)
    health_check_config health;    // the VIP's [vip.health] with this backend's overrides
};

// The Maglev lookup table's size when a VIP names none (a prime). A constant of its own so that
// compile-time checks can read it (clang cannot evaluate vip_config{} in a constant expression).
inline constexpr uint32_t default_maglev_table_size = 65537;

struct vip_config {
    std::string name;  // defaults to "ADDR:PORT/PROTO"
    ip_address address;
    uint16_t port = 0;
    l4_protocol protocol = l4_protocol::tcp;
    scheduler_kind scheduler = scheduler_kind::rr;
    hash_key hash = hash_key::src_ip;                        // maglev only
    uint32_t maglev_table_size = default_maglev_table_size;  // maglev only; a prime
    uint64_t hash_seed = 0;  // maglev only; same seed + same backends = same table
    health_config health;    // [vip.health]; backends carry their effective probe
    std::vector<backend_config> backends;
    vip_limits_config limits;                // [vip.limits]
    std::vector<payload_rule_config> rules;  // [[vip.rule]], in priority order
    uint32_t rule_inspect_bytes = 256;       // [vip.rules] inspect_bytes; 1..65535
    syn_proxy_config syn_proxy;              // syn_proxy / [vip.syn_proxy]
    // TCP only: the MSS option of SYNs and SYN-ACKs of the VIP's flows is lowered to this when
    // larger (tunnels, overlays); 0 = off, else 536..65495.
    uint16_t mss_clamp = 0;
};

struct dataplane_config {
    std::vector<std::string> eal_args;  // extra EAL arguments (not -l/--lcores/-a/--vdev)
    unsigned control_cpu = 0;           // CPU the main (control) lcore runs on
    std::vector<unsigned> worker_cpus;  // one worker lcore per entry; CPUs may repeat
    std::string netns;                  // optional: network namespace holding the vdev interfaces
    idle_policy idle = idle_policy::backoff;
    uint32_t mbufs = 16383;     // mbufs in the packet pool
    uint32_t mbuf_cache = 256;  // per-lcore mempool cache
    uint16_t rx_descriptors = 1024;
    uint16_t tx_descriptors = 1024;
    uint32_t ring_size = 1024;  // per-worker handoff rings (power of two)
    uint16_t burst = 32;        // RX/TX burst size (1..256)
    // Client segments the SYN proxy holds per worker while backends answer; 0 = mbufs / 4 /
    // workers (a quarter of the pool, whatever the backends do).
    uint32_t syn_proxy_max_held = 0;
    // Exception path: one TAP per port ("sl-<port>") so the host kernel answers ICMP to LB
    // addresses and health probes can be kernel sockets (docs/architecture.md).
    bool kernel_interfaces = true;
    // Frames to the host kernel (ICMP to LB addresses; answers to kernel sockets, a separate
    // bucket of the same size) per second and at most at once, split over the workers
    // (docs/config.md).
    uint32_t kernel_packets_per_second = 10000;
    uint32_t kernel_packets_burst = 1000;
    // ICMP echo requests to VIPs the workers answer per second and at most at once, split over
    // the workers; 0 = VIPs do not answer pings (docs/config.md).
    uint32_t icmp_echo_per_second = 1000;
    uint32_t icmp_echo_burst = 50;
    // ICMP errors the workers originate (time exceeded) per second and at most at once, split
    // over the workers; 0 = never send any.
    uint32_t icmp_errors_per_second = 1000;
    uint32_t icmp_errors_burst = 50;
    // IP fragments (docs/config.md): datagrams each worker holds in reassembly at once, 0 = no
    // reassembly (every fragment dropped); how long an incomplete one may wait.
    uint32_t fragment_max_datagrams = 4096;
    uint32_t fragment_timeout_ms = 2000;
    bool operator==(const dataplane_config&) const = default;
};

struct flow_config {
    uint32_t capacity = 65536;       // flows per worker, allocated at start
    uint16_t local_port_min = 1024;  // full-NAT source ports, split evenly among workers
    // Ports above the full-NAT range belong to the host kernel behind the exception interfaces
    // (health probes bind there): 61000..65535 by default.
    uint16_t local_port_max = 60999;
    // Seconds a (local address, local port, backend address, backend port) tuple rests after its
    // flow ended before it is used again: the backends' TIME_WAIT (Linux: 60 s, fixed).
    uint32_t reuse_after = 60;
    // Backend endpoints take these groups in turn; a local tuple is exclusive within a group and
    // shared between groups (docs/config.md, "Full-NAT source tuples").
    uint32_t tuple_groups = 64;
    bool operator==(const flow_config&) const = default;
};

// Seconds; IPVS defaults.
struct timeout_config {
    uint32_t tcp_syn = 10;  // not IPVS's 120: a flood's half-open flows must leave quickly
    uint32_t tcp_established = 900;
    uint32_t tcp_fin_wait = 120;
    uint32_t tcp_time_wait = 120;
    uint32_t tcp_close = 10;
    uint32_t udp = 300;
};

struct neighbor_config {
    uint32_t reachable_time = 300;  // seconds a learned MAC is trusted without refresh
    uint32_t retry_interval_ms = 1000;
    uint32_t retries = 3;  // requests per resolution attempt before marking failed
    bool operator==(const neighbor_config&) const = default;
};

struct control_config {
    std::string socket = "/run/sluice/sluiced.sock";  // Unix socket of the control API (0600)
    // Where the operator's changes (drain, disable, weights, limits, added and removed backends)
    // are kept across restarts and reloads (src/control/state_keeper.hpp); "" = not kept.
    std::string state_file;
    bool operator==(const control_config&) const = default;
};

struct metrics_config {
    std::string listen = "127.0.0.1:9273";  // Prometheus /metrics; "" disables
    bool operator==(const metrics_config&) const = default;
};

// [log] (docs/config.md): the least severe level written; sluiced --log-level overrides it.
enum class log_level : uint8_t { debug, info, warn, error };
struct log_config {
    log_level level = log_level::info;
    bool operator==(const log_config&) const = default;
};

struct config {
    std::string source_file;
    control_config control;
    metrics_config metrics;
    log_config logging;  // [log]
    dataplane_config dataplane;
    std::vector<port_config> ports;
    std::vector<route_config> routes;
    flow_config flows;
    timeout_config timeouts;
    neighbor_config neighbor;
    std::vector<vip_config> vips;
};

// One problem found in a config file, already formatted as "FILE:LINE:COLUMN: message".
struct error {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;
    std::string message;
    std::string to_string() const;
};

// Thrown by load_* with every problem found (not just the first).
class config_error : public std::runtime_error {
public:
    explicit config_error(std::vector<error> errors);
    const std::vector<error>& errors() const { return errors_; }

private:
    std::vector<error> errors_;
};

// A config file larger than this is refused unread (docs/operations.md).
inline constexpr size_t max_config_bytes = 16u << 20;

// Parses and validates. Throws config_error. Control thread / startup only. Reads only a regular
// file of at most max_config_bytes, opened non-blocking: a FIFO, a device or a directory is
// refused at once instead of blocking or reading without end.
config load_file(const std::string& path);
config load_string(const std::string& text, const std::string& name);

}  // namespace sluice::config

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

struct port_config {
    std::string name;    // operator's name, e.g. "client"
    std::string device;  // PCI address ("0000:03:00.0") or vdev ("net_af_packet0,iface=…")
    std::vector<ip_prefix> addresses;  // the LB's own addresses on this port (connected subnets)
    bool is_pci() const;               // true when device is a PCI BDF
    std::string dpdk_name() const;     // name DPDK gives the port: BDF or vdev name before ','
    bool operator==(const port_config&) const = default;
};

struct route_config {
    ip_prefix prefix;
    ip_address via;  // next hop; must be on a connected subnet of some port
};

struct backend_config {
    ip_address address;
    uint16_t port = 0;
    uint32_t weight = 1;           // 0..65535; 0 = no new flows
    uint32_t max_connections = 0;  // 0 = unlimited; else active+inactive flows above which the
                                   // backend gets no new flows (HAProxy maxconn, IPVS u-threshold)
};

struct vip_config {
    std::string name;  // defaults to "ADDR:PORT/PROTO"
    ip_address address;
    uint16_t port = 0;
    l4_protocol protocol = l4_protocol::tcp;
    scheduler_kind scheduler = scheduler_kind::rr;
    hash_key hash = hash_key::src_ip;    // maglev only
    uint32_t maglev_table_size = 65537;  // maglev only; a prime
    uint64_t hash_seed = 0;              // maglev only; same seed + same backends = same table
    std::vector<backend_config> backends;
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
    bool operator==(const dataplane_config&) const = default;
};

struct flow_config {
    uint32_t capacity = 65536;       // flows per worker, allocated at start
    uint16_t local_port_min = 1024;  // full-NAT source ports, split evenly among workers
    uint16_t local_port_max = 65535;
    bool operator==(const flow_config&) const = default;
};

// Seconds; IPVS defaults.
struct timeout_config {
    uint32_t tcp_syn = 120;
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
    bool operator==(const control_config&) const = default;
};

struct metrics_config {
    std::string listen = "127.0.0.1:9273";  // Prometheus /metrics; "" disables
    bool operator==(const metrics_config&) const = default;
};

struct config {
    std::string source_file;
    control_config control;
    metrics_config metrics;
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

// Parses and validates. Throws config_error. Control thread / startup only.
config load_file(const std::string& path);
config load_string(const std::string& text, const std::string& name);

}  // namespace sluice::config

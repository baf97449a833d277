// The benchmark's addresses and frame sizes (198.18.0.0/15, the benchmarking range). Clients sit
// behind a gateway so one neighbour entry serves any number of client addresses; backends are on
// the servers' subnet. Pure constants and arithmetic: any thread.
#pragma once

#include <array>
#include <cstdint>

namespace sluice::worker_bench {

constexpr uint32_t ip4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
    return a << 24 | b << 16 | c << 8 | d;
}
constexpr uint32_t vip_address = ip4(198, 18, 0, 10);
constexpr uint32_t gateway_address = ip4(198, 18, 0, 2);
constexpr uint32_t lb_server_address = ip4(198, 18, 16, 1);  // the full-NAT source address
constexpr uint32_t first_backend = ip4(198, 18, 16, 2);
// The local address pool of the *_pool16 scenario ([[port]] local_addresses), clear of the
// backends; the full-NAT source of a frame to a backend must lie in the scenario's pool.
constexpr uint32_t pool16_first = ip4(198, 18, 31, 16);
constexpr const char* pool16_keys = "local_addresses = [\"198.18.31.16/28\"]\n";
constexpr uint16_t tcp_vip_port = 80;
constexpr uint16_t udp_vip_port = 53;
// Full-NAT gives each (local address, backend tuple group) pair 59976 source ports (1024..60999);
// with one local address, N flows need N / 59976 backends, each in its own group (tuple_groups =
// 256 in the configuration). 253 = 11 × 23 is coprime with 59976 = 2^3·3^2·7^2·17, so the
// worker's round-robin and its port cursor never revisit a pair before 253 × 59976 = 15.2 M
// flows: enough for the 10 M scenario, and the same pool for every scenario.
constexpr uint32_t backend_count = 253;
constexpr uint32_t clients_per_address = 50000;
// A spoofed SYN flood (syn_cookies): 65536 distinct source address/port pairs (16384 addresses ×
// 4 ports) in 198.19.128.0/17, routed through their own gateway (a second [[route]]), clear of
// the clients (198.19.0.x).
constexpr uint32_t attack_gateway_address = ip4(198, 18, 0, 3);
constexpr uint32_t first_spoofed_address = ip4(198, 19, 128, 1);
constexpr uint32_t spoofed_addresses = 16384;
constexpr uint32_t spoofed_sources = 4 * spoofed_addresses;
constexpr uint16_t first_spoofed_port = 20000;

constexpr uint16_t frame_len = 60;  // 64 bytes on the wire with the FCS
// A Linux client's SYN with options (syn_cookies): 74 bytes.
constexpr uint16_t syn_frame_len = 14 + 20 + 40;
constexpr uint16_t burst = 32;

enum port_index : uint8_t { client = 0, servers = 1 };

inline uint32_t client_address(uint32_t flow) {
    return ip4(198, 19, 0, 1) + flow / clients_per_address;
}
inline uint16_t client_port(uint32_t flow) {
    return uint16_t(10000 + flow % clients_per_address);
}
inline uint32_t backend_address(uint32_t b) {
    return first_backend + b;
}
inline uint32_t spoofed_address(uint32_t i) {
    return first_spoofed_address + i % spoofed_addresses;
}
inline uint16_t spoofed_port(uint32_t i) {
    return uint16_t(first_spoofed_port + i / spoofed_addresses);
}
// The source a SYN-ACK was sent to, or spoofed_sources when it is none of them.
inline uint32_t spoofed_index(uint32_t address, uint32_t port) {
    const uint32_t a = address - first_spoofed_address, p = port - first_spoofed_port;
    return a < spoofed_addresses && p < spoofed_sources / spoofed_addresses
               ? p * spoofed_addresses + a
               : spoofed_sources;
}
// Each source's ISN and TSval: distinct, spread over the sequence space.
inline uint32_t spoofed_isn(uint32_t i) {
    return i * 2654435761u + 0x12345678u;
}
inline uint32_t spoofed_tsval(uint32_t i) {
    return 0x40000000u + i * 7;
}
// Every neighbour's MAC is derived from its address, so the ARP answers and the checks agree.
inline void mac_of(uint32_t address, uint8_t* mac) {
    mac[0] = 0x02;
    mac[1] = 0xbe;
    for (int i = 0; i < 4; ++i) mac[2 + i] = uint8_t(address >> (24 - 8 * i));
}

// The IPv6 plan (2001:2::/48, RFC 5180's benchmarking range), the IPv4 one's mirror: the client
// side in 2001:2::/64 (the VIP ::10, the gateway ::2), the servers' in 2001:2:0:10::/64 (the
// LB ::1, the backends from ::2), the clients behind the gateway in 2001:2:0:100::/64.
using ip6 = std::array<uint8_t, 16>;
constexpr ip6 ip6_of(uint16_t subnet, uint32_t host) {
    return {0x20,
            0x01,
            0,
            2,
            0,
            0,
            uint8_t(subnet >> 8),
            uint8_t(subnet),
            0,
            0,
            0,
            0,
            uint8_t(host >> 24),
            uint8_t(host >> 16),
            uint8_t(host >> 8),
            uint8_t(host)};
}
constexpr uint16_t client_subnet6 = 0, server_subnet6 = 0x10, clients_subnet6 = 0x100;
constexpr ip6 vip_address6 = ip6_of(client_subnet6, 0x10);
constexpr ip6 gateway_address6 = ip6_of(client_subnet6, 2);
constexpr ip6 lb_server_address6 = ip6_of(server_subnet6, 1);  // the IPv6 full-NAT source
constexpr uint32_t first_backend_host6 = 2;
constexpr const char* client_port6 = "2001:2::1/64";
constexpr const char* server_port6 = "2001:2:0:10::1/64";
constexpr const char* clients_route6 = "prefix = \"2001:2:0:100::/64\"\nvia = \"2001:2::2\"\n";

inline ip6 client_address6(uint32_t flow) {
    return ip6_of(clients_subnet6, 1 + flow / clients_per_address);
}
inline ip6 backend_address6(uint32_t b) {
    return ip6_of(server_subnet6, first_backend_host6 + b);
}
// The low 32 bits of an address of the plan (its host part).
inline uint32_t host6(const uint8_t* a) {
    return uint32_t(a[12]) << 24 | uint32_t(a[13]) << 16 | uint32_t(a[14]) << 8 | a[15];
}
// An IPv6 neighbour's MAC: from its subnet and host part (0x06: never one of the IPv4 MACs).
inline void mac_of6(const uint8_t* address, uint8_t* mac) {
    mac[0] = 0x06;
    mac[1] = address[7];
    for (int i = 0; i < 4; ++i) mac[2 + i] = address[12 + i];
}

}  // namespace sluice::worker_bench

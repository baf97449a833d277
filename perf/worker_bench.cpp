// Benchmark of the real worker path: the runtime and worker that sluiced runs (src/dataplane), on
// one lcore, fed with synthetic frames (60 bytes, 64 on the wire with the FCS) through two net_ring
// ports, next to a baseline that moves the same frames RX→TX with no processing through the same
// harness (mbuf alloc, 64-byte copy, ring enqueue, TX ring dequeue, mbuf free).
//
// Property checked (every run; the perf_worker_smoke test runs --smoke): every injected packet is
// forwarded to the other port, none dropped, and every figure is finite and positive.
// Also checked: setup flows reach ESTABLISHED, each SYN creates exactly one flow, and with
// --smoke every output frame's addresses, MACs, TTL and IPv4/L4 checksums. For the SYN proxy
// (syn_cookies): every SYN is answered by one SYN-ACK on the client port, nothing reaches the
// servers and no flow is created; with --smoke each SYN-ACK goes to its SYN's source with ack =
// ISN + 1, valid checksums and a cookie the proxy accepts. Speeds are never checked:
// docs/performance.md has the figures.
//
//   build/perf/worker_bench [--smoke] [--seconds S] [--max-flows N] [--only a,b] [--json FILE]
#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/log.hpp"
#include "dataplane/runtime.hpp"
#include "flow/flow_table.hpp"
#include "protect/syn_cookie.hpp"
#include "sluice/config.hpp"

#ifndef SLUICE_BUILDTYPE
#define SLUICE_BUILDTYPE "unknown"
#endif

using namespace sluice;

namespace {

// ---------------------------------------------------------------------------------------------
// Addresses (198.18.0.0/15, the benchmarking range). Clients sit behind a gateway so one
// neighbour entry serves any number of client addresses; backends are on the servers' subnet.

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
uint32_t local_first = lb_server_address, local_count = 1;  // the pool of the running scenario
constexpr uint16_t tcp_vip_port = 80;
constexpr uint16_t udp_vip_port = 53;
// Full-NAT gives each (local address, backend tuple group) pair 59976 source ports (1024..60999);
// with one local address, N flows need N / 59976 backends, each in its own group (tuple_groups =
// 256 below). 253 = 11 × 23 is coprime with 59976 =
// 2^3·3^2·7^2·17, so the worker's round-robin and its port cursor never revisit a pair before
// 253 × 59976 = 15.2 M flows: enough for the 10 M scenario, and the same pool for every scenario.
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

uint32_t client_address(uint32_t flow) {
    return ip4(198, 19, 0, 1) + flow / clients_per_address;
}
uint16_t client_port(uint32_t flow) {
    return uint16_t(10000 + flow % clients_per_address);
}
uint32_t backend_address(uint32_t b) {
    return first_backend + b;
}
uint32_t spoofed_address(uint32_t i) {
    return first_spoofed_address + i % spoofed_addresses;
}
uint16_t spoofed_port(uint32_t i) {
    return uint16_t(first_spoofed_port + i / spoofed_addresses);
}
// The source a SYN-ACK was sent to, or spoofed_sources when it is none of them.
uint32_t spoofed_index(uint32_t address, uint32_t port) {
    const uint32_t a = address - first_spoofed_address, p = port - first_spoofed_port;
    return a < spoofed_addresses && p < spoofed_sources / spoofed_addresses
               ? p * spoofed_addresses + a
               : spoofed_sources;
}
// Each source's ISN and TSval: distinct, spread over the sequence space.
uint32_t spoofed_isn(uint32_t i) {
    return i * 2654435761u + 0x12345678u;
}
uint32_t spoofed_tsval(uint32_t i) {
    return 0x40000000u + i * 7;
}
void mac_of(uint32_t address, uint8_t* mac) {
    mac[0] = 0x02;
    mac[1] = 0xbe;
    for (int i = 0; i < 4; ++i) mac[2 + i] = uint8_t(address >> (24 - 8 * i));
}

enum port_index : uint8_t { client = 0, servers = 1 };

// ---------------------------------------------------------------------------------------------
// Frames.

constexpr uint16_t frame_len = 60;  // 64 bytes on the wire with the FCS
constexpr uint16_t burst = 32;

void put16(uint8_t* p, uint32_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
void put32(uint8_t* p, uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v);
}
uint32_t get16(const uint8_t* p) {
    return uint32_t(p[0]) << 8 | p[1];
}
uint32_t get32(const uint8_t* p) {
    return get16(p) << 16 | get16(p + 2);
}
uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc) {
    for (size_t i = 0; i + 1 < n; i += 2) acc += get16(p + i);
    if (n & 1) acc += uint32_t(p[n - 1]) << 8;
    return acc;
}
uint32_t fold(uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return acc;
}
uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t protocol, uint32_t l4_len) {
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + protocol + l4_len;
}

struct frame_fields {
    const uint8_t* dst_mac;
    const uint8_t* src_mac;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t protocol;
    uint8_t tcp_flags = 0;
    uint32_t seq = 0, ack = 0;
    uint16_t payload = 0;  // bytes after the L4 header; the first 4 carry `tag`
    uint32_t tag = 0;
};

// Writes a complete 60-byte frame (Ethernet padding after short packets), checksums valid.
void build_frame(uint8_t* f, const frame_fields& s) {
    std::memset(f, 0, frame_len);
    std::memcpy(f, s.dst_mac, 6);
    std::memcpy(f + 6, s.src_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t* ip = f + 14;
    const bool tcp = s.protocol == 6;
    const uint16_t l4_len = uint16_t((tcp ? 20 : 8) + s.payload);
    ip[0] = 0x45;
    put16(ip + 2, 20u + l4_len);
    ip[8] = 64;
    ip[9] = s.protocol;
    put32(ip + 12, s.src);
    put32(ip + 16, s.dst);
    put16(ip + 10, ~fold(sum16(ip, 20, 0)) & 0xffff);
    uint8_t* l4 = ip + 20;
    put16(l4, s.sport);
    put16(l4 + 2, s.dport);
    if (tcp) {
        put32(l4 + 4, s.seq);
        put32(l4 + 8, s.ack);
        l4[12] = 5 << 4;
        l4[13] = s.tcp_flags;
        put16(l4 + 14, 65535);
    } else {
        put16(l4 + 4, l4_len);
    }
    if (s.payload >= 4) put32(l4 + (tcp ? 20 : 8), s.tag);
    uint32_t c = ~fold(sum16(l4, l4_len, pseudo_sum(s.src, s.dst, s.protocol, l4_len))) & 0xffff;
    if (!tcp && c == 0) c = 0xffff;
    put16(l4 + (tcp ? 16 : 6), c);
}

// Checks one frame the worker transmitted. `nat`: it went through the full-NAT path (addresses,
// MACs and TTL rewritten); otherwise (baseline) it must be unchanged, so only checksums are
// checked. Returns what is wrong, or nullptr.
const char* check_output(uint8_t port, const uint8_t* f, uint32_t len, bool nat,
                         const uint8_t (&port_mac)[2][6]) {
    if (len != frame_len || get16(f + 12) != 0x0800) return "not a 60-byte IPv4 frame";
    const uint8_t* ip = f + 14;
    if (fold(sum16(ip, 20, 0)) != 0xffff) return "bad IPv4 header checksum";
    const uint32_t total = get16(ip + 2), l4_len = total - 20;
    const uint32_t src = get32(ip + 12), dst = get32(ip + 16);
    const uint8_t* l4 = ip + 20;
    const bool udp_no_sum = ip[9] == 17 && get16(l4 + 6) == 0;
    if (!udp_no_sum && fold(sum16(l4, l4_len, pseudo_sum(src, dst, ip[9], l4_len))) != 0xffff)
        return "bad L4 checksum";
    if (!nat) return nullptr;
    if (ip[8] != 63) return "TTL not decremented";
    uint8_t mac[6];
    if (std::memcmp(f + 6, port_mac[port], 6) != 0) return "source MAC is not the port's";
    if (port == servers) {
        if (src - local_first >= local_count) return "to a backend: source is not a local address";
        if (dst < first_backend || dst >= first_backend + backend_count) return "not a backend";
        mac_of(dst, mac);
        if (std::memcmp(f, mac, 6) != 0) return "to a backend: not the backend's MAC";
    } else {
        if (src != vip_address) return "to a client: source is not the VIP";
        if ((dst >> 16) != ((198u << 8) | 19u)) return "to a client: not a client address";
        mac_of(gateway_address, mac);
        if (std::memcmp(f, mac, 6) != 0) return "to a client: not the gateway's MAC";
    }
    return nullptr;
}

// Prepared traffic: frames copied into mbufs by the measured loop, and the port each arrives on.
// A frame takes `stride` consecutive 64-byte slots (2 for the 74-byte SYNs with options).
struct alignas(64) frame_slot {
    uint8_t bytes[64];
};
struct traffic {
    std::vector<frame_slot> frames;
    std::vector<uint8_t> in_port;
    unsigned stride = 1;
    uint16_t length = frame_len;
    void reserve(size_t n) {
        frames.reserve(n * stride);
        in_port.reserve(n);
    }
    uint8_t* add(uint8_t port) {
        frames.resize(frames.size() + stride);
        in_port.push_back(port);
        return frames[frames.size() - stride].bytes;
    }
    size_t size() const { return in_port.size(); }
};

// ---------------------------------------------------------------------------------------------
// The harness: two ring ports, the runtime of the scenario, and the mbuf pool frames come from.

// What the measured loop's output frames must look like (checked with --smoke): unchanged
// (baseline), rewritten by the full-NAT path, or the SYN proxy's answers.
enum class expect : uint8_t { unchanged, nat, syn_ack };

struct harness {
    rte_ring* rx[2] = {};
    rte_ring* tx[2] = {};
    rte_mempool* pool = nullptr;
    uint64_t tsc_hz = 0;
    bool verify = false;  // check every output frame (smoke)
    std::unique_ptr<dataplane::runtime> rt;
    uint8_t port_mac[2][6] = {};
    uint16_t dpdk_port[2] = {};
    uint8_t gateway_mac[6] = {};
    uint8_t attack_gateway_mac[6] = {};
    expect expected = expect::nat;
    std::vector<uint8_t> syn_acks_seen;  // by spoofed source: SYN-ACKs received (syn_cookies)
    uint64_t output_errors = 0;
    const char* first_error = nullptr;
};
harness h;

// A Linux client's SYN from spoofed source `i`, as Linux writes it: MSS 1460, SACK_PERM,
// timestamps, NOP, window scale 7; window 64240, DF. 74 bytes, checksums valid.
constexpr uint16_t syn_frame_len = 14 + 20 + 40;

void build_syn_frame(uint8_t* f, uint32_t i) {
    std::memset(f, 0, syn_frame_len);
    std::memcpy(f, h.port_mac[client], 6);
    std::memcpy(f + 6, h.attack_gateway_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t* ip = f + 14;
    const uint32_t src = spoofed_address(i);
    ip[0] = 0x45;
    put16(ip + 2, 60);
    put16(ip + 4, i & 0xffff);
    put16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, vip_address);
    put16(ip + 10, ~fold(sum16(ip, 20, 0)) & 0xffff);
    uint8_t* tcp = ip + 20;
    put16(tcp, spoofed_port(i));
    put16(tcp + 2, tcp_vip_port);
    put32(tcp + 4, spoofed_isn(i));
    tcp[12] = 10 << 4;  // 40-byte header
    tcp[13] = 0x02;     // SYN
    put16(tcp + 14, 64240);
    static constexpr uint8_t options_head[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
    std::memcpy(tcp + 20, options_head, sizeof options_head);
    put32(tcp + 28, spoofed_tsval(i));  // TSecr (tcp + 32) stays 0
    tcp[36] = 1;                        // NOP
    tcp[37] = 3;                        // window scale 7
    tcp[38] = 3;
    tcp[39] = 7;
    put16(tcp + 16, ~fold(sum16(tcp, 40, pseudo_sum(src, vip_address, 6, 40))) & 0xffff);
}

// Checks one SYN proxy answer: a SYN-ACK to the source of one of the SYNs (the first for that
// source), from the VIP through the attack gateway, checksums valid, ack = ISN + 1, options
// answering the client's, and a sequence number the proxy accepts as its cookie.
const char* check_syn_ack(uint8_t port, const uint8_t* f, uint32_t len) {
    if (port != client) return "a frame on the servers port";
    if (len < 14 + 20 + 20 || get16(f + 12) != 0x0800) return "SYN-ACK: not an IPv4 frame";
    const uint8_t* ip = f + 14;
    if (ip[0] != 0x45 || ip[9] != 6) return "SYN-ACK: not IPv4/TCP without IP options";
    if (fold(sum16(ip, 20, 0)) != 0xffff) return "SYN-ACK: bad IPv4 header checksum";
    const uint32_t total = get16(ip + 2);
    if (total < 40 || 14 + total > len) return "SYN-ACK: bad IPv4 total length";
    if (ip[8] == 0) return "SYN-ACK: TTL 0";
    const uint32_t src = get32(ip + 12), dst = get32(ip + 16);
    const uint8_t* tcp = ip + 20;
    const uint32_t l4_len = total - 20, header = uint32_t(tcp[12] >> 4) * 4;
    if (header < 20 || header > l4_len) return "SYN-ACK: bad TCP header length";
    if (fold(sum16(tcp, l4_len, pseudo_sum(src, dst, 6, l4_len))) != 0xffff)
        return "SYN-ACK: bad TCP checksum";
    if (src != vip_address || get16(tcp) != tcp_vip_port) return "SYN-ACK: not from the VIP";
    const uint32_t i = spoofed_index(dst, get16(tcp + 2));
    if (i == spoofed_sources) return "SYN-ACK: not to a source that sent a SYN";
    if (std::memcmp(f, h.attack_gateway_mac, 6) != 0)
        return "SYN-ACK: not to the attack gateway's MAC";
    if (std::memcmp(f + 6, h.port_mac[client], 6) != 0)
        return "SYN-ACK: source MAC is not the client port's";
    if (tcp[13] != 0x12) return "SYN-ACK: flags are not SYN|ACK";
    if (get32(tcp + 8) != spoofed_isn(i) + 1) return "SYN-ACK: ack is not the SYN's ISN + 1";
    bool mss = false, sack = false, ws = false, ts = false;
    uint32_t tsval = 0, tsecr = 0;
    for (uint32_t o = 20; o < header;) {
        const uint8_t kind = tcp[o];
        if (kind == 0) break;
        if (kind == 1) {
            ++o;
            continue;
        }
        if (o + 1 >= header || tcp[o + 1] < 2 || o + tcp[o + 1] > header)
            return "SYN-ACK: malformed options";
        mss |= kind == 2 && tcp[o + 1] == 4;
        sack |= kind == 4 && tcp[o + 1] == 2;
        ws |= kind == 3 && tcp[o + 1] == 3;
        if (kind == 8 && tcp[o + 1] == 10) {
            ts = true;
            tsval = get32(tcp + o + 2);
            tsecr = get32(tcp + o + 6);
        }
        o += tcp[o + 1];
    }
    if (!mss || !sack || !ws || !ts) return "SYN-ACK: MSS, SACK_PERM, timestamps or WS missing";
    if (tsecr != spoofed_tsval(i)) return "SYN-ACK: TSecr is not the SYN's TSval";
    // What the client's ACK would carry must pass the proxy's own check: the cookie for this
    // tuple and ISN, with the MSS index of 1460, and the client's options in the TSval.
    flow::flow_key key;
    std::memset(&key, 0, sizeof key);
    put32(key.src, dst);
    put32(key.dst, vip_address);
    key.src_port = spoofed_port(i);
    key.dst_port = tcp_vip_port;
    key.protocol = 6;
    key.family = 4;
    const uint32_t period = uint32_t(rte_rdtsc() / h.tsc_hz / protect::cookie_period_seconds);
    auto mss_index = protect::check_syn_cookie(*h.rt->worker_at(0).setup().cookie_secret, key,
                                               spoofed_isn(i) + 1, get32(tcp + 4) + 1, period);
    if (!mss_index) return "SYN-ACK: its sequence number is not a valid cookie";
    if (protect::cookie_mss_v4[*mss_index & 3] != 1460) return "SYN-ACK: cookie lost the MSS";
    const packet::syn_options echoed = protect::decode_cookie_tsecr(tsval);
    if (echoed.wscale != 7 || !echoed.sack_ok) return "SYN-ACK: TSval lost the client's options";
    if (h.syn_acks_seen[i]++) return "two SYN-ACKs for one SYN";
    return nullptr;
}

void check_frame(uint8_t port, const rte_mbuf* m) {
    const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
    // The RST an early drop sends to the evicted flow's backend is the LB's own frame (counted
    // by the scenario against resets_sent), not a rewritten one.
    if (port == servers && m->data_len >= 54 && f[23] == 6 && (f[47] & 0x04)) return;
    const char* e = h.expected == expect::syn_ack
                        ? check_syn_ack(port, f, m->data_len)
                        : check_output(port, f, m->data_len, h.expected == expect::nat, h.port_mac);
    if (e && !h.output_errors++) h.first_error = e;
}

// The benchmark's sluiced configuration; @CAPACITY@ and @BACKENDS@ are filled in per scenario,
// @ROUTES@ with extra [[route]]s, @TCP_VIP@ with extra keys and tables of the tcp VIP and
// @SERVERS_KEYS@ with extra keys of the servers [[port]].
constexpr const char* config_template = R"([dataplane]
worker_cpus = [0]
idle = "spin"
mbufs = 2047
mbuf_cache = 64
rx_descriptors = 256
tx_descriptors = 256
ring_size = 1024
burst = 32
kernel_interfaces = false

[[port]]
name = "client"
device = "net_ring_client"
addresses = ["198.18.0.1/24"]

[[port]]
name = "servers"
device = "net_ring_servers"
addresses = ["198.18.16.1/20"]
@SERVERS_KEYS@
[[route]]
prefix = "198.19.0.0/16"
via = "198.18.0.2"
@ROUTES@
[flows]
capacity = @CAPACITY@
tuple_groups = 256

[[vip]]
name = "tcp"
address = "198.18.0.10"
port = 80
protocol = "tcp"
backend = [@BACKENDS@]
@TCP_VIP@
[[vip]]
name = "udp"
address = "198.18.0.10"
port = 53
protocol = "udp"
backend = [@BACKENDS@]
)";

std::string config_text(uint32_t capacity, const std::string& routes, const std::string& tcp_vip,
                        const std::string& servers_keys) {
    std::string backends;
    for (uint32_t b = 0; b < backend_count; ++b) {
        const uint32_t a = backend_address(b);
        backends += std::string(b ? ", " : "") + "{ address = \"" + std::to_string(a >> 24) + "." +
                    std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
                    std::to_string(a & 255) + "\" }";
    }
    std::string text = config_template;
    auto fill = [&text](const std::string& key, const std::string& value) {
        for (size_t p; (p = text.find(key)) != std::string::npos;)
            text.replace(p, key.size(), value);
    };
    fill("@CAPACITY@", std::to_string(capacity));
    fill("@ROUTES@", routes);
    fill("@TCP_VIP@", tcp_vip);
    fill("@SERVERS_KEYS@", servers_keys);
    fill("@BACKENDS@", backends);
    return text;
}

dataplane::worker& worker() {
    return h.rt->worker_at(0);
}

// Dequeues everything the ports transmitted; on_out(port, mbuf) sees each frame before it is
// freed. Returns the number of frames.
template <class OnOut>
unsigned collect(OnOut&& on_out) {
    unsigned total = 0;
    rte_mbuf* out[64];
    for (uint8_t p = 0; p < 2; ++p) {
        unsigned k;
        while ((k = rte_ring_sc_dequeue_burst(h.tx[p], reinterpret_cast<void**>(out), 64,
                                              nullptr)) > 0) {
            for (unsigned i = 0; i < k; ++i) on_out(p, out[i]);
            rte_pktmbuf_free_bulk(out, k);
            total += k;
        }
    }
    return total;
}

// Runs the worker until it has nothing left to do (setup phases, not measured).
template <class OnOut>
void pump(OnOut&& on_out) {
    for (;;) {
        unsigned n = worker().poll_once();
        unsigned got = collect(on_out);
        if (n == 0 && got == 0 && rte_ring_count(h.rx[0]) == 0 && rte_ring_count(h.rx[1]) == 0)
            return;
    }
}

// Puts `count` frames built by build(i, frame) on the RX ring of `port`.
template <class Build>
void inject(uint8_t port, uint32_t count, Build&& build) {
    rte_mbuf* m[burst];
    for (uint32_t done = 0; done < count;) {
        const uint32_t n = std::min<uint32_t>(burst, count - done);
        if (rte_pktmbuf_alloc_bulk(h.pool, m, n) != 0) throw std::runtime_error("out of mbufs");
        for (uint32_t i = 0; i < n; ++i) {
            build(done + i, rte_pktmbuf_mtod(m[i], uint8_t*));
            m[i]->data_len = frame_len;
            m[i]->pkt_len = frame_len;
        }
        if (rte_ring_sp_enqueue_burst(h.rx[port], reinterpret_cast<void**>(m), n, nullptr) != n)
            throw std::runtime_error("RX ring full during setup");
        done += n;
    }
}

// Answers the runtime's ARP requests (backends, the clients' gateway) until all are resolved.
void resolve_neighbors() {
    auto answer = [](uint8_t port, rte_mbuf* m) {
        uint8_t* f = rte_pktmbuf_mtod(m, uint8_t*);
        if (m->data_len < 42 || get16(f + 12) != 0x0806 || get16(f + 20) != 1) return;
        rte_mbuf* r = rte_pktmbuf_alloc(h.pool);
        if (!r) return;
        uint8_t* a = rte_pktmbuf_mtod(r, uint8_t*);
        std::memset(a, 0, frame_len);
        const uint32_t target = get32(f + 38);
        uint8_t mac[6];
        mac_of(target, mac);
        std::memcpy(a, f + 22, 6);  // to the asker
        std::memcpy(a + 6, mac, 6);
        std::memcpy(a + 12, f + 12, 8);  // ethertype, hardware/protocol types and sizes
        put16(a + 20, 2);
        std::memcpy(a + 22, mac, 6);
        put32(a + 28, target);
        std::memcpy(a + 32, f + 22, 10);  // asker's MAC and address
        r->data_len = frame_len;
        r->pkt_len = frame_len;
        if (rte_ring_sp_enqueue(h.rx[port], r) != 0) rte_pktmbuf_free(r);
    };
    for (int round = 0; round < 2000 && !h.rt->neighbors_ready(); ++round) {
        h.rt->control_poll();
        worker().poll_once();
        collect(answer);
        worker().poll_once();
    }
    h.rt->control_poll();
    if (!h.rt->neighbors_ready())
        throw std::runtime_error("neighbours not resolved: " + h.rt->unresolved_neighbors());
    pump([](uint8_t, rte_mbuf*) {});
}

// The scenario's configuration, parsed (reloads compare it with the running one).
config::config bench_config(uint32_t capacity, const std::string& routes,
                            const std::string& tcp_vip, const std::string& servers_keys = "") {
    config::config cfg = config::load_string(config_text(capacity, routes, tcp_vip, servers_keys),
                                             "worker_bench.toml");
    cfg.dataplane.kernel_interfaces = false;  // no TAP interfaces: runs in the caller's namespace
    return cfg;
}

void start_runtime(config::config cfg) {
    // A runtime closes its ports at shutdown (which releases a ring port), so each scenario
    // attaches fresh ports to the same rings.
    const char* names[2] = {"client", "servers"};
    for (int p = 0; p < 2; ++p)
        if (rte_eth_from_rings(names[p], &h.rx[p], 1, &h.tx[p], 1, rte_socket_id()) < 0)
            throw std::runtime_error(std::string("cannot create ring port ") + names[p]);
    h.rt = std::make_unique<dataplane::runtime>(std::move(cfg));
    h.rt->start();
    const auto& s = h.rt->current_snapshot();
    for (int p = 0; p < 2; ++p) {
        std::memcpy(h.port_mac[p], s.ports[p].mac.data(), 6);
        h.dpdk_port[p] = s.ports[p].dpdk_port;
    }
    mac_of(gateway_address, h.gateway_mac);
    mac_of(attack_gateway_address, h.attack_gateway_mac);
    resolve_neighbors();
}

void stop_runtime() {
    h.rt.reset();
    // The runtime closed (released) the ports; the vdevs rte_eth_from_rings made stay registered
    // under their names until removed.
    rte_vdev_uninit("net_ring_client");
    rte_vdev_uninit("net_ring_servers");
    collect([](uint8_t, rte_mbuf*) {});
    rte_mbuf* m;
    for (int p = 0; p < 2; ++p)
        while (rte_ring_sc_dequeue(h.rx[p], reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
}

// ---------------------------------------------------------------------------------------------
// Flows: what the client sends, what the backend sends, and what setup learnt of each flow.

struct flow_set {
    uint8_t protocol = 6;
    std::vector<uint16_t> local_port;  // the full-NAT source port the worker chose
    std::vector<uint16_t> backend;     // backend index
};

enum class segment { open, synack, ack, data };

uint16_t vip_port(uint8_t protocol) {
    return protocol == 6 ? tcp_vip_port : udp_vip_port;
}

void client_frame(uint8_t* f, uint8_t protocol, uint32_t flow, segment what) {
    frame_fields s{};
    s.dst_mac = h.port_mac[client];
    s.src_mac = h.gateway_mac;
    s.src = client_address(flow);
    s.dst = vip_address;
    s.sport = client_port(flow);
    s.dport = vip_port(protocol);
    s.protocol = protocol;
    s.tag = flow;
    if (protocol == 6) {
        s.seq = what == segment::open ? flow : flow + 1;  // the SYN's seq names the flow
        s.ack = what == segment::open ? 0 : 1001;
        s.tcp_flags = what == segment::open ? 0x02 : what == segment::ack ? 0x10 : 0x18;
        s.payload = what == segment::data ? 6 : 0;
    } else {
        s.payload = 18;
    }
    build_frame(f, s);
}

void backend_frame(uint8_t* f, const flow_set& fs, uint32_t flow, segment what) {
    const uint32_t b = backend_address(fs.backend[flow]);
    uint8_t mac[6];
    mac_of(b, mac);
    frame_fields s{};
    s.dst_mac = h.port_mac[servers];
    s.src_mac = mac;
    s.src = b;
    s.dst = lb_server_address;
    s.sport = vip_port(fs.protocol);
    s.dport = fs.local_port[flow];
    s.protocol = fs.protocol;
    s.tag = flow;
    if (fs.protocol == 6) {
        s.seq = what == segment::synack ? 1000 : 1001;
        s.ack = flow + 1;
        s.tcp_flags = what == segment::synack ? 0x12 : 0x18;
        s.payload = what == segment::data ? 6 : 0;
    } else {
        s.payload = 18;
    }
    build_frame(f, s);
}

void check_outputs_of(uint8_t port, rte_mbuf* m) {
    if (h.verify) check_frame(port, m);
}

// Opens flows [first, first + count): TCP with SYN, SYN-ACK, ACK (established); UDP with one
// datagram. Learns each flow's backend and local port from the frames the worker sends.
void open_flows(flow_set& fs, uint32_t first, uint32_t count) {
    fs.local_port.resize(first + count);
    fs.backend.resize(first + count);
    const bool tcp = fs.protocol == 6;
    constexpr uint32_t batch = 1024;
    for (uint32_t start = first; start < first + count; start += batch) {
        const uint32_t n = std::min(batch, first + count - start);
        uint32_t seen = 0;
        inject(client, n, [&](uint32_t i, uint8_t* f) {
            client_frame(f, fs.protocol, start + i, segment::open);
        });
        pump([&](uint8_t port, rte_mbuf* m) {
            check_outputs_of(port, m);
            const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
            if (port != servers) return;
            const uint32_t flow = tcp ? get32(f + 38) : get32(f + 42);
            if (flow < start || flow >= start + n) return;
            fs.local_port[flow] = uint16_t(get16(f + 34));
            fs.backend[flow] = uint16_t(get32(f + 30) - first_backend);
            ++seen;
        });
        if (seen != n)
            throw std::runtime_error("setup: " + std::to_string(n - seen) + " of " +
                                     std::to_string(n) + " first packets not forwarded");
        if (!tcp) continue;
        for (segment what : {segment::synack, segment::ack}) {
            uint32_t out = 0;
            const uint8_t port = what == segment::synack ? servers : client;
            inject(port, n, [&](uint32_t i, uint8_t* f) {
                if (what == segment::synack)
                    backend_frame(f, fs, start + i, what);
                else
                    client_frame(f, fs.protocol, start + i, what);
            });
            pump([&](uint8_t p, rte_mbuf* m) {
                check_outputs_of(p, m);
                out += p != port;
            });
            if (out != n) throw std::runtime_error("setup: handshake packets not forwarded");
        }
    }
}

// Active (TCP established) flows over every backend of `vip`, as the runtime counts them.
uint64_t active_flows(size_t vip) {
    uint64_t n = 0;
    for (const auto& b : h.rt->current_snapshot().vips[vip].backends)
        n += h.rt->connections(b.id).active;
    return n;
}

uint64_t drops_total() {
    uint64_t n = 0;
    for (const auto& d : worker().counters.drops) n += dataplane::read(d);
    return n;
}

// ---------------------------------------------------------------------------------------------
// The measured loop.

struct measured {
    uint64_t packets = 0;
    uint64_t loop_cycles = 0;  // the whole loop: harness and step
    uint64_t step_cycles = 0;  // the step alone (worker poll, or the baseline's RX→TX)
    double cpu_seconds = 0;    // CPU time of this thread during the loop (the rest: preempted)
    uint64_t injected[2] = {};
    uint64_t sent[2] = {};
};

void add(measured& sum, const measured& m) {
    sum.packets += m.packets;
    sum.loop_cycles += m.loop_cycles;
    sum.step_cycles += m.step_cycles;
    sum.cpu_seconds += m.cpu_seconds;
    for (int p = 0; p < 2; ++p) {
        sum.injected[p] += m.injected[p];
        sum.sent[p] += m.sent[p];
    }
}

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Feeds bursts of 32 prepared frames (cycling through `t`, whose frames take `Slots` 64-byte
// slots) until `max_packets` were injected or `max_cycles` have passed, running `step` after each
// burst and draining the TX rings (with --smoke, checking each frame as h.expected says).
// Never inlined, so profilers can isolate it: valgrind --tool=callgrind --toggle-collect='*drive*'.
template <unsigned Slots, class Step>
[[gnu::noinline]] measured drive(const traffic& t, uint64_t max_packets, uint64_t max_cycles,
                                 Step&& step) {
    measured r;
    rte_mbuf* m[burst];
    rte_mbuf* in[2][burst];
    rte_mbuf* out[64];
    size_t pos = 0;
    const double cpu_start = thread_cpu_seconds();
    const uint64_t start = rte_rdtsc();
    uint64_t now = start;
    while (r.packets < max_packets && now - start < max_cycles) {
        if (rte_pktmbuf_alloc_bulk(h.pool, m, burst) != 0) throw std::runtime_error("no mbufs");
        uint16_t n[2] = {0, 0};
        for (uint16_t i = 0; i < burst; ++i) {
            std::memcpy(rte_pktmbuf_mtod(m[i], void*), t.frames[pos * Slots].bytes, 64 * Slots);
            const uint16_t len = Slots == 1 ? frame_len : t.length;
            m[i]->data_len = len;
            m[i]->pkt_len = len;
            const uint8_t p = t.in_port[pos];
            in[p][n[p]++] = m[i];
            if (++pos == t.size()) pos = 0;
        }
        for (uint8_t p = 0; p < 2; ++p) {
            if (!n[p]) continue;
            if (rte_ring_sp_enqueue_burst(h.rx[p], reinterpret_cast<void**>(in[p]), n[p],
                                          nullptr) != n[p])
                throw std::runtime_error("RX ring full");
            r.injected[p] += n[p];
        }
        const uint64_t s0 = rte_rdtsc();
        step();
        const uint64_t s1 = rte_rdtsc();
        r.step_cycles += s1 - s0;
        for (uint8_t p = 0; p < 2; ++p) {
            unsigned k;
            while ((k = rte_ring_sc_dequeue_burst(h.tx[p], reinterpret_cast<void**>(out), 64,
                                                  nullptr)) > 0) {
                if (h.verify)
                    for (unsigned i = 0; i < k; ++i) check_frame(p, out[i]);
                rte_pktmbuf_free_bulk(out, k);
                r.sent[p] += k;
            }
        }
        r.packets += burst;
        now = rte_rdtsc();
    }
    r.loop_cycles = now - start;
    r.cpu_seconds = thread_cpu_seconds() - cpu_start;
    return r;
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

enum class kind { baseline, tcp_established, tcp_new, tcp_mixed, udp_established, syn_cookies };

struct scenario {
    std::string name;
    std::string what;  // the one line printed with the result
    kind k;
    uint32_t flows = 0;     // established before the measurement
    uint32_t packets = 0;   // prepared frames (single pass for new/mixed)
    uint32_t capacity = 0;  // flows.capacity
    std::string skipped;    // why it does not run, when it does not
    // The tcp VIP's [vip.limits] packets_per_second (0: no limits, no guard), for established
    // traffic: set so high that every packet passes, the cost of the check alone is measured.
    uint64_t packet_limit = 0;
    // tcp_new variants: the servers port's local address pool has 16 addresses (pool16), or the
    // table holds fewer flows than the SYNs open, so each SYN past it evicts a half-open flow
    // (early drop; the worker sends the evicted flow's backend an RST).
    bool pool16 = false;
    bool early_drop = false;
};

struct result {
    const scenario* sc;
    measured m;
    // established_bucket: m has the slices with the packet limit, `plain` those without; the
    // differences (with - without) in ns per packet, the median over the pairs of slices.
    measured plain;
    unsigned pairs = 0;
    double bucket_ns = 0, bucket_step_ns = 0;
    double bucket_ns_min = 0, bucket_ns_max = 0;  // the spread of the pairs' differences
    uint64_t new_flows = 0;
    double setup_seconds = 0;
    std::string error;
    // Figures are 0 when nothing was measured (a failed scenario).
    static double finite(double v) { return std::isfinite(v) ? v : 0; }
    double mpps() const { return finite(double(m.packets) / seconds() / 1e6); }
    double seconds() const { return double(m.loop_cycles) / double(h.tsc_hz); }
    // Share of the loop's wall time this thread was on a CPU: below ~0.95 the machine was busy
    // and every figure of the row is inflated by the time other processes took.
    double cpu_share() const { return finite(m.cpu_seconds / seconds()); }
    double ns_per_packet() const { return finite(seconds() * 1e9 / double(m.packets)); }
    double cycles_per_packet() const { return finite(double(m.loop_cycles) / double(m.packets)); }
    double step_cycles_per_packet() const {
        return finite(double(m.step_cycles) / double(m.packets));
    }
    double step_mpps() const { return finite(double(h.tsc_hz) / step_cycles_per_packet() / 1e6); }
    double flows_per_second() const { return finite(double(new_flows) / seconds()); }
    double step_flows_per_second() const {
        return finite(double(new_flows) / (double(m.step_cycles) / double(h.tsc_hz)));
    }
    double bytes_per_flow() const {
        return sc->capacity
                   ? double(flow::flow_table::required_bytes(sc->capacity)) / double(sc->capacity)
                   : 0;
    }
};

uint32_t capacity_for(uint64_t flows) {
    // Room for 12.5% more than the flows the scenario opens, rounded to a power of two (the
    // index is a power of two of buckets anyway).
    uint64_t c = std::bit_ceil(std::max<uint64_t>(4096, flows + flows / 8));
    return uint32_t(std::min<uint64_t>(c, 134217728));
}

std::string binary_name(uint64_t n) {
    if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + "Mi";
    if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + "Ki";
    return std::to_string(n);
}

std::string count_name(uint64_t n) {
    if (n >= 1000000 && n % 1000000 == 0) return std::to_string(n / 1000000) + "M";
    if (n >= 1000 && n % 1000 == 0) return std::to_string(n / 1000) + "k";
    return std::to_string(n);
}

// Established-traffic frames: random flows, half from the client, half the backend's replies.
traffic established_traffic(const flow_set& fs, uint32_t flows, uint32_t packets,
                            std::mt19937_64& rng) {
    traffic t;
    t.reserve(packets);
    for (uint32_t k = 0; k < packets; ++k) {
        const uint32_t flow = uint32_t(rng() % flows);
        if (rng() & 1)
            client_frame(t.add(client), fs.protocol, flow, segment::data);
        else
            backend_frame(t.add(servers), fs, flow, segment::data);
    }
    return t;
}

struct options {
    bool smoke = false;
    double seconds = 2.0;
    uint64_t max_flows = 10000000;
    std::string json;
    std::vector<std::string> only;
};

result run(const scenario& sc, const options& o) {
    result r;
    r.sc = &sc;
    h.output_errors = 0;
    std::mt19937_64 rng(7);
    const uint64_t max_cycles = o.smoke ? ~uint64_t(0) : uint64_t(o.seconds * double(h.tsc_hz));
    const uint64_t t0 = rte_rdtsc();
    h.expected = sc.k == kind::baseline      ? expect::unchanged
                 : sc.k == kind::syn_cookies ? expect::syn_ack
                                             : expect::nat;
    std::string routes, tcp_vip;
    if (sc.k == kind::syn_cookies) {
        routes = "\n[[route]]\nprefix = \"198.19.128.0/17\"\nvia = \"198.18.0.3\"\n";
        tcp_vip = "syn_proxy = \"on\"\n";
    }
    if (sc.packet_limit)
        tcp_vip += "[vip.limits]\npackets_per_second = " + std::to_string(sc.packet_limit) + "\n";
    local_first = sc.pool16 ? pool16_first : lb_server_address;
    local_count = sc.pool16 ? 16 : 1;
    start_runtime(bench_config(sc.capacity, routes, tcp_vip, sc.pool16 ? pool16_keys : ""));
    auto& w = worker();
    // The protection the scenario measures is really in the snapshot the worker reads.
    const control::vip_protection& protect = h.rt->current_snapshot().vips[0].protect;
    if (sc.packet_limit && (!protect.guard || protect.packets.unlimited()))
        throw std::runtime_error("setup: the tcp VIP has no packet limit");
    if (sc.k == kind::syn_cookies && protect.syn_proxy != config::syn_proxy_mode::on)
        throw std::runtime_error("setup: the tcp VIP's SYN proxy is not on");
    flow_set fs;
    fs.protocol = sc.k == kind::udp_established ? 17 : 6;
    traffic t;
    if (sc.k == kind::baseline) {
        fs.local_port.assign(1, 1024);
        fs.backend.assign(1, 0);
        t = established_traffic(fs, 1, sc.packets, rng);  // any content: it is not looked at
    } else if (sc.k == kind::syn_cookies) {
        // Every source once per pass; the proxy keeps nothing, so later passes are new SYNs too.
        t.stride = 2;
        t.length = syn_frame_len;
        t.reserve(sc.packets);
        for (uint32_t i = 0; i < sc.packets; ++i)
            build_syn_frame(t.add(client), i % spoofed_sources);
        h.syn_acks_seen.assign(spoofed_sources, 0);
    } else {
        open_flows(fs, 0, sc.flows);
        if (w.flows().size() != sc.flows)
            throw std::runtime_error("setup: " + std::to_string(w.flows().size()) +
                                     " flows in the table, expected " + std::to_string(sc.flows));
        if (fs.protocol == 6 && active_flows(0) != sc.flows)
            throw std::runtime_error("setup: " + std::to_string(active_flows(0)) + " of " +
                                     std::to_string(sc.flows) + " flows established");
        if (sc.k == kind::tcp_new) {
            t.reserve(sc.packets);
            for (uint32_t k = 0; k < sc.packets; ++k)
                client_frame(t.add(client), 6, sc.flows + k, segment::open);
            r.new_flows = sc.packets;
        } else if (sc.k == kind::tcp_mixed) {
            t.reserve(sc.packets);
            for (uint32_t k = 0; k < sc.packets; ++k) {
                if (rng() % 10 == 0) {
                    client_frame(t.add(client), 6, sc.flows + uint32_t(r.new_flows++),
                                 segment::open);
                } else {
                    const uint32_t flow = uint32_t(rng() % sc.flows);
                    if (rng() & 1)
                        client_frame(t.add(client), 6, flow, segment::data);
                    else
                        backend_frame(t.add(servers), fs, flow, segment::data);
                }
            }
        } else {
            t = established_traffic(fs, sc.flows, sc.packets, rng);
        }
    }
    const uint64_t single_pass = (sc.k == kind::tcp_new || sc.k == kind::tcp_mixed || o.smoke)
                                     ? t.size() / burst * burst
                                     : ~uint64_t(0);
    // New and mixed traffic runs once (a SYN opens its flow once); established traffic and the
    // proxy's SYNs (it keeps no state) cycle through their frames for --seconds (smoke: once).
    const uint64_t cycles_limit = single_pass == ~uint64_t(0) ? max_cycles : ~uint64_t(0);
    r.setup_seconds = double(rte_rdtsc() - t0) / double(h.tsc_hz);

    const uint64_t drops_before = drops_total();
    const uint64_t created_before = dataplane::read(w.counters.flows_created);
    const uint64_t cookies_before = dataplane::read(w.counters.syn_cookies_sent);
    const uint64_t resets_before = dataplane::read(w.counters.resets_sent);
    const uint64_t evicted_before = dataplane::read(w.counters.flows_early_dropped);
    if (sc.k == kind::baseline) {
        r.m = drive<1>(t, single_pass, cycles_limit, [] {
            rte_mbuf* pkts[burst];
            for (uint8_t p = 0; p < 2; ++p) {
                const uint16_t n = rte_eth_rx_burst(h.dpdk_port[p], 0, pkts, burst);
                if (!n) continue;
                const uint16_t sent = rte_eth_tx_burst(h.dpdk_port[1 - p], 0, pkts, n);
                if (sent < n) rte_pktmbuf_free_bulk(pkts + sent, n - sent);
            }
        });
    } else if (t.stride == 2) {
        r.m = drive<2>(t, single_pass, cycles_limit, [&w] { w.poll_once(); });
    } else if (sc.packet_limit) {
        // The same runtime, flows and frames measured in alternate slices without and with the
        // limit (a reload between slices, in ABBA order), each configuration --seconds in all:
        // on a shared VM two runs seconds apart differ by far more than a bucket check costs,
        // while the machine's drift touches the two halves of a pair alike. Smoke: one pass each.
        const unsigned pairs = o.smoke ? 1 : 50;
        const uint64_t slice_cycles =
            cycles_limit == ~uint64_t(0) ? cycles_limit : cycles_limit / pairs;
        const config::config configs[2] = {bench_config(sc.capacity, routes, ""),
                                           bench_config(sc.capacity, routes, tcp_vip)};
        std::vector<double> d_ns, d_step;
        auto ns = [](uint64_t cycles, uint64_t packets) {
            return double(cycles) * 1e9 / double(h.tsc_hz) / double(packets);
        };
        for (unsigned k = 0; k < pairs; ++k) {
            measured slice[2];  // [0] without the limit, [1] with it
            for (unsigned j = 0; j < 2; ++j) {
                const unsigned limit = (k & 1) ? 1 - j : j;
                const std::string e = h.rt->reload(configs[limit]);
                if (!e.empty()) throw std::runtime_error("reload: " + e);
                w.poll_once();  // takes the new snapshot before the slice (nothing to receive)
                const control::vip_protection& now = h.rt->current_snapshot().vips[0].protect;
                if (limit == now.packets.unlimited() || (limit && !now.guard))
                    throw std::runtime_error("reload: the packet limit did not change");
                slice[limit] = drive<1>(t, single_pass, slice_cycles, [&w] { w.poll_once(); });
            }
            add(r.m, slice[1]);
            add(r.plain, slice[0]);
            d_ns.push_back(ns(slice[1].loop_cycles, slice[1].packets) -
                           ns(slice[0].loop_cycles, slice[0].packets));
            d_step.push_back(ns(slice[1].step_cycles, slice[1].packets) -
                             ns(slice[0].step_cycles, slice[0].packets));
        }
        auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            const size_t n = v.size();
            return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        };
        r.pairs = pairs;
        r.bucket_ns = median(d_ns);
        r.bucket_ns_min = *std::min_element(d_ns.begin(), d_ns.end());
        r.bucket_ns_max = *std::max_element(d_ns.begin(), d_ns.end());
        r.bucket_step_ns = median(d_step);
    } else {
        r.m = drive<1>(t, single_pass, cycles_limit, [&w] { w.poll_once(); });
    }
    pump([&](uint8_t p, rte_mbuf* m) {  // anything still queued counts, unmeasured
        check_outputs_of(p, m);
        ++r.m.sent[p];
    });

    // What every run checks: each injected packet left on the other port, nothing dropped, the
    // expected flows were created, the outputs were right (smoke), the figures make sense.
    auto fail = [&](const std::string& e) {
        if (r.error.empty()) r.error = e;
    };
    measured all = r.m;  // every slice (established_bucket: with and without the limit)
    add(all, r.plain);
    if (sc.k == kind::syn_cookies) {
        // Each SYN answered once on the port it came in on; nothing for the servers, no state.
        const uint64_t syns = r.m.injected[client];
        if (r.m.sent[client] != syns || r.m.injected[servers])
            fail(std::to_string(syns) + " SYNs, " + std::to_string(r.m.sent[client]) +
                 " frames back on the client port");
        if (r.m.sent[servers])
            fail(std::to_string(r.m.sent[servers]) + " frames sent to the servers port");
        const uint64_t cookies = dataplane::read(w.counters.syn_cookies_sent) - cookies_before;
        if (cookies != syns)
            fail(std::to_string(cookies) + " SYN cookies counted for " + std::to_string(syns) +
                 " SYNs");
        if (w.flows().size())
            fail(std::to_string(w.flows().size()) + " flows in the table, expected none");
        // One pass: every source's SYN-ACK seen exactly once (twice is a bad output frame; a
        // rejected frame is not counted, and reported below).
        if (h.verify && !h.output_errors) {
            const auto answered = std::count(h.syn_acks_seen.begin(), h.syn_acks_seen.end(), 1);
            if (uint64_t(answered) != syns)
                fail(std::to_string(syns - uint64_t(answered)) + " SYNs without a SYN-ACK");
        }
    } else {
        // early_drop: the servers port also sent the evicted flows' RSTs.
        const uint64_t resets = dataplane::read(w.counters.resets_sent) - resets_before;
        const uint64_t evicted = dataplane::read(w.counters.flows_early_dropped) - evicted_before;
        if (sc.early_drop) {
            all.sent[servers] -= std::min(all.sent[servers], resets);
            if (evicted + sc.capacity < r.new_flows)
                fail(std::to_string(evicted) + " flows early-dropped for " +
                     std::to_string(r.new_flows) + " new flows into a table of " +
                     std::to_string(sc.capacity));
        }
        for (uint8_t p = 0; p < 2; ++p)
            if (all.sent[1 - p] != all.injected[p])
                fail(std::to_string(all.injected[p]) + " frames injected on port " +
                     std::to_string(p) + ", " + std::to_string(all.sent[1 - p]) +
                     " sent on the other");
    }
    if (sc.k != kind::baseline) {
        const uint64_t dropped = drops_total() - drops_before;
        if (dropped) fail(std::to_string(dropped) + " packets dropped by the worker");
        const uint64_t created = dataplane::read(w.counters.flows_created) - created_before;
        if (created != r.new_flows)
            fail(std::to_string(created) + " flows created, expected " +
                 std::to_string(r.new_flows));
    }
    if (h.output_errors)
        fail(std::to_string(h.output_errors) + " bad output frames, first: " + h.first_error);
    for (double v : {r.mpps(), r.ns_per_packet(), r.cycles_per_packet(), r.step_mpps()})
        if (!std::isfinite(v) || v <= 0) fail("a figure is not finite and positive");
    if (sc.packet_limit && (!r.plain.packets || !std::isfinite(r.bucket_ns)))
        fail("the slices without the limit measured nothing");
    h.output_errors = 0;
    stop_runtime();
    return r;
}

std::vector<scenario> plan(const options& o) {
    std::vector<scenario> v;
    const bool smoke = o.smoke;
    const uint32_t pass = smoke ? 4096 : 1u << 20;
    v.push_back({"baseline", "I/O only: the same harness, frames moved RX→TX by the ring PMD",
                 kind::baseline, 0, pass, 4096, ""});
    const std::vector<uint32_t> sizes =
        smoke ? std::vector<uint32_t>{256} : std::vector<uint32_t>{1000, 100000, 1000000, 10000000};
    for (uint32_t n : sizes) {
        scenario s{
            "tcp_established_" + count_name(n),
            "ACK+data (6 B) both directions, random flows of " + count_name(n) + " established",
            kind::tcp_established,
            n,
            smoke ? 4096 : std::min<uint32_t>(std::max<uint32_t>(n, 65536), 1u << 21),
            capacity_for(n),
            ""};
        v.push_back(s);
        if (n != sizes.front()) continue;
        // The same flows and frames, in slices alternately without and with a packet limit every
        // packet passes: the difference is the cost of a token bucket check in the real path.
        s.what = "as " + s.name + ", alternately without and with [vip.limits] " +
                 "packets_per_second = 1e9 (all pass); row: with";
        s.name = "established_bucket";
        s.packet_limit = 1000000000;
        v.push_back(s);
    }
    const uint32_t fresh = smoke ? 2048 : 1000000;
    v.push_back({"tcp_new_" + count_name(fresh),
                 "SYNs of new flows (miss, rr, local port, insert, rewrite) into an empty table",
                 kind::tcp_new, 0, fresh, capacity_for(fresh), ""});
    scenario pool = v.back();
    pool.name += "_pool16";
    pool.what = "as tcp_new, the servers port with 16 local addresses (local_addresses, a /28)";
    pool.pool16 = true;
    v.push_back(pool);
    scenario evict = v.back();
    evict.name = v[v.size() - 2].name + "_early_drop";
    evict.capacity = std::max(1024u, fresh / 16);
    evict.what = "as tcp_new into a table of " + binary_name(evict.capacity) +
                 ": past it each SYN evicts a half-open flow (early drop, RST to its backend)";
    evict.pool16 = false;
    evict.early_drop = true;
    v.push_back(evict);
    const uint32_t mixed_flows = smoke ? 256 : 1000000;
    const uint32_t mixed_packets = smoke ? 4096 : 2000000;
    v.push_back({"tcp_mixed_" + count_name(mixed_flows),
                 "90% data on " + count_name(mixed_flows) + " established flows, 10% SYNs of new",
                 kind::tcp_mixed, mixed_flows, mixed_packets,
                 capacity_for(mixed_flows + mixed_packets / 10 + mixed_packets / 50), ""});
    const uint32_t udp_flows = smoke ? 256 : 1000000;
    v.push_back({"udp_established_" + count_name(udp_flows),
                 "18 B datagrams both directions, random flows of " + count_name(udp_flows),
                 kind::udp_established, udp_flows,
                 smoke ? 4096 : std::min<uint32_t>(std::max<uint32_t>(udp_flows, 65536), 1u << 21),
                 capacity_for(udp_flows), ""});
    v.push_back({"syn_cookies",
                 "SYNs (MSS, SACK, TS, WS) from " + binary_name(spoofed_sources) +
                     " spoofed sources to a syn_proxy = \"on\" VIP: cookie SYN-ACKs",
                 kind::syn_cookies, 0, spoofed_sources, capacity_for(0), ""});
    for (auto& s : v) {
        // Flows in the table before the measurement, or opened by it (new flows).
        const uint64_t opened = s.k == kind::tcp_new ? s.packets : s.flows;
        if (opened > o.max_flows) s.skipped = "above --max-flows";
    }
    if (!o.only.empty())
        for (auto& s : v)
            if (std::find(o.only.begin(), o.only.end(), s.name) == o.only.end() &&
                s.name != "baseline")
                s.skipped = "not in --only";
    return v;
}

uint64_t mem_available_bytes() {
    std::ifstream f("/proc/meminfo");
    std::string key;
    uint64_t kb;
    std::string unit;
    while (f >> key >> kb >> unit)
        if (key == "MemAvailable:") return kb * 1024;
    return 0;
}

std::string cpu_model() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown";
}

// Memory one scenario needs: the flow table in EAL memory, frames and per-flow state on the heap.
uint64_t eal_bytes(const scenario& s) {
    return flow::flow_table::required_bytes(s.capacity);
}
uint64_t heap_bytes(const scenario& s) {
    const uint64_t frame_bytes = s.k == kind::syn_cookies ? 129 : 65;
    return uint64_t(s.packets) * frame_bytes + uint64_t(s.flows) * 4;
}

void print_row(const result& r, double baseline_mpps) {
    const scenario& s = *r.sc;
    char flows_s[32] = "-", step_flows_s[32] = "-", bpf[32] = "-";
    if (r.new_flows) {
        std::snprintf(flows_s, sizeof flows_s, "%.2fM", r.flows_per_second() / 1e6);
        std::snprintf(step_flows_s, sizeof step_flows_s, "%.2fM", r.step_flows_per_second() / 1e6);
    }
    if (s.k != kind::baseline) std::snprintf(bpf, sizeof bpf, "%.0f", r.bytes_per_flow());
    std::printf("%-22s %6s %6s %5s %10llu %6.2f %7.1f %7.0f %8.0f %9.2f %8s %8s %6.2f %4.0f%% %s\n",
                s.name.c_str(), s.k == kind::baseline ? "-" : count_name(s.flows).c_str(),
                s.k == kind::baseline ? "-" : binary_name(s.capacity).c_str(), bpf,
                static_cast<unsigned long long>(r.m.packets), r.mpps(), r.ns_per_packet(),
                r.cycles_per_packet(), r.step_cycles_per_packet(), r.step_mpps(), flows_s,
                step_flows_s, baseline_mpps > 0 ? r.mpps() / baseline_mpps : 1.0,
                r.cpu_share() * 100, r.error.empty() ? "" : ("FAILED: " + r.error).c_str());
    std::fflush(stdout);
}

// The figures the attack-protection scenarios are for, from this run's results (null: not run
// or failed).
struct protection_figures {
    const result* syn = nullptr;     // syn_cookies
    const result* bucket = nullptr;  // established_bucket

    // SYN-ACKs per second: one per SYN (checked), so the rate of SYNs handled.
    double answers_mpps() const {
        return result::finite(double(syn->m.sent[client]) / syn->seconds() / 1e6);
    }
    // established_bucket without the limit (its `plain` slices), as result figures.
    double plain_ns() const {
        return result::finite(double(bucket->plain.loop_cycles) * 1e9 / double(h.tsc_hz) /
                              double(bucket->plain.packets));
    }
    double plain_step_ns() const {
        return result::finite(double(bucket->plain.step_cycles) * 1e9 / double(h.tsc_hz) /
                              double(bucket->plain.packets));
    }
    double bucket_step_ns() const {
        return bucket->step_cycles_per_packet() * 1e9 / double(h.tsc_hz);
    }
    // Only client→VIP packets take a token (about half of the frames; replies do not).
    double checked_share() const {
        return result::finite(double(bucket->m.injected[client]) / double(bucket->m.packets));
    }
    double per_checked(double per_packet) const {
        return checked_share() > 0 ? per_packet / checked_share() : 0.0;
    }
};

protection_figures protection_of(const std::vector<result>& results) {
    protection_figures p;
    for (const result& r : results) {
        if (!r.error.empty()) continue;
        if (r.sc->k == kind::syn_cookies) p.syn = &r;
        if (r.sc->packet_limit) p.bucket = &r;
    }
    return p;
}

void print_protection(const protection_figures& p, double baseline_mpps) {
    if (p.syn || p.bucket) std::printf("\n");
    if (p.syn)
        std::printf(
            "SYN proxy (syn_cookies): %.2f M SYN-ACKs/s on one core, %.1f ns and %.0f cycles "
            "per SYN (worker step: %.0f cycles), %.2f x baseline\n",
            p.answers_mpps(), p.syn->ns_per_packet(), p.syn->cycles_per_packet(),
            p.syn->step_cycles_per_packet(),
            baseline_mpps > 0 ? p.syn->mpps() / baseline_mpps : 1.0);
    if (p.bucket)
        std::printf(
            "token bucket (established_bucket, %u alternating pairs of slices): without the limit "
            "%.2f ns/pkt (worker step %.2f), with it %.2f (%.2f); difference, median of the "
            "pairs: %+.2f ns/pkt (pairs from %+.2f to %+.2f; worker step %+.2f); per checked "
            "client->VIP packet (%.0f%% of them): %+.2f ns (%+.2f)\n",
            p.bucket->pairs, p.plain_ns(), p.plain_step_ns(), p.bucket->ns_per_packet(),
            p.bucket_step_ns(), p.bucket->bucket_ns, p.bucket->bucket_ns_min,
            p.bucket->bucket_ns_max, p.bucket->bucket_step_ns, p.checked_share() * 100,
            p.per_checked(p.bucket->bucket_ns), p.per_checked(p.bucket->bucket_step_ns));
}

// The plain tcp_new scenario of this run, which the pool16 and early_drop variants are compared
// with (null: not run or measured nothing; one that failed a check still serves, marked so).
const result* tcp_new_reference(const std::vector<result>& results) {
    for (const result& r : results)
        if (r.m.packets && r.sc->k == kind::tcp_new && !r.sc->pool16 && !r.sc->early_drop)
            return &r;
    return nullptr;
}

// New flows/s of a tcp_new variant over the plain tcp_new's (whole loop, worker step); 0 when
// either is missing.
std::pair<double, double> vs_tcp_new(const result& r, const result* ref) {
    if (!ref || &r == ref || !r.error.empty() || r.sc->k != kind::tcp_new) return {0, 0};
    return {result::finite(r.flows_per_second() / ref->flows_per_second()),
            result::finite(r.step_flows_per_second() / ref->step_flows_per_second())};
}

void print_new_flow_ratios(const std::vector<result>& results) {
    const result* ref = tcp_new_reference(results);
    if (!ref) return;
    for (const result& r : results) {
        const auto [loop, step] = vs_tcp_new(r, ref);
        if (loop > 0)
            std::printf("%s: %.2fM new flows/s (worker step %.2fM) = %.3f x %s (step %.3f x)%s\n",
                        r.sc->name.c_str(), r.flows_per_second() / 1e6,
                        r.step_flows_per_second() / 1e6, loop, ref->sc->name.c_str(), step,
                        ref->error.empty() ? "" : " (that reference FAILED its checks)");
    }
}

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\';
        o += c;
    }
    return o;
}

void write_json(const std::string& path, const std::vector<scenario>& scenarios,
                const std::vector<result>& results, double baseline_mpps, const options& o,
                uint64_t eal_mb, const protection_figures& p) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + path);
    std::fprintf(f,
                 "{\n  \"tool\": \"worker_bench\",\n  \"build_type\": \"%s\",\n  \"smoke\": %s,\n"
                 "  \"cpu_model\": \"%s\",\n  \"cpus\": %ld,\n  \"tsc_hz\": %llu,\n"
                 "  \"eal_memory_mb\": %llu,\n  \"seconds_per_scenario\": %g,\n"
                 "  \"frame_bytes\": %u,\n  \"burst\": %u,\n  \"backends\": %u,\n"
                 "  \"flow_entry_bytes\": %zu,\n  \"results\": [",
                 SLUICE_BUILDTYPE, o.smoke ? "true" : "false", json_escape(cpu_model()).c_str(),
                 sysconf(_SC_NPROCESSORS_ONLN), static_cast<unsigned long long>(h.tsc_hz),
                 static_cast<unsigned long long>(eal_mb), o.seconds, frame_len + 4u,
                 unsigned(burst), backend_count, sizeof(flow::flow_entry));
    bool first = true;
    for (const result& r : results) {
        const scenario& s = *r.sc;
        std::fprintf(f,
                     "%s\n    {\"name\": \"%s\", \"what\": \"%s\", \"flows\": %u, "
                     "\"capacity\": %u, \"bytes_per_flow\": %.1f, \"packets\": %llu, "
                     "\"seconds\": %.4f, \"setup_seconds\": %.2f, \"mpps\": %.4f, "
                     "\"ns_per_packet\": %.2f, \"cycles_per_packet\": %.1f, "
                     "\"worker_cycles_per_packet\": %.1f, \"worker_mpps\": %.4f, "
                     "\"new_flows\": %llu, \"flows_per_second\": %.0f, "
                     "\"worker_flows_per_second\": %.0f, \"vs_baseline\": %.4f, "
                     "\"cpu_share\": %.3f, \"vs_tcp_new\": %.4f, \"worker_vs_tcp_new\": %.4f, "
                     "\"ok\": %s, \"error\": \"%s\"}",
                     first ? "" : ",", s.name.c_str(), json_escape(s.what).c_str(), s.flows,
                     s.k == kind::baseline ? 0u : s.capacity,
                     s.k == kind::baseline ? 0.0 : r.bytes_per_flow(),
                     static_cast<unsigned long long>(r.m.packets), r.seconds(), r.setup_seconds,
                     r.mpps(), r.ns_per_packet(), r.cycles_per_packet(), r.step_cycles_per_packet(),
                     r.step_mpps(), static_cast<unsigned long long>(r.new_flows),
                     r.flows_per_second(), r.new_flows ? r.step_flows_per_second() : 0.0,
                     baseline_mpps > 0 ? r.mpps() / baseline_mpps : 1.0, r.cpu_share(),
                     vs_tcp_new(r, tcp_new_reference(results)).first,
                     vs_tcp_new(r, tcp_new_reference(results)).second,
                     r.error.empty() ? "true" : "false", json_escape(r.error).c_str());
        first = false;
    }
    std::fprintf(f, "\n  ],\n  \"skipped\": [");
    first = true;
    for (const scenario& s : scenarios) {
        if (s.skipped.empty()) continue;
        std::fprintf(f, "%s\n    {\"name\": \"%s\", \"reason\": \"%s\"}", first ? "" : ",",
                     s.name.c_str(), json_escape(s.skipped).c_str());
        first = false;
    }
    std::fprintf(f, "\n  ],\n  \"syn_cookies\": ");
    if (p.syn)
        std::fprintf(f,
                     "{\"syns\": %llu, \"syn_acks\": %llu, \"syn_frame_bytes\": %u, "
                     "\"sources\": %u, \"syn_acks_mpps\": %.4f, \"ns_per_syn\": %.2f, "
                     "\"cycles_per_syn\": %.1f, \"worker_cycles_per_syn\": %.1f, "
                     "\"vs_baseline\": %.4f}",
                     static_cast<unsigned long long>(p.syn->m.injected[client]),
                     static_cast<unsigned long long>(p.syn->m.sent[client]), syn_frame_len + 4u,
                     spoofed_sources, p.answers_mpps(), p.syn->ns_per_packet(),
                     p.syn->cycles_per_packet(), p.syn->step_cycles_per_packet(),
                     baseline_mpps > 0 ? p.syn->mpps() / baseline_mpps : 1.0);
    else
        std::fprintf(f, "null");
    std::fprintf(f, ",\n  \"token_bucket\": ");
    if (p.bucket)
        std::fprintf(f,
                     "{\"scenario\": \"%s\", \"flows\": %u, \"pairs\": %u, "
                     "\"plain_ns_per_packet\": %.2f, \"bucket_ns_per_packet\": %.2f, "
                     "\"plain_worker_ns_per_packet\": %.2f, "
                     "\"bucket_worker_ns_per_packet\": %.2f, "
                     "\"ns_per_packet_difference\": %.2f, "
                     "\"ns_per_packet_difference_min\": %.2f, "
                     "\"ns_per_packet_difference_max\": %.2f, "
                     "\"worker_ns_per_packet_difference\": %.2f, \"checked_share\": %.3f, "
                     "\"ns_per_checked_packet_difference\": %.2f}",
                     p.bucket->sc->name.c_str(), p.bucket->sc->flows, p.bucket->pairs, p.plain_ns(),
                     p.bucket->ns_per_packet(), p.plain_step_ns(), p.bucket_step_ns(),
                     p.bucket->bucket_ns, p.bucket->bucket_ns_min, p.bucket->bucket_ns_max,
                     p.bucket->bucket_step_ns, p.checked_share(),
                     p.per_checked(p.bucket->bucket_ns));
    else
        std::fprintf(f, "null");
    std::fprintf(f, "\n}\n");
    std::fclose(f);
}

int usage(const char* self) {
    std::fprintf(stderr,
                 "usage: %s [--smoke] [--seconds S] [--max-flows N] [--only NAME,NAME] "
                 "[--json FILE]\n"
                 "  --smoke      tiny sizes, every output frame checked (the test suite)\n"
                 "  --seconds    measured time per established and syn_cookies scenario "
                 "(default 2)\n"
                 "  --max-flows  skip scenarios of more than N flows (default 10000000)\n"
                 "  --only       run only these scenarios (the baseline always runs)\n",
                 self);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        try {
            if (a == "--smoke") {
                o.smoke = true;
            } else if (a == "--seconds") {
                o.seconds = std::stod(value());
            } else if (a == "--max-flows") {
                o.max_flows = std::stoull(value());
            } else if (a == "--json") {
                o.json = value();
            } else if (a == "--only") {
                std::string list = value();
                for (size_t p = 0; p <= list.size();) {
                    size_t q = list.find(',', p);
                    if (q == std::string::npos) q = list.size();
                    if (q > p) o.only.push_back(list.substr(p, q - p));
                    p = q + 1;
                }
            } else {
                return usage(argv[0]);
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "worker_bench: %s\n", e.what());
            return usage(argv[0]);
        }
    }
    if (!(o.seconds > 0)) return usage(argv[0]);

    // Memory: EAL gets enough for the largest flow table plus pools; a scenario whose table and
    // frames do not fit in the host's available memory (with 1 GiB to spare) is skipped.
    std::vector<scenario> scenarios = plan(o);
    const uint64_t available = mem_available_bytes();
    const uint64_t fixed = 256ull << 20;  // pools, rings, snapshots, EAL's own
    uint64_t largest = 0;
    for (auto& s : scenarios) {
        if (!s.skipped.empty()) continue;
        const uint64_t need = eal_bytes(s) + heap_bytes(s) + fixed + (1ull << 30);
        if (available && need > available) {
            s.skipped = "needs " + std::to_string(need >> 20) + " MiB, MemAvailable is " +
                        std::to_string(available >> 20) + " MiB";
            continue;
        }
        largest = std::max(largest, eal_bytes(s));
    }
    const uint64_t eal_mb = (largest + fixed) >> 20;

    log::set_min_level(log::level::warn);
    std::vector<std::string> eal = {"worker_bench",
                                    "--no-huge",
                                    "-m",
                                    std::to_string(eal_mb),
                                    "--no-shconf",
                                    "--no-pci",
                                    "-l",
                                    "0",
                                    "--file-prefix=sluice-worker-bench",
                                    "--log-level=*:error",
                                    "--no-telemetry"};
    std::vector<char*> eal_argv;
    for (auto& a : eal) eal_argv.push_back(a.data());
    if (rte_eal_init(int(eal_argv.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "worker_bench: EAL init failed (-m %llu)\n",
                     static_cast<unsigned long long>(eal_mb));
        return 1;
    }
    h.tsc_hz = rte_get_tsc_hz();
    h.verify = o.smoke;
    for (int p = 0; p < 2; ++p) {
        const std::string n = p ? "servers" : "client";
        h.rx[p] = rte_ring_create(("bench_rx_" + n).c_str(), 4096, SOCKET_ID_ANY,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
        h.tx[p] = rte_ring_create(("bench_tx_" + n).c_str(), 4096, SOCKET_ID_ANY,
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
    }
    h.pool = rte_pktmbuf_pool_create("bench_frames", 8191, 256, dataplane::mbuf_priv_size,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!h.rx[0] || !h.rx[1] || !h.tx[0] || !h.tx[1] || !h.pool) {
        std::fprintf(stderr, "worker_bench: cannot create rings or the mbuf pool\n");
        return 1;
    }

    std::printf(
        "worker_bench: %s build, %s, %ld CPUs, TSC %.3f GHz, EAL --no-huge -m %llu, "
        "%u-byte frames, bursts of %u, %u backends, flow entry %zu B\n",
        SLUICE_BUILDTYPE, cpu_model().c_str(), sysconf(_SC_NPROCESSORS_ONLN),
        double(h.tsc_hz) / 1e9, static_cast<unsigned long long>(eal_mb), frame_len + 4u,
        unsigned(burst), backend_count, sizeof(flow::flow_entry));
    std::printf(
        "Mpps, ns/pkt, cyc/pkt: the whole loop (harness + step), one core. step: "
        "cycles inside worker.poll_once()\n(baseline: inside rx_burst+tx_burst) per "
        "packet, and the rate that alone would allow. x base: Mpps / baseline Mpps. cpu: share of\n"
        "the wall time this thread ran (below ~95%%: the machine was busy, figures "
        "inflated).\n\n");
    std::printf("%-22s %6s %6s %5s %10s %6s %7s %7s %8s %9s %8s %8s %6s %5s\n", "scenario", "flows",
                "cap", "B/flw", "packets", "Mpps", "ns/pkt", "cyc/pkt", "step cyc", "step Mpps",
                "flows/s", "step f/s", "x base", "cpu");

    std::vector<result> results;
    double baseline_mpps = 0;
    int rc = 0;
    for (const scenario& s : scenarios) {
        if (!s.skipped.empty()) {
            std::printf("%-22s skipped: %s\n", s.name.c_str(), s.skipped.c_str());
            continue;
        }
        try {
            results.push_back(run(s, o));
        } catch (const std::exception& e) {
            result r;
            r.sc = &s;
            r.error = e.what();
            std::printf("%-22s FAILED: %s\n", s.name.c_str(), e.what());
            stop_runtime();  // also removes ring ports a failed start left behind
            results.push_back(r);
            rc = 1;
            continue;
        }
        const result& r = results.back();
        if (s.k == kind::baseline) baseline_mpps = r.mpps();
        print_row(r, baseline_mpps);
        if (!r.error.empty()) rc = 1;
    }
    const protection_figures protection = protection_of(results);
    print_protection(protection, baseline_mpps);
    print_new_flow_ratios(results);
    std::printf("\nscenarios:\n");
    for (const scenario& s : scenarios) std::printf("  %-22s %s\n", s.name.c_str(), s.what.c_str());
    if (!o.json.empty())
        write_json(o.json, scenarios, results, baseline_mpps, o, eal_mb, protection);
    rte_mempool_free(h.pool);
    for (int p = 0; p < 2; ++p) {
        rte_ring_free(h.rx[p]);
        rte_ring_free(h.tx[p]);
    }
    rte_eal_cleanup();
    std::printf("%s\n", rc ? "worker_bench: FAILED" : "worker_bench: all checks passed");
    return rc;
}

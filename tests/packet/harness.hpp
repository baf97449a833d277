#pragma once
// Shared harness of the packet tests: EAL with --no-huge, two DPDK ring ports (net_ring) named
// "client" and "servers", a runtime built from the test's configuration, and helpers to inject
// frames on a port's RX ring, run the worker and control passes, and read back what the worker
// transmitted on a port's TX ring. (The ring PMD cannot set MACs, so both ports have
// 00:00:00:00:00:00; the e2e tests run on real veth MACs.)
//
// Each test executable defines DOCTEST_CONFIG_IMPLEMENT and its own main(), which calls run().
#include <rte_mempool.h>
#include <rte_ring.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/runtime.hpp"
#include "unit/frame_builder.hpp"

namespace sluice::packet_test {

using test::bytes;
using test::frame_spec;
using test::v4;
using test::v6;

// Snapshot port indices: the order of the [[port]] tables in every packet test's config.
enum port_index : uint16_t { client = 0, servers = 1 };

// Up to this many workers, one RX and one TX ring (queue) per worker on each port; worker w polls
// queue w. The workers run inline on the test's thread, one after the other.
constexpr unsigned max_test_workers = 2;

struct harness {
    rte_ring* rx[2][max_test_workers];
    rte_ring* tx[2][max_test_workers];
    uint16_t dpdk_port[2];
    unsigned workers;  // from the test's [dataplane] worker_cpus
    rte_mempool* pool;
    dataplane::runtime* rt;
};
extern harness h;

// Backends 198.18.1.11, .12, .13 and the client 198.18.0.2.
extern const uint8_t backend_mac[3][6];
extern const uint8_t client_mac[6];

const uint8_t* port_mac(uint16_t p);
void set_macs(bytes& f, const uint8_t* dst, const uint8_t* src);

// Puts a copy of `frame` on the RX ring of `port` that worker `queue` polls.
void inject(uint16_t port, const bytes& frame, unsigned queue = 0);
// Runs every worker and the control thread until all are idle.
void run_passes();
// Everything the LB transmitted on `port` since the last call: worker 0's queue first, in order.
std::vector<bytes> transmitted(uint16_t port);
// What worker `queue` transmitted on `port` since the last call, in order.
std::vector<bytes> transmitted(uint16_t port, unsigned queue);
// Worker 0's drop counter of `r`.
uint64_t drops(drop_reason r);

bytes arp_frame(uint16_t op, const uint8_t* sender_mac, std::array<uint8_t, 16> sender_ip,
                const uint8_t* dst_mac, std::array<uint8_t, 16> target_ip);
// Frame from the client (198.18.0.2) to s.dst with the LB's client-port MAC as destination.
bytes from_client(frame_spec s);
// A neighbour solicitation (type 135, source link-layer option) or advertisement (136, flags
// 0x40 solicited / 0x20 override, target link-layer option) with `src_mac` as its link-layer
// address (unless !link_option), checksum computed here.
bytes ndp_frame(uint8_t type, uint8_t flags, const uint8_t* src_mac, const uint8_t* dst_mac,
                std::array<uint8_t, 16> src_ip, std::array<uint8_t, 16> dst_ip,
                std::array<uint8_t, 16> target, bool link_option = true);
// ff02::1:ffXX:XXXX for a target address.
std::array<uint8_t, 16> solicited_node(std::array<uint8_t, 16> target);
// Answers the start-up ARP requests for the three backends and makes the LB learn the client's
// MAC (an ARP request for 198.18.0.1); drains what that transmitted. Idempotent.
void resolve_neighbors();

// Full recomputation over the frame's bytes (RFC 1071), independent of src/packet.
bool ipv4_checksum_ok(const bytes& f);
bool l4_checksum_ok(const bytes& f);

struct ipv4_view {
    std::array<uint8_t, 4> src, dst;
    uint16_t sport, dport;
    uint8_t ttl;
};
ipv4_view view(const bytes& f);
std::array<uint8_t, 4> a4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);

// A packet test's configuration as run() starts it (exception interfaces off): for reloads.
config::config load_test_config(const std::string& text, const std::string& name);

// --- A fresh runtime per case (tests/packet/fixtures) ---
// EAL, the RX/TX rings of both ports (max_test_workers queues each) and the frame pool, once per
// process; no ports and no runtime yet. `name` names the EAL program and its file prefix. Returns
// false (after printing why) when something could not be created.
bool init_process(const char* name);
// Creates the two ring ports with as many queues as `config_text`'s worker_cpus, then a runtime
// from it (exception interfaces off), started; h.rt points at it. The rings must be empty.
void start_runtime(const std::string& config_text, const std::string& name = "fixture.toml");
// Frees whatever is left on every RX/TX ring, shuts the runtime down and deletes it, and removes
// the ring ports (runtime::shutdown closes them, which releases a ring port's ethdev; its vdev is
// uninitialised here so the next start_runtime can create it again under the same name).
void stop_runtime();
// Mbufs of the test's frame pool in use (0 between cases: nothing leaked or held).
unsigned frames_in_use();

// main() of a packet test: EAL, ring ports, mbuf pool, the runtime from `config_text` (exception
// interfaces off: the tests run in the caller's network namespace), then the doctest cases.
// `name` names the EAL program and its file prefix. Returns the process exit code.
int run(int argc, char** argv, const char* config_text, const char* name);

}  // namespace sluice::packet_test

// Packet tests with two workers: frames one worker receives but the other owns are handed over
// through the ring between them, and reloads that remove and restore VIPs between the receiving
// worker's classify and the owner's processing neither misroute them nor touch per-VIP state out
// of bounds (run under ASan+UBSan by scripts/test.sh). Both workers run inline on the test thread;
// worker w polls queue w of each ring port (harness.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <rte_ethdev.h>

#include <initializer_list>
#include <string>
#include <tuple>
#include <vector>

#include "common/clock.hpp"
#include "dataplane/worker.hpp"
#include "packet/harness.hpp"

using namespace sluice;
using namespace sluice::packet_test;
using test::bytes;
using test::frame_spec;
using test::v4;

namespace {

constexpr const char* base_text = R"(
[dataplane]
worker_cpus = [0, 1]
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
)";

// VIP blocks by name; the config is base_text plus the named ones, in this order (the order is
// the snapshot's VIP index).
constexpr const char* http_vip = R"(
[[vip]]
name = "http"
address = "198.18.0.10"
port = 80
protocol = "tcp"
  [[vip.backend]]
  address = "198.18.1.11"
  [[vip.backend]]
  address = "198.18.1.12"
)";
constexpr const char* alt_vip = R"(
[[vip]]
name = "alt"
address = "198.18.0.10"
port = 8080
protocol = "tcp"
  [[vip.backend]]
  address = "198.18.1.13"
)";
// wrr: its per-VIP scheduler state is a heap vector per VIP, so a pass that used a resized copy
// would read freed memory (ASan's heap-use-after-free) rather than silently stale values.
constexpr const char* last_vip = R"(
[[vip]]
name = "last"
address = "198.18.0.10"
port = 8443
protocol = "tcp"
scheduler = "wrr"
  [[vip.backend]]
  address = "198.18.1.13"
  weight = 2
  [[vip.backend]]
  address = "198.18.1.12"
)";

std::string config_with(std::initializer_list<const char*> vips) {
    std::string text = base_text;
    for (const char* v : vips) text += v;
    return text;
}

const std::string full_text = config_with({http_vip, alt_vip, last_vip});

void reload(const std::string& text) {
    const auto reloaded =
        h.rt->control().reload(load_test_config(text, "handoff.toml"), monotonic_ns());
    REQUIRE_MESSAGE(reloaded.ok(), reloaded.message());
}

uint64_t counter_of(unsigned w, drop_reason r) {
    return dataplane::read(h.rt->worker_at(w).counters.drops[unsigned(r)]);
}
uint64_t handed_over() {
    return dataplane::read(h.rt->worker_at(0).counters.handoff_sent);
}

uint16_t next_client_port = 20000;

// A client SYN to 198.18.0.10:vip_port from a client port not used before.
bytes fresh_syn(uint16_t vip_port) {
    frame_spec syn;
    syn.dst = v4(198, 18, 0, 10);
    syn.src_port = next_client_port++;
    syn.dst_port = vip_port;
    syn.tcp_flags = 0x02;
    return from_client(syn);
}

// Sends SYNs to 198.18.0.10:vip_port from fresh client ports into worker 0's queue, polling
// only worker 0, until `count` of them were handed to worker 1 (they wait in the ring). The ones
// worker 0 owns are processed there; their output is discarded. Returns the handed-over ports.
std::vector<uint16_t> hand_over(uint16_t vip_port, unsigned count) {
    std::vector<uint16_t> ports;
    for (unsigned tries = 0; ports.size() < count && tries < 200; ++tries) {
        const uint16_t port = next_client_port;
        const uint64_t before = handed_over();
        inject(client, fresh_syn(vip_port), 0);
        h.rt->worker_at(0).poll_once();
        if (handed_over() == before + 1) ports.push_back(port);
        transmitted(servers, 0);
    }
    REQUIRE(ports.size() == count);
    return ports;
}

// The SYNs worker 1 sent towards backends: (backend last octet, backend port) per frame.
std::vector<std::pair<uint8_t, uint16_t>> forwarded_by_owner() {
    std::vector<std::pair<uint8_t, uint16_t>> out;
    for (const auto& f : transmitted(servers, 1)) {
        auto v = view(f);
        CHECK(v.src == a4(198, 18, 1, 1));
        CHECK(ipv4_checksum_ok(f));
        CHECK(l4_checksum_ok(f));
        CHECK(h.rt->worker_at(1).setup().ports.owner(v.sport) == 1);
        out.push_back({v.dst[3], v.dport});
    }
    return out;
}

// A reload published from inside worker 1's RX burst: after its pass took the snapshot, before
// it drains the handoff ring (the window in which a second snapshot load used to resize the
// per-VIP scheduler state under the pass).
struct mid_pass_reload {
    bool armed = false;
    bool fired = false;
    std::string text;
    std::string error;
};
mid_pass_reload mid_pass;

uint16_t reload_in_rx(uint16_t, uint16_t, rte_mbuf**, uint16_t n, uint16_t, void*) {
    if (mid_pass.armed) {
        mid_pass.armed = false;
        mid_pass.fired = true;
        const auto reloaded = h.rt->control().reload(
            load_test_config(mid_pass.text, "mid-pass.toml"), monotonic_ns());
        mid_pass.error = reloaded.ok() ? "" : reloaded.message();
    }
    return n;
}

}  // namespace

TEST_CASE("local_port_plan::owner names the worker whose range holds the port, none outside") {
    // Property: ranges are disjoint, cover min..end()-1, and ports below min or from end() up
    // (the kernel's) belong to no worker.
    const std::initializer_list<std::tuple<int, int, unsigned>> plans = {
        {1024, 60999, 2}, {1024, 1030, 3}, {5000, 5000, 1}, {1024, 65535, 16}};
    for (auto [min, max, workers] : plans) {
        auto plan = dataplane::local_port_plan::make(uint16_t(min), uint16_t(max), workers);
        // CAPTURE's lambda cannot take a structured binding under clang 14: named copies.
        const int first_port = min;
        const unsigned worker_count = workers;
        CAPTURE(first_port);
        CAPTURE(worker_count);
        CHECK(plan.owner(uint16_t(min - 1)) == workers);
        for (unsigned w = 0; w < workers; ++w) {
            CHECK(plan.owner(plan.first(w)) == w);
            CHECK(plan.owner(uint16_t(plan.first(w) + plan.per_worker - 1)) == w);
        }
        CHECK(plan.end() <= uint32_t(max) + 1);
        if (plan.end() <= 65535) CHECK(plan.owner(uint16_t(plan.end())) == workers);
        unsigned last = 0;
        for (uint32_t p = uint32_t(min); p < plan.end(); ++p) {
            unsigned o = plan.owner(uint16_t(p));
            REQUIRE(o < workers);
            REQUIRE(o >= last);  // ascending, contiguous ranges
            last = o;
        }
    }
}

TEST_CASE("a client SYN worker 0 receives for a flow worker 1 owns is forwarded by worker 1") {
    // Property: the frame crosses the ring (handoff counters), worker 1 creates the flow and
    // sends it from its own local-port range; worker 0 transmits nothing for it.
    resolve_neighbors();
    const uint64_t received = dataplane::read(h.rt->worker_at(1).counters.handoff_received);
    hand_over(80, 1);
    CHECK(transmitted(servers).empty());  // still in the ring
    h.rt->worker_at(1).poll_once();
    CHECK(dataplane::read(h.rt->worker_at(1).counters.handoff_received) == received + 1);
    auto out = forwarded_by_owner();
    REQUIRE(out.size() == 1);
    CHECK(out[0].second == 80);
    CHECK(h.rt->worker_at(1).flows().size() == 1);
}

TEST_CASE("a backend's reply landing on worker 0 reaches worker 1, the flow's owner") {
    // Property: the reply's destination port names the owner; worker 0 hands it over and worker 1
    // translates it back to VIP → client.
    auto ports = hand_over(80, 1);
    h.rt->worker_at(1).poll_once();
    auto sent = transmitted(servers, 1);
    REQUIRE(sent.size() == 1);
    auto v = view(sent[0]);
    const uint8_t b = uint8_t(v.dst[3] - 11);
    REQUIRE(b < 3);
    frame_spec synack;
    synack.src = v4(198, 18, 1, v.dst[3]);
    synack.dst = v4(198, 18, 1, 1);
    synack.src_port = v.dport;
    synack.dst_port = v.sport;
    synack.tcp_flags = 0x12;
    bytes reply = test::build_frame(synack);
    set_macs(reply, port_mac(servers), backend_mac[b]);
    const uint64_t before = handed_over();
    inject(servers, reply, 0);
    h.rt->worker_at(0).poll_once();
    CHECK(handed_over() == before + 1);
    CHECK(transmitted(client, 0).empty());
    h.rt->worker_at(1).poll_once();
    auto back = transmitted(client, 1);
    REQUIRE(back.size() == 1);
    auto r = view(back[0]);
    CHECK(r.src == a4(198, 18, 0, 10));
    CHECK(r.sport == 80);
    CHECK(r.dst == a4(198, 18, 0, 2));
    CHECK(r.dport == ports[0]);
    CHECK(l4_checksum_ok(back[0]));
}

TEST_CASE(
    "handed-over packets meet the owner's snapshot: a removed VIP drops no_vip, shifted "
    "VIP indices still reach the right VIP, a restored VIP works again") {
    // Property: worker 0 classified under the old snapshot (http = VIP 0, alt = VIP 1); the reload
    // removes http before worker 1 runs. http's SYNs are dropped no_vip by worker 1, alt's reach
    // alt's backend (alt is VIP 0 now), nothing else is sent; after http is restored, SYNs
    // handed over to it are forwarded to its backends.
    reload(full_text);
    run_passes();
    transmitted(servers);
    transmitted(client);
    const uint64_t no_vip_before = counter_of(1, drop_reason::no_vip);
    hand_over(80, 3);
    hand_over(8080, 2);
    reload(config_with({alt_vip, last_vip}));
    h.rt->worker_at(1).poll_once();
    CHECK(counter_of(1, drop_reason::no_vip) == no_vip_before + 3);
    auto out = forwarded_by_owner();
    REQUIRE(out.size() == 2);
    for (auto [backend, port] : out) {
        CHECK(backend == 13);
        CHECK(port == 8080);
    }
    // New SYNs to the removed VIP: worker 0 finds no VIP itself.
    const uint64_t w0_no_vip = counter_of(0, drop_reason::no_vip);
    inject(client, fresh_syn(80), 0);
    run_passes();
    CHECK(counter_of(0, drop_reason::no_vip) == w0_no_vip + 1);
    CHECK(transmitted(servers).empty());

    reload(full_text);
    run_passes();
    hand_over(80, 2);
    h.rt->worker_at(1).poll_once();
    out = forwarded_by_owner();
    REQUIRE(out.size() == 2);
    for (auto [backend, port] : out) {
        CHECK((backend == 11 || backend == 12));
        CHECK(port == 80);
    }
    CHECK(counter_of(1, drop_reason::no_vip) == no_vip_before + 3);
}

TEST_CASE("a reload inside the owner's pass does not change the snapshot the pass works with") {
    // Property: the reload (removing the last, wrr VIP) lands after worker 1's pass took its
    // snapshot and before it drains the ring: the handed-over SYNs to that VIP are processed
    // with the pass's snapshot (forwarded by wrr, no out-of-bounds scheduler state), the next
    // pass sees the VIP gone, and after it is restored it schedules again.
    reload(full_text);
    run_passes();
    transmitted(servers);
    transmitted(client);
    static bool installed = false;
    if (!installed) {
        REQUIRE(rte_eth_add_rx_callback(h.dpdk_port[client], 1, reload_in_rx, nullptr) != nullptr);
        installed = true;
    }
    hand_over(8443, 3);
    mid_pass.text = config_with({http_vip, alt_vip});
    mid_pass.armed = true;
    // Something for worker 1 to receive on its own queue, so its pass runs its RX step.
    inject(client, arp_frame(1, client_mac, v4(198, 18, 0, 2), nullptr, v4(198, 18, 0, 1)), 1);
    const uint64_t no_vip_before = counter_of(1, drop_reason::no_vip);
    h.rt->worker_at(1).poll_once();
    REQUIRE(mid_pass.fired);
    REQUIRE_MESSAGE(mid_pass.error.empty(), mid_pass.error);
    auto out = forwarded_by_owner();
    REQUIRE(out.size() == 3);
    unsigned to_13 = 0;
    for (auto [backend, port] : out) {
        CHECK(port == 8443);
        CHECK((backend == 12 || backend == 13));
        to_13 += backend == 13;
    }
    CHECK(to_13 == 2);  // smooth wrr 2:1 over three picks
    CHECK(counter_of(1, drop_reason::no_vip) == no_vip_before);
    run_passes();  // the control thread answers the ARP; the old snapshot is retired
    transmitted(client);

    // The VIP is gone for the next pass of either worker.
    const uint64_t w0_no_vip = counter_of(0, drop_reason::no_vip);
    const bytes syn = fresh_syn(8443);
    inject(client, syn, 0);
    inject(client, syn, 1);
    run_passes();
    CHECK(counter_of(0, drop_reason::no_vip) + counter_of(1, drop_reason::no_vip) ==
          w0_no_vip + no_vip_before + 2);
    CHECK(transmitted(servers).empty());

    reload(full_text);
    run_passes();
    hand_over(8443, 3);
    h.rt->worker_at(1).poll_once();
    out = forwarded_by_owner();
    REQUIRE(out.size() == 3);
    for (auto [backend, port] : out) CHECK(port == 8443);
}

int main(int argc, char** argv) {
    return run(argc, argv, full_text.c_str(), "packet_handoff");
}

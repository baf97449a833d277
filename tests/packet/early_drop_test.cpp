// Early drop when a full-NAT tuple group is exhausted, through the real worker code: one backend,
// one local address and eight local ports (one tuple group), so the ninth concurrent connection
// finds every tuple held. A half-open flow is evicted for it (its tuple is handed over at once,
// the backend never completed it); established flows never are — the new flow is refused
// instead (local_port_exhausted). The harness is shared (harness.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "packet/harness.hpp"

using namespace sluice;
using namespace sluice::packet_test;
using test::bytes;
using test::frame_spec;
using test::v4;

namespace {

constexpr const char* config_text = R"(
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
capacity = 1024
local_port_min = 1024
local_port_max = 1031
tuple_groups = 1

[[vip]]
name = "http"
address = "198.18.0.10"
port = 80
protocol = "tcp"
  [[vip.backend]]
  address = "198.18.1.11"
)";

constexpr unsigned tuples = 8;  // local_port_min..local_port_max on the one local address
constexpr uint32_t client_isn = 1000, backend_isn = 5000;

frame_spec client_segment(uint16_t client_port, uint8_t flags, uint32_t seq, uint32_t ack) {
    frame_spec s;
    s.dst = v4(198, 18, 0, 10);
    s.src_port = client_port;
    s.dst_port = 80;
    s.tcp_flags = flags;
    s.tcp_seq = seq;
    s.tcp_ack = ack;
    return s;
}

// Sends a SYN from `client_port`; returns the local port the LB used towards the backend, or 0
// when nothing went out.
uint16_t open_half(uint16_t client_port) {
    inject(client, from_client(client_segment(client_port, 0x02, client_isn, 0)));
    run_passes();
    auto out = transmitted(servers);
    return out.size() == 1 ? view(out[0]).sport : 0;
}

void backend_synack(uint16_t local_port) {
    frame_spec s;
    s.src = v4(198, 18, 1, 11);
    s.dst = v4(198, 18, 1, 1);
    s.src_port = 80;
    s.dst_port = local_port;
    s.tcp_flags = 0x12;
    s.tcp_seq = backend_isn;
    s.tcp_ack = client_isn + 1;
    bytes f = test::build_frame(s);
    set_macs(f, port_mac(servers), backend_mac[0]);
    inject(servers, f);
}

uint64_t early_drops() {
    return dataplane::read(h.rt->worker_at(0).counters.flows_early_dropped);
}

}  // namespace

TEST_CASE("a full tuple group evicts its oldest half-open flow and reuses that tuple at once") {
    // Property: with all eight tuples held by unanswered SYNs, a ninth SYN is forwarded on the
    // tuple of one of them (evicted, flows_early_dropped +1), not refused.
    resolve_neighbors();
    std::vector<uint16_t> local;
    for (unsigned i = 0; i < tuples; ++i) {
        local.push_back(open_half(uint16_t(50000 + i)));
        REQUIRE(local.back() != 0);
    }
    const uint64_t evicted = early_drops();
    const uint64_t refused = drops(drop_reason::local_port_exhausted);
    const uint16_t reused = open_half(50000 + tuples);
    CHECK(std::find(local.begin(), local.end(), reused) != local.end());
    CHECK(early_drops() == evicted + 1);
    CHECK(drops(drop_reason::local_port_exhausted) == refused);
}

TEST_CASE("established flows are never evicted for a tuple: the new flow is refused") {
    // Property: once every tuple's flow is established, a new SYN is dropped as
    // local_port_exhausted, nothing is evicted, and the established flows keep forwarding.
    resolve_neighbors();
    // The previous case left clients 50001..50008 half-open on all eight tuples.
    std::vector<uint16_t> local;
    transmitted(servers);
    transmitted(client);
    size_t synacks = 0, acks = 0;
    for (unsigned i = 1; i <= tuples; ++i) {
        // A retransmitted SYN finds the flow and goes out again: it names the flow's tuple.
        const uint16_t p = open_half(uint16_t(50000 + i));
        REQUIRE(p != 0);
        local.push_back(p);
        backend_synack(p);
        run_passes();
        inject(client, from_client(client_segment(uint16_t(50000 + i), 0x10, client_isn + 1,
                                                  backend_isn + 1)));
        run_passes();
        synacks += transmitted(client).size();
        acks += transmitted(servers).size();
    }
    REQUIRE(synacks == tuples);
    REQUIRE(acks == tuples);
    const uint64_t evicted = early_drops();
    const uint64_t refused = drops(drop_reason::local_port_exhausted);
    CHECK(open_half(50100) == 0);
    CHECK(drops(drop_reason::local_port_exhausted) == refused + 1);
    CHECK(early_drops() == evicted);
    frame_spec data = client_segment(50001, 0x18, client_isn + 1, backend_isn + 1);
    data.payload.assign(10, 'g');
    inject(client, from_client(data));
    run_passes();
    auto out = transmitted(servers);
    REQUIRE(out.size() == 1);
    CHECK(view(out[0]).sport == local[0]);
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, config_text, "early_drop_test");
}

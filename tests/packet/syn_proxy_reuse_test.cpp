// Packet tests of a SYN-proxied flow's end through the real worker code: an RST and a new SYN on
// the tuple of a finished proxied connection are judged in the sender's own sequence numbers,
// although the flow keeps them as the receiver counts (translated by the proxy's ISN shifts).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdint>

#include "packet/harness.hpp"
#include "packet/proxy_segments.hpp"

using namespace sluice;
using namespace sluice::packet_test;

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
)";

constexpr uint16_t vip_port = 80;

}  // namespace

TEST_CASE("an RST at exactly the backend's next sequence closes a spliced flow") {
    // Property: the backend's RST after 30 bytes the client has not acknowledged yet is exact
    // (accepted, not merely in window), judged in the backend's own numbers, and reaches the
    // client in the client's (cookie + 1 + 30).
    resolve_neighbors();
    const uint16_t cport = 46100;
    const uint32_t isn = 0x40000000;
    const spliced_connection c = splice(vip_port, cport, isn, 0x70000000);
    const bytes response(30, 'r');
    inject(servers,
           backend_segment(c.bs.b, vip_port, c.bs.lport, flag::psh | flag::ack, c.backend_isn + 1,
                           c.bs.s.seq + 1, ts_options(c.backend_ts + 1, 1001), response));
    run_passes();
    REQUIRE(sent(client).size() == 1);
    const uint64_t accepted = count_of(&wc::rst_accepted);
    const uint64_t in_window = count_of(&wc::rst_in_window);
    inject(servers, backend_segment(c.bs.b, vip_port, c.bs.lport, flag::rst | flag::ack,
                                    c.backend_isn + 1 + 30, c.bs.s.seq + 1, {}));
    run_passes();
    CHECK(count_of(&wc::rst_accepted) == accepted + 1);
    CHECK(count_of(&wc::rst_in_window) == in_window);
    auto out = sent(client);
    REQUIRE(out.size() == 1);
    const segment r = decode(out[0]);
    CHECK((r.flags & flag::rst) != 0);
    CHECK(r.seq == c.ours.cookie + 1 + 30);
}

TEST_CASE("a SYN on a reset proxied flow's tuple is new only beyond the client's own sequence") {
    // Property: on eight reset proxied flows (each with its own backend ISN shift), a replay of
    // the old SYN is dropped as syn_not_new and a SYN beyond the old connection's sequence gets a
    // fresh cookie SYN-ACK (flows_reused) — compared in the client's numbers, never the shifted
    // ones (which made the verdict a coin toss per connection).
    resolve_neighbors();
    for (uint16_t k = 0; k < 8; ++k) {
        CAPTURE(k);
        const uint16_t cport = uint16_t(46200 + k);
        const uint32_t isn = 0x10000000u * k + 5000;
        const spliced_connection c = splice(vip_port, cport, isn, 0x9000000u + 0x1234567u * k);
        // The client resets at exactly its next sequence: the flow is in CLOSE.
        const uint64_t accepted = count_of(&wc::rst_accepted);
        inject(client, client_segment(vip_port, cport, flag::rst, isn + 1, 0, {}));
        run_passes();
        CHECK(count_of(&wc::rst_accepted) == accepted + 1);
        REQUIRE(sent(servers).size() == 1);

        const uint64_t replays = drops(drop_reason::syn_not_new);
        inject(client, client_segment(vip_port, cport, flag::syn, isn, 0, syn_options(2000, 7)));
        run_passes();
        CHECK(drops(drop_reason::syn_not_new) == replays + 1);
        CHECK(sent(client).empty());
        CHECK(sent(servers).empty());

        const uint64_t reused = count_of(&wc::flows_reused);
        const cookie_answer again = handshake_syn(vip_port, cport, isn + 100000, 3000);
        CHECK(count_of(&wc::flows_reused) == reused + 1);
        CHECK(drops(drop_reason::syn_not_new) == replays + 1);
        CHECK(again.cookie != c.ours.cookie);
    }
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, config_text, "syn_proxy_reuse_test");
}

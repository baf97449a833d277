// Packet tests of the SYN proxy's bounds through the real worker code (harness.hpp): the
// per-worker cap on held client segments, the timer that re-sends an unanswered SYN to the
// backend, the per-VIP MSS of cookie SYN-ACKs, and our own ISN and TSval clock towards the
// backend with the translation of both sequence spaces. Every transmitted frame's IPv4 and TCP
// checksums are verified by full recomputation (proxy_segments.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <rte_ethdev.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "packet/harness.hpp"
#include "packet/proxy_segments.hpp"
#include "protect/syn_cookie.hpp"

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
syn_proxy_max_held = 3

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

[[vip]]
name = "proxied-mss"
address = "198.18.0.10"
port = 81
protocol = "tcp"
  [vip.syn_proxy]
  mode = "on"
  mss = 1400
  [[vip.backend]]
  address = "198.18.1.11"
)";

constexpr uint16_t vip_port = 80;
constexpr uint16_t mss_port = 81;

// The client's handshake through the cookie up to the LB's SYN towards the backend.
struct pending_connection {
    uint16_t cport;
    uint32_t isn;
    cookie_answer ours;
    backend_syn bs;
};

pending_connection open_pending(uint16_t cport, uint32_t isn) {
    pending_connection c{cport, isn, handshake_syn(vip_port, cport, isn, 1000), {}};
    inject(client, client_segment(vip_port, cport, flag::ack, isn + 1, c.ours.cookie + 1,
                                  ts_options(1001, c.ours.tsval)));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    c.bs = read_backend_syn(out[0]);
    return c;
}

// The backend's SYN-ACK to our (possibly retransmitted) SYN: ISN `backend_isn`, TS, WS 7.
bytes backend_syn_ack(const pending_connection& c, uint32_t backend_isn) {
    return backend_segment(c.bs.b, vip_port, c.bs.lport, flag::syn | flag::ack, backend_isn,
                           c.bs.s.seq + 1,
                           cat({opt_mss(1460), opt_sack_perm(), opt_ts(5555, c.bs.s.options.tsval),
                                opt_nop(), opt_ws(7)}));
}

// Ends a pending connection from the client side (the flow goes, its held segments are freed).
void abandon(const pending_connection& c) {
    inject(client, client_segment(vip_port, c.cport, flag::rst, c.isn + 1, 0, {}));
    run_passes();
    sent(servers);
}

// F(tuple) of backend_isn for a backend SYN: its ISN minus this is the 4 µs clock.
uint32_t isn_clock(const backend_syn& bs) {
    flow::flow_key k;
    std::memset(&k, 0, sizeof k);
    std::memcpy(k.src, bs.s.ip.src.data(), 4);
    std::memcpy(k.dst, bs.s.ip.dst.data(), 4);
    k.src_port = bs.s.ip.sport;
    k.dst_port = bs.s.ip.dport;
    k.protocol = 6;
    k.family = 4;
    const auto& secret = *h.rt->worker_at(0).setup().cookie_secret;
    return bs.s.seq - protect::backend_isn(secret, k, 0);
}

}  // namespace

TEST_CASE("at the held-segment cap further segments of pending flows are dropped and counted") {
    // Property: with syn_proxy_max_held = 3 a fourth held segment is a proxy_held_limit drop.
    // A's ACK and data and B's ACK are held (3); B's data and C's cookie ACK are dropped
    // (proxy_held_limit, C gets no flow and no backend SYN); once A's backend answers its two
    // segments leave, and C's retransmitted data then validates its cookie and opens a flow. No
    // mbuf is lost.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint64_t limited = drops(drop_reason::proxy_held_limit);
    pending_connection a = open_pending(46001, 1000000);
    inject(client, client_segment(vip_port, a.cport, flag::psh | flag::ack, a.isn + 1,
                                  a.ours.cookie + 1, ts_options(1002, a.ours.tsval), {'a'}));
    pending_connection b = open_pending(46002, 2000000);
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::proxy_held_limit) == limited);

    inject(client, client_segment(vip_port, b.cport, flag::psh | flag::ack, b.isn + 1,
                                  b.ours.cookie + 1, ts_options(1002, b.ours.tsval), {'b'}));
    run_passes();
    CHECK(drops(drop_reason::proxy_held_limit) == limited + 1);
    const uint32_t flows = flow_count();
    const cookie_answer c = handshake_syn(vip_port, 46003, 3000000, 1000);
    const bytes c_data = client_segment(vip_port, 46003, flag::psh | flag::ack, 3000001,
                                        c.cookie + 1, ts_options(1001, c.tsval), {'c'});
    inject(client, c_data);
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(sent(client).empty());
    CHECK(drops(drop_reason::proxy_held_limit) == limited + 2);
    CHECK(flow_count() == flows);

    inject(servers, backend_syn_ack(a, 7000000));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 2);
    CHECK(decode(out[1]).payload == bytes{'a'});
    inject(client, c_data);
    run_passes();
    out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(decode(out[0]).flags == flag::syn);
    CHECK(flow_count() == flows + 1);
    CHECK(drops(drop_reason::proxy_held_limit) == limited + 2);

    inject(client, client_segment(vip_port, a.cport, flag::rst | flag::ack, a.isn + 2,
                                  a.ours.cookie + 1, {}));
    abandon(b);
    abandon({46003, 3000000, c, {}});
    sent(client);
    CHECK(pool_free() == free_before);
}

TEST_CASE("an unanswered SYN to the backend is re-sent on the timer and the retry completes") {
    // Property: the backend SYN is retransmitted after ~1 s without client traffic.
    // The retransmission has the same local port, ISN and options, syn_proxy_syn_retransmits
    // counts it, and a SYN-ACK to it splices the flow: the held ACK reaches the backend.
    resolve_neighbors();
    const uint64_t retransmits = count_of(&wc::syn_proxy_syn_retransmits);
    const pending_connection c = open_pending(46101, 0xabcdef01);
    std::vector<bytes> out;
    for (int i = 0; i < 200 && out.empty(); ++i) {  // up to 2 s of real time
        usleep(10000);
        run_passes();
        out = sent(servers);
    }
    REQUIRE(out.size() == 1);
    const backend_syn again = read_backend_syn(out[0]);
    CHECK(again.s.flags == flag::syn);
    CHECK(again.lport == c.bs.lport);
    CHECK(again.s.seq == c.bs.s.seq);
    CHECK(again.s.options.mss == c.bs.s.options.mss);
    CHECK(again.s.options.wscale == c.bs.s.options.wscale);
    CHECK(count_of(&wc::syn_proxy_syn_retransmits) == retransmits + 1);
    CHECK(sent(client).empty());

    const uint64_t spliced = count_of(&wc::syn_proxy_spliced);
    inject(servers, backend_syn_ack(c, 12345));
    run_passes();
    out = sent(servers);
    REQUIRE(out.size() == 1);
    const segment ack = decode(out[0]);
    CHECK(ack.flags == flag::ack);
    CHECK(ack.seq == c.bs.s.seq + 1);
    CHECK(ack.ack == 12346);
    CHECK(count_of(&wc::syn_proxy_spliced) == spliced + 1);
    inject(client, client_segment(vip_port, c.cport, flag::rst | flag::ack, c.isn + 1,
                                  c.ours.cookie + 1, {}));
    run_passes();
    sent(servers);
}

TEST_CASE("the cookie SYN-ACK offers the VIP's configured MSS, else the port MTU's") {
    // Property: the SYN-ACK's MSS is [vip.syn_proxy] mss, or the servers port's MTU - 40.
    resolve_neighbors();
    uint16_t mtu = 0;
    REQUIRE(rte_eth_dev_get_mtu(h.rt->current()->ports[servers].dpdk_port, &mtu) == 0);
    const struct {
        uint16_t port;
        int mss;
    } rows[] = {{mss_port, 1400}, {vip_port, int(mtu) - 40}};
    for (const auto& r : rows) {
        CAPTURE(r.port);
        inject(client, client_segment(r.port, 46201, flag::syn, 1, 0, syn_options(5, 7)));
        run_passes();
        auto out = sent(client);
        REQUIRE(out.size() == 1);
        CHECK(decode(out[0]).options.mss == r.mss);
    }
}

TEST_CASE("the ISN towards the backend is F(tuple) plus a 4 microsecond clock") {
    // Property: backend ISNs are RFC 6528's F(local, lport, backend, bport) + a clock that grows.
    // Two connections 20 ms apart: each ISN minus F of its tuple is the clock, the second larger
    // by about 20 ms / 4 µs; neither ISN is the client's.
    resolve_neighbors();
    const pending_connection first = open_pending(46301, 5000);
    usleep(20000);
    const pending_connection second = open_pending(46302, 5000);
    CHECK(first.bs.s.seq != 5000);
    CHECK(second.bs.s.seq != 5000);
    const int32_t elapsed = int32_t(isn_clock(second.bs) - isn_clock(first.bs));
    CHECK(elapsed >= 20000 / 4);
    CHECK(elapsed < 2000000 / 4);  // well under 2 s
    abandon(first);
    abandon(second);
}

TEST_CASE("both sequence spaces are translated: client seq, backend ack and SACK edges") {
    // Property: client→backend seq + shift, backend→client ack and SACK edges − shift.
    // shift = our backend ISN − the client's ISN; the backend's TSecr (echoing our backend-side
    // clock) goes back onto the client's; checksums verified on every frame.
    resolve_neighbors();
    const pending_connection c = open_pending(46401, 0xfffffff0);  // the client's numbers wrap
    const uint32_t shift = c.bs.s.seq - c.isn;
    const uint32_t ts_shift = c.bs.s.options.tsval - 1001;
    const uint32_t backend_isn = 900000;
    inject(servers, backend_syn_ack(c, backend_isn));
    run_passes();
    REQUIRE(sent(servers).size() == 1);

    const bytes request(100, 'x');
    inject(client, client_segment(vip_port, c.cport, flag::psh | flag::ack, c.isn + 1,
                                  c.ours.cookie + 1, ts_options(1002, c.ours.tsval), request));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const segment up = decode(out[0]);
    CHECK(up.seq == c.isn + 1 + shift);
    CHECK(up.ack == backend_isn + 1);
    CHECK(up.options.tsval == 1002 + ts_shift);

    // The backend acknowledges 20 bytes and SACKs 60..100 of the request, in its numbers.
    const uint32_t base = c.isn + 1 + shift;
    inject(servers,
           backend_segment(c.bs.b, vip_port, c.bs.lport, flag::ack, backend_isn + 1, base + 20,
                           cat({ts_options(5556, 1002 + ts_shift), opt_nop(), opt_nop(),
                                opt_sack({base + 60, base + 100})})));
    run_passes();
    out = sent(client);
    REQUIRE(out.size() == 1);
    const segment down = decode(out[0]);
    CHECK(down.ack == c.isn + 1 + 20);
    CHECK(down.options.sack_edges == std::vector<uint32_t>{c.isn + 61, c.isn + 101});
    CHECK(down.options.tsecr == 1002);
    CHECK(down.seq == c.ours.cookie + 1);
    inject(client, client_segment(vip_port, c.cport, flag::rst | flag::ack, c.isn + 101,
                                  c.ours.cookie + 1, {}));
    run_passes();
    sent(servers);
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, config_text, "syn_proxy_bounds_test");
}

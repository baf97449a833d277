// Packet tests of the SYN proxy and the half-open limits through the real worker code (the
// harness of harness.hpp): client and backend segments are built here, their TCP options written
// and read back by this file's own code (not src/packet), and every transmitted frame's IPv4 and
// TCP checksums are verified by full recomputation. Cookies and the proxy's TSval clock come from
// the TSC, so they are read from the SYN-ACKs the LB sends, never assumed.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <vector>

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
  [[vip.backend]]
  address = "198.18.1.13"

[[vip]]
name = "proxied-table"
address = "198.18.0.10"
port = 8080
protocol = "tcp"
  [vip.syn_proxy]
  mode = "on"
  embryonic_timeout = "250ms"
  [[vip.backend]]
  address = "198.18.1.11"

[[vip]]
name = "half-open"
address = "198.18.0.10"
port = 81
protocol = "tcp"
  [vip.syn_proxy]
  mode = "off"
  max_half_open = 2
  [[vip.backend]]
  address = "198.18.1.11"
  [[vip.backend]]
  address = "198.18.1.12"
  [[vip.backend]]
  address = "198.18.1.13"

[[vip]]
name = "half-open-per-backend"
address = "198.18.0.10"
port = 82
protocol = "tcp"
  [vip.syn_proxy]
  mode = "off"
  max_half_open_per_backend = 1
  [[vip.backend]]
  address = "198.18.1.11"
  [[vip.backend]]
  address = "198.18.1.12"
  [[vip.backend]]
  address = "198.18.1.13"
)";

constexpr uint16_t proxied_port = 80;
constexpr uint16_t proxied_table_port = 8080;
constexpr uint16_t half_open_port = 81;
constexpr uint16_t per_backend_port = 82;

}  // namespace

TEST_CASE("a SYN to a proxied VIP is answered by the LB with a cookie SYN-ACK and no flow") {
    // Property: a proxied VIP answers a SYN itself with one cookie SYN-ACK and creates no flow.
    // For both ways of writing syn_proxy = on: VIP→client, ack = ISN + 1, MSS 1460, WS 7,
    // SACK_PERM, TS echoing the client's TSval (our TSval carrying its WS and SACK_PERM); the
    // backends see nothing.
    resolve_neighbors();
    const uint16_t vips[] = {proxied_port, proxied_table_port};
    uint16_t cport = 45001;
    for (uint16_t vip : vips) {
        CAPTURE(vip);
        const uint32_t isn = 0x10203040, tsval = 0x00abcdef;
        const uint64_t cookies = count_of(&wc::syn_cookies_sent);
        const uint64_t created = count_of(&wc::flows_created);
        const uint32_t flows = flow_count();
        inject(client, client_segment(vip, cport, flag::syn, isn, 0, syn_options(tsval, 7)));
        run_passes();
        CHECK(sent(servers).empty());
        auto out = sent(client);
        REQUIRE(out.size() == 1);
        const bytes& f = out[0];
        CHECK(std::memcmp(&f[0], client_mac, 6) == 0);
        CHECK(std::memcmp(&f[6], port_mac(client), 6) == 0);
        segment s = decode(f);
        CHECK(s.ip.src == a4(198, 18, 0, 10));
        CHECK(s.ip.dst == a4(198, 18, 0, 2));
        CHECK(s.ip.sport == vip);
        CHECK(s.ip.dport == cport);
        CHECK(s.flags == (flag::syn | flag::ack));
        CHECK(s.ack == isn + 1);
        CHECK(s.payload.empty());
        CHECK(s.options.well_formed);
        CHECK(s.options.mss == 1460);
        CHECK(s.options.wscale == 7);
        CHECK(s.options.sack_perm);
        REQUIRE(s.options.timestamps);
        CHECK(s.options.tsecr == tsval);
        CHECK((s.options.tsval & 0x0f) == 7);  // syn_cookie.hpp: the client's WS in bits 0..3
        CHECK((s.options.tsval & 0x10) != 0);  // and SACK_PERM in bit 4
        CHECK(count_of(&wc::syn_cookies_sent) == cookies + 1);
        CHECK(count_of(&wc::flows_created) == created);
        CHECK(flow_count() == flows);
        ++cport;
    }
}

TEST_CASE("a SYN without timestamps gets a SYN-ACK offering neither window scaling nor SACK") {
    // Property: without client timestamps the cookie SYN-ACK offers neither WS nor SACK_PERM.
    // There is nowhere to remember them: only the MSS option, even though the client offered both.
    resolve_neighbors();
    const uint32_t isn = 77;
    inject(client, client_segment(proxied_port, 45050, flag::syn, isn, 0,
                                  cat({opt_mss(1400), opt_nop(), opt_nop(), opt_sack_perm(),
                                       opt_nop(), opt_ws(7)})));
    run_passes();
    CHECK(sent(servers).empty());
    auto out = sent(client);
    REQUIRE(out.size() == 1);
    segment s = decode(out[0]);
    CHECK(s.flags == (flag::syn | flag::ack));
    CHECK(s.ack == isn + 1);
    CHECK(s.options.well_formed);
    CHECK(s.options.mss == 1460);
    CHECK(s.options.wscale == -1);
    CHECK_FALSE(s.options.sack_perm);
    CHECK_FALSE(s.options.timestamps);
}

TEST_CASE("ACKs whose cookie does not validate are dropped as bad_cookie without output") {
    // Property: an ACK whose cookie does not validate is a bad_cookie drop with no output.
    // Rows: a random ack number, a real cookie echoed from another client port, a real cookie with
    // a sequence number that is not ISN + 1; none creates a flow.
    resolve_neighbors();
    const uint32_t isn = 0x0badf00d;
    const cookie_answer real = handshake_syn(proxied_port, 45101, isn, 1000);
    struct row {
        const char* name;
        uint16_t client_port;
        uint32_t seq, ack;
    };
    const row rows[] = {
        {"random ack", 45100, 5001, 0x5eed1234},
        {"cookie of another client port", 45102, isn + 1, real.cookie + 1},
        {"sequence number not ISN + 1", 45101, isn + 1000, real.cookie + 1},
    };
    for (const row& r : rows) {
        CAPTURE(r.name);
        const uint64_t bad = drops(drop_reason::bad_cookie);
        const uint64_t accepted = count_of(&wc::syn_proxy_accepted);
        const uint32_t flows = flow_count();
        inject(client, client_segment(proxied_port, r.client_port, flag::ack, r.seq, r.ack,
                                      ts_options(1001, real.tsval)));
        run_passes();
        CHECK(sent(client).empty());
        CHECK(sent(servers).empty());
        CHECK(drops(drop_reason::bad_cookie) == bad + 1);
        CHECK(count_of(&wc::syn_proxy_accepted) == accepted);
        CHECK(flow_count() == flows);
    }
}

TEST_CASE("a proxied connection is spliced to a backend and translated both ways") {
    // Property: a cookie ACK is spliced to a backend and every later segment is translated.
    // The backend SYN carries our ISN and the client's options; client data is held until the
    // backend's SYN-ACK, which is consumed; the held ACK and data then reach the backend in its
    // numbers (ack = backend ISN + 1, TSecr = backend TSval); backend→client: seq - delta, TSval
    // onto our clock, window rescaled from WS 5 to WS 7; client→backend SACK edges + delta. No
    // held mbuf is lost.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45200;
    const uint32_t isn = 0xfffffff0;  // the client's numbers wrap during the exchange
    const uint64_t accepted = count_of(&wc::syn_proxy_accepted);
    const uint64_t spliced = count_of(&wc::syn_proxy_spliced);
    const uint64_t pending_drops = drops(drop_reason::proxy_pending);
    const uint32_t flows = flow_count();
    const cookie_answer ours = handshake_syn(proxied_port, cport, isn, 111111);

    // The handshake's ACK: the flow exists and the LB opens the backend connection.
    inject(client, client_segment(proxied_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(111112, ours.tsval)));
    run_passes();
    CHECK(sent(client).empty());
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn bs = read_backend_syn(out[0]);
    CHECK(std::memcmp(&out[0][0], backend_mac[bs.b], 6) == 0);
    CHECK(std::memcmp(&out[0][6], port_mac(servers), 6) == 0);
    CHECK(bs.s.ip.src == a4(198, 18, 1, 1));
    CHECK(bs.s.ip.dport == 80);
    CHECK(bs.lport >= 1024);
    CHECK(bs.s.flags == flag::syn);
    // Our own ISN and TSval clock towards the backend (RFC 6528; checked in
    // syn_proxy_bounds_test): client data reaches it shifted by both.
    const uint32_t shift = bs.s.seq - isn;
    const uint32_t ts_shift = bs.s.options.tsval - 111112;
    CHECK(bs.s.payload.empty());
    CHECK(bs.s.options.well_formed);
    CHECK(bs.s.options.mss == 1460);
    CHECK(bs.s.options.wscale == 7);
    CHECK(bs.s.options.sack_perm);
    REQUIRE(bs.s.options.timestamps);
    CHECK(bs.s.options.tsecr == 0);
    CHECK(count_of(&wc::syn_proxy_accepted) == accepted + 1);
    CHECK(flow_count() == flows + 1);

    // Client data before the backend answered: held, nothing leaves, nothing is dropped.
    const bytes request = {'G', 'E', 'T', ' ', '/'};
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 1,
                                  ours.cookie + 1, ts_options(111113, ours.tsval), request));
    run_passes();
    CHECK(sent(client).empty());
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::proxy_pending) == pending_drops);

    // The backend's SYN-ACK (its own ISN, WS 5, TS): consumed; the held ACK and data go out.
    const uint32_t backend_isn = 5000000, backend_ts = 777777;
    inject(servers,
           backend_segment(bs.b, proxied_port, bs.lport, flag::syn | flag::ack, backend_isn,
                           isn + 1 + shift,
                           cat({opt_mss(1460), opt_sack_perm(),
                                opt_ts(backend_ts, 111112 + ts_shift), opt_nop(), opt_ws(5)})));
    run_passes();
    CHECK(sent(client).empty());
    out = sent(servers);
    REQUIRE(out.size() == 2);
    for (const bytes& f : out) {
        segment s = decode(f);
        CHECK(std::memcmp(&f[0], backend_mac[bs.b], 6) == 0);
        CHECK(s.ip.src == a4(198, 18, 1, 1));
        CHECK(s.ip.dst == bs.s.ip.dst);
        CHECK(s.ip.sport == bs.lport);
        CHECK(s.ip.dport == 80);
        CHECK(s.seq == isn + 1 + shift);
        CHECK(s.ack == backend_isn + 1);
        REQUIRE(s.options.timestamps);
        CHECK(s.options.tsecr == backend_ts);
    }
    const segment held_ack = decode(out[0]), held_data = decode(out[1]);
    CHECK(held_ack.flags == flag::ack);
    CHECK(held_ack.payload.empty());
    CHECK(held_ack.options.tsval == 111112 + ts_shift);
    CHECK(held_data.flags == (flag::psh | flag::ack));
    CHECK(held_data.payload == request);
    CHECK(held_data.options.tsval == 111113 + ts_shift);
    CHECK(count_of(&wc::syn_proxy_spliced) == spliced + 1);

    // The backend's response: in the client's numbers, on our TSval clock, window rescaled.
    const bytes response = {'H', 'T', 'T', 'P', '/', '1', '.', '0', ' ', '2', '0', '0'};
    const uint32_t backend_ts2 = backend_ts + 40;
    inject(servers, backend_segment(bs.b, proxied_port, bs.lport, flag::psh | flag::ack,
                                    backend_isn + 1, isn + 1 + shift + uint32_t(request.size()),
                                    ts_options(backend_ts2, 111113 + ts_shift), response, 100));
    run_passes();
    CHECK(sent(servers).empty());
    out = sent(client);
    REQUIRE(out.size() == 1);
    segment r = decode(out[0]);
    CHECK(std::memcmp(&out[0][0], client_mac, 6) == 0);
    CHECK(r.ip.src == a4(198, 18, 0, 10));
    CHECK(r.ip.dst == a4(198, 18, 0, 2));
    CHECK(r.ip.sport == proxied_port);
    CHECK(r.ip.dport == cport);
    CHECK(r.flags == (flag::psh | flag::ack));
    CHECK(r.seq == ours.cookie + 1);
    CHECK(r.ack == isn + 1 + uint32_t(request.size()));
    CHECK(r.window == (100 << 5 >> 7));
    REQUIRE(r.options.timestamps);
    CHECK(r.options.tsval == backend_ts2 + (ours.tsval - backend_ts));
    CHECK(r.options.tsecr == 111113);
    CHECK(r.payload == response);

    // A client ACK with a SACK block (edges in the client's terms): + delta towards the backend.
    const uint32_t delta = backend_isn - ours.cookie;
    const uint32_t client_next = isn + 1 + uint32_t(request.size());
    inject(client, client_segment(proxied_port, cport, flag::ack, client_next, ours.cookie + 1,
                                  cat({ts_options(111114, r.options.tsval), opt_nop(), opt_nop(),
                                       opt_sack({ours.cookie + 1 + 20, ours.cookie + 1 + 40})})));
    run_passes();
    CHECK(sent(client).empty());
    out = sent(servers);
    REQUIRE(out.size() == 1);
    segment a = decode(out[0]);
    CHECK(a.ip.sport == bs.lport);
    CHECK(a.flags == flag::ack);
    CHECK(a.seq == client_next + shift);
    CHECK(a.ack == ours.cookie + 1 + delta);
    CHECK(a.ack == backend_isn + 1);
    CHECK(a.options.well_formed);
    CHECK(a.options.sack_edges == std::vector<uint32_t>{backend_isn + 21, backend_isn + 41});
    REQUIRE(a.options.timestamps);
    CHECK(a.options.tsval == 111114 + ts_shift);
    CHECK(a.options.tsecr == backend_ts2);
    CHECK(pool_free() == free_before);
}

TEST_CASE("a backend RST while the proxied handshake is pending resets the client") {
    // Property: a backend RST while the proxied handshake is pending resets the client.
    // One VIP→client RST|ACK with seq = cookie + 1 and ack = ISN + 1, nothing to the backend, the
    // flow gone (a late backend segment is a no_flow drop, the held ACK freed) and
    // syn_proxy_backend_failed counted.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45300;
    const uint32_t isn = 0x01000000;
    const uint32_t flows = flow_count();
    const uint64_t failed = count_of(&wc::syn_proxy_backend_failed);
    const cookie_answer ours = handshake_syn(proxied_port, cport, isn, 5);
    inject(client, client_segment(proxied_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(6, ours.tsval)));
    run_passes();
    CHECK(sent(client).empty());
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn bs = read_backend_syn(out[0]);
    CHECK(flow_count() == flows + 1);

    inject(servers, backend_segment(bs.b, proxied_port, bs.lport, flag::rst | flag::ack, 0,
                                    bs.s.seq + 1, {}));
    run_passes();
    CHECK(sent(servers).empty());
    out = sent(client);
    REQUIRE(out.size() == 1);
    CHECK(std::memcmp(&out[0][0], client_mac, 6) == 0);
    segment r = decode(out[0]);
    CHECK(r.ip.src == a4(198, 18, 0, 10));
    CHECK(r.ip.dst == a4(198, 18, 0, 2));
    CHECK(r.ip.sport == proxied_port);
    CHECK(r.ip.dport == cport);
    CHECK(r.flags == (flag::rst | flag::ack));
    CHECK(r.seq == ours.cookie + 1);
    CHECK(r.ack == isn + 1);
    CHECK(count_of(&wc::syn_proxy_backend_failed) == failed + 1);
    CHECK(flow_count() == flows);

    const uint64_t no_flow = drops(drop_reason::no_flow);
    inject(servers, backend_segment(bs.b, proxied_port, bs.lport, flag::syn | flag::ack, 9000,
                                    bs.s.seq + 1, ts_options(1, 6)));
    run_passes();
    CHECK(sent(client).empty());
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::no_flow) == no_flow + 1);
    CHECK(pool_free() == free_before);
}

TEST_CASE("a third client segment while the backend is pending is dropped and the SYN resent") {
    // Property: at most two client segments are held while the backend is pending.
    // The handshake ACK and the first data are held; a third is dropped as proxy_pending and makes
    // the LB send its backend SYN again (same local port, seq = our ISN); after the backend's
    // SYN-ACK only the held two go out, and the client's retransmission of the third is then
    // forwarded in the backend's numbers.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45400;
    const uint32_t isn = 424200;
    const cookie_answer ours = handshake_syn(proxied_port, cport, isn, 50);
    inject(client, client_segment(proxied_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(51, ours.tsval)));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn bs = read_backend_syn(out[0]);
    const bytes first = {'a', 'b', 'c'}, second = {'d', 'e'};
    const uint64_t pending = drops(drop_reason::proxy_pending);
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 1,
                                  ours.cookie + 1, ts_options(52, ours.tsval), first));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::proxy_pending) == pending);
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 4,
                                  ours.cookie + 1, ts_options(53, ours.tsval), second));
    run_passes();
    CHECK(sent(client).empty());
    CHECK(drops(drop_reason::proxy_pending) == pending + 1);
    out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn again = read_backend_syn(out[0]);
    CHECK(again.s.flags == flag::syn);
    CHECK(again.b == bs.b);
    CHECK(again.lport == bs.lport);
    CHECK(again.s.seq == bs.s.seq);

    const uint32_t backend_isn = 0x7ffffff0;
    inject(servers,
           backend_segment(
               bs.b, proxied_port, bs.lport, flag::syn | flag::ack, backend_isn, bs.s.seq + 1,
               cat({opt_mss(1460), opt_sack_perm(), opt_ts(9999, 51), opt_nop(), opt_ws(7)})));
    run_passes();
    out = sent(servers);
    REQUIRE(out.size() == 2);
    CHECK(decode(out[0]).payload.empty());
    CHECK(decode(out[1]).payload == first);
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 4,
                                  ours.cookie + 1, ts_options(54, ours.tsval), second));
    run_passes();
    out = sent(servers);
    REQUIRE(out.size() == 1);
    segment d = decode(out[0]);
    CHECK(d.seq == bs.s.seq + 4);
    CHECK(d.ack == backend_isn + 1);
    CHECK(d.payload == second);
    CHECK(d.options.tsecr == 9999);
    CHECK(pool_free() == free_before);
}

TEST_CASE("a proxied connection whose backend never answers is reset at the embryonic timeout") {
    // Property: a backend that never answers makes the client get an RST at embryonic_timeout.
    // embryonic_timeout = 250ms: a VIP→client RST|ACK with seq = cookie + 1 and ack = ISN + 1
    // within a few ticks, syn_proxy_backend_failed counted, the flow gone, held segments freed.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45500;
    const uint32_t isn = 31337;
    const uint32_t flows = flow_count();
    const uint64_t failed = count_of(&wc::syn_proxy_backend_failed);
    const cookie_answer ours = handshake_syn(proxied_table_port, cport, isn, 7);
    inject(client, client_segment(proxied_table_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(8, ours.tsval)));
    inject(client, client_segment(proxied_table_port, cport, flag::psh | flag::ack, isn + 1,
                                  ours.cookie + 1, ts_options(9, ours.tsval), {'x'}));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(read_backend_syn(out[0]).s.ip.dport == proxied_table_port);
    CHECK(flow_count() == flows + 1);
    // Flows age in 125 ms ticks: wait up to 3 s of real time for the timeout.
    std::vector<bytes> to_client;
    for (int i = 0; i < 300 && to_client.empty(); ++i) {
        usleep(10000);
        run_passes();
        to_client = sent(client);
    }
    REQUIRE(to_client.size() == 1);
    segment r = decode(to_client[0]);
    CHECK(r.ip.src == a4(198, 18, 0, 10));
    CHECK(r.ip.sport == proxied_table_port);
    CHECK(r.ip.dport == cport);
    CHECK(r.flags == (flag::rst | flag::ack));
    CHECK(r.seq == ours.cookie + 1);
    CHECK(r.ack == isn + 1);
    CHECK(count_of(&wc::syn_proxy_backend_failed) == failed + 1);
    CHECK(flow_count() == flows);
    sent(servers);
    CHECK(pool_free() == free_before);
}

TEST_CASE("a client RST while the proxied handshake is pending resets the backend acceptably") {
    // Property: a client RST while the backend is pending sends the backend an RST it accepts.
    // The backend may be in SYN-RECEIVED with an ISN the LB has not seen: seq = our ISN + 1 and
    // no ACK flag (an RST|ACK whose ack is not the backend's ISN + 1 is an unacceptable ACK there,
    // RFC 9293 section 3.10.7.4, and Linux drops it). The flow ends, the held ACK is freed, the
    // client gets nothing.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45600;
    const uint32_t isn = 0x600d600d;
    const uint32_t flows = flow_count();
    const cookie_answer ours = handshake_syn(proxied_port, cport, isn, 70);
    inject(client, client_segment(proxied_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(71, ours.tsval)));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn bs = read_backend_syn(out[0]);

    inject(client, client_segment(proxied_port, cport, flag::rst, isn + 1, 0, {}));
    run_passes();
    CHECK(sent(client).empty());
    out = sent(servers);
    REQUIRE(out.size() == 1);
    segment r = decode(out[0]);
    CHECK(r.ip.src == a4(198, 18, 1, 1));
    CHECK(r.ip.dst == bs.s.ip.dst);
    CHECK(r.ip.sport == bs.lport);
    CHECK(r.ip.dport == proxied_port);
    CHECK(r.seq == bs.s.seq + 1);
    INFO("ack field ", r.ack, ", our cookie + 1 ", ours.cookie + 1);
    CHECK(r.flags == flag::rst);
    CHECK(flow_count() == flows);
    CHECK(pool_free() == free_before);
}

TEST_CASE("resetting the backend of a spliced connection sends each side an RST in its numbers") {
    // Property: resetting a spliced flow's backend sends each side an RST in its own numbers.
    // After data both ways: the client's RST|ACK has seq = cookie + 1 + response bytes, the
    // backend's ack = backend ISN + 1 + response bytes, each exactly what its receiver expects
    // next; the flow is gone.
    resolve_neighbors();
    const uint16_t cport = 45700;
    const uint32_t isn = 1u << 31;
    const spliced_connection c =
        splice(proxied_port, cport, isn, 0xfffffff8);  // the backend's numbers wrap
    const bytes request(10, 'q'), response(30, 'r');
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 1,
                                  c.ours.cookie + 1, ts_options(1002, c.ours.tsval), request));
    inject(servers, backend_segment(c.bs.b, proxied_port, c.bs.lport, flag::psh | flag::ack,
                                    c.backend_isn + 1, c.bs.s.seq + 11,
                                    ts_options(c.backend_ts + 1, 1002), response));
    run_passes();
    REQUIRE(sent(servers).size() == 1);
    REQUIRE(sent(client).size() == 1);

    const uint32_t id = h.rt->current()->vips[0].backends[c.bs.b].id;
    const uint32_t flows = flow_count();
    h.rt->reset_flows({id}, model::reset_cause::disabled);
    run_passes();
    // Earlier cases may have left flows on this backend: they are reset too; pick ours.
    std::vector<segment> to_client, to_server;
    for (auto& f : sent(client))
        if (view(f).dport == cport) to_client.push_back(decode(f));
    for (auto& f : sent(servers))
        if (view(f).sport == c.bs.lport) to_server.push_back(decode(f));
    REQUIRE(to_client.size() == 1);
    REQUIRE(to_server.size() == 1);
    CHECK(to_client[0].flags == (flag::rst | flag::ack));
    CHECK(to_client[0].ip.sport == proxied_port);
    CHECK(to_client[0].seq == c.ours.cookie + 1 + 30);
    CHECK(to_client[0].ack == isn + 11);
    CHECK(to_server[0].flags == (flag::rst | flag::ack));
    CHECK(to_server[0].ip.dst == c.bs.s.ip.dst);
    CHECK(to_server[0].seq == c.bs.s.seq + 11);
    CHECK(to_server[0].ack == c.backend_isn + 1 + 30);
    CHECK(flow_count() < flows);
    uint32_t left = 0;
    h.rt->worker_at(0).flows().for_each_in(
        0, 1u << 20, [&](flow::flow_entry& e) { left += e.backend_id == id; });
    CHECK(left == 0);
}

TEST_CASE("max_half_open refuses SYNs while the VIP has that many half-open connections") {
    // Property: max_half_open = 2 refuses SYNs while the VIP has two half-open connections.
    // Without the proxy: two SYNs are forwarded, a third is a limit_connections drop with no
    // output; a backend SYN-ACK alone (SYN_RECV) frees no slot, the client's ACK completing the
    // handshake does, and a new SYN is forwarded.
    resolve_neighbors();
    const uint64_t limited = drops(drop_reason::limit_connections);
    std::vector<segment> forwarded;
    for (uint16_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        inject(client, client_segment(half_open_port, uint16_t(47001 + i), flag::syn,
                                      1000u * (i + 1), 0, {}));
        run_passes();
        CHECK(sent(client).empty());
        auto out = sent(servers);
        if (i < 2) {
            REQUIRE(out.size() == 1);
            forwarded.push_back(decode(out[0]));
            CHECK(forwarded.back().flags == flag::syn);
            CHECK(forwarded.back().ip.dport == half_open_port);
            CHECK(drops(drop_reason::limit_connections) == limited);
        } else {
            CHECK(out.empty());
            CHECK(drops(drop_reason::limit_connections) == limited + 1);
        }
    }
    REQUIRE(forwarded.size() == 2);

    // The first connection's backend answers: SYN_RECV is still half-open.
    const segment& first = forwarded[0];
    const unsigned b = unsigned(first.ip.dst[3] - 11);
    REQUIRE(b < 3);
    inject(servers, backend_segment(b, half_open_port, first.ip.sport, flag::syn | flag::ack, 90000,
                                    1001, {}));
    run_passes();
    auto back = sent(client);
    REQUIRE(back.size() == 1);
    CHECK(decode(back[0]).flags == (flag::syn | flag::ack));
    CHECK(view(back[0]).dport == 47001);
    inject(client, client_segment(half_open_port, 47003, flag::syn, 3000, 0, {}));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::limit_connections) == limited + 2);

    // The client completes the handshake: one slot frees, a new SYN is forwarded.
    inject(client, client_segment(half_open_port, 47001, flag::ack, 1001, 90001, {}));
    run_passes();
    auto ack = sent(servers);
    REQUIRE(ack.size() == 1);
    CHECK(decode(ack[0]).flags == flag::ack);
    inject(client, client_segment(half_open_port, 47004, flag::syn, 4000, 0, {}));
    run_passes();
    CHECK(sent(client).empty());
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(decode(out[0]).flags == flag::syn);
    CHECK(drops(drop_reason::limit_connections) == limited + 2);
}

TEST_CASE("max_half_open_per_backend = 1 spreads SYNs one per backend and then refuses") {
    // Property: max_half_open_per_backend = 1 puts one half-open flow on each backend, no more.
    // Three backends: three SYNs go to three distinct backends, a fourth is a backends_full drop
    // with no output.
    resolve_neighbors();
    const uint64_t full = drops(drop_reason::backends_full);
    std::vector<uint8_t> backends;
    for (uint16_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        inject(client, client_segment(per_backend_port, uint16_t(48001 + i), flag::syn,
                                      2000u * (i + 1), 0, {}));
        run_passes();
        CHECK(sent(client).empty());
        auto out = sent(servers);
        if (i < 3) {
            REQUIRE(out.size() == 1);
            auto v = view(out[0]);
            CHECK(v.dport == per_backend_port);
            backends.push_back(v.dst[3]);
            CHECK(drops(drop_reason::backends_full) == full);
        } else {
            CHECK(out.empty());
            CHECK(drops(drop_reason::backends_full) == full + 1);
        }
    }
    std::sort(backends.begin(), backends.end());
    CHECK(backends == std::vector<uint8_t>{11, 12, 13});
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, config_text, "syn_proxy_test");
}

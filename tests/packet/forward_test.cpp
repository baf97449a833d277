// Table-driven packet tests through the real worker code: frames are built, put on the RX ring of
// a DPDK ring port (net_ring), the worker and control thread run one pass, and what the worker
// transmitted is read back from the TX rings and compared field by field, checksums included.
// (The ring PMD cannot set MACs, so both ports have 00:00:00:00:00:00; the e2e tests run on real
// veth MACs.) The ports, runtime and helpers are the shared harness (harness.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>
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
capacity = 4096

[[vip]]
name = "http"
address = "198.18.0.10"
port = 80
protocol = "tcp"
  [[vip.backend]]
  address = "198.18.1.11"
  [[vip.backend]]
  address = "198.18.1.12"
  [[vip.backend]]
  address = "198.18.1.13"

[[vip]]
name = "echo"
address = "198.18.0.10"
port = 9000
protocol = "udp"
  [[vip.backend]]
  address = "198.18.1.11"
)";

}  // namespace

TEST_CASE("start-up resolves every backend with one ARP request each on the server port") {
    // Property: the pinned next hops are requested with the LB's server-side address and MAC,
    // and the replies make them resolved.
    h.rt->control_poll();
    h.rt->worker_at(0).poll_once();
    auto out = transmitted(servers);
    REQUIRE(out.size() == 3);
    std::vector<uint8_t> asked;
    for (const auto& f : out) {
        CHECK(test::get16(f, 12) == 0x0806);
        CHECK(test::get16(f, 20) == 1);
        CHECK(std::memcmp(&f[6], port_mac(servers), 6) == 0);
        CHECK(std::memcmp(&f[22], port_mac(servers), 6) == 0);
        CHECK(std::equal(&f[28], &f[32], a4(198, 18, 1, 1).begin()));
        asked.push_back(f[41]);
    }
    std::sort(asked.begin(), asked.end());
    CHECK(asked == std::vector<uint8_t>{11, 12, 13});
    CHECK_FALSE(h.rt->neighbors_ready());
    for (int b = 0; b < 3; ++b)
        inject(servers, arp_frame(2, backend_mac[b], v4(198, 18, 1, uint8_t(11 + b)),
                                  port_mac(servers), v4(198, 18, 1, 1)));
    run_passes();
    CHECK(h.rt->neighbors_ready());
    CHECK(transmitted(client).empty());
}

TEST_CASE("ARP requests for LB addresses and VIPs are answered, others are not") {
    // Property: a reply names the asked address with the port's MAC and goes back to the asker.
    struct row {
        std::array<uint8_t, 16> target;
        bool answered;
    };
    const row rows[] = {
        {v4(198, 18, 0, 1), true}, {v4(198, 18, 0, 10), true}, {v4(198, 18, 0, 99), false}};
    for (const auto& r : rows) {
        inject(client, arp_frame(1, client_mac, v4(198, 18, 0, 2), nullptr, r.target));
        run_passes();
        auto out = transmitted(client);
        REQUIRE(out.size() == (r.answered ? 1u : 0u));
        if (!r.answered) continue;
        const bytes& f = out[0];
        CHECK(std::memcmp(&f[0], client_mac, 6) == 0);
        CHECK(test::get16(f, 20) == 2);
        CHECK(std::memcmp(&f[22], port_mac(client), 6) == 0);
        CHECK(std::equal(&f[28], &f[32], r.target.begin()));
        CHECK(std::memcmp(&f[32], client_mac, 6) == 0);
        CHECK(std::equal(&f[38], &f[42], a4(198, 18, 0, 2).begin()));
    }
}

TEST_CASE("a TCP connection is full-NATed both ways with valid checksums and round-robin") {
    // Property: client→VIP leaves as local→backend, the backend's reply leaves as VIP→client,
    // TTL drops by one, MACs are the egress port's and the next hop's, checksums verify, and
    // successive connections visit the backends in turn.
    std::vector<uint8_t> backends_seen;
    for (uint16_t i = 0; i < 4; ++i) {
        const uint16_t cport = uint16_t(40001 + i);
        frame_spec syn;
        syn.dst = v4(198, 18, 0, 10);
        syn.src_port = cport;
        syn.dst_port = 80;
        syn.tcp_flags = 0x02;
        syn.payload = {1, 2, 3};
        inject(client, from_client(syn));
        run_passes();
        auto out = transmitted(servers);
        REQUIRE(out.size() == 1);
        const bytes& f = out[0];
        auto v = view(f);
        CHECK(v.src == a4(198, 18, 1, 1));
        CHECK(v.dst[0] == 198);
        CHECK(v.dst[2] == 1);
        uint8_t b = uint8_t(v.dst[3] - 11);
        REQUIRE(b < 3);
        backends_seen.push_back(v.dst[3]);
        CHECK(v.dport == 80);
        CHECK(v.sport >= 1024);
        CHECK(v.ttl == 63);
        CHECK(std::memcmp(&f[0], backend_mac[b], 6) == 0);
        CHECK(std::memcmp(&f[6], port_mac(servers), 6) == 0);
        CHECK(ipv4_checksum_ok(f));
        CHECK(l4_checksum_ok(f));
        CHECK(f[f.size() - 1] == 3);  // payload untouched

        frame_spec synack;
        synack.src = v4(198, 18, 1, uint8_t(11 + b));
        synack.dst = v4(198, 18, 1, 1);
        synack.src_port = 80;
        synack.dst_port = v.sport;
        synack.tcp_flags = 0x12;
        bytes reply = test::build_frame(synack);
        set_macs(reply, port_mac(servers), backend_mac[b]);
        inject(servers, reply);
        run_passes();
        auto back = transmitted(client);
        REQUIRE(back.size() == 1);
        auto r = view(back[0]);
        CHECK(r.src == a4(198, 18, 0, 10));
        CHECK(r.dst == a4(198, 18, 0, 2));
        CHECK(r.sport == 80);
        CHECK(r.dport == cport);
        CHECK(r.ttl == 63);
        CHECK(std::memcmp(&back[0][0], client_mac, 6) == 0);
        CHECK(std::memcmp(&back[0][6], port_mac(client), 6) == 0);
        CHECK(ipv4_checksum_ok(back[0]));
        CHECK(l4_checksum_ok(back[0]));
    }
    CHECK(backends_seen == std::vector<uint8_t>{11, 12, 13, 11});
}

TEST_CASE("UDP to a VIP is full-NATed and the reply comes back to the client") {
    // Property: a UDP datagram creates a flow on its first packet and the backend's answer is
    // translated back, checksums valid.
    frame_spec q;
    q.protocol = 17;
    q.dst = v4(198, 18, 0, 10);
    q.src_port = 50000;
    q.dst_port = 9000;
    q.payload = {'p', 'i', 'n', 'g', '!'};
    inject(client, from_client(q));
    run_passes();
    auto out = transmitted(servers);
    REQUIRE(out.size() == 1);
    auto v = view(out[0]);
    CHECK(v.dst == a4(198, 18, 1, 11));
    CHECK(v.dport == 9000);
    CHECK(l4_checksum_ok(out[0]));

    frame_spec a;
    a.protocol = 17;
    a.src = v4(198, 18, 1, 11);
    a.dst = v4(198, 18, 1, 1);
    a.src_port = 9000;
    a.dst_port = v.sport;
    a.payload = {'p', 'o', 'n', 'g'};
    bytes reply = test::build_frame(a);
    set_macs(reply, port_mac(servers), backend_mac[0]);
    inject(servers, reply);
    run_passes();
    auto back = transmitted(client);
    REQUIRE(back.size() == 1);
    auto r = view(back[0]);
    CHECK(r.src == a4(198, 18, 0, 10));
    CHECK(r.sport == 9000);
    CHECK(r.dport == 50000);
    CHECK(ipv4_checksum_ok(back[0]));
    CHECK(l4_checksum_ok(back[0]));
}

TEST_CASE("frames that must not be forwarded are dropped and counted under their reason") {
    // Property: each row's frame produces no output on either port and increments exactly the
    // named drop counter.
    struct row {
        const char* name;
        drop_reason reason;
        bytes frame;
        uint16_t port;
    };
    auto tcp_to_vip = [](uint16_t dport, uint8_t flags) {
        frame_spec s;
        s.dst = v4(198, 18, 0, 10);
        s.src_port = 41000;
        s.dst_port = dport;
        s.tcp_flags = flags;
        return s;
    };
    std::vector<row> rows;
    rows.push_back(
        {"ACK without a flow", drop_reason::no_flow, from_client(tcp_to_vip(80, 0x10)), client});
    rows.push_back(
        {"port without a VIP", drop_reason::no_vip, from_client(tcp_to_vip(81, 0x02)), client});
    {
        bytes f = from_client(tcp_to_vip(80, 0x02));
        f[24] ^= 0xff;  // IPv4 header checksum
        rows.push_back({"bad IPv4 checksum", drop_reason::bad_ipv4_checksum, f, client});
    }
    {
        frame_spec s = tcp_to_vip(80, 0x02);
        s.frag = 0x2000;  // MF
        // 20 bytes with MF: not a multiple of 8, so no sender cut it (fragment_cases.cpp).
        rows.push_back({"fragment", drop_reason::bad_fragment, from_client(s), client});
    }
    {
        bytes f = from_client(tcp_to_vip(80, 0x02));
        f[0] = 0x02;  // another unicast MAC
        f[5] = 0x77;
        rows.push_back({"foreign MAC", drop_reason::not_our_mac, f, client});
    }
    {
        frame_spec s = tcp_to_vip(80, 0x02);
        s.protocol = 1;
        bytes f = from_client(s);
        f[34] = 0;  // an echo reply: only echo requests to a VIP are answered
        test::put16(f, 36, 0);
        test::put16(f, 36, test::ones_checksum(&f[34], f.size() - 34));
        rows.push_back({"ICMP echo reply", drop_reason::unsupported_protocol, f, client});
    }
    {
        frame_spec s;
        s.src = v4(198, 18, 1, 11);
        s.dst = v4(198, 18, 1, 1);
        s.src_port = 80;
        s.dst_port = 5555;
        s.tcp_flags = 0x10;
        bytes f = test::build_frame(s);
        set_macs(f, port_mac(servers), backend_mac[0]);
        rows.push_back({"reply without a flow", drop_reason::no_flow, f, servers});
    }
    {
        bytes f = from_client(tcp_to_vip(80, 0x02));
        f.resize(30);
        rows.push_back({"truncated IPv4", drop_reason::truncated_ipv4, f, client});
    }
    for (const auto& r : rows) {
        CAPTURE(r.name);
        uint64_t before = drops(r.reason);
        inject(r.port, r.frame);
        run_passes();
        CHECK(drops(r.reason) == before + 1);
        CHECK(transmitted(client).empty());
        CHECK(transmitted(servers).empty());
    }
}

TEST_CASE("a SYN from a client whose MAC is unknown triggers ARP and is dropped") {
    // Property: the packet is counted as neighbor_unresolved and an ARP request for the client
    // leaves on the client port; after the reply, the retransmitted SYN is forwarded.
    frame_spec s;
    s.dst = v4(198, 18, 0, 10);
    s.src = v4(198, 18, 0, 3);
    s.src_port = 42000;
    s.dst_port = 80;
    s.tcp_flags = 0x02;
    bytes f = test::build_frame(s);
    const uint8_t other_mac[6] = {0x02, 0xc1, 0, 0, 0, 0x03};
    set_macs(f, port_mac(client), other_mac);
    uint64_t before = drops(drop_reason::neighbor_unresolved);
    inject(client, f);
    run_passes();
    CHECK(drops(drop_reason::neighbor_unresolved) == before + 1);
    CHECK(transmitted(servers).empty());
    auto arp = transmitted(client);
    REQUIRE(arp.size() == 1);
    CHECK(test::get16(arp[0], 20) == 1);
    CHECK(std::equal(&arp[0][38], &arp[0][42], a4(198, 18, 0, 3).begin()));

    inject(client, arp_frame(2, other_mac, v4(198, 18, 0, 3), port_mac(client), v4(198, 18, 0, 1)));
    run_passes();
    inject(client, f);
    run_passes();
    CHECK(transmitted(servers).size() == 1);
}

TEST_CASE("a SYN on the tuple of a reset connection starts a new flow with a new local port") {
    // Property: after the backend refused the SYN and the client reset, the flow is in CLOSE; a
    // SYN from before the old one (a replay) does not rebind it (syn_not_new); the same SYN
    // retried replaces it (flows_reused) with a different full-NAT source port, so the backend
    // never sees the refused tuple again.
    frame_spec syn;
    syn.dst = v4(198, 18, 0, 10);
    syn.src_port = 43000;
    syn.dst_port = 80;
    syn.tcp_flags = 0x02;
    inject(client, from_client(syn));
    run_passes();
    auto first = transmitted(servers);
    REQUIRE(first.size() == 1);
    // The backend refuses the SYN with a bare ACK (TIME_WAIT left on the tuple), which the client
    // answers with an RST (RFC 9293, SYN-SENT) and later retries.
    const auto out = view(first[0]);
    const uint8_t b = uint8_t(out.dst[3] - 11);
    REQUIRE(b < 3);
    frame_spec challenge;
    challenge.src = v4(198, 18, 1, out.dst[3]);
    challenge.dst = v4(out.src[0], out.src[1], out.src[2], out.src[3]);
    challenge.src_port = 80;
    challenge.dst_port = out.sport;
    challenge.tcp_flags = 0x10;
    challenge.tcp_seq = 777;
    challenge.tcp_ack = 4242;
    bytes ack_frame = test::build_frame(challenge);
    set_macs(ack_frame, port_mac(servers), backend_mac[b]);
    inject(servers, ack_frame);
    run_passes();
    REQUIRE(transmitted(client).size() == 1);
    frame_spec rst = syn;
    rst.tcp_flags = 0x04;
    rst.tcp_seq = 4242;  // the ACK's acknowledgement number
    inject(client, from_client(rst));
    run_passes();
    REQUIRE(transmitted(servers).size() == 1);
    uint64_t reused = dataplane::read(h.rt->worker_at(0).counters.flows_reused);
    const uint64_t replays = drops(drop_reason::syn_not_new);
    frame_spec old_syn = syn;
    old_syn.tcp_seq = syn.tcp_seq - 1000;
    inject(client, from_client(old_syn));
    run_passes();
    CHECK(transmitted(servers).empty());
    CHECK(drops(drop_reason::syn_not_new) == replays + 1);
    inject(client, from_client(syn));
    run_passes();
    auto second = transmitted(servers);
    REQUIRE(second.size() == 1);
    CHECK(dataplane::read(h.rt->worker_at(0).counters.flows_reused) == reused + 1);
    CHECK(view(second[0]).sport != view(first[0]).sport);
}

TEST_CASE("resetting a backend's flows sends each side an RST it accepts and forgets the flow") {
    // Property: after a handshake and data both ways, a reset request for the flow's backend
    // makes the worker send VIP→client and local→backend RST|ACK segments whose sequence numbers
    // are exactly what each receiver expects next (RFC 5961), with valid checksums; the flow is
    // gone (later packets are no_flow drops) and counted under its cause.
    frame_spec syn;
    syn.dst = v4(198, 18, 0, 10);
    syn.src_port = 44000;
    syn.dst_port = 80;
    syn.tcp_flags = 0x02;
    syn.tcp_seq = 1000;
    syn.tcp_ack = 0;
    inject(client, from_client(syn));
    run_passes();
    auto out = transmitted(servers);
    REQUIRE(out.size() == 1);
    const auto fwd = view(out[0]);
    const uint8_t b = uint8_t(fwd.dst[3] - 11);
    REQUIRE(b < 3);
    auto from_backend = [&](uint8_t flags, uint32_t seq, uint32_t ack, size_t payload) {
        frame_spec s;
        s.src = v4(198, 18, 1, uint8_t(11 + b));
        s.dst = v4(198, 18, 1, 1);
        s.src_port = 80;
        s.dst_port = fwd.sport;
        s.tcp_flags = flags;
        s.tcp_seq = seq;
        s.tcp_ack = ack;
        s.payload.assign(payload, 'x');
        bytes f = test::build_frame(s);
        set_macs(f, port_mac(servers), backend_mac[b]);
        inject(servers, f);
    };
    from_backend(0x12, 5000, 1001, 0);  // SYN-ACK
    frame_spec data = syn;
    data.tcp_flags = 0x18;
    data.tcp_seq = 1001;
    data.tcp_ack = 5001;
    data.payload.assign(100, 'g');  // request: client next = 1101
    inject(client, from_client(data));
    from_backend(0x18, 5001, 1101, 300);  // response: backend next = 5301
    from_backend(0x18, 5001, 1101, 300);  // a retransmission does not move it
    run_passes();
    CHECK(transmitted(client).size() == 3);
    CHECK(transmitted(servers).size() == 1);

    const auto& snap = *h.rt->current();
    uint32_t id = snap.vips[0].backends[b].id;
    const auto& c = h.rt->worker_at(0).counters;
    const uint64_t reset_before = dataplane::read(c.flows_reset_disabled);
    const uint32_t flows_before = h.rt->worker_at(0).flows().size();
    h.rt->reset_flows({id}, model::reset_cause::disabled);
    run_passes();
    // Earlier cases left other flows on this backend: they are reset too; pick ours.
    std::vector<bytes> to_client, to_server;
    for (auto& f : transmitted(client))
        if (view(f).dport == 44000) to_client.push_back(f);
    for (auto& f : transmitted(servers))
        if (view(f).sport == fwd.sport) to_server.push_back(f);
    REQUIRE(to_client.size() == 1);
    REQUIRE(to_server.size() == 1);
    auto check_rst = [](const bytes& f, uint32_t seq, uint32_t ack) {
        const size_t l4 = 14 + size_t(f[14] & 0x0f) * 4;
        CHECK(f[l4 + 13] == 0x14);  // RST|ACK
        CHECK(test::get32(f, l4 + 4) == seq);
        CHECK(test::get32(f, l4 + 8) == ack);
        CHECK(ipv4_checksum_ok(f));
        CHECK(l4_checksum_ok(f));
    };
    auto rc = view(to_client[0]);
    CHECK(rc.src == a4(198, 18, 0, 10));
    CHECK(rc.dst == a4(198, 18, 0, 2));
    CHECK(rc.sport == 80);
    CHECK(rc.dport == 44000);
    CHECK(std::memcmp(&to_client[0][0], client_mac, 6) == 0);
    check_rst(to_client[0], 5301, 1101);
    auto rs = view(to_server[0]);
    CHECK(rs.src == a4(198, 18, 1, 1));
    CHECK(rs.dst == fwd.dst);
    CHECK(rs.sport == fwd.sport);
    CHECK(rs.dport == 80);
    CHECK(std::memcmp(&to_server[0][0], backend_mac[b], 6) == 0);
    check_rst(to_server[0], 1101, 5301);
    const uint64_t reset = dataplane::read(c.flows_reset_disabled) - reset_before;
    CHECK(reset >= 1);
    CHECK(h.rt->worker_at(0).flows().size() == flows_before - reset);
    uint32_t left_on_backend = 0;
    h.rt->worker_at(0).flows().for_each_in(
        0, 1u << 20, [&](flow::flow_entry& e) { left_on_backend += e.backend_id == id; });
    CHECK(left_on_backend == 0);
    CHECK(h.rt->requests().outstanding() == 0);  // the worker handed the reset command back

    const uint64_t no_flow = drops(drop_reason::no_flow);
    data.tcp_seq = 1101;
    inject(client, from_client(data));
    run_passes();
    CHECK(transmitted(servers).empty());
    CHECK(drops(drop_reason::no_flow) == no_flow + 1);
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, config_text, "forward_test");
}

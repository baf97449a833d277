// Packet tests of payload rules ([[vip.rule]]) through the real worker code (harness.hpp): the
// first payload of a UDP flow and of a TCP connection (SYN proxy off) is matched against the
// VIP's Hyperscan rules, and the decoys an attacker can send in front of the real request — data
// in the SYN, a segment with a bad checksum, a segment out of order — neither get through as the
// scanned first payload nor blind the rule for the request that follows. Every transmitted
// frame's IPv4 and L4 checksums are verified by full recomputation (proxy_segments.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstring>
#include <string>
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
name = "guarded-tcp"
address = "198.18.0.10"
port = 80
protocol = "tcp"
syn_proxy = "off"
  [[vip.rule]]
  name = "admin"
  pattern = "GET /admin"
  action = "drop"
  [[vip.backend]]
  address = "198.18.1.11"

[[vip]]
name = "guarded-udp"
address = "198.18.0.10"
port = 9000
protocol = "udp"
  [[vip.rule]]
  name = "admin"
  pattern = "GET /admin"
  action = "drop"
  [[vip.backend]]
  address = "198.18.1.11"
)";

constexpr uint16_t tcp_port = 80;
constexpr uint16_t udp_port = 9000;

bytes text(const char* s) {
    return bytes(s, s + std::strlen(s));
}

// Matches of the VIP's only rule ("admin") and its refusals by rule, summed over workers.
struct rule_counts {
    uint64_t matches = 0;
    uint64_t refused = 0;
};
rule_counts counts_of(const char* vip) {
    rule_counts c;
    bool found = false;
    for (const auto& v : h.rt->current()->vips) {
        if (v.name != vip) continue;
        found = true;
        const metrics::protect_metrics m = h.rt->readings().protection_of(v);
        REQUIRE(m.rules.size() == 1);
        CHECK(m.rules[0].name == "admin");
        c.matches = m.rules[0].matches;
        for (const auto& [reason, n] : m.refused)
            if (reason == "rule") c.refused = n;
    }
    REQUIRE(found);
    return c;
}

// Drop counters and rule counters before a step, compared after it.
struct tally {
    uint64_t rule_match = drops(drop_reason::rule_match);
    uint64_t bad_l4_checksum = drops(drop_reason::bad_l4_checksum);
    uint64_t out_of_order = drops(drop_reason::rule_out_of_order);
    rule_counts tcp = counts_of("guarded-tcp");
    rule_counts udp = counts_of("guarded-udp");
};

// --- UDP ---

bytes datagram(uint16_t cport, const char* payload) {
    frame_spec s;
    s.protocol = 17;
    s.dst = v4(198, 18, 0, 10);
    s.src_port = cport;
    s.dst_port = udp_port;
    s.payload = text(payload);
    return from_client(s);
}

// The UDP payload of a transmitted frame to the backend.
bytes udp_payload(const bytes& f) {
    const size_t l4 = 14 + size_t(f[14] & 0x0f) * 4;
    REQUIRE(f[23] == 17);
    return bytes(f.begin() + long(l4 + 8), f.begin() + long(14 + test::get16(f, 16)));
}

// --- TCP ---

// A connection through the guarded TCP VIP: the client's ISN, the LB's local port towards the
// backend (198.18.1.11) and the backend's ISN.
struct connection {
    uint16_t cport;
    uint32_t isn;
    uint16_t lport = 0;
    uint32_t backend_isn;
};

// The client's SYN (optionally with data), which must reach the backend unchanged: returns the
// connection with the LB's local port read from the forwarded SYN.
connection syn_forwarded(uint16_t cport, uint32_t isn, const char* syn_data = "") {
    connection c{cport, isn, 0, 0x70000000u + cport};
    inject(client, client_segment(tcp_port, cport, flag::syn, isn, 0, {}, text(syn_data)));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const segment s = decode(out[0]);
    CHECK(s.ip.dst == a4(198, 18, 1, 11));
    CHECK(s.flags == flag::syn);
    CHECK(s.seq == isn);
    CHECK(s.payload == text(syn_data));
    c.lport = s.ip.sport;
    CHECK(sent(client).empty());
    return c;
}

// The backend's SYN-ACK acknowledging `ack` (isn + 1 unless it took SYN data), forwarded to the
// client; then the client's pure ACK, forwarded to the backend.
void finish_handshake(const connection& c, uint32_t ack) {
    inject(servers,
           backend_segment(0, tcp_port, c.lport, flag::syn | flag::ack, c.backend_isn, ack, {}));
    run_passes();
    auto back = sent(client);
    REQUIRE(back.size() == 1);
    CHECK(decode(back[0]).flags == (flag::syn | flag::ack));
    CHECK(decode(back[0]).ack == ack);
    inject(client, client_segment(tcp_port, c.cport, flag::ack, ack, c.backend_isn + 1, {}));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(decode(out[0]).flags == flag::ack);
    CHECK(decode(out[0]).payload.empty());
}

connection established(uint16_t cport, uint32_t isn) {
    connection c = syn_forwarded(cport, isn);
    finish_handshake(c, isn + 1);
    return c;
}

bytes data_segment(const connection& c, uint32_t seq, const char* payload) {
    return client_segment(tcp_port, c.cport, flag::ack | flag::psh, seq, c.backend_isn + 1, {},
                          text(payload));
}

// Breaks the TCP checksum of a built client segment (IPv4 header without options).
bytes with_bad_checksum(bytes f) {
    f[14 + 20 + 16] ^= 0x5a;
    REQUIRE_FALSE(l4_checksum_ok(f));
    return f;
}

// After a rule match with action "drop": the request did not reach the backend, which gets an
// RST in the client's numbers instead (its half of the connection would wait forever); the
// client gets nothing; the flow is gone (a retransmission of the request finds no flow).
void caught(const connection& c, uint32_t seq, const char* payload, const tally& before) {
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const segment rst = decode(out[0]);
    CHECK(rst.flags == (flag::rst | flag::ack));
    CHECK(rst.payload.empty());
    CHECK(rst.ip.sport == c.lport);
    CHECK(rst.seq == seq);
    CHECK(rst.ack == c.backend_isn + 1);
    CHECK(sent(client).empty());
    CHECK(drops(drop_reason::rule_match) == before.rule_match + 1);
    const rule_counts now = counts_of("guarded-tcp");
    CHECK(now.matches == before.tcp.matches + 1);
    CHECK(now.refused == before.tcp.refused + 1);

    const uint64_t no_flow = drops(drop_reason::no_flow);
    inject(client, data_segment(c, seq, payload));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::no_flow) == no_flow + 1);
    CHECK(counts_of("guarded-tcp").matches == now.matches);
}

// The data segment went to the backend with its payload intact and no counter moved.
void forwarded(uint32_t seq, const char* payload, const tally& before) {
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const segment s = decode(out[0]);
    CHECK(s.seq == seq);
    CHECK(s.payload == text(payload));
    CHECK(drops(drop_reason::rule_match) == before.rule_match);
    CHECK(drops(drop_reason::rule_out_of_order) == before.out_of_order);
    CHECK(drops(drop_reason::bad_l4_checksum) == before.bad_l4_checksum);
    CHECK(counts_of("guarded-tcp").matches == before.tcp.matches);
}

}  // namespace

TEST_CASE("UDP: a matching first datagram is dropped and counted, a benign one is forwarded") {
    // Property: the first datagram of a UDP flow that matches the rule never reaches the backend
    // (drop_rule_match and the rule's counter grow by one, the flow is not kept); a first
    // datagram of another flow that does not match is forwarded unchanged, and only the first
    // datagram of a flow is scanned.
    resolve_neighbors();
    const uint32_t flows = flow_count();
    tally before;
    inject(client, datagram(50001, "GET /admin HTTP/1.0\r\n\r\n"));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(sent(client).empty());
    CHECK(drops(drop_reason::rule_match) == before.rule_match + 1);
    CHECK(counts_of("guarded-udp").matches == before.udp.matches + 1);
    CHECK(counts_of("guarded-udp").refused == before.udp.refused + 1);
    CHECK(counts_of("guarded-tcp").matches == before.tcp.matches);
    CHECK(flow_count() == flows);

    inject(client, datagram(50002, "GET / HTTP/1.0\r\n\r\n"));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(view(out[0]).dst == a4(198, 18, 1, 11));
    CHECK(view(out[0]).dport == udp_port);
    CHECK(udp_payload(out[0]) == text("GET / HTTP/1.0\r\n\r\n"));
    CHECK(drops(drop_reason::rule_match) == before.rule_match + 1);
    CHECK(counts_of("guarded-udp").matches == before.udp.matches + 1);
    CHECK(flow_count() == flows + 1);

    // The flow's first datagram was clean: later ones are not scanned.
    inject(client, datagram(50002, "GET /admin HTTP/1.0\r\n\r\n"));
    run_passes();
    out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(udp_payload(out[0]) == text("GET /admin HTTP/1.0\r\n\r\n"));
    CHECK(counts_of("guarded-udp").matches == before.udp.matches + 1);
}

TEST_CASE("UDP: a benign first datagram with a bad checksum does not blind the rule") {
    // Property: a datagram whose UDP checksum fails (the backend would discard it) is dropped
    // as bad_l4_checksum without being taken as the flow's scanned first payload, so the next
    // valid datagram of the flow, which matches, is dropped by the rule.
    resolve_neighbors();
    tally before;
    bytes decoy = datagram(50003, "GET / HTTP/1.0\r\n\r\n");
    decoy[14 + 20 + 6] ^= 0x5a;
    REQUIRE_FALSE(l4_checksum_ok(decoy));
    inject(client, decoy);
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::bad_l4_checksum) == before.bad_l4_checksum + 1);
    CHECK(counts_of("guarded-udp").matches == before.udp.matches);

    inject(client, datagram(50003, "GET /admin HTTP/1.0\r\n\r\n"));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::rule_match) == before.rule_match + 1);
    CHECK(counts_of("guarded-udp").matches == before.udp.matches + 1);
}

TEST_CASE("TCP: a SYN whose data matches the rule is dropped and never reaches the backend") {
    // Property: data in a SYN is scanned; when it matches, the SYN is not forwarded (at most a
    // bare RST goes to the backend), the rule counts it and no flow is kept.
    resolve_neighbors();
    const uint32_t flows = flow_count();
    tally before;
    inject(client, client_segment(tcp_port, 41001, flag::syn, 1000000, 0, {},
                                  text("GET /admin HTTP/1.0\r\n\r\n")));
    run_passes();
    for (const bytes& f : sent(servers)) {
        const segment s = decode(f);
        CHECK(s.flags == flag::rst);  // the backend never saw a SYN: nothing else may go
        CHECK(s.payload.empty());
    }
    CHECK(sent(client).empty());
    CHECK(drops(drop_reason::rule_match) == before.rule_match + 1);
    CHECK(counts_of("guarded-tcp").matches == before.tcp.matches + 1);
    CHECK(flow_count() == flows);
}

TEST_CASE("TCP: benign data in the SYN does not mark the connection inspected") {
    // Property: a SYN carrying "GET /" is forwarded, but SYN data never counts as the first
    // payload, so after the handshake (backend SYN-ACK, client ACK) the first in-order segment
    // "GET /admin" is still scanned and dropped by the rule — whether the backend ignored the
    // SYN data (ACK isn + 1) or took it (ACK isn + 1 + its length).
    resolve_neighbors();
    {
        const uint32_t isn = 2000000;
        connection c = syn_forwarded(41002, isn, "GET / HTTP/1.0\r\n\r\n");
        finish_handshake(c, isn + 1);
        tally before;
        inject(client, data_segment(c, isn + 1, "GET /admin HTTP/1.0\r\n\r\n"));
        run_passes();
        caught(c, isn + 1, "GET /admin HTTP/1.0\r\n\r\n", before);
    }
    {
        const uint32_t isn = 3000000;
        const char* syn_data = "GET / HTTP/1.0\r\n\r\n";
        const uint32_t after = isn + 1 + uint32_t(std::strlen(syn_data));
        connection c = syn_forwarded(41003, isn, syn_data);
        finish_handshake(c, after);  // a TCP Fast Open backend acknowledges the SYN's data
        tally before;
        inject(client, data_segment(c, after, "GET /admin HTTP/1.0\r\n\r\n"));
        run_passes();
        caught(c, after, "GET /admin HTTP/1.0\r\n\r\n", before);
    }
}

TEST_CASE("TCP: a benign segment with a bad checksum does not blind the rule") {
    // Property: an in-order "GET /" whose TCP checksum fails (the backend would discard it) is
    // dropped as bad_l4_checksum and not taken as the scanned first payload; the valid in-order
    // "GET /admin" that follows at the same sequence number is dropped by the rule.
    resolve_neighbors();
    const uint32_t isn = 4000000;
    connection c = established(41004, isn);
    tally before;
    inject(client, with_bad_checksum(data_segment(c, isn + 1, "GET / HTTP/1.0\r\n\r\n")));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(sent(client).empty());
    CHECK(drops(drop_reason::bad_l4_checksum) == before.bad_l4_checksum + 1);
    CHECK(counts_of("guarded-tcp").matches == before.tcp.matches);

    tally next;
    inject(client, data_segment(c, isn + 1, "GET /admin HTTP/1.0\r\n\r\n"));
    run_passes();
    caught(c, isn + 1, "GET /admin HTTP/1.0\r\n\r\n", next);
}

TEST_CASE("TCP: segments out of order wait; the in-order first segment alone is scanned") {
    // Property: data segments other than the one the backend takes next — before the backend
    // acknowledged anything, ahead of its ACK, or behind it — are dropped as rule_out_of_order
    // without being scanned or marking the connection inspected; the in-order benign "GET /" is
    // then forwarded and marks it inspected, so a later "GET /admin" is forwarded unscanned.
    resolve_neighbors();
    const uint32_t isn = 5000000;
    connection c = syn_forwarded(41005, isn);
    tally before;
    // Before the backend's SYN-ACK: nothing is known to be in order.
    inject(client, data_segment(c, isn + 1, "GET /admin HTTP/1.0\r\n\r\n"));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::rule_out_of_order) == before.out_of_order + 1);
    finish_handshake(c, isn + 1);

    struct row {
        const char* name;
        uint32_t seq;
        const char* payload;
    };
    const row rows[] = {
        {"ahead of the backend's ACK, benign", isn + 1 + 100, "GET / HTTP/1.0\r\n\r\n"},
        {"ahead of the backend's ACK, matching", isn + 1 + 100, "GET /admin HTTP/1.0\r\n\r\n"},
        {"behind the backend's ACK", isn, "XGET / HTTP/1.0\r\n\r\n"},
    };
    uint64_t expected = before.out_of_order + 1;
    for (const row& r : rows) {
        CAPTURE(r.name);
        inject(client, data_segment(c, r.seq, r.payload));
        run_passes();
        CHECK(sent(servers).empty());
        CHECK(sent(client).empty());
        CHECK(drops(drop_reason::rule_out_of_order) == ++expected);
        CHECK(drops(drop_reason::rule_match) == before.rule_match);
        CHECK(counts_of("guarded-tcp").matches == before.tcp.matches);
    }

    const char* first = "GET / HTTP/1.0\r\n\r\n";
    const uint32_t second_seq = isn + 1 + uint32_t(std::strlen(first));
    tally clean;
    inject(client, data_segment(c, isn + 1, first));
    run_passes();
    forwarded(isn + 1, first, clean);

    // Inspected: the next segment, in order or not, acknowledged or not, is not scanned.
    inject(client, data_segment(c, second_seq, "GET /admin HTTP/1.0\r\n\r\n"));
    run_passes();
    forwarded(second_seq, "GET /admin HTTP/1.0\r\n\r\n", clean);
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, config_text, "payload_rules_test");
}

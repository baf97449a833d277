// Unit tests for perf/loadgen/connection_table: connections run whole (handshake, exchanges,
// close) through a simulated full-NAT balancer that rewrites with sluiced's own code, and both
// sides find every frame's connection, in both families; the client side by address and port
// computation, the server side by the tuple learned from the SYN's ISN tag (or a UDP stamp);
// unknown tags, generations, tuples and foreign stamps are refused; the learned map agrees with a
// model under random churn; the configuration's capacity bounds hold.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <tuple>
#include <vector>

#include "loadgen/connection_table.hpp"
#include "packet/parse.hpp"
#include "packet/rewrite.hpp"

using namespace sluice::loadgen;
using sluice::drop_reason;
using sluice::ip_address;
using sluice::packet::parse_frame;
using sluice::packet::parsed_frame;
using sluice::packet::rewrite_full_nat;

namespace {

using bytes = std::vector<uint8_t>;
constexpr peer_side client = peer_side::client;
constexpr peer_side server = peer_side::server;

ip_address addr(const char* text) {
    return *ip_address::parse(text);
}

table_config make_config(bool v4, uint32_t capacity = 50) {
    table_config c;
    c.clients = {addr(v4 ? "198.18.0.10" : "2001:2::10"), 10};
    c.client_ports = {40000, 5};
    c.vip = addr(v4 ? "198.18.1.1" : "2001:2::1:1");
    c.vip_port = 80;
    c.local = {addr(v4 ? "198.18.2.1" : "2001:2::2:1"), 2};
    c.backends = {addr(v4 ? "198.18.3.5" : "2001:2::3:5"), 3};
    c.backend_port = 8080;
    c.capacity = capacity;
    c.request_len = 100;
    c.response_len = 1000;
    c.script = peer_script::established;
    return c;
}

// A full-NAT balancer between the generator's two sides, rewriting with src/packet/rewrite.hpp:
// a new client tuple gets the next (local address, local port, backend) in turn.
struct fake_balancer {
    const table_config& c;
    std::map<std::pair<std::array<uint8_t, 16>, uint16_t>, uint32_t> by_client;
    std::map<std::tuple<std::array<uint8_t, 16>, uint16_t>, std::pair<ip_address, uint16_t>>
        by_local;
    uint32_t next = 0;

    static void rewrite(bytes& f, const ip_address& src, const ip_address& dst, uint16_t sport,
                        uint16_t dport) {
        parsed_frame p;
        REQUIRE(parse_frame(f.data(), uint32_t(f.size()), p) == drop_reason::none);
        REQUIRE(rewrite_full_nat(f.data(), p, {src.bytes.data(), dst.bytes.data(), sport, dport}) ==
                drop_reason::none);
    }
    void to_server(bytes& f) {
        parsed_frame p;
        REQUIRE(parse_frame(f.data(), uint32_t(f.size()), p) == drop_reason::none);
        const ip_address src = sluice::packet::frame_src(f.data(), p);
        auto [it, fresh] = by_client.try_emplace({src.bytes, p.src_port}, next);
        if (fresh) ++next;
        const uint32_t n = it->second;
        const ip_address local = c.local.at(n % c.local.count);
        const uint16_t port = uint16_t(20000 + n);
        by_local[{local.bytes, port}] = {src, p.src_port};
        rewrite(f, local, c.backends.at(n % c.backends.count), port, c.backend_port);
    }
    void to_client(bytes& f) {
        parsed_frame p;
        REQUIRE(parse_frame(f.data(), uint32_t(f.size()), p) == drop_reason::none);
        const ip_address dst = sluice::packet::frame_dst(f.data(), p);
        const auto it = by_local.find({dst.bytes, p.dst_port});
        REQUIRE(it != by_local.end());
        rewrite(f, c.vip, it->second.first, c.vip_port, it->second.second);
    }
};

// Connection `i`'s side `from` sends what it owes; the balancer carries it; the other side checks
// the frame, finds the connection and takes the segment.
void deliver(connection_table& t, fake_balancer& lb, uint32_t i, peer_side from) {
    connection& c = t.at(i);
    const std::optional<segment> s = c.peer.send(from);
    REQUIRE(s.has_value());
    const bool syn = s->flags & tcp_flag::syn;
    const payload_stamp stamp{i, 1000 + i};
    const frame_ends ends = from == client ? t.client_ends(i) : t.server_ends(i);
    bytes f(2048);
    f.resize(
        build_tcp_frame(f.data(), f.size(), ends, {*s, 65535, uint16_t(syn ? 1460 : 0)}, &stamp));
    REQUIRE(!f.empty());
    received_frame r;
    uint32_t found = ~0u;
    if (from == client) {
        lb.to_server(f);
        REQUIRE(check_server_frame(f.data(), uint32_t(f.size()), t.server_expectation(), r) ==
                frame_verdict::ok);
        REQUIRE(t.match_server(r, found) == frame_verdict::ok);
    } else {
        lb.to_client(f);
        REQUIRE(check_client_frame(f.data(), uint32_t(f.size()), t.client_expectation(), r) ==
                frame_verdict::ok);
        REQUIRE(t.match_client(r, found) == frame_verdict::ok);
    }
    REQUIRE(found == i);
    if (s->payload_len >= stamp_len) CHECK(r.stamp == stamp);
    REQUIRE(c.peer.receive(from == client ? server : client, r.tcp) == segment_verdict::ok);
}

// A checked server-side frame, filled by hand (what check_server_frame would have set).
received_frame server_frame(uint32_t local, uint32_t backend, uint16_t port, uint8_t flags,
                            uint32_t seq, l4_protocol protocol = l4_protocol::tcp) {
    received_frame r;
    r.protocol = protocol;
    r.address_offset = local;
    r.backend_offset = backend;
    r.parsed.src_port = port;
    r.port_offset = port;
    r.tcp.flags = flags;
    r.tcp.seq = seq;
    return r;
}

}  // namespace

TEST_CASE("all connections run handshake, three exchanges and close through a full-NAT balancer") {
    for (bool v4 : {true, false}) {
        CAPTURE(v4);
        const table_config cfg = make_config(v4);
        connection_table t(cfg);
        fake_balancer lb{cfg, {}, {}, 0};
        for (uint32_t i = 0; i < t.capacity(); ++i) t.open(i, 70000 * i);
        // Step by step across all connections, so the learned map holds all of them at once.
        const peer_side script[] = {client, server, client,                           // handshake
                                    client, server, client, server, client, server};  // data
        for (peer_side from : script) {
            for (uint32_t i = 0; i < t.capacity(); ++i) deliver(t, lb, i, from);
        }
        CHECK(t.learned_count() == t.capacity());
        for (uint32_t i = 0; i < t.capacity(); ++i) {
            REQUIRE(t.at(i).peer.close());
            for (peer_side from : {client, server, client}) deliver(t, lb, i, from);
            CHECK(t.at(i).peer.complete());
            t.forget(i);
        }
        CHECK(t.learned_count() == 0);
    }
}

TEST_CASE("client-side frames map to their connection by computation; beyond capacity refused") {
    table_config cfg = make_config(true, 47);
    connection_table t(cfg);
    for (uint32_t i = 0; i < 50; ++i) {
        const frame_ends e = t.client_ends(i);
        bytes f(200);
        f.resize(build_tcp_frame(f.data(), f.size(),
                                 {{}, {}, cfg.vip, e.src, cfg.vip_port, e.src_port},
                                 {{1, 2, tcp_flag::ack, 0}}));
        received_frame r;
        REQUIRE(check_client_frame(f.data(), uint32_t(f.size()), t.client_expectation(), r) ==
                frame_verdict::ok);
        uint32_t found = ~0u;
        CAPTURE(i);
        CHECK(t.match_client(r, found) ==
              (i < 47 ? frame_verdict::ok : frame_verdict::unknown_connection));
        if (i < 47) CHECK(found == i);
    }
    received_frame r;
    r.address_offset = 1;
    r.port_offset = 2;  // connection 7
    r.stamp = payload_stamp{8, 0};
    uint32_t found = ~0u;
    CHECK(t.match_client(r, found) == frame_verdict::stamp_mismatch);
    r.stamp = payload_stamp{7, 0};
    CHECK(t.match_client(r, found) == frame_verdict::ok);
    CHECK(found == 7);
}

TEST_CASE("a SYN's ISN tag names its connection once; unknown tags and generations are refused") {
    connection_table t(make_config(true));
    constexpr uint8_t syn = tcp_flag::syn, ack = tcp_flag::ack;
    uint32_t found = ~0u;
    // Never opened: generation 0 names nothing.
    CHECK(t.match_server(server_frame(0, 0, 3000, syn, connection_table::client_isn(5, 0)),
                         found) == frame_verdict::unknown_connection);
    t.open(5, 1);
    const uint32_t tag = t.at(5).peer.next_seq(client);
    CHECK(tag == connection_table::client_isn(5, 1));
    CHECK(t.match_server(server_frame(1, 2, 3000, syn, tag), found) == frame_verdict::ok);
    CHECK(found == 5);
    CHECK((t.at(5).local == 1 && t.at(5).backend == 2 && t.at(5).local_port == 3000));
    t.at(5).peer.send(client);
    t.at(5).peer.receive(server, {tag, 0, syn, 0});  // the server side took it
    // The same SYN again (a retransmission): still connection 5.
    found = ~0u;
    CHECK(t.match_server(server_frame(1, 2, 3000, syn, tag), found) == frame_verdict::ok);
    CHECK(found == 5);
    // The same tag on another tuple: connection 5 has taken its SYN.
    CHECK(t.match_server(server_frame(0, 2, 3000, syn, tag), found) ==
          frame_verdict::unknown_connection);
    // Beyond the capacity, and the wrong generation.
    CHECK(t.match_server(server_frame(0, 0, 3001, syn, connection_table::client_isn(50, 1)),
                         found) == frame_verdict::unknown_connection);
    t.open(6, 1);
    CHECK(t.match_server(server_frame(0, 0, 3001, syn, connection_table::client_isn(6, 2)),
                         found) == frame_verdict::unknown_connection);
    // A SYN-ACK is not a SYN: from an unmapped tuple it is unknown.
    CHECK(t.match_server(server_frame(0, 0, 3001, syn | ack, connection_table::client_isn(6, 1)),
                         found) == frame_verdict::unknown_connection);
    // Later frames by the learned tuple; a stamp naming another connection is refused.
    received_frame data = server_frame(1, 2, 3000, ack, tag + 1);
    CHECK(t.match_server(data, found) == frame_verdict::ok);
    data.stamp = payload_stamp{6, 0};
    CHECK(t.match_server(data, found) == frame_verdict::stamp_mismatch);
    // Reopening slot 5 forgets its tuple; the old generation's SYN names nothing now.
    t.open(5, 1);
    CHECK(t.learned_count() == 0);
    CHECK(t.match_server(server_frame(1, 2, 3000, ack, tag + 1), found) ==
          frame_verdict::unknown_connection);
    CHECK(t.match_server(server_frame(1, 2, 3000, syn, tag), found) ==
          frame_verdict::unknown_connection);
    CHECK(t.match_server(server_frame(1, 2, 3000, syn, connection_table::client_isn(5, 2)),
                         found) == frame_verdict::ok);
}

TEST_CASE("a tuple the balancer reuses moves to the new connection's SYN; the old one loses it") {
    connection_table t(make_config(false));
    t.open(1, 0);
    t.open(2, 0);
    uint32_t found = ~0u;
    const uint8_t syn = tcp_flag::syn;
    REQUIRE(t.match_server(server_frame(0, 0, 4000, syn, connection_table::client_isn(1, 1)),
                           found) == frame_verdict::ok);
    REQUIRE(t.match_server(server_frame(0, 0, 4000, syn, connection_table::client_isn(2, 1)),
                           found) == frame_verdict::ok);
    CHECK(found == 2);
    CHECK_FALSE(t.at(1).learned);
    CHECK(t.learned_count() == 1);
    // The same local tuple towards another backend is another key (tuples are shared across
    // backends): both connections hold one.
    t.open(3, 0);
    REQUIRE(t.match_server(server_frame(0, 1, 4000, syn, connection_table::client_isn(3, 1)),
                           found) == frame_verdict::ok);
    CHECK(t.learned_count() == 2);
    CHECK(t.at(2).learned);
}

TEST_CASE("UDP: the first datagram's stamp names the connection; later ones need no stamp") {
    connection_table t(make_config(true));
    t.open(3, 0);
    uint32_t found = ~0u;
    received_frame d = server_frame(1, 1, 5000, 0, 0, l4_protocol::udp);
    CHECK(t.match_server(d, found) == frame_verdict::unknown_connection);  // no stamp
    d.stamp = payload_stamp{3, 0};
    CHECK(t.match_server(d, found) == frame_verdict::ok);
    CHECK(found == 3);
    d.stamp.reset();
    CHECK(t.match_server(d, found) == frame_verdict::ok);
    received_frame other = server_frame(1, 1, 5001, 0, 0, l4_protocol::udp);
    other.stamp = payload_stamp{3, 0};  // connection 3 is mapped already
    CHECK(t.match_server(other, found) == frame_verdict::unknown_connection);
    other.stamp = payload_stamp{4, 0};  // not opened
    CHECK(t.match_server(other, found) == frame_verdict::unknown_connection);
    other.stamp = payload_stamp{999, 0};  // beyond the capacity
    CHECK(t.match_server(other, found) == frame_verdict::unknown_connection);
}

TEST_CASE("the learned map agrees with a model under random opens, learns and forgets") {
    // 64 connections, 128 slots: probe runs form and are cut by deletions (backward shift).
    table_config cfg = make_config(true, 64);
    cfg.clients.count = 64;
    cfg.client_ports.count = 1;
    connection_table t(cfg);
    std::map<uint16_t, uint32_t> model;  // local port -> connection (one local address, backend)
    std::mt19937 rng(17);
    for (int step = 0; step < 20000; ++step) {
        const uint32_t i = rng() % 64;
        const uint16_t port = uint16_t(rng() % 160);
        connection& c = t.at(i);
        uint32_t found = ~0u;
        if (rng() % 3 == 0) {
            t.forget(i);
            std::erase_if(model, [&](const auto& kv) { return kv.second == i; });
        } else {
            t.open(i, 0);
            std::erase_if(model, [&](const auto& kv) { return kv.second == i; });
            const received_frame syn = server_frame(0, 0, port, tcp_flag::syn,
                                                    connection_table::client_isn(i, c.generation));
            REQUIRE(t.match_server(syn, found) == frame_verdict::ok);
            model[port] = i;
        }
        REQUIRE(t.learned_count() == model.size());
        for (const auto& [p, index] : model) {
            REQUIRE(t.match_server(server_frame(0, 0, p, tcp_flag::ack, 0), found) ==
                    frame_verdict::ok);
            REQUIRE(found == index);
        }
        for (uint16_t p = 0; p < 160; p += 7) {
            if (model.count(p)) continue;
            REQUIRE(t.match_server(server_frame(0, 0, p, tcp_flag::ack, 0), found) ==
                    frame_verdict::unknown_connection);
        }
    }
}

TEST_CASE("capacity bounds: refused configurations, and a full table maps every pair") {
    auto refused = [](table_config c) {
        CHECK_THROWS_AS(connection_table{c}, std::invalid_argument);
    };
    table_config c = make_config(true);
    c.capacity = 0;
    refused(c);
    c.capacity = 51;  // 10 addresses × 5 ports
    refused(c);
    c = make_config(true);
    c.clients.count = 1u << 20;
    c.client_ports = {1024, 64000};
    c.capacity = max_connections + 1;
    refused(c);
    c = make_config(true);
    c.local.count = max_side_addresses + 1;
    refused(c);
    c = make_config(true);
    c.backends.count = 0;
    refused(c);
    c = make_config(true);
    c.vip = addr("2001:2::1");
    refused(c);
    c = make_config(true);
    c.backends.first = addr("2001:2::3:5");  // local IPv4, backends IPv6
    refused(c);
    c = make_config(true);
    c.clients.first = addr("255.255.255.250");  // 10 addresses would carry
    c.vip = addr("198.18.1.1");
    refused(c);

    // A full table: every client pair is one connection and maps back to it.
    connection_table t(make_config(true, 50));
    std::vector<bool> seen(50);
    for (uint32_t i = 0; i < 50; ++i) {
        const frame_ends e = t.client_ends(i);
        received_frame r;
        r.address_offset = *t.config().clients.offset_of(e.src);
        r.port_offset = *t.config().client_ports.offset_of(e.src_port);
        uint32_t found = ~0u;
        REQUIRE(t.match_client(r, found) == frame_verdict::ok);
        CHECK(found == i);
        CHECK_FALSE(seen[found]);
        seen[found] = true;
    }
}

TEST_CASE("a connection takes at most 48 bytes (10M flows in under 0.5 GB)") {
    CHECK(sizeof(connection) <= 48);
}

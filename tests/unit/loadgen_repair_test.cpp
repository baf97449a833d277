// Unit tests for perf/loadgen/repair.hpp: for each segment of the established script that can
// be lost (SYN, SYN-ACK, handshake ACK, request, response) the repair re-sends exactly that
// segment, the receiving side takes it as ok, and a connection that waits for nothing gets no
// re-send.
#include <doctest/doctest.h>

#include <optional>

#include "loadgen/repair.hpp"
#include "loadgen/tcp_peer.hpp"

using namespace sluice::loadgen;

namespace {

constexpr uint16_t len = 64;

tcp_peer established_peer() {
    return tcp_peer(1000, 90000, len, len, peer_script::established);
}

// The side owes a segment; send it and have the other side take it.
void deliver(tcp_peer& p, peer_side from) {
    const std::optional<segment> s = p.send(from);
    REQUIRE(s);
    const peer_side to = from == peer_side::client ? peer_side::server : peer_side::client;
    REQUIRE(p.receive(to, *s) == segment_verdict::ok);
}

// The side owes a segment; send it and lose it. Returns it.
segment lose(tcp_peer& p, peer_side from) {
    const std::optional<segment> s = p.send(from);
    REQUIRE(s);
    return *s;
}

void check_resend(tcp_peer& p, peer_side side, const segment& lost) {
    const std::optional<resend> r = segment_to_resend(p, len, len);
    REQUIRE(r);
    CHECK(r->side == side);
    CHECK(r->seg.seq == lost.seq);
    CHECK(r->seg.ack == lost.ack);
    CHECK(r->seg.flags == lost.flags);
    CHECK(r->seg.payload_len == lost.payload_len);
    const peer_side to = side == peer_side::client ? peer_side::server : peer_side::client;
    CHECK(p.receive(to, r->seg) == segment_verdict::ok);
    CHECK_FALSE(segment_to_resend(p, len, len));
}

void handshake(tcp_peer& p) {
    deliver(p, peer_side::client);  // SYN
    deliver(p, peer_side::server);  // SYN-ACK
    deliver(p, peer_side::client);  // ACK
}

}  // namespace

TEST_CASE("repair: a lost SYN is sent again") {
    tcp_peer p = established_peer();
    const segment lost = lose(p, peer_side::client);
    check_resend(p, peer_side::client, lost);
}

TEST_CASE("repair: a lost SYN-ACK is sent again by the server") {
    tcp_peer p = established_peer();
    deliver(p, peer_side::client);
    const segment lost = lose(p, peer_side::server);
    check_resend(p, peer_side::server, lost);
    CHECK(p.client() == client_state::ack_due);
}

TEST_CASE("repair: a lost handshake ACK with no request after it is sent again") {
    tcp_peer p = established_peer();
    deliver(p, peer_side::client);
    deliver(p, peer_side::server);
    const segment lost = lose(p, peer_side::client);  // the ACK; the client owes its request
    REQUIRE(p.client() == client_state::request_due);
    check_resend(p, peer_side::client, lost);
    CHECK(p.server() == server_state::established);
}

TEST_CASE("repair: a lost request, also the first (its handshake ACK lost too)") {
    tcp_peer p = established_peer();
    deliver(p, peer_side::client);
    deliver(p, peer_side::server);
    lose(p, peer_side::client);  // the ACK
    const segment first = lose(p, peer_side::client);
    check_resend(p, peer_side::client, first);
    deliver(p, peer_side::server);  // response
    const segment second = lose(p, peer_side::client);
    check_resend(p, peer_side::client, second);
}

TEST_CASE("repair: a lost response is sent again by the server") {
    tcp_peer p = established_peer();
    handshake(p);
    deliver(p, peer_side::client);
    const segment lost = lose(p, peer_side::server);
    check_resend(p, peer_side::server, lost);
    CHECK(p.client() == client_state::request_due);
}

TEST_CASE("repair: nothing for a flow that waits for nothing or owes its own segment") {
    tcp_peer p = established_peer();
    CHECK_FALSE(segment_to_resend(p, len, len));  // owes its SYN: send() gives it
    handshake(p);
    CHECK_FALSE(segment_to_resend(p, len, len));  // owes its request
    deliver(p, peer_side::client);
    CHECK_FALSE(segment_to_resend(p, len, len));  // the server owes its response
}

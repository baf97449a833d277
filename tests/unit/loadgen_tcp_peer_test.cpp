// Unit tests for perf/loadgen/tcp_peer: both ends of one emulated connection walk the whole
// script (handshake, request, response, FIN/ACK exchange) with the right sequence and ack
// numbers, also through a sequence-translating balancer, across 2^32 and in SYN-proxy order;
// every kind of bad segment gets its own verdict and changes nothing; an RST ends a side; the
// established script repeats request and response until close() and then closes as cps does.
#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "loadgen/tcp_peer.hpp"

using sluice::loadgen::client_state;
using sluice::loadgen::peer_script;
using sluice::loadgen::peer_side;
using sluice::loadgen::segment;
using sluice::loadgen::segment_verdict;
using sluice::loadgen::server_state;
using sluice::loadgen::tcp_peer;
using sluice::loadgen::verdict_name;
namespace tcp_flag = sluice::loadgen::tcp_flag;

namespace {

constexpr peer_side client = peer_side::client;
constexpr peer_side server = peer_side::server;
constexpr uint32_t client_isn = 1000, server_isn = 50000;
constexpr uint16_t request = 100, response = 1400;
constexpr uint8_t ack = tcp_flag::ack, syn = tcp_flag::syn, fin = tcp_flag::fin,
                  psh = tcp_flag::psh, rst = tcp_flag::rst;

segment seg(uint32_t seq, uint32_t ack_number, uint8_t flags, uint32_t payload = 0) {
    return {seq, ack_number, flags, payload};
}

// `side` owes a segment: returns it (the test fails if it owes none).
segment sent(tcp_peer& p, peer_side side) {
    std::optional<segment> s = p.send(side);
    REQUIRE(s.has_value());
    return *s;
}

// Sends what `from` owes to the other side unchanged and requires it accepted.
segment pass(tcp_peer& p, peer_side from) {
    const segment s = sent(p, from);
    REQUIRE(p.receive(from == client ? server : client, s) == segment_verdict::ok);
    return s;
}

// A connection where the client waits for the response and the server for the request.
tcp_peer after_handshake() {
    tcp_peer p(client_isn, server_isn, request, response);
    pass(p, client);  // SYN
    pass(p, server);  // SYN-ACK
    pass(p, client);  // ACK
    REQUIRE(p.server() == server_state::established);
    sent(p, client);  // the request, not yet delivered
    return p;
}

// Everything observable about a connection, to show a verdict changed nothing.
struct snapshot {
    client_state c;
    server_state s;
    uint32_t numbers[4];
    bool operator==(const snapshot&) const = default;
};
snapshot look(const tcp_peer& p) {
    return {p.client(),
            p.server(),
            {p.next_seq(client), p.next_ack(client), p.next_seq(server), p.next_ack(server)}};
}

}  // namespace

TEST_CASE("a whole connection: each segment carries the right flags, seq, ack and length") {
    tcp_peer p(client_isn, server_isn, request, response);
    CHECK_FALSE(p.send(server).has_value());  // a listening server owes nothing

    const segment s1 = pass(p, client);
    CHECK((s1.seq == client_isn && s1.flags == syn && s1.payload_len == 0));
    CHECK(p.client() == client_state::syn_sent);
    CHECK(p.server() == server_state::syn_ack_due);

    const segment s2 = pass(p, server);
    CHECK((s2.seq == server_isn && s2.ack == client_isn + 1 && s2.flags == (syn | ack)));
    CHECK(p.client() == client_state::ack_due);

    const segment s3 = pass(p, client);
    CHECK((s3.seq == client_isn + 1 && s3.ack == server_isn + 1 && s3.flags == ack));
    CHECK(p.server() == server_state::established);

    const segment s4 = pass(p, client);
    CHECK((s4.seq == client_isn + 1 && s4.flags == (psh | ack) && s4.payload_len == request));
    CHECK(p.server() == server_state::response_due);

    const segment s5 = pass(p, server);
    CHECK((s5.seq == server_isn + 1 && s5.ack == client_isn + 1 + request));
    CHECK(s5.payload_len == response);
    CHECK(p.client() == client_state::fin_due);

    const segment s6 = pass(p, client);
    CHECK((s6.seq == client_isn + 1 + request && s6.ack == server_isn + 1 + response));
    CHECK(s6.flags == (fin | ack));

    const segment s7 = pass(p, server);
    CHECK((s7.seq == server_isn + 1 + response && s7.ack == client_isn + 2 + request));
    CHECK(s7.flags == (fin | ack));
    CHECK(p.server() == server_state::last_ack);

    CHECK_FALSE(p.complete());
    const segment s8 = pass(p, client);
    CHECK((s8.seq == client_isn + 2 + request && s8.ack == server_isn + 2 + response));
    CHECK(s8.flags == ack);
    CHECK(p.client() == client_state::time_wait);
    CHECK(p.server() == server_state::closed);
    CHECK(p.complete());
    CHECK_FALSE(p.failed());
    CHECK_FALSE(p.send(client).has_value());
    CHECK_FALSE(p.send(server).has_value());
}

TEST_CASE("sequence numbers wrap past 2^32 without any verdict changing") {
    tcp_peer p(0xffffffffu - 50, 0xffffffffu, request, response);
    for (peer_side from : {client, server, client, client, server, client, server, client}) {
        pass(p, from);
    }
    CHECK(p.complete());
    CHECK(p.next_seq(client) == uint32_t(0xffffffffu - 50 + 2 + request));
}

TEST_CASE("a balancer shifting sequence numbers in between: each side judges its own view") {
    // A SYN proxy's translation: the client's numbers reach the server `shift` higher, the
    // server's acknowledgements reach the client `shift` lower.
    constexpr uint32_t shift = 0x10000;
    tcp_peer p(client_isn, server_isn, request, response);
    auto to_server = [&](segment s) {
        s.seq += shift;
        return p.receive(server, s);
    };
    auto to_client = [&](segment s) {
        if (s.flags & ack) s.ack -= shift;
        return p.receive(client, s);
    };
    CHECK(to_server(sent(p, client)) == segment_verdict::ok);  // SYN
    CHECK(to_client(sent(p, server)) == segment_verdict::ok);  // SYN-ACK
    CHECK(to_server(sent(p, client)) == segment_verdict::ok);  // ACK
    CHECK(to_server(sent(p, client)) == segment_verdict::ok);  // request
    CHECK(to_client(sent(p, server)) == segment_verdict::ok);  // response
    CHECK(to_server(sent(p, client)) == segment_verdict::ok);  // FIN
    CHECK(to_client(sent(p, server)) == segment_verdict::ok);  // FIN-ACK
    CHECK(to_server(sent(p, client)) == segment_verdict::ok);  // last ACK
    CHECK(p.complete());
    CHECK(p.next_ack(server) == client_isn + shift + 2 + request);
}

TEST_CASE("SYN-proxy order: the client's handshake completes before the server sees a SYN") {
    // The balancer answers the SYN with its own cookie ISN, then opens the server side and
    // translates the server's numbers by (cookie - server ISN) towards the client.
    constexpr uint32_t cookie = 0xabc00000;
    tcp_peer p(client_isn, server_isn, request, response);
    const segment syn_out = sent(p, client);
    CHECK(p.receive(client, seg(cookie, client_isn + 1, syn | ack)) == segment_verdict::ok);
    // Towards the server the balancer translates acknowledgements of the cookie.
    segment ack_out = sent(p, client);
    segment request_out = sent(p, client);
    ack_out.ack -= cookie - server_isn;
    request_out.ack -= cookie - server_isn;
    CHECK(p.client() == client_state::request_sent);
    CHECK(p.server() == server_state::listen);

    CHECK(p.receive(server, syn_out) == segment_verdict::ok);
    sent(p, server);  // SYN-ACK, absorbed by the balancer
    CHECK(p.receive(server, ack_out) == segment_verdict::ok);
    CHECK(p.receive(server, request_out) == segment_verdict::ok);
    segment resp = sent(p, server);
    resp.seq += cookie - server_isn;
    CHECK(p.receive(client, resp) == segment_verdict::ok);
    CHECK(p.client() == client_state::fin_due);
}

TEST_CASE("the request overtaking the handshake ACK completes the handshake; the ACK is old") {
    tcp_peer p(client_isn, server_isn, request, response);
    pass(p, client);
    pass(p, server);
    const segment hs_ack = sent(p, client);
    const segment req = sent(p, client);
    CHECK(p.receive(server, req) == segment_verdict::ok);
    CHECK(p.server() == server_state::response_due);
    CHECK(p.receive(server, hs_ack) == segment_verdict::duplicate);
    CHECK(p.server() == server_state::response_due);
}

TEST_CASE("retransmissions and copies are duplicates: SYN, SYN-ACK, handshake ACK, request") {
    tcp_peer p(client_isn, server_isn, request, response);
    const segment s_syn = pass(p, client);
    CHECK(p.receive(server, s_syn) == segment_verdict::duplicate);  // server owes its SYN-ACK
    const segment s_synack = pass(p, server);
    CHECK(p.receive(server, s_syn) == segment_verdict::duplicate);
    const segment s_ack = pass(p, client);
    CHECK(p.receive(client, s_synack) == segment_verdict::duplicate);
    CHECK(p.receive(server, s_ack) == segment_verdict::duplicate);
    const segment s_req = pass(p, client);
    CHECK(p.receive(server, s_req) == segment_verdict::duplicate);
    CHECK(p.server() == server_state::response_due);
}

TEST_CASE("each kind of bad segment has its own verdict and leaves the connection unchanged") {
    tcp_peer p = after_handshake();  // the server waits for the request
    const snapshot before = look(p);
    const uint32_t seq = client_isn + 1, ack_number = server_isn + 1;
    struct bad {
        segment s;
        segment_verdict v;
    };
    const bad cases[] = {
        {seg(seq, ack_number, fin | ack, request), segment_verdict::unexpected_flags},
        {seg(seq, ack_number, syn | ack, request), segment_verdict::unexpected_flags},
        {seg(seq, ack_number, psh, request), segment_verdict::unexpected_flags},  // no ACK
        {seg(seq + 7, ack_number, psh | ack, request), segment_verdict::bad_seq},
        {seg(seq - 7, ack_number, psh | ack, request), segment_verdict::bad_seq},
        {seg(seq + 0x80000000u, ack_number, psh | ack, request), segment_verdict::bad_seq},
        {seg(seq, ack_number + 1, psh | ack, request), segment_verdict::bad_ack},
        {seg(seq, ack_number - 1, psh | ack, request), segment_verdict::bad_ack},
        {seg(seq, 0, psh | ack, request), segment_verdict::bad_ack},
        {seg(seq, ack_number, psh | ack, request - 1), segment_verdict::bad_length},
        {seg(seq, ack_number, psh | ack, request + 1), segment_verdict::bad_length},
        {seg(seq, ack_number, ack, 0), segment_verdict::duplicate},  // the handshake ACK again
        // Old sequence numbers but acknowledging data never sent: an error, not a duplicate.
        {seg(seq, ack_number + 5, ack, 0), segment_verdict::bad_ack},
        {seg(seq, ack_number, rst | ack, 0), segment_verdict::reset},
    };
    for (const bad& b : cases) {
        CAPTURE(verdict_name(b.v));
        CHECK(p.expect(server, b.s) == b.v);
        if (b.v != segment_verdict::reset) CHECK(p.receive(server, b.s) == b.v);
        CHECK(look(p) == before);
    }
    // And the right segment is still accepted afterwards.
    CHECK(p.receive(server, seg(seq, ack_number, psh | ack, request)) == segment_verdict::ok);
}

TEST_CASE("the client judges a SYN-ACK: it must ACK the SYN, be a SYN-ACK and carry nothing") {
    tcp_peer p(client_isn, server_isn, request, response);
    sent(p, client);
    CHECK(p.expect(client, seg(7, client_isn, syn | ack)) == segment_verdict::bad_ack);
    CHECK(p.expect(client, seg(7, client_isn + 2, syn | ack)) == segment_verdict::bad_ack);
    CHECK(p.expect(client, seg(7, client_isn + 1, syn)) == segment_verdict::unexpected_flags);
    CHECK(p.expect(client, seg(7, client_isn + 1, ack)) == segment_verdict::unexpected_flags);
    CHECK(p.expect(client, seg(7, client_isn + 1, syn | ack, 5)) == segment_verdict::bad_length);
    CHECK(p.expect(client, seg(7, client_isn + 1, syn | ack | psh)) == segment_verdict::ok);
    CHECK(p.client() == client_state::syn_sent);
}

TEST_CASE("a listening server takes only a bare SYN; its seq is learned, not judged") {
    tcp_peer p(client_isn, server_isn, request, response);
    CHECK(p.expect(server, seg(1, 0, syn | ack)) == segment_verdict::unexpected_flags);
    CHECK(p.expect(server, seg(1, 0, ack)) == segment_verdict::unexpected_flags);
    CHECK(p.expect(server, seg(1, 0, syn, 10)) == segment_verdict::bad_length);
    CHECK(p.receive(server, seg(0x12345678, 99, syn)) == segment_verdict::ok);
    CHECK(p.next_ack(server) == 0x12345679);
}

TEST_CASE("a side that owes a segment or is done expects nothing new: not_expected") {
    tcp_peer p(client_isn, server_isn, request, response);
    // The client has not sent its SYN yet.
    CHECK(p.expect(client, seg(5, client_isn + 1, syn | ack)) == segment_verdict::not_expected);
    pass(p, client);
    // The server owes its SYN-ACK; a new segment beyond the SYN is not expected.
    CHECK(p.expect(server, seg(client_isn + 1, 0, ack, 10)) == segment_verdict::not_expected);
    for (peer_side from : {server, client, client, server, client, server, client}) pass(p, from);
    REQUIRE(p.complete());
    const segment late = seg(server_isn + 2 + response, client_isn + 2 + request, ack, 1);
    CHECK(p.expect(client, late) == segment_verdict::not_expected);
}

TEST_CASE("after the close, a retransmitted FIN-ACK at the client is a duplicate") {
    tcp_peer p(client_isn, server_isn, request, response);
    segment fin_ack;
    for (peer_side from : {client, server, client, client, server, client}) pass(p, from);
    fin_ack = pass(p, server);
    pass(p, client);
    REQUIRE(p.complete());
    CHECK(p.receive(client, fin_ack) == segment_verdict::duplicate);
    CHECK(p.complete());
}

TEST_CASE("an RST ends the receiving side: reset, failed, nothing more to send or accept") {
    tcp_peer p = after_handshake();
    CHECK(p.receive(server, seg(client_isn + 1, 0, rst)) == segment_verdict::reset);
    CHECK(p.server() == server_state::reset);
    CHECK(p.failed());
    CHECK_FALSE(p.complete());
    CHECK_FALSE(p.send(server).has_value());
    const segment req = seg(client_isn + 1, server_isn + 1, psh | ack, request);
    CHECK(p.receive(server, req) == segment_verdict::not_expected);
    // The client side is untouched and can be reset on its own.
    CHECK(p.client() == client_state::request_sent);
    CHECK(p.receive(client, seg(server_isn + 1, 0, rst)) == segment_verdict::reset);
    CHECK(p.client() == client_state::reset);
}

TEST_CASE("zero request and response lengths are taken as one byte") {
    tcp_peer p(client_isn, server_isn, 0, 0);
    for (peer_side from : {client, server, client}) pass(p, from);
    CHECK(sent(p, client).payload_len == 1);
}

TEST_CASE("every verdict has its own name for the generator's counters") {
    std::set<std::string> names;
    for (unsigned v = 0; v < unsigned(segment_verdict::count); ++v) {
        const std::string name = verdict_name(segment_verdict(v));
        CHECK(name != "?");
        names.insert(name);
    }
    CHECK(names.size() == unsigned(segment_verdict::count));
}

TEST_CASE("established script: request and response alternate 1000 times with exact seq/ack") {
    tcp_peer p(0xffffff00u, server_isn, request, response, peer_script::established);
    for (peer_side from : {client, server, client}) pass(p, from);
    for (uint32_t n = 0; n < 1000; ++n) {
        CAPTURE(n);
        REQUIRE(p.client() == client_state::request_due);
        const segment req = pass(p, client);
        CHECK(req.seq == uint32_t(0xffffff00u + 1 + n * request));  // wraps past 2^32
        CHECK(req.ack == server_isn + 1 + n * response);
        CHECK((req.flags == (psh | ack) && req.payload_len == request));
        CHECK(p.server() == server_state::response_due);
        const segment resp = pass(p, server);
        CHECK(resp.seq == server_isn + 1 + n * response);
        CHECK(resp.ack == uint32_t(0xffffff00u + 1 + (n + 1) * request));
        CHECK(p.server() == server_state::response_sent);
    }
    CHECK_FALSE(p.complete());
    CHECK(p.close());
    for (peer_side from : {client, server, client}) pass(p, from);
    CHECK(p.complete());
    CHECK_FALSE(p.failed());
}

TEST_CASE("close() works only in the established script when the client owes its next request") {
    tcp_peer cps(client_isn, server_isn, request, response);
    for (peer_side from : {client, server, client}) pass(cps, from);
    CHECK_FALSE(cps.close());  // cps: the FIN comes by itself after the response
    CHECK(cps.client() == client_state::request_due);

    tcp_peer p(client_isn, server_isn, request, response, peer_script::established);
    CHECK_FALSE(p.close());  // owes its SYN
    pass(p, client);
    CHECK_FALSE(p.close());  // waits for the SYN-ACK
    pass(p, server);
    CHECK_FALSE(p.close());  // owes the handshake ACK
    pass(p, client);
    pass(p, client);         // a request
    CHECK_FALSE(p.close());  // waits for the response
    pass(p, server);
    CHECK(p.client() == client_state::request_due);
    CHECK(p.close());
    CHECK(p.client() == client_state::fin_due);
    CHECK_FALSE(p.close());
}

TEST_CASE("established script: the server takes the next request or the FIN, judged as such") {
    tcp_peer p(client_isn, server_isn, request, response, peer_script::established);
    for (peer_side from : {client, server, client, client, server}) pass(p, from);
    REQUIRE(p.server() == server_state::response_sent);
    const snapshot before = look(p);
    const uint32_t seq = client_isn + 1 + request, ack_number = server_isn + 1 + response;
    struct bad {
        segment s;
        segment_verdict v;
    };
    const bad cases[] = {
        {seg(seq, ack_number, fin | ack, 1), segment_verdict::bad_length},  // FIN with data
        {seg(seq + 1, ack_number, fin | ack), segment_verdict::bad_seq},
        {seg(seq, ack_number - 1, fin | ack), segment_verdict::bad_ack},
        {seg(seq, ack_number, fin), segment_verdict::unexpected_flags},  // FIN without ACK
        {seg(seq, ack_number, syn | ack), segment_verdict::unexpected_flags},
        {seg(seq, ack_number, psh | ack, request + 1), segment_verdict::bad_length},
        {seg(seq - request, ack_number - response, psh | ack, request),
         segment_verdict::duplicate},  // the previous request again
    };
    for (const bad& b : cases) {
        CAPTURE(verdict_name(b.v));
        CHECK(p.receive(server, b.s) == b.v);
        CHECK(look(p) == before);
    }
    CHECK(p.expect(server, seg(seq, ack_number, psh | ack, request)) == segment_verdict::ok);
    CHECK(p.receive(server, seg(seq, ack_number, fin | ack)) == segment_verdict::ok);
    CHECK(p.server() == server_state::fin_ack_due);
    CHECK(p.next_ack(server) == seq + 1);
}

TEST_CASE("established script: a client closing right after the handshake closes cleanly") {
    tcp_peer p(client_isn, server_isn, request, response, peer_script::established);
    for (peer_side from : {client, server}) pass(p, from);
    const segment hs_ack = sent(p, client);
    REQUIRE(p.close());
    const segment fin_seg = sent(p, client);
    // The FIN overtakes the handshake ACK; the ACK is then old.
    CHECK(p.receive(server, fin_seg) == segment_verdict::ok);
    CHECK(p.receive(server, hs_ack) == segment_verdict::duplicate);
    for (peer_side from : {server, client}) pass(p, from);
    CHECK(p.complete());
}

TEST_CASE("a connection's state fits in 40 bytes (millions of flows per generator)") {
    CHECK(sizeof(tcp_peer) <= 40);
}

#pragma once
// One emulated TCP connection with the load generator playing both ends, as TRex ASTF and dperf
// do: the client side on one port, the server side on the other, the load balancer between them.
// The script of a connection (cps mode):
//
//   client              load balancer              server
//   SYN            ------------------------->      (learns the client's ISN as it arrives)
//                  <-------------------------      SYN-ACK
//   ACK, request   ------------------------->
//                  <-------------------------      response
//   FIN-ACK        ------------------------->
//                  <-------------------------      FIN-ACK
//   ACK            ------------------------->      closed
//
// The established script (established mode: many long flows, data both ways at a rate) repeats
// the middle after the handshake: request, response, request, response, ... for as long as the
// generator sends on the flow; close() then makes the client's next segment its FIN, and the
// close runs as above. A server that sent its response accepts either the next request or the
// FIN.
//
// Each side is a TCP endpoint of its own with its own send and receive sequence numbers, so
// anything the balancer may legitimately do in between (translate sequence numbers behind a SYN
// proxy, answer the client before the server has seen a SYN) passes, and the side that receives
// a segment judges it only against what it sent and received itself.
//
// Addresses, ports and checksums of real frames are checked by frames.hpp, which also finds the
// connection (with connection_table.hpp); this is the TCP state only.
//
// Threads: a connection belongs to the lcore that owns its flow in the generator; no locks, no
// allocation, no virtual calls: 40 bytes per connection, so millions fit in a table.
#include <cstdint>
#include <optional>

#include "packet/wire.hpp"

namespace sluice::loadgen {

namespace tcp_flag = sluice::packet::tcp_flag;

// The TCP fields of one segment, in host order; payload_len counts bytes after the header.
struct segment {
    uint32_t seq = 0;
    uint32_t ack = 0;
    uint8_t flags = 0;
    uint32_t payload_len = 0;
};

enum class peer_side : uint8_t { client, server };

// Which script a connection follows (the header comment has both).
enum class peer_script : uint8_t { cps, established };

// "_due": the side owes the next segment of the script (send() returns it); otherwise it waits.
enum class client_state : uint8_t {
    closed,        // owes its SYN
    syn_sent,      // waits for the SYN-ACK
    ack_due,       // owes the handshake's ACK
    request_due,   // owes the request (established script: the next request)
    request_sent,  // waits for the response
    fin_due,       // owes its FIN
    fin_wait,      // waits for the server's FIN-ACK
    last_ack_due,  // owes the ACK of the server's FIN
    time_wait,     // done
    reset,         // an RST arrived: done, failed
};

enum class server_state : uint8_t {
    listen,         // waits for a SYN
    syn_ack_due,    // owes its SYN-ACK
    syn_received,   // waits for the handshake's ACK (or the request, which carries it)
    established,    // waits for the request
    response_due,   // owes the response
    response_sent,  // waits for the client's FIN (established script: or the next request)
    fin_ack_due,    // owes its FIN-ACK
    last_ack,       // waits for the final ACK
    closed,         // done
    reset,          // an RST arrived: done, failed
};

// What a received segment is, one counter per value in the generator. The first that applies,
// in this order: reset; ok; duplicate (wholly at or before what the side already received and
// acknowledging nothing it has not sent: a retransmission, a copy or a segment overtaken by a
// newer one); not_expected (the side waits for nothing now); then the first field that differs
// from the expected segment: flags, seq, ack, payload length.
enum class segment_verdict : uint8_t {
    ok,
    reset,
    duplicate,
    not_expected,
    unexpected_flags,  // SYN, ACK, FIN, RST compared; PSH, URG, ECE, CWR ignored
    bad_seq,
    bad_ack,
    bad_length,
    count
};

const char* verdict_name(segment_verdict verdict);

class tcp_peer {
public:
    // Request and response must carry at least one byte (a zero-length request would be a pure
    // ACK); 0 is taken as 1.
    tcp_peer(uint32_t client_isn, uint32_t server_isn, uint16_t request_len, uint16_t response_len,
             peer_script script = peer_script::cps);

    // Established script: a client that owes its next request owes its FIN instead; true when it
    // did. False (nothing changes) in any other state or in the cps script, whose FIN comes by
    // itself after the response.
    bool close();

    // The segment `side` owes now, with the side moved past sending it; nothing if it waits.
    std::optional<segment> send(peer_side side);

    // How `side` judges a segment it received; changes nothing.
    segment_verdict expect(peer_side side, const segment& s) const;
    // expect(), then on ok the side takes the segment (next state, receive sequence moved); on
    // reset the side is done. Other verdicts leave the connection as it was.
    segment_verdict receive(peer_side side, const segment& s);

    client_state client() const { return client_state_; }
    server_state server() const { return server_state_; }
    peer_script script() const { return script_; }
    bool complete() const {
        return client_state_ == client_state::time_wait && server_state_ == server_state::closed;
    }
    bool failed() const {
        return client_state_ == client_state::reset || server_state_ == server_state::reset;
    }

    // The side's next sequence number to send, and the next it expects from its peer (its ack).
    uint32_t next_seq(peer_side side) const { return end(side).snd_nxt; }
    uint32_t next_ack(peer_side side) const { return end(side).rcv_nxt; }

private:
    // One side as a TCP endpoint. rcv_nxt and irs mean something once the peer's SYN arrived.
    struct endpoint {
        uint32_t iss = 0;      // own initial sequence number
        uint32_t snd_nxt = 0;  // next sequence number to send
        uint32_t irs = 0;      // the peer's initial sequence number, as it arrived here
        uint32_t rcv_nxt = 0;  // next sequence number expected from the peer
    };
    struct expectation;

    const endpoint& end(peer_side side) const {
        return side == peer_side::client ? client_ : server_;
    }
    std::optional<expectation> expected(peer_side side) const;
    bool knows_peer(peer_side side) const;
    bool is_old(peer_side side, const segment& s) const;
    void take(peer_side side, const segment& s);
    segment outgoing(const endpoint& e, uint8_t flags, uint32_t payload_len) const;
    std::optional<segment> send_client();
    std::optional<segment> send_server();

    endpoint client_;
    endpoint server_;
    uint16_t request_len_;
    uint16_t response_len_;
    client_state client_state_ = client_state::closed;
    server_state server_state_ = server_state::listen;
    peer_script script_;
};

}  // namespace sluice::loadgen

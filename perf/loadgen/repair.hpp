#pragma once
// What an emulated connection re-sends when a segment of it was lost. tcp_peer moves a side
// past a segment when it is sent, so a segment the balancer dropped (or the generator's TX ring
// refused) leaves the connection waiting forever; after each trial's grace period the generator
// walks its connections and re-sends, uncounted, the one segment each stuck connection misses.
// Only the established script's states are repaired (handshake and request/response); a cps
// connection that lost a segment is counted as failed instead.
//
// Threads: pure function of one connection's state; the lcore that owns the table calls it.
#include <optional>

#include "tcp_peer.hpp"

namespace sluice::loadgen {

struct resend {
    peer_side side;
    segment seg;
};

// The segment that unblocks `peer`, or nothing when it is not stuck on a lost one (it waits for
// nothing, or a side owes a segment it will send by itself: tcp_peer::send() gives that one).
// A lost SYN: the client's SYN again; a lost SYN-ACK: the server's; a lost handshake ACK with no
// request after it: the ACK; a lost request: the client's
// last request; a lost response: the server's last response (told apart from a lost request by
// whether the server has received everything the client sent).
std::optional<resend> segment_to_resend(const tcp_peer& peer, uint16_t request_len,
                                        uint16_t response_len);

}  // namespace sluice::loadgen

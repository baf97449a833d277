// Re-sending a stuck connection's lost segment (repair.hpp has the rules and the threads).
#include "repair.hpp"

namespace sluice::loadgen {

namespace {

// A segment the side sent last, rebuilt from its sequence numbers: `len` bytes (or a SYN, one
// sequence number) ending at its snd_nxt, acknowledging what it has received.
segment last_sent(const tcp_peer& p, peer_side side, uint8_t flags, uint32_t len) {
    segment s;
    const uint32_t space = (flags & tcp_flag::syn) ? 1 : len;
    s.seq = p.next_seq(side) - space;
    s.ack = (flags & tcp_flag::ack) ? p.next_ack(side) : 0;
    s.flags = flags;
    s.payload_len = len;
    return s;
}

}  // namespace

std::optional<resend> segment_to_resend(const tcp_peer& p, uint16_t request_len,
                                        uint16_t response_len) {
    constexpr uint8_t ack = tcp_flag::ack;
    const uint32_t req = request_len ? request_len : 1;
    const uint32_t resp = response_len ? response_len : 1;
    if (p.client() == client_state::syn_sent) {
        if (p.server() == server_state::listen)
            return resend{peer_side::client, last_sent(p, peer_side::client, tcp_flag::syn, 0)};
        if (p.server() == server_state::syn_received)
            return resend{peer_side::server,
                          last_sent(p, peer_side::server, tcp_flag::syn | ack, 0)};
        return std::nullopt;
    }
    // The handshake's ACK lost, no request since: the balancer still holds the flow as half open
    // and ages it out as such (tcp_syn), so the ACK goes again.
    if (p.client() == client_state::request_due && p.server() == server_state::syn_received)
        return resend{peer_side::client, last_sent(p, peer_side::client, ack, 0)};
    if (p.client() != client_state::request_sent) return std::nullopt;
    switch (p.server()) {
        case server_state::syn_received:
        case server_state::established:
            return resend{peer_side::client,
                          last_sent(p, peer_side::client, tcp_flag::psh | ack, req)};
        case server_state::response_sent:
            // The server answered the request it has: if that is the client's latest (it
            // received all the client sent), the response was lost; else the request was.
            if (p.next_ack(peer_side::server) == p.next_seq(peer_side::client))
                return resend{peer_side::server,
                              last_sent(p, peer_side::server, tcp_flag::psh | ack, resp)};
            return resend{peer_side::client,
                          last_sent(p, peer_side::client, tcp_flag::psh | ack, req)};
        default:
            return std::nullopt;
    }
}

}  // namespace sluice::loadgen

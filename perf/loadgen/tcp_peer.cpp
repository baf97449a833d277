// Both ends of one emulated TCP connection (tcp_peer.hpp has the script and the threads).
#include "tcp_peer.hpp"

#include <algorithm>

namespace sluice::loadgen {

namespace {

// The flags whose presence or absence a segment is judged by.
constexpr uint8_t judged_flags = tcp_flag::syn | tcp_flag::ack | tcp_flag::fin | tcp_flag::rst;

// Sequence space a segment occupies: its payload, plus one for SYN and one for FIN.
uint32_t sequence_length(const segment& s) {
    return s.payload_len + ((s.flags & tcp_flag::syn) ? 1 : 0) +
           ((s.flags & tcp_flag::fin) ? 1 : 0);
}

}  // namespace

// What a waiting side accepts next.
struct tcp_peer::expectation {
    uint8_t flags;         // judged_flags of the segment must equal these
    bool learns_seq;       // a SYN: its seq is the peer's ISN, nothing to compare with
    bool checks_ack;       // the ACK bit is expected and the ack must be snd_nxt
    uint32_t payload;      // payload length
    uint32_t alt_payload;  // another accepted length (the request completing a handshake)
    bool or_fin = false;   // a FIN-ACK without payload is accepted too (established script)
};

const char* verdict_name(segment_verdict verdict) {
    switch (verdict) {
        case segment_verdict::ok:
            return "ok";
        case segment_verdict::reset:
            return "reset";
        case segment_verdict::duplicate:
            return "duplicate";
        case segment_verdict::not_expected:
            return "not_expected";
        case segment_verdict::unexpected_flags:
            return "unexpected_flags";
        case segment_verdict::bad_seq:
            return "bad_seq";
        case segment_verdict::bad_ack:
            return "bad_ack";
        case segment_verdict::bad_length:
            return "bad_length";
        case segment_verdict::count:
            break;
    }
    return "?";
}

tcp_peer::tcp_peer(uint32_t client_isn, uint32_t server_isn, uint16_t request_len,
                   uint16_t response_len, peer_script script)
    : request_len_(std::max<uint16_t>(request_len, 1)),
      response_len_(std::max<uint16_t>(response_len, 1)),
      script_(script) {
    client_.iss = client_.snd_nxt = client_isn;
    server_.iss = server_.snd_nxt = server_isn;
}

// The script, as seen by the receiving side: one expected segment per waiting state.
std::optional<tcp_peer::expectation> tcp_peer::expected(peer_side side) const {
    constexpr uint8_t ack = tcp_flag::ack;
    if (side == peer_side::client) {
        switch (client_state_) {
            case client_state::syn_sent:
                return expectation{tcp_flag::syn | ack, true, true, 0, 0};
            case client_state::request_sent:
                return expectation{ack, false, true, response_len_, response_len_};
            case client_state::fin_wait:
                return expectation{tcp_flag::fin | ack, false, true, 0, 0};
            default:
                return std::nullopt;
        }
    }
    // In the established script the client may close after any exchange.
    const bool or_fin = script_ == peer_script::established;
    switch (server_state_) {
        case server_state::listen:
            return expectation{tcp_flag::syn, true, false, 0, 0};
        case server_state::syn_received:
            return expectation{ack, false, true, 0, request_len_, or_fin};
        case server_state::established:
            return expectation{ack, false, true, request_len_, request_len_, or_fin};
        case server_state::response_sent:
            if (or_fin) return expectation{ack, false, true, request_len_, request_len_, true};
            return expectation{tcp_flag::fin | ack, false, true, 0, 0};
        case server_state::last_ack:
            return expectation{ack, false, true, 0, 0};
        default:
            return std::nullopt;
    }
}

// Whether the side has taken its peer's SYN, so irs and rcv_nxt hold.
bool tcp_peer::knows_peer(peer_side side) const {
    if (side == peer_side::client) {
        return client_state_ != client_state::closed && client_state_ != client_state::syn_sent &&
               client_state_ != client_state::reset;
    }
    return server_state_ != server_state::listen && server_state_ != server_state::reset;
}

// Wholly inside what the side already received (between the peer's ISN and rcv_nxt, modulo
// 2^32) and, if it acknowledges, acknowledging only what the side already sent.
bool tcp_peer::is_old(peer_side side, const segment& s) const {
    if (!knows_peer(side)) return false;
    const endpoint& e = end(side);
    const uint32_t received = e.rcv_nxt - e.irs;
    const uint32_t first = s.seq - e.irs;
    const uint32_t last = first + sequence_length(s);
    if (first > received || last > received || last < first) return false;
    if (!(s.flags & tcp_flag::ack)) return true;
    return s.ack - e.iss <= e.snd_nxt - e.iss;
}

segment_verdict tcp_peer::expect(peer_side side, const segment& s) const {
    if (s.flags & tcp_flag::rst) return segment_verdict::reset;
    const std::optional<expectation> x = expected(side);
    segment_verdict v = segment_verdict::not_expected;
    if (x) {
        const endpoint& e = end(side);
        const uint8_t flags = s.flags & judged_flags;
        // The FIN alternative carries no payload: judge its length as such.
        const bool fin = x->or_fin && flags == (tcp_flag::fin | tcp_flag::ack);
        const bool length_ok = fin ? s.payload_len == 0
                                   : s.payload_len == x->payload || s.payload_len == x->alt_payload;
        if (flags != x->flags && !fin) {
            v = segment_verdict::unexpected_flags;
        } else if (!x->learns_seq && s.seq != e.rcv_nxt) {
            v = segment_verdict::bad_seq;
        } else if (x->checks_ack && s.ack != e.snd_nxt) {
            v = segment_verdict::bad_ack;
        } else if (!length_ok) {
            v = segment_verdict::bad_length;
        } else {
            return segment_verdict::ok;
        }
    }
    // Not the expected segment: an old one is counted as a duplicate, not as an error.
    return is_old(side, s) ? segment_verdict::duplicate : v;
}

// Moves the receiving side past an accepted segment.
void tcp_peer::take(peer_side side, const segment& s) {
    if (side == peer_side::client) {
        if (client_state_ == client_state::syn_sent) {
            client_.irs = s.seq;
            client_.rcv_nxt = s.seq + 1;
            client_state_ = client_state::ack_due;
        } else if (client_state_ == client_state::request_sent) {
            client_.rcv_nxt += s.payload_len;
            client_state_ = script_ == peer_script::established ? client_state::request_due
                                                                : client_state::fin_due;
        } else if (client_state_ == client_state::fin_wait) {
            client_.rcv_nxt += 1;
            client_state_ = client_state::last_ack_due;
        }
        return;
    }
    if (s.flags & tcp_flag::fin) {
        // The client's FIN: after the response (either script), or after any exchange or the
        // handshake (established script).
        server_.rcv_nxt += 1;
        server_state_ = server_state::fin_ack_due;
        return;
    }
    switch (server_state_) {
        case server_state::listen:
            server_.irs = s.seq;
            server_.rcv_nxt = s.seq + 1;
            server_state_ = server_state::syn_ack_due;
            break;
        case server_state::syn_received:
        case server_state::established:
        case server_state::response_sent:
            // The request may arrive before the handshake's ACK: it completes the handshake too.
            // After a response only the established script expects one (the next request).
            server_.rcv_nxt += s.payload_len;
            server_state_ = s.payload_len ? server_state::response_due : server_state::established;
            break;
        case server_state::last_ack:
            server_state_ = server_state::closed;
            break;
        default:
            break;
    }
}

segment_verdict tcp_peer::receive(peer_side side, const segment& s) {
    const segment_verdict v = expect(side, s);
    if (v == segment_verdict::ok) take(side, s);
    if (v == segment_verdict::reset) {
        if (side == peer_side::client) {
            client_state_ = client_state::reset;
        } else {
            server_state_ = server_state::reset;
        }
    }
    return v;
}

segment tcp_peer::outgoing(const endpoint& e, uint8_t flags, uint32_t payload_len) const {
    segment s;
    s.seq = e.snd_nxt;
    s.ack = (flags & tcp_flag::ack) ? e.rcv_nxt : 0;
    s.flags = flags;
    s.payload_len = payload_len;
    return s;
}

std::optional<segment> tcp_peer::send_client() {
    constexpr uint8_t ack = tcp_flag::ack;
    std::optional<segment> s;
    switch (client_state_) {
        case client_state::closed:
            s = outgoing(client_, tcp_flag::syn, 0);
            client_state_ = client_state::syn_sent;
            break;
        case client_state::ack_due:
            s = outgoing(client_, ack, 0);
            client_state_ = client_state::request_due;
            break;
        case client_state::request_due:
            s = outgoing(client_, tcp_flag::psh | ack, request_len_);
            client_state_ = client_state::request_sent;
            break;
        case client_state::fin_due:
            s = outgoing(client_, tcp_flag::fin | ack, 0);
            client_state_ = client_state::fin_wait;
            break;
        case client_state::last_ack_due:
            s = outgoing(client_, ack, 0);
            client_state_ = client_state::time_wait;
            break;
        default:
            return std::nullopt;
    }
    client_.snd_nxt += sequence_length(*s);
    return s;
}

std::optional<segment> tcp_peer::send_server() {
    constexpr uint8_t ack = tcp_flag::ack;
    std::optional<segment> s;
    switch (server_state_) {
        case server_state::syn_ack_due:
            s = outgoing(server_, tcp_flag::syn | ack, 0);
            server_state_ = server_state::syn_received;
            break;
        case server_state::response_due:
            s = outgoing(server_, tcp_flag::psh | ack, response_len_);
            server_state_ = server_state::response_sent;
            break;
        case server_state::fin_ack_due:
            s = outgoing(server_, tcp_flag::fin | ack, 0);
            server_state_ = server_state::last_ack;
            break;
        default:
            return std::nullopt;
    }
    server_.snd_nxt += sequence_length(*s);
    return s;
}

bool tcp_peer::close() {
    if (script_ != peer_script::established || client_state_ != client_state::request_due)
        return false;
    client_state_ = client_state::fin_due;
    return true;
}

std::optional<segment> tcp_peer::send(peer_side side) {
    return side == peer_side::client ? send_client() : send_server();
}

}  // namespace sluice::loadgen

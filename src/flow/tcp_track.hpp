#pragma once
// Per-direction TCP sequence tracking of a flow and the checks that keep a forged segment from
// tearing down or rebinding another client's flow (RFC 5961 for RST; Linux's TIME_WAIT rule for
// SYN reuse). Pure functions over a flow entry and a TCP header; lcore-safe, no DPDK.
#include <cstdint>

#include "flow/flow_table.hpp"
#include "packet/wire.hpp"

namespace sluice::flow {

// What to do with an RST travelling in some direction of a flow.
enum class rst_verdict : uint8_t {
    accept,         // exact: the receiver will reset; the flow moves to CLOSE
    in_window,      // inside the receiver's window but not exact: forwarded (the receiver answers
                    // with a challenge ACK, RFC 5961 §3.2), the flow keeps its state
    out_of_window,  // cannot be the peer's: dropped
};

struct tcp_segment {
    uint32_t seq;
    uint32_t ack;
    uint16_t window;
    uint8_t flags;
    uint32_t payload;  // bytes of payload
};

// Reads seq, ack, window and flags of a TCP header of `l4_length` bytes (validated by parse).
// Inline: once per TCP packet.
inline tcp_segment read_segment(const uint8_t* tcp, uint16_t l4_length) {
    const uint32_t header = uint32_t(tcp[packet::tcp_off] >> 4) * 4;
    return {packet::load_be32(tcp + packet::tcp_seq), packet::load_be32(tcp + packet::tcp_ack),
            packet::load_be16(tcp + packet::tcp_window), tcp[packet::tcp_flags_off],
            l4_length > header ? l4_length - header : 0};
}

// Judges an RST sent in direction `dir`, with the numbers as the sender wrote them. `seq_shift`
// is what the flow's seq_next for the sender is ahead of the sender's own numbers: 0, unless the
// SYN proxy translates the flow (seq_next is kept as the receiver counts).
rst_verdict judge_rst(const flow_entry& f, direction dir, const tcp_segment& seg,
                      uint32_t seq_shift);

// Records the segment after any translation: seq_next (what the other side expects next), the
// sender's ack and window, window scales from SYN / SYN-ACK options (`tcp` is the header, for
// the options), who closed first. RSTs record nothing.
void track_segment(flow_entry& f, direction dir, const uint8_t* tcp, const tcp_segment& seg);

// The common case, decided per packet in a few compares: an established flow that is neither
// SYN-proxied nor translated, whose payload inspection is over and whose both directions are
// already tracked (sequence and acknowledgement numbers seen, the backend has answered), and a
// segment without SYN, FIN or RST. For it the state machine keeps its state and flags, and
// track_segment reduces to track_plain below.
inline constexpr uint8_t plain_flow_flags =
    flow_flag::seq_client | flow_flag::seq_backend | flow_flag::inspected | flow_flag::proxied;
inline constexpr uint8_t plain_flow_flags_want =
    flow_flag::seq_client | flow_flag::seq_backend | flow_flag::inspected;
inline constexpr uint8_t plain_flow_extra =
    flow_extra::ack_client | flow_extra::ack_backend | flow_extra::replied | flow_extra::translated;
inline constexpr uint8_t plain_flow_extra_want =
    flow_extra::ack_client | flow_extra::ack_backend | flow_extra::replied;
inline bool plain_segment(const flow_entry& f, uint8_t tcp_flags) {
    using namespace packet::tcp_flag;
    return f.state == tcp_state::established && !(tcp_flags & (syn | fin | rst)) &&
           (f.flags & plain_flow_flags) == plain_flow_flags_want &&
           (f.extra & plain_flow_extra) == plain_flow_extra_want;
}

// track_segment for a plain_segment: the sender's next sequence number and its newest
// acknowledgement with the window beside it (unscaled, as the segment carries it), each moved
// only forward (serial-number compares). Inline: per established packet.
inline void track_plain(flow_entry& f, direction dir, const tcp_segment& seg) {
    const size_t d = size_t(dir);
    const uint32_t end = seg.seq + seg.payload;
    if (int32_t(end - f.seq_next[d]) > 0) f.seq_next[d] = end;
    if (int32_t(seg.ack - f.ack_seen[d]) >= 0) {
        f.ack_seen[d] = seg.ack;
        f.window[d] = seg.window;
    }
}

// A client SYN that finds this flow in TIME_WAIT or CLOSE starts a new connection only when its
// sequence number lies beyond the old connection's (as Linux accepts a SYN in TIME_WAIT), or when
// it retries the very SYN of an attempt the backend refused with a bare ACK (TIME_WAIT left
// from before an LB restart, say; the client reset it and retries) and the client never ACKed;
// anything else is a replay or a forgery and must not rebind the tuple. `tracked_seq` is the
// SYN's sequence number as the flow counts the client's (shifted like judge_rst's).
bool plausible_new_syn(const flow_entry& f, uint32_t tracked_seq);

// Early drop may evict this flow: TCP not established; UDP never answered by the backend.
// `tcp`: the flow's protocol (flow_table::is_tcp).
bool evictable(const flow_entry& f, bool tcp);

// When the flow ends, the backend holds no state for its tuple (no TIME_WAIT): UDP; reset;
// handshake never answered; the client closed first and the backend finished.
bool backend_forgets_tuple(const flow_entry& f, bool tcp);

}  // namespace sluice::flow

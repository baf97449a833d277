#include "flow/tcp_track.hpp"

#include "packet/tcp_options.hpp"
#include "packet/wire.hpp"

namespace sluice::flow {

using namespace packet::tcp_flag;

namespace {

constexpr uint8_t ack_bit(direction d) {
    return d == direction::from_client ? flow_extra::ack_client : flow_extra::ack_backend;
}
constexpr uint8_t seq_bit(direction d) {
    return d == direction::from_client ? flow_flag::seq_client : flow_flag::seq_backend;
}
constexpr direction other(direction d) {
    return d == direction::from_client ? direction::from_backend : direction::from_client;
}
unsigned shift_of(const flow_entry& f, direction d) {
    if (!(f.extra & flow_extra::wscale_agreed)) return 0;
    return d == direction::from_client ? (f.wscale & 0x0f) : (f.wscale >> 4);
}

}  // namespace

rst_verdict judge_rst(const flow_entry& f, direction dir, const tcp_segment& seg,
                      uint32_t seq_shift) {
    const direction receiver = other(dir);
    const bool sender_seq = f.flags & seq_bit(dir);
    // seq_next in the sender's own numbers; ack_seen of the receiver is already in them.
    const uint32_t sender_next = f.seq_next[size_t(dir)] - seq_shift;
    if (sender_seq && seg.seq == sender_next) return rst_verdict::accept;
    if (f.extra & ack_bit(receiver)) {
        // RCV.NXT is at least what the receiver acknowledged last; its window runs from there.
        const uint32_t from = f.ack_seen[size_t(receiver)];
        if (seg.seq == from) return rst_verdict::accept;
        const uint64_t window = uint64_t(f.window[size_t(receiver)]) << shift_of(f, receiver);
        if (uint64_t(seg.seq - from) < (window ? window : 1)) return rst_verdict::in_window;
        return rst_verdict::out_of_window;
    }
    // The receiver has acknowledged nothing yet: the backend has not answered the SYN. The
    // backend's RST must acknowledge the client's SYN (RFC 9293, SYN-SENT); the client's must
    // carry the next sequence number after its SYN.
    if (dir == direction::from_backend)
        return (seg.flags & ack) && (f.flags & flow_flag::seq_client) &&
                       seg.ack == f.seq_next[size_t(direction::from_client)]
                   ? rst_verdict::accept
                   : rst_verdict::out_of_window;
    return sender_seq && seg.seq == sender_next ? rst_verdict::accept : rst_verdict::out_of_window;
}

void track_segment(flow_entry& f, direction dir, const uint8_t* tcp, const tcp_segment& seg) {
    if (seg.flags & rst) return;
    const size_t d = size_t(dir);
    const uint32_t end =
        seg.seq + seg.payload + ((seg.flags & syn) ? 1 : 0) + ((seg.flags & fin) ? 1 : 0);
    // Serial-number comparison: retransmissions and reordering never move it backwards.
    if (!(f.flags & seq_bit(dir)) || int32_t(end - f.seq_next[d]) > 0) {
        f.seq_next[d] = end;
        f.flags |= seq_bit(dir);
    }
    if (dir == direction::from_backend) {
        f.extra |= flow_extra::replied;
        if (f.state == tcp_state::syn_sent && (seg.flags & ack) && !(seg.flags & syn))
            f.extra |= flow_extra::backend_refused_syn;
    }
    if ((seg.flags & fin) && dir == direction::from_backend &&
        !(f.flags & flow_flag::fin_from_client))
        f.extra |= flow_extra::backend_closed_first;
    if (seg.flags & syn) {
        // Window scaling holds only when both SYNs carry the option (RFC 7323 §2.2).
        packet::syn_options o;
        const unsigned header = unsigned(tcp[packet::tcp_off] >> 4) * 4;
        const bool ok = packet::parse_tcp_options(tcp, header, o) && o.wscale != packet::no_wscale;
        if (dir == direction::from_client && !(seg.flags & ack)) {
            f.extra &= uint8_t(~(flow_extra::wscale_client_offered | flow_extra::wscale_agreed));
            f.wscale = ok ? o.wscale : 0;
            if (ok) f.extra |= flow_extra::wscale_client_offered;
        } else if (dir == direction::from_backend && (seg.flags & ack)) {
            if (ok && (f.extra & flow_extra::wscale_client_offered)) {
                f.wscale = uint8_t((f.wscale & 0x0f) | (o.wscale << 4));
                f.extra |= flow_extra::wscale_agreed;
            }
        }
    }
    if (seg.flags & ack) {
        if (!(f.extra & ack_bit(dir)) || int32_t(seg.ack - f.ack_seen[d]) >= 0) {
            f.ack_seen[d] = seg.ack;
            // A SYN's window is never scaled: keep it in scaled units (rounded up).
            const unsigned shift = (seg.flags & syn) ? shift_of(f, dir) : 0;
            f.window[d] = uint16_t((uint32_t(seg.window) + (1u << shift) - 1) >> shift);
        }
        f.extra |= ack_bit(dir);
    }
}

bool plausible_new_syn(const flow_entry& f, uint32_t tracked_seq) {
    if (!(f.flags & flow_flag::seq_client)) return true;
    const uint32_t next = f.seq_next[size_t(direction::from_client)];
    // The retry of a SYN the backend refused with a bare ACK (not a SYN-ACK that a spoofed
    // source reset: a flood that repeats its SYNs must not get a fresh tuple for each).
    if (!(f.extra & flow_extra::ack_client) && (f.extra & flow_extra::backend_refused_syn) &&
        tracked_seq == next - 1)
        return true;
    return int32_t(tracked_seq - next) > 0;
}

bool evictable(const flow_entry& f, bool tcp) {
    if (tcp) return f.state != tcp_state::established;
    return !(f.extra & flow_extra::replied);
}

bool backend_forgets_tuple(const flow_entry& f, bool tcp) {
    if (!tcp) return true;
    switch (f.state) {
        case tcp_state::syn_sent:
        case tcp_state::close:
            return true;
        case tcp_state::time_wait:
            return !(f.extra & flow_extra::backend_closed_first);
        default:
            return false;
    }
}

}  // namespace sluice::flow

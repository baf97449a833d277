#pragma once
// What the SYN proxy remembers about a flow it spliced (flow_flag::proxied), beside the flow
// table so that flows of unproxied VIPs do not pay for it: one entry per flow-table entry, same
// index, allocated by the control thread the first time a snapshot has a VIP with syn_proxy on
// or auto. Written and read by the flow's worker only.
#include <rte_mbuf.h>

#include <cstdint>

namespace sluice::dataplane {

inline constexpr uint32_t no_proxy_link = 0xffffffff;

struct proxy_state {
    // Client segments that arrived while the backend handshake was pending (the ACK that
    // completed the client's handshake first); replayed through the worker once it is spliced.
    static constexpr unsigned max_held = 2;
    rte_mbuf* held[max_held];
    uint32_t seq_delta;     // backend ISN - our cookie ISN: backend seq = client-side seq + delta
    uint32_t ts_delta;      // our TSval clock - the backend's: client-side TSval = backend + delta
    uint32_t client_isn;    // the client's SYN sequence number
    uint32_t cookie_isn;    // our SYN-ACK's sequence number (the cookie)
    uint32_t client_tsval;  // the client's latest TSval at accept
    // Our SYN towards the backend (RFC 6528 ISN, our own TSval clock): client data reaches the
    // backend at seq + isn_shift, TSval + ts_shift (backend_isn - client_isn, and likewise).
    uint32_t backend_isn;
    uint32_t ts_shift;
    // Retransmission of our SYN while the backend is silent (syn_retransmit_queue): the links of
    // this flow's list (flow-table indices), the tick it is due and its backoff level.
    uint32_t retransmit_prev;
    uint32_t retransmit_next;
    uint32_t retransmit_due;
    uint16_t mss;           // the client's MSS as the cookie kept it
    uint8_t client_wscale;  // packet::no_wscale when the client offered none
    uint8_t our_wscale;     // what our SYN-ACK offered the client (no_wscale: none)
    uint8_t backend_wscale;
    bool sack_ok;
    bool timestamps;
    uint8_t held_count;
    uint8_t retransmit_level;  // syn_retransmit_queue::levels when not queued
};

// The flows whose SYN to the backend is unanswered, one FIFO per backoff level (level k waits
// 1 s << k; the last level repeats). Every entry of a level waits the same time, so each FIFO
// stays sorted by due tick and a tick only looks at the heads. The lists run through the flows'
// proxy_state entries (no allocation; sized with the table at start). Worker lcore only.
struct syn_retransmit_queue {
    static constexpr unsigned levels = 7;  // 1, 2, 4, … 64 s, then every 64 s
    uint32_t head[levels];
    uint32_t tail[levels];

    syn_retransmit_queue() { clear(); }
    void clear() {
        for (unsigned l = 0; l < levels; ++l) head[l] = tail[l] = no_proxy_link;
    }
    // Appends flow `i` to `level` (its due tick already set).
    void push(proxy_state* table, uint32_t i, unsigned level) {
        proxy_state& p = table[i];
        p.retransmit_level = uint8_t(level);
        p.retransmit_next = no_proxy_link;
        p.retransmit_prev = tail[level];
        if (tail[level] == no_proxy_link)
            head[level] = i;
        else
            table[tail[level]].retransmit_next = i;
        tail[level] = i;
    }
    // Takes flow `i` off its list; nothing when it is on none.
    void unlink(proxy_state* table, uint32_t i) {
        proxy_state& p = table[i];
        if (p.retransmit_level >= levels) return;
        const unsigned l = p.retransmit_level;
        if (p.retransmit_prev == no_proxy_link)
            head[l] = p.retransmit_next;
        else
            table[p.retransmit_prev].retransmit_next = p.retransmit_next;
        if (p.retransmit_next == no_proxy_link)
            tail[l] = p.retransmit_prev;
        else
            table[p.retransmit_next].retransmit_prev = p.retransmit_prev;
        p.retransmit_level = uint8_t(levels);
    }
};

}  // namespace sluice::dataplane

#pragma once
// What the SYN proxy remembers about a flow it spliced (flow_flag::proxied), beside the flow
// table so that flows of unproxied VIPs do not pay for it: one entry per flow-table entry, same
// index, allocated by the control thread the first time a snapshot has a VIP with syn_proxy on
// or auto. Written and read by the flow's worker only.
#include <rte_mbuf.h>

#include <cstdint>

namespace sluice::dataplane {

struct proxy_state {
    // Client segments that arrived while the backend handshake was pending (the ACK that
    // completed the client's handshake first); replayed through the worker once it is spliced.
    static constexpr unsigned max_held = 2;
    rte_mbuf* held[max_held];
    uint32_t seq_delta;     // backend ISN - our cookie ISN: backend seq = client-side seq + delta
    uint32_t ts_delta;      // our TSval clock - the backend's: client-side TSval = backend + delta
    uint32_t client_isn;    // the client's SYN sequence number
    uint32_t cookie_isn;    // our SYN-ACK's sequence number (the cookie)
    uint32_t client_tsval;  // the client's latest TSval at accept (for our SYN to the backend)
    uint16_t mss;           // the client's MSS as the cookie kept it
    uint8_t client_wscale;  // packet::no_wscale when the client offered none
    uint8_t our_wscale;     // what our SYN-ACK offered the client (no_wscale: none)
    uint8_t backend_wscale;
    bool sack_ok;
    bool timestamps;
    uint8_t held_count;
};

}  // namespace sluice::dataplane

#pragma once
// TCP connection tracking as a full-NAT proxy sees it (both directions pass the LB).
// Modelled on IPVS's states, reduced to what timeouts and connection counting need.
#include <cstdint>

namespace sluice::flow {

enum class tcp_state : uint8_t {
    syn_sent,     // client SYN forwarded, waiting for the backend's SYN-ACK
    syn_recv,     // backend answered, waiting for the client's ACK
    established,  // three-way handshake complete
    fin_wait,     // one side sent FIN
    time_wait,    // both sides sent FIN
    close,        // RST seen
    count
};

enum class direction : uint8_t { from_client = 0, from_backend = 1 };

// Flag bits kept in the flow entry beside the state.
namespace flow_flag {
inline constexpr uint8_t fin_from_client = 0x01;
inline constexpr uint8_t fin_from_backend = 0x02;
inline constexpr uint8_t seq_client = 0x04;  // flow_entry::seq_next[from_client] is valid
inline constexpr uint8_t seq_backend = 0x08;
// The VIP watches connects (passive health detection): a SYN_SENT flow keeps its creation
// deadline (the connect timeout), and how the connect ends is reported.
inline constexpr uint8_t watch_connect = 0x10;
// The client's first payload has been seen (and matched against the VIP's [[vip.rule]]s), or
// the VIP had no rules when the flow was created: no inspection.
inline constexpr uint8_t inspected = 0x20;
// The SYN proxy answered the client's handshake with a cookie and opened the backend connection
// itself: segments are translated (dataplane/proxy_state.hpp). While the state is SYN_SENT the
// backend handshake is pending and client segments are held.
inline constexpr uint8_t proxied = 0x40;
// The client side (client and VIP) is IPv6 (flow_entry keeps no family byte).
inline constexpr uint8_t client_ipv6 = 0x80;
}  // namespace flow_flag

struct tcp_transition {
    tcp_state state;
    uint8_t flags;
};

// Next state after a segment with `tcp_flags` travelling in `dir`. Pure; lcore-safe.
tcp_transition tcp_next_state(tcp_state s, uint8_t flow_flags, direction dir, uint8_t tcp_flags);

const char* tcp_state_name(tcp_state s);

}  // namespace sluice::flow

#pragma once
// The generator's connections: a fixed-capacity array of emulated TCP connections (tcp_peer,
// both ends) with what each side needs to build its frames and to find the connection a received
// frame belongs to.
//
// Client side. The generator chooses each connection's client address and port from its ranges,
// index = address offset × ports + port offset, so a frame from the VIP to a client is mapped
// back to its connection by that computation alone: no hash, no memory but the array.
//
// Server side. The balancer chooses the local address and port a connection reaches its backend
// from (and the backend); the server side learns them from the connection's SYN and keeps
// (local address, backend, local port) -> index in a small open-addressing map (linear probing,
// backward-shift deletion, twice the connections in slots, allocated at construction). The
// backend is part of the key because the balancer shares a local tuple between backends
// (src/flow/tuple_pool.hpp: exclusive only within a backend's group).
//
// Which connection a SYN belongs to: nothing else identifies it (the client's address and port
// are gone after full-NAT, a SYN has no payload to stamp), so the client's initial sequence
// number carries the index and a generation: isn = generation << 24 | index, as TRex's NAT
// learning uses the SYN's sequence number. A balancer that keeps the client's sequence numbers
// (full-NAT without SYN proxy) passes it unchanged; behind a SYN proxy the balancer's SYN carries
// its own ISN and is refused as unknown_connection (docs/hil.md, "Not built yet").
//
// Threads: a table belongs to one generator lcore, which polls both sides' queues for its
// connections; no locks, no allocation after construction. Construction: control thread, at
// start; throws std::invalid_argument on an unusable configuration (it is configuration).
#include <cstdint>
#include <optional>
#include <vector>

#include "flow_order.hpp"
#include "frames.hpp"
#include "tcp_peer.hpp"

namespace sluice::loadgen {

// Index bits of the client ISN tag (10M flows fit); the remaining 8 bits count generations, so a
// SYN of a connection's previous use of its slot is not taken for the current one.
inline constexpr unsigned connection_index_bits = 24;
inline constexpr uint32_t max_connections = 1u << connection_index_bits;
// Offsets of local and backend addresses are 16 bits in a connection and in the map's key.
inline constexpr uint32_t max_side_addresses = 1u << 16;

struct table_config {
    // Client side: the generator's clients and the service they connect to.
    address_range clients;
    port_range client_ports;
    ip_address vip;
    uint16_t vip_port = 0;
    mac_address client_mac{};     // the generator's client-side port
    mac_address client_lb_mac{};  // the balancer's port facing the clients
    // Server side: the balancer's local addresses and the generator's backends (one family,
    // which may differ from the client side's: NAT64).
    address_range local;
    address_range backends;
    uint16_t backend_port = 0;
    mac_address server_mac{};     // the generator's server-side port
    mac_address server_lb_mac{};  // the balancer's port facing the backends
    // Connections and their script.
    uint32_t capacity = 1;  // <= clients × client ports, <= max_connections
    uint16_t request_len = 64;
    uint16_t response_len = 64;
    peer_script script = peer_script::cps;
};

struct connection {
    tcp_peer peer{0, 0, 1, 1};
    uint16_t local = 0;       // offset of the LB local address, once learned
    uint16_t backend = 0;     // offset of the backend, once learned
    uint16_t local_port = 0;  // once learned
    uint8_t generation = 0;   // of the current use of the slot (the ISN tag's top bits);
                              // 1..255, 0 before the first open()
    bool learned = false;     // the server side has taken this use's SYN
};

class connection_table {
public:
    explicit connection_table(const table_config& config);

    uint32_t capacity() const { return uint32_t(connections_.size()); }
    const table_config& config() const { return config_; }
    connection& at(uint32_t index) { return connections_[index]; }
    const connection& at(uint32_t index) const { return connections_[index]; }
    // The connection's packet order (flow_order.hpp), kept beside the connections so that a
    // connection stays 48 bytes: 16 more bytes a flow, one more cache line per frame at 1M flows.
    flow_order& order(uint32_t index) { return order_[index]; }

    // Starts a new use of slot `index` (lcore only): a fresh tcp_peer whose client ISN is the
    // tag of the next generation, the server side forgotten (its map entry removed), the
    // sequence numbers of both directions started again.
    void open(uint32_t index, uint32_t server_isn);
    // Removes the server side's map entry (a closed connection: the balancer may reuse the
    // local tuple). The connection keeps its state.
    void forget(uint32_t index);

    static uint32_t client_isn(uint32_t index, uint8_t generation) {
        return uint32_t(generation) << connection_index_bits | index;
    }

    // What each side puts in its frames: client -> VIP, and backend -> local (learned).
    frame_ends client_ends(uint32_t index) const;
    frame_ends server_ends(uint32_t index) const;
    // What each side accepts (for check_client_frame / check_server_frame).
    const client_side_expectation& client_expectation() const { return client_x_; }
    const server_side_expectation& server_expectation() const { return server_x_; }

    // The connection a frame checked ok on the client side belongs to: ok with `index` set,
    // unknown_connection (beyond the capacity), or stamp_mismatch (the payload names another).
    frame_verdict match_client(const received_frame& f, uint32_t& index) const;
    // The same on the server side, by the learned map. A SYN that is not a retransmission is
    // taken by its ISN tag, a UDP datagram of an unmapped tuple by its stamp, and the connection
    // learns the frame's local tuple and backend (replacing a stale mapping of the same tuple).
    // unknown_connection: no mapping, or a SYN / datagram naming no connection that waits for
    // one. Frames must have been checked ok by check_server_frame.
    frame_verdict match_server(const received_frame& f, uint32_t& index);

    // Server-side map entries in use (tests, reports).
    uint32_t learned_count() const { return map_used_; }

private:
    struct slot {
        uint64_t key = 0;
        uint32_t index = empty;
        static constexpr uint32_t empty = ~0u;
    };

    static uint64_t key_of(uint32_t local, uint32_t backend, uint16_t local_port) {
        return uint64_t(local) << 32 | uint64_t(backend) << 16 | local_port;
    }
    uint64_t key_of(const connection& c) const { return key_of(c.local, c.backend, c.local_port); }
    uint32_t home(uint64_t key) const;
    uint32_t find_slot(uint64_t key) const;  // the key's slot, or its first empty slot
    void insert(uint64_t key, uint32_t index);
    void erase_slot(uint32_t at);
    frame_verdict learn(const received_frame& f, uint64_t key, uint32_t i, uint32_t& index);

    table_config config_;
    client_side_expectation client_x_;
    server_side_expectation server_x_;
    std::vector<connection> connections_;
    std::vector<flow_order> order_;  // by connection index
    std::vector<slot> map_;
    uint32_t map_mask_ = 0;
    unsigned map_shift_ = 0;
    uint32_t map_used_ = 0;
};

}  // namespace sluice::loadgen

// The generator's connections (connection_table.hpp has the lookups and the threads).
#include "connection_table.hpp"

#include <stdexcept>
#include <string>

namespace sluice::loadgen {

namespace {

void require(bool ok, const char* what) {
    if (!ok) throw std::invalid_argument(std::string("loadgen connection table: ") + what);
}

void validate(const table_config& c) {
    require(c.clients.valid() && c.client_ports.valid(), "empty or overflowing client range");
    require(c.vip.family == c.clients.first.family, "the VIP and the clients differ in family");
    require(c.local.valid() && c.local.count <= max_side_addresses,
            "LB local addresses: empty, overflowing or more than 65536");
    require(c.backends.valid() && c.backends.count <= max_side_addresses,
            "backends: empty, overflowing or more than 65536");
    require(c.local.first.family == c.backends.first.family,
            "LB local addresses and backends differ in family");
    require(c.capacity >= 1 && c.capacity <= max_connections,
            "capacity must be 1 .. 2^24 connections");
    require(uint64_t(c.clients.count) * c.client_ports.count >= c.capacity,
            "fewer client address and port pairs than connections");
}

// An opened connection (generation 0 is never used) whose server side has not taken a SYN yet,
// so a SYN may name it.
bool awaits_syn(const connection& c) {
    return c.generation != 0 && !c.learned && c.peer.server() == server_state::listen;
}

}  // namespace

connection_table::connection_table(const table_config& config) : config_(config) {
    validate(config_);
    client_x_ = {config_.vip, config_.vip_port, config_.clients, config_.client_ports};
    server_x_ = {config_.local, config_.backends, config_.backend_port};
    connections_.resize(config_.capacity);
    order_.resize(config_.capacity);
    // At most one map entry per connection: half the slots stay free, probes stay short.
    uint32_t slots = 16;
    map_shift_ = 64 - 4;
    while (slots < 2 * uint64_t(config_.capacity)) {
        slots *= 2;
        --map_shift_;
    }
    map_.resize(slots);
    map_mask_ = slots - 1;
}

void connection_table::open(uint32_t index, uint32_t server_isn) {
    forget(index);
    connection& c = connections_[index];
    c.generation = uint8_t(c.generation == 255 ? 1 : c.generation + 1);
    c.peer = tcp_peer(client_isn(index, c.generation), server_isn, config_.request_len,
                      config_.response_len, config_.script);
    order_[index] = flow_order{};
}

void connection_table::forget(uint32_t index) {
    connection& c = connections_[index];
    if (!c.learned) return;
    const uint32_t at = find_slot(key_of(c));
    if (map_[at].index == index) erase_slot(at);
    c.learned = false;
}

frame_ends connection_table::client_ends(uint32_t index) const {
    frame_ends e;
    e.src_mac = config_.client_mac;
    e.dst_mac = config_.client_lb_mac;
    e.src = config_.clients.at(index / config_.client_ports.count);
    e.src_port = config_.client_ports.at(index % config_.client_ports.count);
    e.dst = config_.vip;
    e.dst_port = config_.vip_port;
    return e;
}

frame_ends connection_table::server_ends(uint32_t index) const {
    const connection& c = connections_[index];
    frame_ends e;
    e.src_mac = config_.server_mac;
    e.dst_mac = config_.server_lb_mac;
    e.src = config_.backends.at(c.backend);
    e.src_port = config_.backend_port;
    e.dst = config_.local.at(c.local);
    e.dst_port = c.local_port;
    return e;
}

frame_verdict connection_table::match_client(const received_frame& f, uint32_t& index) const {
    const uint64_t i = uint64_t(f.address_offset) * config_.client_ports.count + f.port_offset;
    if (i >= connections_.size()) return frame_verdict::unknown_connection;
    if (f.stamp && f.stamp->connection != i) return frame_verdict::stamp_mismatch;
    index = uint32_t(i);
    return frame_verdict::ok;
}

frame_verdict connection_table::match_server(const received_frame& f, uint32_t& index) {
    const uint64_t key = key_of(f.address_offset, f.backend_offset, f.parsed.src_port);
    const uint32_t at = find_slot(key);
    const uint32_t mapped = map_[at].index;
    if (f.protocol == l4_protocol::tcp &&
        (f.tcp.flags & (tcp_flag::syn | tcp_flag::ack)) == tcp_flag::syn) {
        // A SYN carrying the mapped connection's tag is a retransmission and stays with it
        // (tcp_peer calls it a duplicate); any other SYN opens a connection, on a new tuple or
        // on one the balancer reused.
        if (mapped == slot::empty ||
            f.tcp.seq != client_isn(mapped, connections_[mapped].generation)) {
            const uint32_t i = f.tcp.seq & (max_connections - 1);
            const bool named =
                i < connections_.size() &&
                connections_[i].generation == uint8_t(f.tcp.seq >> connection_index_bits) &&
                awaits_syn(connections_[i]);
            return named ? learn(f, key, i, index) : frame_verdict::unknown_connection;
        }
    } else if (f.protocol == l4_protocol::udp && mapped == slot::empty && f.stamp) {
        // UDP has no SYN: the first datagram's stamp names the connection.
        const uint32_t i = f.stamp->connection;
        const bool named =
            i < connections_.size() && connections_[i].generation != 0 && !connections_[i].learned;
        return named ? learn(f, key, i, index) : frame_verdict::unknown_connection;
    }
    if (mapped == slot::empty) return frame_verdict::unknown_connection;
    if (f.stamp && f.stamp->connection != mapped) return frame_verdict::stamp_mismatch;
    index = mapped;
    return frame_verdict::ok;
}

// Connection `i` takes the frame's local tuple and backend as its server side's addresses.
frame_verdict connection_table::learn(const received_frame& f, uint64_t key, uint32_t i,
                                      uint32_t& index) {
    const uint32_t at = find_slot(key);
    if (map_[at].index != slot::empty) {
        // The balancer reused a tuple we still map: the older connection loses its server side.
        connections_[map_[at].index].learned = false;
        erase_slot(at);
    }
    connection& c = connections_[i];
    c.local = uint16_t(f.address_offset);
    c.backend = uint16_t(f.backend_offset);
    c.local_port = f.parsed.src_port;
    c.learned = true;
    insert(key, i);
    index = i;
    return frame_verdict::ok;
}

uint32_t connection_table::home(uint64_t key) const {
    // Fibonacci hashing: the key's bits are spread into the top bits, which index the map.
    return uint32_t((key * 0x9e3779b97f4a7c15ull) >> map_shift_) & map_mask_;
}

uint32_t connection_table::find_slot(uint64_t key) const {
    uint32_t i = home(key);
    while (map_[i].index != slot::empty && map_[i].key != key) i = (i + 1) & map_mask_;
    return i;
}

void connection_table::insert(uint64_t key, uint32_t index) {
    // Never full: at most one entry per connection, twice as many slots.
    const uint32_t at = find_slot(key);
    if (map_[at].index == slot::empty) ++map_used_;
    map_[at] = slot{key, index};
}

// Backward-shift deletion: later entries of the probe run move up so that no lookup stops early
// at the hole, without tombstones (a long-running CPS test forgets millions of tuples).
void connection_table::erase_slot(uint32_t at) {
    uint32_t hole = at;
    for (uint32_t j = (hole + 1) & map_mask_; map_[j].index != slot::empty;
         j = (j + 1) & map_mask_) {
        const uint32_t h = home(map_[j].key);
        // The entry at j may move into the hole unless its home lies cyclically in (hole, j].
        const bool stays = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
        if (!stays) {
            map_[hole] = map_[j];
            hole = j;
        }
    }
    map_[hole] = slot{};
    --map_used_;
}

}  // namespace sluice::loadgen

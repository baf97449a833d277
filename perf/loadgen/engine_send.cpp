// The engine's sending side: frames built by frames.hpp straight into mbufs, the balancer's
// learned MAC written in, the payload stamped with the flow's next sequence number and, for one
// packet in `sample_every`, the send time; the paced offers of each mode. engine.hpp has the modes
// and the threads (the engine's lcore only).
#include <rte_cycles.h>

#include <cstring>

#include "engine.hpp"
#include "packet/wire.hpp"

namespace sluice::loadgen {

namespace {

constexpr uint16_t syn_mss = 1460;
constexpr unsigned probes_per_pick =
    8;  // flows (slots) tried for one that owes a request (is free)
constexpr uint64_t connect_timeout_ns = 1000000000;  // cps: a connection given up after 1 s

// The server side's initial sequence number of a connection's use: any value works (each side
// judges only what it sent); spread so that two uses of a slot differ.
uint32_t server_isn(uint32_t index, uint8_t generation) {
    return (index * 2654435761u) ^ (uint32_t(generation) << 28) ^ 0x5eed1234u;
}

}  // namespace

// The stamp keeps 48 bits of the time; 0 would read as "no sample".
uint64_t engine::stamp_time(uint64_t now_ns) {
    if ((sample_counter_++ % opt_.sample_every) != 0) return 0;
    const uint64_t t = now_ns & stamp_time_mask;
    return t ? t : 1;
}

// A built frame to the balancer's MAC on that side's port, counted as sent (or refused).
void engine::transmit(bool client, rte_mbuf* m, uint8_t* frame) {
    const mac_address& lb = client ? client_arp_.lb_mac() : server_arp_.lb_mac();
    std::memcpy(frame + packet::eth_dst, lb.data(), 6);
    tx_buffer& tx = client ? client_tx_ : server_tx_;
    ++(client ? cur_->sent_client : cur_->sent_server);
    const unsigned refused = tx.push(m);
    cur_->refused += refused;
    if (client) cur_->refused_client += refused;
}

void engine::send_tcp(peer_side side, uint32_t index, const segment& s, uint64_t now_ns) {
    const bool client = side == peer_side::client;
    const frame_ends ends = client ? table_.client_ends(index) : table_.server_ends(index);
    tcp_fields t;
    t.seg = s;
    t.mss = (s.flags & tcp_flag::syn) ? syn_mss : 0;
    // Only a payload that carries the stamp takes a sequence number: the numbers a side
    // receives have no gaps but losses.
    payload_stamp stamp;
    if (s.payload_len >= stamp_len)
        stamp = {index, stamp_time(now_ns), table_.order(index).next(side)};
    rte_mbuf* m = nullptr;
    uint8_t* out = frame_room(ports_.pool, max_header_len + s.payload_len, m);
    if (!out) {
        ++cur_->no_mbuf;
        return;
    }
    const size_t len = build_tcp_frame(out, max_header_len + s.payload_len, ends, t, &stamp);
    rte_pktmbuf_trim(m, uint16_t(max_header_len + s.payload_len - len));
    transmit(client, m, out);
}

void engine::send_udp(peer_side side, uint32_t index, uint64_t now_ns) {
    const bool client = side == peer_side::client;
    const frame_ends ends = client ? table_.client_ends(index) : table_.server_ends(index);
    const payload_stamp stamp{index, stamp_time(now_ns), table_.order(index).next(side)};
    const uint32_t room = max_header_len + opt_.payload;
    rte_mbuf* m = nullptr;
    uint8_t* out = frame_room(ports_.pool, room, m);
    if (!out) {
        ++cur_->no_mbuf;
        return;
    }
    const size_t len = build_udp_frame(out, room, ends, opt_.payload, &stamp);
    rte_pktmbuf_trim(m, uint16_t(room - len));
    transmit(client, m, out);
}

// Sends the segment `side` owes on connection `index`, if any; true when it sent one.
bool engine::send_due(peer_side side, uint32_t index, uint64_t now_ns) {
    const std::optional<segment> s = table_.at(index).peer.send(side);
    if (!s) return false;
    send_tcp(side, index, *s, now_ns);
    return true;
}

uint32_t engine::random_flow() {
    // xorshift64*: cheap, and good enough to spread picks over the flows.
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return uint32_t(((rng_ * 0x2545f4914f6cdd1dull) >> 32) % table_.capacity());
}

// established: the request of a random flow that owes one (a few flows are tried: the others
// wait for their response). False when none of them owed one.
bool engine::offer_request(uint64_t now_ns) {
    // Random probes, not neighbours: flows left out at opening come in runs of indices.
    for (unsigned probe = 0; probe < probes_per_pick; ++probe) {
        const uint32_t index = random_flow();
        if (table_.at(index).peer.client() == client_state::request_due) {
            send_due(peer_side::client, index, now_ns);
            return true;
        }
    }
    return false;
}

// cps: whether slot `index` may take a new connection: never used, its connection done
// (completed or reset), or given up after connect_timeout_ns.
bool engine::slot_free(uint32_t index, uint64_t now_ns) const {
    const connection& c = table_.at(index);
    return c.generation == 0 || c.peer.complete() || c.peer.failed() ||
           now_ns - opened_ns_[index] > connect_timeout_ns;
}

// cps: a new connection on the next free slot (a few are tried); false when none is free.
bool engine::offer_connection(uint64_t now_ns) {
    uint32_t index = next_slot_;
    for (unsigned probe = 0; probe < probes_per_pick; ++probe) {
        const uint32_t next = index + 1 == table_.capacity() ? 0 : index + 1;
        if (slot_free(index, now_ns)) {
            next_slot_ = next;
            table_.open(index, server_isn(index, uint8_t(table_.at(index).generation + 1)));
            opened_ns_[index] = now_ns;
            ++cur_->opened;
            send_due(peer_side::client, index, now_ns);
            return true;
        }
        index = next;
    }
    next_slot_ = index;
    return false;
}

// syn-flood: one SYN from a random spoofed source and port to the VIP. Its ISN's top byte is 0:
// no connection's tag has generation 0, so the server side tells it from real SYNs.
void engine::send_flood_syn() {
    const uint32_t r = random_flow();
    const address_range sources = flood_range(opt_);
    frame_ends ends = table_.client_ends(0);
    ends.src = sources.at(r % sources.count);
    ends.src_port = uint16_t(1024 + (r >> 8) % 64512);
    std::memcpy(ends.dst_mac.data(), client_arp_.lb_mac().data(), 6);
    tcp_fields t;
    t.seg = {uint32_t(rng_) & (max_connections - 1), 0, tcp_flag::syn, 0};
    t.mss = syn_mss;
    rte_mbuf* m = nullptr;
    uint8_t* out = frame_room(ports_.pool, max_header_len, m);
    if (!out) {
        ++cur_->no_mbuf;
        return;
    }
    const size_t len = build_tcp_frame(out, max_header_len, ends, t);
    rte_pktmbuf_trim(m, uint16_t(max_header_len - len));
    ++cur_->flood_sent;
    cur_->refused += client_tx_.push(m);
}

// `n` paced packets (cps: connections) of the mode; returns how many were offered.
unsigned engine::offer(unsigned n, uint64_t now_ns) {
    unsigned done = 0;
    for (; done < n; ++done) {
        if (opt_.mode == run_mode::udp) {
            send_udp(peer_side::client, random_flow(), now_ns);
        } else if (!(runs_connections(opt_.mode) ? offer_connection(now_ns)
                                                 : offer_request(now_ns))) {
            break;
        }
    }
    cur_->paced += done;
    return done;
}

void engine::flush() {
    const unsigned client = client_tx_.flush();
    cur_->refused += client + server_tx_.flush();
    cur_->refused_client += client;
}

}  // namespace sluice::loadgen

// Traffic generation (see traffic.hpp). Benchmark thread only.
#include "traffic.hpp"

#include <stdexcept>
#include <string>

namespace sluice::worker_bench {

namespace {

// Completes the TCP handshakes of flows [start, start + n) whose SYNs were forwarded: the
// backends' SYN-ACKs, then the clients' ACKs, each forwarded to the other port.
void complete_handshakes(harness& h, const flow_set& fs, uint32_t start, uint32_t n) {
    for (segment what : {segment::synack, segment::ack}) {
        uint32_t out = 0;
        const uint8_t port = what == segment::synack ? servers : client;
        inject(h, port, n, [&](uint32_t i, uint8_t* f) {
            return what == segment::synack ? backend_frame(f, h.macs, fs, start + i, what)
                                           : client_frame(f, h.macs, fs, start + i, what);
        });
        pump(h, [&](uint8_t p, rte_mbuf* m) {
            check_outputs_of(h, p, m);
            out += p != port;
        });
        if (out != n) throw std::runtime_error("setup: handshake packets not forwarded");
    }
}

// Opens flows [first, first + count): TCP with SYN, SYN-ACK, ACK (established); UDP with one
// datagram. Learns each flow's backend and local port from the frames the worker sends.
void open_flows(harness& h, flow_set& fs, uint32_t first, uint32_t count) {
    fs.local_port.resize(first + count);
    fs.backend.resize(first + count);
    fs.owner.resize(first + count);
    const bool tcp = fs.protocol == 6;
    constexpr uint32_t batch = 1024;
    for (uint32_t start = first; start < first + count; start += batch) {
        const uint32_t n = std::min(batch, first + count - start);
        uint32_t seen = 0;
        inject(h, client, n, [&](uint32_t i, uint8_t* f) {
            return client_frame(f, h.macs, fs, start + i, segment::open);
        });
        pump(h, [&](uint8_t port, rte_mbuf* m) {
            check_outputs_of(h, port, m);
            const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
            const l3_view v = view_of(f, m->data_len);
            if (port != servers || !v.l4 || v.v6 != fs.shape.backend_v6) return;
            const uint32_t flow = get32(f + v.l4 + (tcp ? 4 : 8));  // SYN's seq, or payload
            if (flow < start || flow >= start + n) return;
            fs.local_port[flow] = uint16_t(get16(f + v.l4));
            fs.owner[flow] = h.out_queue;
            fs.backend[flow] =
                uint16_t(v.v6 ? host6(v.dst) - first_backend_host6 : get32(v.dst) - first_backend);
            ++seen;
        });
        if (seen != n)
            throw std::runtime_error("setup: " + std::to_string(n - seen) + " of " +
                                     std::to_string(n) + " first packets not forwarded");
        if (tcp) complete_handshakes(h, fs, start, n);
    }
}

// Opens sc.flows flows and checks the runtime holds them (TCP: all established).
void open_established(harness& h, const scenario& sc, flow_set& fs) {
    open_flows(h, fs, 0, sc.flows);
    if (h.rt->flows_in_table() != sc.flows)
        throw std::runtime_error("setup: " + std::to_string(h.rt->flows_in_table()) +
                                 " flows in the table, expected " + std::to_string(sc.flows));
    if (fs.protocol == 6 && h.rt->active_flows(0) != sc.flows)
        throw std::runtime_error("setup: " + std::to_string(h.rt->active_flows(0)) + " of " +
                                 std::to_string(sc.flows) + " flows established");
}

// Data frames: random flows of `flows`, half from the client, half the backend's replies. With
// `steer` (scaling rows) each frame goes to its flow's owner's queue, as RSS (client frames, by
// flow hash) and the servers' addresses (replies, by local port) would place them.
void add_established(traffic& t, const frame_macs& macs, const flow_set& fs, uint32_t flows,
                     uint32_t packets, std::mt19937_64& rng, bool steer = false) {
    t.reserve(packets);
    if (steer) t.queue.reserve(packets);
    for (uint32_t k = 0; k < packets; ++k) {
        const uint32_t flow = uint32_t(rng() % flows);
        if (steer) t.queue.push_back(fs.owner[flow]);
        if (rng() & 1)
            t.add(client,
                  [&](uint8_t* f) { return client_frame(f, macs, fs, flow, segment::data); });
        else
            t.add(servers,
                  [&](uint8_t* f) { return backend_frame(f, macs, fs, flow, segment::data); });
    }
}

// Mixed: one packet in `one_in` a SYN of the next new flow (after the established ones), the
// others data on random established flows, both directions. Returns the new flows.
uint64_t add_mixed(traffic& t, const frame_macs& macs, const flow_set& fs, const scenario& sc,
                   std::mt19937_64& rng) {
    uint64_t new_flows = 0;
    t.reserve(sc.packets);
    for (uint32_t k = 0; k < sc.packets; ++k) {
        if (rng() % sc.row->syn_one_in == 0) {
            const uint32_t flow = sc.flows + uint32_t(new_flows++);
            t.add(client,
                  [&](uint8_t* f) { return client_frame(f, macs, fs, flow, segment::open); });
        } else {
            const uint32_t flow = uint32_t(rng() % sc.flows);
            if (rng() & 1)
                t.add(client,
                      [&](uint8_t* f) { return client_frame(f, macs, fs, flow, segment::data); });
            else
                t.add(servers,
                      [&](uint8_t* f) { return backend_frame(f, macs, fs, flow, segment::data); });
        }
    }
    return new_flows;
}

}  // namespace

prepared prepare_traffic(harness& h, const scenario& sc, std::mt19937_64& rng) {
    prepared p;
    p.flows.protocol = sc.row->protocol;
    p.flows.shape = shape_of(*sc.row);
    traffic& t = p.frames;
    t.stride = sc.frame_slots();
    switch (sc.row->traffic) {
        case pattern::io_only:  // any content: it is not looked at
            p.flows.local_port.assign(1, 1024);
            p.flows.backend.assign(1, 0);
            add_established(t, h.macs, p.flows, 1, sc.packets, rng);
            break;
        case pattern::established:
            open_established(h, sc, p.flows);
            add_established(t, h.macs, p.flows, sc.flows, sc.packets, rng, sc.scaling());
            break;
        case pattern::new_syns:
            open_established(h, sc, p.flows);
            t.reserve(sc.packets);
            for (uint32_t k = 0; k < sc.packets; ++k)
                t.add(client, [&](uint8_t* f) {
                    return client_frame(f, h.macs, p.flows, sc.flows + k, segment::open);
                });
            p.new_flows = sc.packets;
            break;
        case pattern::mixed:
            open_established(h, sc, p.flows);
            p.new_flows = add_mixed(t, h.macs, p.flows, sc, rng);
            break;
        case pattern::connections:  // no flows before; each pass's frames: connections.cpp
            p.new_flows = sc.packets;
            break;
        case pattern::syn_flood:
            t.reserve(sc.packets);
            for (uint32_t i = 0; i < sc.packets; ++i)
                t.add(client, [&](uint8_t* f) {
                    syn_frame(f, h.macs, i % spoofed_sources);
                    return syn_frame_len;
                });
            h.check.syn_acks_seen.assign(spoofed_sources, 0);
            break;
    }
    return p;
}

}  // namespace sluice::worker_bench

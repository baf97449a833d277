// Whole TCP connections (see connections.hpp). Benchmark thread only.
#include "connections.hpp"

#include <stdexcept>
#include <string>

namespace sluice::worker_bench {

namespace {

struct connection_packet {
    const char* name;
    uint8_t from;  // the port it arrives on: the client side or the backends'
    segment what;
};
constexpr connection_packet sequence[connection_packets] = {
    {"SYN", client, segment::open},         {"SYN-ACK", servers, segment::synack},
    {"ACK+request", client, segment::data}, {"response", servers, segment::response},
    {"FIN", client, segment::fin},          {"FIN-ACK", servers, segment::fin},
    {"ACK", client, segment::last_ack},
};

// What the SYNs' pass learns from the forwarded SYNs, as open_flows (traffic.cpp) does: the
// local port the worker chose and the backend, by the flow number the SYN's seq carries.
struct learner {
    flow_set* fs;
    uint32_t learnt = 0;

    static void see(void* context, uint8_t port, const rte_mbuf* m) {
        learner& l = *static_cast<learner*>(context);
        if (port != servers) return;
        const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
        const l3_view v = view_of(f, m->data_len);
        if (!v.l4 || v.protocol != 6 || v.v6 != l.fs->shape.backend_v6) return;
        const uint32_t flow = get32(f + v.l4 + 4);
        if (flow >= l.fs->local_port.size()) return;
        l.fs->local_port[flow] = uint16_t(get16(f + v.l4));
        l.fs->backend[flow] =
            uint16_t(v.v6 ? host6(v.dst) - first_backend_host6 : get32(v.dst) - first_backend);
        ++l.learnt;
    }
};

// Pass `k`: that packet of every connection through the measured loop (its frames built before,
// unmeasured), then whatever the worker still holds, unmeasured as run.cpp does after every
// scenario.
measured run_pass(harness& h, const scenario& sc, const flow_set& fs, unsigned k, learner* learn) {
    const connection_packet& p = sequence[k];
    traffic t;
    t.stride = sc.frame_slots();
    t.reserve(sc.packets);
    for (uint32_t c = 0; c < sc.packets; ++c)
        t.add(p.from, [&](uint8_t* f) {
            return p.from == client ? client_frame(f, h.macs, fs, c, p.what)
                                    : backend_frame(f, h.macs, fs, c, p.what);
        });
    const output_tap tap = learn ? output_tap{&learner::see, learn} : output_tap{};
    measured m = measure(h, t, step_kind::worker, {sc.packets, ~uint64_t(0)}, tap);
    pump(h, [&](uint8_t port, rte_mbuf* out) {
        check_outputs_of(h, port, out);
        if (learn) learner::see(learn, port, out);
        ++m.sent[port];
    });
    return m;
}

// Every packet of pass `k` in on its port and out on the other, nothing back.
void check_pass(unsigned k, uint32_t connections, const measured& m, result& r) {
    const uint8_t from = sequence[k].from;
    if (m.injected[from] == connections && m.sent[1 - from] == connections && !m.sent[from]) return;
    fail(r, std::string(sequence[k].name) + " pass: " + std::to_string(m.injected[from]) + " of " +
                std::to_string(connections) + " injected, " + std::to_string(m.sent[1 - from]) +
                " forwarded, " + std::to_string(m.sent[from]) + " sent back");
}

// The worker saw both FINs and the last ACK of every connection: TIME_WAIT (a connection the
// client closed first), none counted as active (established) any more.
void check_closed(const harness& h, uint32_t connections, result& r) {
    const flow_states s = h.rt->states();
    if (s.time_wait != connections)
        fail(r, "at the end " + std::to_string(s.time_wait) + " of " + std::to_string(connections) +
                    " flows in TIME_WAIT (established " + std::to_string(s.established) +
                    ", fin_wait " + std::to_string(s.fin_wait) + ", close " +
                    std::to_string(s.close) + ", half-open " +
                    std::to_string(s.syn_sent + s.syn_recv) + ")");
    if (const uint64_t active = h.rt->active_flows(0))
        fail(r, "at the end " + std::to_string(active) + " connections still counted active");
}

}  // namespace

const char* connection_packet_name(unsigned i) {
    return i < connection_packets ? sequence[i].name : "?";
}

void measure_connections(harness& h, const scenario& sc, flow_set& fs, result& r) {
    // drive injects whole bursts: a partial one would leave connections without their packet.
    if (sc.packets % burst)
        throw std::runtime_error("tcp_cps: connections not a multiple of " + std::to_string(burst));
    fs.local_port.assign(sc.packets, 0);
    fs.backend.assign(sc.packets, 0);
    r.connections = sc.packets;
    learner learn{&fs};
    for (unsigned k = 0; k < connection_packets; ++k) {
        const measured m = run_pass(h, sc, fs, k, k == 0 ? &learn : nullptr);
        check_pass(k, sc.packets, m, r);
        r.passes.push_back(m);
        add(r.m, m);
        if (k == 0 && learn.learnt != sc.packets) {
            // The later packets would name wrong local ports: nothing more to measure.
            fail(r, std::to_string(sc.packets - learn.learnt) + " SYNs' local ports not learnt");
            return;
        }
    }
    check_closed(h, sc.packets, r);
}

}  // namespace sluice::worker_bench

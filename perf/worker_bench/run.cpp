// One scenario from start to finish: its runtime as the row says, setup traffic, the measured
// loop, and the checks every run makes. Benchmark thread only.
#include <rte_cycles.h>

#include <algorithm>
#include <random>
#include <stdexcept>
#include <string>

#include "connections.hpp"
#include "result.hpp"

namespace sluice::worker_bench {

namespace {

// The protection the scenario measures is really in the snapshot the worker reads.
void check_protection(const harness& h, const scenario& sc) {
    const vip_protection_facts p = h.rt->tcp_vip_protection();
    if (sc.row->packet_limit && (!p.guard || p.packets_unlimited))
        throw std::runtime_error("setup: the tcp VIP has no packet limit");
    if (sc.row->syn_proxy && !p.syn_proxy_on)
        throw std::runtime_error("setup: the tcp VIP's SYN proxy is not on");
}

// New and mixed traffic runs once (a SYN opens its flow once); established traffic and the
// proxy's SYNs (it keeps no state) cycle through their frames for --seconds (smoke: once).
loop_limits limits_of(const scenario& sc, const options& o, const traffic& t, uint64_t tsc_hz) {
    const uint64_t max_cycles = o.smoke ? ~uint64_t(0) : uint64_t(o.seconds * double(tsc_hz));
    const uint64_t single_pass =
        (sc.row->single_pass || o.smoke) ? t.size() / burst * burst : ~uint64_t(0);
    return {single_pass, single_pass == ~uint64_t(0) ? max_cycles : ~uint64_t(0)};
}

// The measurement the row asks for: one loop, the passes of whole connections, or (a packet
// limit) alternating slices without and with it, each configuration --seconds in all (smoke: one
// pass each).
void measure_scenario(harness& h, const scenario& sc, const options& o, prepared& p,
                      loop_limits limits, result& r) {
    const traffic& t = p.frames;
    if (sc.row->traffic == pattern::connections) return measure_connections(h, sc, p.flows, r);
    if (sc.scaling()) {
        r.m = measure_workers(h, t, limits);
        return;
    }
    if (!sc.row->packet_limit) {
        r.m = measure(h, t, sc.row->step, limits);
        return;
    }
    const unsigned pairs = o.smoke ? 1 : 50;
    if (limits.max_cycles != ~uint64_t(0)) limits.max_cycles /= pairs;
    const parsed_config configs[2] = {
        parsed_config(config_text(*sc.row, sc.capacity, 0)),
        parsed_config(config_text(*sc.row, sc.capacity, sc.row->packet_limit))};
    const alternating a = measure_alternating(h, t, configs, pairs, limits);
    r.m = a.with;
    r.plain = a.without;
    r.pairs = a.pairs;
    r.bucket_ns = a.bucket_ns;
    r.bucket_ns_min = a.bucket_ns_min;
    r.bucket_ns_max = a.bucket_ns_max;
    r.bucket_step_ns = a.bucket_step_ns;
}

// SYN proxy: each SYN answered once on the port it came in on; nothing for the servers, no state.
void check_syn_answers(const harness& h, const worker_counts& before, result& r) {
    const uint64_t syns = r.m.injected[client];
    if (r.m.sent[client] != syns || r.m.injected[servers])
        fail(r, std::to_string(syns) + " SYNs, " + std::to_string(r.m.sent[client]) +
                    " frames back on the client port");
    if (r.m.sent[servers])
        fail(r, std::to_string(r.m.sent[servers]) + " frames sent to the servers port");
    const uint64_t cookies = h.rt->counts().syn_cookies_sent - before.syn_cookies_sent;
    if (cookies != syns)
        fail(r, std::to_string(cookies) + " SYN cookies counted for " + std::to_string(syns) +
                    " SYNs");
    if (h.rt->flows_in_table())
        fail(r, std::to_string(h.rt->flows_in_table()) + " flows in the table, expected none");
    // One pass: every source's SYN-ACK seen exactly once (twice is a bad output frame; a
    // rejected frame is not counted, and reported below).
    if (h.check.verify && !h.check.errors) {
        const auto& seen = h.check.syn_acks_seen;
        const auto answered = std::count(seen.begin(), seen.end(), 1);
        if (uint64_t(answered) != syns)
            fail(r, std::to_string(syns - uint64_t(answered)) + " SYNs without a SYN-ACK");
    }
}

// Forwarding: every frame injected on one port left on the other (early_drop: the servers port
// also sent the evicted flows' RSTs, and enough flows were evicted to make room).
void check_forwarded(const harness& h, const scenario& sc, const worker_counts& before, result& r) {
    measured all = r.m;  // every slice (established_bucket: with and without the limit)
    add(all, r.plain);
    const worker_counts now = h.rt->counts();
    const uint64_t resets = now.resets_sent - before.resets_sent;
    const uint64_t evicted = now.flows_early_dropped - before.flows_early_dropped;
    if (sc.row->early_drop) {
        all.sent[servers] -= std::min(all.sent[servers], resets);
        if (evicted + sc.capacity < r.new_flows)
            fail(r, std::to_string(evicted) + " flows early-dropped for " +
                        std::to_string(r.new_flows) + " new flows into a table of " +
                        std::to_string(sc.capacity));
    }
    for (uint8_t p = 0; p < 2; ++p)
        if (all.sent[1 - p] != all.injected[p])
            fail(r, std::to_string(all.injected[p]) + " frames injected on port " +
                        std::to_string(p) + ", " + std::to_string(all.sent[1 - p]) +
                        " sent on the other");
}

// What every run checks: each injected packet left on the other port (or was answered), nothing
// dropped, the expected flows were created, the outputs were right (smoke), the figures make
// sense.
void check_result(const harness& h, const scenario& sc, const worker_counts& before, result& r) {
    if (sc.row->traffic == pattern::syn_flood)
        check_syn_answers(h, before, r);
    else
        check_forwarded(h, sc, before, r);
    if (!sc.io_only()) {
        const worker_counts now = h.rt->counts();
        const uint64_t dropped = now.drops - before.drops;
        if (dropped) fail(r, std::to_string(dropped) + " packets dropped by the worker");
        const uint64_t created = now.flows_created - before.flows_created;
        if (created != r.new_flows)
            fail(r, std::to_string(created) + " flows created, expected " +
                        std::to_string(r.new_flows));
    }
    if (h.check.errors)
        fail(r,
             std::to_string(h.check.errors) + " bad output frames, first: " + h.check.first_error);
    for (double v : {r.mpps(), r.ns_per_packet(), r.cycles_per_packet(), r.step_mpps()})
        if (!std::isfinite(v) || v <= 0) fail(r, "a figure is not finite and positive");
    if (sc.row->packet_limit && (!r.plain.packets || !std::isfinite(r.bucket_ns)))
        fail(r, "the slices without the limit measured nothing");
}

}  // namespace

result run_scenario(harness& h, const scenario& sc, const options& o) {
    result r;
    r.sc = &sc;
    r.tsc_hz = double(h.tsc_hz);
    h.check.errors = 0;
    std::mt19937_64 rng(7);
    const uint64_t t0 = rte_rdtsc();
    h.check.expected = sc.row->output;
    h.check.local_first = sc.row->local_addresses == 16 ? pool16_first : lb_server_address;
    h.check.local_count = sc.row->local_addresses;
    h.check.shape = shape_of(*sc.row);
    start_runtime(h, parsed_config(config_text(*sc.row, sc.capacity, sc.row->packet_limit)),
                  sc.workers);
    check_protection(h, sc);
    prepared p = prepare_traffic(h, sc, rng);
    r.new_flows = p.new_flows;
    const loop_limits limits = limits_of(sc, o, p.frames, h.tsc_hz);
    r.setup_seconds = double(rte_rdtsc() - t0) / double(h.tsc_hz);

    const worker_counts before = h.rt->counts();
    measure_scenario(h, sc, o, p, limits, r);
    pump(h, [&](uint8_t port, rte_mbuf* m) {  // anything still queued counts, unmeasured
        check_outputs_of(h, port, m);
        ++r.m.sent[port];
    });
    check_result(h, sc, before, r);
    h.check.errors = 0;
    stop_runtime(h);
    return r;
}

}  // namespace sluice::worker_bench

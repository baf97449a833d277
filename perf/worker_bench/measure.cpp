// The measured loop (see measure.hpp). Benchmark thread only.
#include "measure.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

namespace sluice::worker_bench {

void add(measured& sum, const measured& m) {
    sum.packets += m.packets;
    sum.loop_cycles += m.loop_cycles;
    sum.step_cycles += m.step_cycles;
    sum.cpu_seconds += m.cpu_seconds;
    for (int p = 0; p < 2; ++p) {
        sum.injected[p] += m.injected[p];
        sum.sent[p] += m.sent[p];
    }
    for (unsigned w = 0; w < max_bench_workers; ++w) sum.by_worker[w] += m.by_worker[w];
}

namespace {

double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Feeds bursts of 32 prepared frames (cycling through `t`, whose frames take `Slots` 64-byte
// slots) until `max_packets` were injected or `max_cycles` have passed, running `step` after each
// burst and draining the TX rings (with --smoke, checking each frame as h.check says; `tap` sees
// every frame). Never inlined, so profilers can isolate it: valgrind --tool=callgrind
// --toggle-collect='*drive*' (so no other function of the benchmark has "drive" in its name).
template <unsigned Slots, class Step, class Tap>
[[gnu::noinline]] measured drive(harness& h, const traffic& t, uint64_t max_packets,
                                 uint64_t max_cycles, Step&& step, Tap&& tap) {
    measured r;
    rte_mbuf* m[burst];
    rte_mbuf* in[2][burst];
    rte_mbuf* out[64];
    size_t pos = 0;
    const double cpu_start = thread_cpu_seconds();
    const uint64_t start = rte_rdtsc();
    uint64_t now = start;
    while (r.packets < max_packets && now - start < max_cycles) {
        if (rte_pktmbuf_alloc_bulk(h.pool, m, burst) != 0) throw std::runtime_error("no mbufs");
        uint16_t n[2] = {0, 0};
        for (uint16_t i = 0; i < burst; ++i) {
            std::memcpy(rte_pktmbuf_mtod(m[i], void*), t.frames[pos * Slots].bytes, 64 * Slots);
            const uint16_t len = Slots == 1 ? frame_len : t.lengths[pos];
            m[i]->data_len = len;
            m[i]->pkt_len = len;
            m[i]->ol_flags = h.rx_ol_flags;
            const uint8_t p = t.in_port[pos];
            in[p][n[p]++] = m[i];
            if (++pos == t.size()) pos = 0;
        }
        for (uint8_t p = 0; p < 2; ++p) {
            if (!n[p]) continue;
            if (rte_ring_sp_enqueue_burst(h.rx[p][0], reinterpret_cast<void**>(in[p]), n[p],
                                          nullptr) != n[p])
                throw std::runtime_error("RX ring full");
            r.injected[p] += n[p];
        }
        const uint64_t s0 = rte_rdtsc();
        step();
        const uint64_t s1 = rte_rdtsc();
        r.step_cycles += s1 - s0;
        for (uint8_t p = 0; p < 2; ++p) {
            unsigned k;
            while ((k = rte_ring_sc_dequeue_burst(h.tx[p][0], reinterpret_cast<void**>(out), 64,
                                                  nullptr)) > 0) {
                if (h.check.verify)
                    for (unsigned i = 0; i < k; ++i) check_frame(h, p, out[i]);
                for (unsigned i = 0; i < k; ++i) tap(p, out[i]);
                rte_pktmbuf_free_bulk(out, k);
                r.sent[p] += k;
            }
        }
        r.packets += burst;
        now = rte_rdtsc();
    }
    r.loop_cycles = now - start;
    r.cpu_seconds = thread_cpu_seconds() - cpu_start;
    return r;
}

// drive with `tap`, or (none) with a tap the compiler removes: the loop of every scenario but
// tcp_cps's SYN pass is the same as without taps.
template <unsigned Slots, class Step>
measured loop_with_tap(harness& h, const traffic& t, loop_limits limits, Step&& step,
                       output_tap tap) {
    if (!tap.see)
        return drive<Slots>(h, t, limits.max_packets, limits.max_cycles, step,
                            [](uint8_t, const rte_mbuf*) {});
    return drive<Slots>(h, t, limits.max_packets, limits.max_cycles, step,
                        [tap](uint8_t p, const rte_mbuf* m) { tap.see(tap.context, p, m); });
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

measured measure(harness& h, const traffic& t, step_kind step, loop_limits limits, output_tap tap) {
    if (step == step_kind::io_forward) {
        // testpmd's io forwarding: what the harness costs with a step that touches nothing.
        auto io_forward = [&h] {
            rte_mbuf* pkts[burst];
            for (uint8_t p = 0; p < 2; ++p) {
                const uint16_t n = rte_eth_rx_burst(h.dpdk_port[p], 0, pkts, burst);
                if (!n) continue;
                const uint16_t sent = rte_eth_tx_burst(h.dpdk_port[1 - p], 0, pkts, n);
                if (sent < n) rte_pktmbuf_free_bulk(pkts + sent, n - sent);
            }
        };
        return loop_with_tap<1>(h, t, limits, io_forward, tap);
    }
    bench_runtime& rt = *h.rt;
    auto poll = [&rt] { rt.poll_once(); };
    if (t.stride == 2) return loop_with_tap<2>(h, t, limits, poll, tap);
    return loop_with_tap<1>(h, t, limits, poll, tap);
}

alternating measure_alternating(harness& h, const traffic& t, const parsed_config (&configs)[2],
                                unsigned pairs, loop_limits limits) {
    // On a shared VM two runs seconds apart differ by far more than a bucket check costs, while
    // the machine's drift touches the two halves of a pair alike.
    alternating a;
    std::vector<double> d_ns, d_step;
    auto ns = [&h](uint64_t cycles, uint64_t packets) {
        return double(cycles) * 1e9 / double(h.tsc_hz) / double(packets);
    };
    for (unsigned k = 0; k < pairs; ++k) {
        measured slice[2];  // [0] without the limit, [1] with it
        for (unsigned j = 0; j < 2; ++j) {
            const unsigned limit = (k & 1) ? 1 - j : j;
            const auto reloaded = h.rt->reload(configs[limit]);
            if (!reloaded) throw std::runtime_error("reload: " + reloaded.message());
            h.rt->poll_once();  // takes the new snapshot before the slice (nothing to receive)
            const vip_protection_facts now = h.rt->tcp_vip_protection();
            if (limit == now.packets_unlimited || (limit && !now.guard))
                throw std::runtime_error("reload: the packet limit did not change");
            slice[limit] = measure(h, t, step_kind::worker, limits);
        }
        add(a.with, slice[1]);
        add(a.without, slice[0]);
        d_ns.push_back(ns(slice[1].loop_cycles, slice[1].packets) -
                       ns(slice[0].loop_cycles, slice[0].packets));
        d_step.push_back(ns(slice[1].step_cycles, slice[1].packets) -
                         ns(slice[0].step_cycles, slice[0].packets));
    }
    a.pairs = pairs;
    a.bucket_ns = median(d_ns);
    a.bucket_ns_min = *std::min_element(d_ns.begin(), d_ns.end());
    a.bucket_ns_max = *std::max_element(d_ns.begin(), d_ns.end());
    a.bucket_step_ns = median(d_step);
    return a;
}

}  // namespace sluice::worker_bench

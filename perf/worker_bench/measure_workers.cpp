// A scaling row's measured loop (see measure.hpp): N workers, each on its own RX/TX queue pair
// of both ports. The main lcore is the feeder and also runs worker 0 between its bursts (as the
// single-worker rows do); workers 1..N-1 spin in worker::lcore_main on lcores 1..N-1. On a
// 2-vCPU machine N = 2 thus puts the feeder's whole cost (alloc, copy, enqueue, TX drain and
// free, for every worker's frames) on worker 0's core: the ratio to N = 1 understates scaling.
#include <rte_cycles.h>
#include <time.h>

#include <cstring>
#include <stdexcept>

#include "measure.hpp"

namespace sluice::worker_bench {

namespace {

double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Drains every TX queue of both ports (main lcore: the SC side of each worker's TX rings).
void drain(harness& h, measured& r) {
    rte_mbuf* out[64];
    for (uint8_t p = 0; p < 2; ++p)
        for (unsigned q = 0; q < h.queues; ++q) {
            unsigned k;
            while ((k = rte_ring_sc_dequeue_burst(h.tx[p][q], reinterpret_cast<void**>(out), 64,
                                                  nullptr)) > 0) {
                if (h.check.verify)
                    for (unsigned i = 0; i < k; ++i) check_frame(h, p, out[i]);
                rte_pktmbuf_free_bulk(out, k);
                r.sent[p] += k;
            }
        }
}

// Worker 0's pass (timed as the step) and the TX drain: what the feeder does after each burst,
// and while it waits for room (a full ring, an empty pool: the remote workers are behind).
void step_and_drain(harness& h, measured& r) {
    const uint64_t s0 = rte_rdtsc();
    h.rt->poll_once();
    r.step_cycles += rte_rdtsc() - s0;
    drain(h, r);
}

// Enqueues all `n` frames on `ring`, stepping worker 0 and draining while it is full.
void enqueue_all(harness& h, measured& r, rte_ring* ring, rte_mbuf** m, unsigned n) {
    unsigned done = 0;
    for (unsigned spins = 0; done < n; ++spins) {
        done +=
            rte_ring_sp_enqueue_burst(ring, reinterpret_cast<void**>(m + done), n - done, nullptr);
        if (done == n) return;
        if (spins > 100000000) throw std::runtime_error("RX ring stays full: a worker stopped");
        step_and_drain(h, r);
    }
}

// The feeder: bursts of 32 prepared frames, each to the queue t.queue names, until
// `limits` are reached. Never inlined: profilers isolate it like drive (measure.cpp).
template <unsigned Slots>
[[gnu::noinline]] measured drive_workers(harness& h, const traffic& t, loop_limits limits) {
    measured r;
    rte_mbuf* m[burst];
    rte_mbuf* in[2][max_bench_workers][burst];
    size_t pos = 0;
    const double cpu_start = thread_seconds();
    const uint64_t start = rte_rdtsc();
    uint64_t now = start;
    while (r.packets < limits.max_packets && now - start < limits.max_cycles) {
        // Frames queued for the remote workers hold mbufs: an empty pool waits for them.
        while (rte_pktmbuf_alloc_bulk(h.pool, m, burst) != 0) step_and_drain(h, r);
        uint16_t n[2][max_bench_workers] = {};
        for (uint16_t i = 0; i < burst; ++i) {
            std::memcpy(rte_pktmbuf_mtod(m[i], void*), t.frames[pos * Slots].bytes, 64 * Slots);
            const uint16_t len = Slots == 1 ? frame_len : t.lengths[pos];
            m[i]->data_len = len;
            m[i]->pkt_len = len;
            m[i]->ol_flags = h.rx_ol_flags;
            const uint8_t p = t.in_port[pos], q = t.queue[pos];
            in[p][q][n[p][q]++] = m[i];
            ++r.injected[p];
            ++r.by_worker[q];
            if (++pos == t.size()) pos = 0;
        }
        for (uint8_t p = 0; p < 2; ++p)
            for (unsigned q = 0; q < h.queues; ++q)
                if (n[p][q]) enqueue_all(h, r, h.rx[p][q], in[p][q], n[p][q]);
        step_and_drain(h, r);
        r.packets += burst;
        now = rte_rdtsc();
    }
    r.loop_cycles = now - start;
    r.cpu_seconds = thread_seconds() - cpu_start;
    return r;
}

}  // namespace

measured measure_workers(harness& h, const traffic& t, loop_limits limits) {
    if (t.queue.size() != t.size()) throw std::runtime_error("scaling: frames not steered");
    for (uint8_t q : t.queue)
        if (q >= h.queues) throw std::runtime_error("scaling: a flow's owner has no queue");
    h.rt->launch_others();
    measured r;
    try {
        r = t.stride == 2 ? drive_workers<2>(h, t, limits) : drive_workers<1>(h, t, limits);
    } catch (...) {
        h.rt->stop_others();
        throw;
    }
    h.rt->stop_others();
    drain(h, r);
    return r;
}

}  // namespace sluice::worker_bench

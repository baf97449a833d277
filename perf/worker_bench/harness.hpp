// The harness around the worker: EAL, the two net_ring ports' rings ("client", "servers"), the
// mbuf pool frames come from, the scenario's runtime, and the ring I/O of the unmeasured setup
// phases. Everything runs on the benchmark's main thread (EAL's main lcore); a scaling row's
// other workers run on their own lcores during its measured loop only (measure_workers.cpp).
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "addresses.hpp"
#include "bench_runtime.hpp"
#include "frames.hpp"
#include "scenarios.hpp"

namespace sluice::worker_bench {

// What the measured loop's output frames must look like (scenarios.hpp: expect), and what was
// wrong with them.
struct output_check {
    bool verify = false;  // check every output frame (smoke)
    expect expected = expect::nat;
    uint32_t local_first = lb_server_address;  // the full-NAT source pool of the scenario
    uint32_t local_count = 1;
    frame_shape shape;                   // the families of the frames on each side
    std::vector<uint8_t> syn_acks_seen;  // by spoofed source: SYN-ACKs received (syn_cookies)
    uint64_t errors = 0;
    const char* first_error = nullptr;
};

struct harness {
    // By port, then queue: queue q is worker q's (a scaling row's workers; otherwise only 0).
    rte_ring* rx[2][max_bench_workers] = {};
    rte_ring* tx[2][max_bench_workers] = {};
    unsigned queues = 1;    // queues per port of the running scenario (its workers)
    uint8_t out_queue = 0;  // collect(): the TX queue (worker) of the frame on_out sees
    rte_mempool* pool = nullptr;
    uint64_t tsc_hz = 0;
    uint64_t page_bytes = 0;            // of EAL's memory (the mbuf pool's): 4 KiB with --no-huge
    std::unique_ptr<bench_runtime> rt;  // the running scenario's
    frame_macs macs;
    uint16_t dpdk_port[2] = {};
    uint64_t rx_ol_flags = 0;  // set on every injected mbuf (--nic-checksums)
    output_check check;
};

// EAL's memory: 4 KiB pages (--no-huge, the default), or hugepages from a hugetlbfs mount.
struct eal_memory {
    uint64_t mb = 0;       // -m: reserved at start
    bool huge = false;     // hugepages instead of --no-huge
    std::string huge_dir;  // --huge-dir (empty: EAL finds a hugetlbfs mount itself)
};

// EAL with `mem` and `lcores` lcores (lcore i on the i-th usable CPU; the main lcore is 0), then
// the rings and the pool. False (and a message on stderr) when either fails.
bool start_eal(harness& h, const eal_memory& mem, unsigned lcores);
void stop_eal(harness& h);

// The frames' families as a scenario row says.
inline frame_shape shape_of(const scenario_row& row) {
    return {client_v6(row.family), backend_v6(row.family), row.dest_options};
}

// The benchmark's sluiced configuration for one scenario: `capacity` flows, the tcp VIP with the
// row's SYN proxy (and the spoofed sources' route) or `packet_limit` packets per second (0: none),
// the row's full-NAT source addresses on the servers port (1: the port's own, or 16), and its
// families (the VIPs', the backends', and the ports' IPv6 addresses and route they need).
std::string config_text(const scenario_row& row, uint32_t capacity, uint64_t packet_limit);

// Attaches fresh ring ports of `queues` RX/TX queue pairs each, starts a runtime on them (its
// config has as many workers) and answers its ARP requests until every neighbour is resolved;
// stop_runtime undoes it (also after a failed start).
void start_runtime(harness& h, const parsed_config& cfg, unsigned queues = 1);
void stop_runtime(harness& h);

// Checks one frame the measured loop or a setup phase received from the worker (output_check.cpp).
void check_frame(harness& h, uint8_t port, const rte_mbuf* m);
inline void check_outputs_of(harness& h, uint8_t port, rte_mbuf* m) {
    if (h.check.verify) check_frame(h, port, m);
}

// Dequeues everything the ports transmitted; on_out(port, mbuf) sees each frame before it is
// freed. Returns the number of frames.
template <class OnOut>
unsigned collect(harness& h, OnOut&& on_out) {
    unsigned total = 0;
    rte_mbuf* out[64];
    for (uint8_t p = 0; p < 2; ++p) {
        for (unsigned q = 0; q < h.queues; ++q) {
            h.out_queue = uint8_t(q);
            unsigned k;
            while ((k = rte_ring_sc_dequeue_burst(h.tx[p][q], reinterpret_cast<void**>(out), 64,
                                                  nullptr)) > 0) {
                for (unsigned i = 0; i < k; ++i) on_out(p, out[i]);
                rte_pktmbuf_free_bulk(out, k);
                total += k;
            }
        }
    }
    h.out_queue = 0;
    return total;
}

// Frames waiting on the RX queues of both ports.
inline unsigned rx_waiting(const harness& h) {
    unsigned n = 0;
    for (uint8_t p = 0; p < 2; ++p)
        for (unsigned q = 0; q < h.queues; ++q) n += rte_ring_count(h.rx[p][q]);
    return n;
}

// Runs the workers (all inline: no worker lcore runs outside a measured loop) until they have
// nothing left to do (setup phases, not measured).
template <class OnOut>
void pump(harness& h, OnOut&& on_out) {
    for (;;) {
        unsigned n = h.rt->poll_once();
        unsigned got = collect(h, on_out);
        if (n == 0 && got == 0 && rx_waiting(h) == 0) return;
    }
}

// Puts `count` frames built by build(i, frame), which returns the frame's length, on the RX ring
// of `port`'s queue 0 (a scaling row's worker 0 hands other workers' flows on, as the runtime
// steers any frame on the wrong queue).
template <class Build>
void inject(harness& h, uint8_t port, uint32_t count, Build&& build) {
    rte_mbuf* m[burst];
    for (uint32_t done = 0; done < count;) {
        const uint32_t n = std::min<uint32_t>(burst, count - done);
        if (rte_pktmbuf_alloc_bulk(h.pool, m, n) != 0) throw std::runtime_error("out of mbufs");
        for (uint32_t i = 0; i < n; ++i) {
            const uint16_t len = build(done + i, rte_pktmbuf_mtod(m[i], uint8_t*));
            m[i]->data_len = len;
            m[i]->pkt_len = len;
        }
        if (rte_ring_sp_enqueue_burst(h.rx[port][0], reinterpret_cast<void**>(m), n, nullptr) != n)
            throw std::runtime_error("RX ring full during setup");
        done += n;
    }
}

}  // namespace sluice::worker_bench

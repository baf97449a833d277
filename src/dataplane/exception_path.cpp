#include "dataplane/exception_path.hpp"

#include <algorithm>

#include "common/clock.hpp"
#include "dataplane/mbuf_meta.hpp"

namespace sluice::dataplane {

namespace {

// Frames taken from one ring at a time: also how far a drain may overrun its time budget.
constexpr unsigned dequeue_chunk = 8;

}  // namespace

void exception_path::add_worker(rte_ring* neighbor_ring, rte_ring* kernel_ring) {
    neighbor_.rings.push_back(neighbor_ring);
    kernel_.rings.push_back(kernel_ring);
}

template <class Handle>
unsigned exception_path::drain(ring_set& set, exception_budget budget, Handle&& handle,
                               bool& left) {
    const size_t n_rings = set.rings.size();
    left = false;
    if (n_rings == 0) return 0;
    const uint64_t give_up = monotonic_ns() + budget.time_ns;
    unsigned done = 0;
    rte_mbuf* pkts[dequeue_chunk];
    // Rounds over the rings, a chunk from each, until the budget is spent or a round finds
    // every ring empty. Time is checked per chunk: a frame taken off its ring is always handled
    // (the control thread must not enqueue on a worker's single-producer ring).
    for (bool any = true; any;) {
        any = false;
        for (size_t k = 0; k < n_rings; ++k) {
            if (done >= budget.frames || monotonic_ns() >= give_up) {
                any = false;
                break;
            }
            rte_ring* r = set.rings[(set.next + k) % n_rings];
            const unsigned want = std::min(dequeue_chunk, budget.frames - done);
            unsigned n =
                rte_ring_sc_dequeue_burst(r, reinterpret_cast<void**>(pkts), want, nullptr);
            for (unsigned i = 0; i < n; ++i) handle(pkts[i]);
            done += n;
            any |= n > 0;
        }
    }
    set.next = (set.next + 1) % n_rings;
    for (rte_ring* r : set.rings) left |= rte_ring_count(r) > 0;
    return done;
}

exception_path::pass_result exception_path::poll(const neighbor_handler& neighbor) {
    pass_result r;
    r.neighbor_frames = drain(neighbor_, neighbor_pass_budget, neighbor, r.neighbor_left);
    r.kernel_frames = drain(
        kernel_, kernel_pass_budget,
        [this](rte_mbuf* m) { deliver_to_kernel(meta_of(m).in_port, m); }, r.kernel_left);
    if (r.neighbor_left) bump(counters_.neighbor_budget_exhausted);
    if (r.kernel_left) bump(counters_.kernel_budget_exhausted);
    return r;
}

void exception_path::deliver_to_kernel(uint16_t port, rte_mbuf* m) {
    if (!sink_) {
        rte_pktmbuf_free(m);
        bump(counters_.kernel_dropped);
        return;
    }
    bump(sink_(port, m) ? counters_.kernel_delivered : counters_.kernel_dropped);
}

}  // namespace sluice::dataplane

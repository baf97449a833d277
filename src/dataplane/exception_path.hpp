#pragma once
// The control thread's intake of the exception path: each worker hands it frames through two
// SP/SC rings, neighbour work (ARP, resolution requests) on one and frames for the host kernel
// (ICMP to an LB address, answers to kernel sockets) on the other. One control pass drains the
// neighbour rings first, then the kernel rings, each within its own budget of frames and time,
// so a pass returns quickly whatever arrives: what is left waits in the rings for the next pass
// and a full ring drops in the worker (`exception_ring_full`, `kernel_ring_full`). The workers
// rate-limit kernel-bound frames before the ring (`kernel_rate_limited`), so a flood mostly
// never reaches the ring at all. Control thread only.
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "dataplane/counters.hpp"

namespace sluice::dataplane {

// What one control pass may spend on one kind of exception frames: at most `frames`, and no more
// taken off the rings once `time_ns` have passed since the kind's drain started (checked every
// 8 frames, so a slow sink can overrun by up to 7 frames' time).
struct exception_budget {
    unsigned frames;
    uint64_t time_ns;
};

// Why these numbers: the control loop runs a pass about every 250 µs (a 200 µs sleep plus the
// pass); with both budgets spent a pass still ends within ~2 ms, far inside the 1 s an API
// client, a health probe (timeouts of 0.5 s and up) or RCU reclamation can wait.
// Neighbour work is handled in-process (an ARP answer is one mbuf to a ring), ~1 µs a frame:
// 256 frames a pass is ~1 M frames/s of headroom, more than any real ARP load, and what an ARP
// flood leaves in the ring only delays ARP, not the rest of the control thread.
// A kernel-bound frame is one TAP write (a syscall, a few µs): 64 a pass is ~256 k frames/s, far
// above the workers' default rate limit (kernel_packets_per_second = 10000), so in normal
// operation the ring never backs up; the time cap holds when the kernel reads slowly.
inline constexpr exception_budget neighbor_pass_budget{256, 1000000};
inline constexpr exception_budget kernel_pass_budget{64, 1000000};

class exception_path {
public:
    // Takes the mbuf; false when the kernel did not (no TAP or its queue full). `port` is the
    // snapshot port the frame arrived on.
    using kernel_sink = std::function<bool(uint16_t port, rte_mbuf* m)>;
    // Takes the mbuf: an ARP or resolution request from a worker.
    using neighbor_handler = std::function<void(rte_mbuf* m)>;

    explicit exception_path(control_counters& counters) : counters_(counters) {}

    // One worker's rings, in worker order. Before the first poll.
    void add_worker(rte_ring* neighbor_ring, rte_ring* kernel_ring);
    void clear() {
        neighbor_ = {};
        kernel_ = {};
    }
    // Where kernel-bound frames are written (the TAPs by default; a test replaces it).
    void set_kernel_sink(kernel_sink sink) { sink_ = std::move(sink); }

    struct pass_result {
        unsigned neighbor_frames = 0, kernel_frames = 0;
        bool neighbor_left = false, kernel_left = false;  // a budget ran out with frames waiting
    };
    // One pass: neighbour frames to `neighbor` within neighbor_pass_budget, then kernel frames to
    // the sink within kernel_pass_budget; workers served round robin, starting one further each
    // pass so none is always last.
    pass_result poll(const neighbor_handler& neighbor);
    // Hands one frame to the kernel sink, counted (kernel_delivered / kernel_dropped).
    void deliver_to_kernel(uint16_t port, rte_mbuf* m);

private:
    struct ring_set {
        std::vector<rte_ring*> rings;
        size_t next = 0;  // worker served first in the next pass
    };
    template <class Handle>
    static unsigned drain(ring_set& set, exception_budget budget, Handle&& handle, bool& left);

    control_counters& counters_;
    ring_set neighbor_, kernel_;
    kernel_sink sink_;
};

}  // namespace sluice::dataplane

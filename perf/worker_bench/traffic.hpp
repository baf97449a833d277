// Traffic generation: the flows a scenario opens before its measurement (an unmeasured setup
// phase through the worker) and the frames its measured loop feeds, prepared in memory.
// Benchmark thread only.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "frames.hpp"
#include "harness.hpp"
#include "scenarios.hpp"

namespace sluice::worker_bench {

// Prepared traffic: frames copied into mbufs by the measured loop, and the port each arrives on.
// A frame takes `stride` consecutive 64-byte slots (2 for the 74-byte SYNs with options and the
// IPv6 frames of up to 88 bytes).
struct alignas(64) frame_slot {
    uint8_t bytes[64];
};
struct traffic {
    std::vector<frame_slot> frames;
    std::vector<uint8_t> in_port;
    std::vector<uint16_t> lengths;  // two-slot frames' lengths; one-slot frames are frame_len
    // Scaling rows: the RX queue (its flow's owner) of each frame; empty: queue 0.
    std::vector<uint8_t> queue;
    unsigned stride = 1;
    void reserve(size_t n) {
        frames.reserve(n * stride);
        in_port.reserve(n);
        if (stride > 1) lengths.reserve(n);
    }
    // Adds a frame written by build(bytes), which returns the frame's length.
    template <class Build>
    void add(uint8_t port, Build&& build) {
        frames.resize(frames.size() + stride);
        in_port.push_back(port);
        const uint16_t len = build(frames[frames.size() - stride].bytes);
        if (stride > 1) lengths.push_back(len);
    }
    size_t size() const { return in_port.size(); }
};

// A scenario's traffic and what setup made for it.
struct prepared {
    flow_set flows;
    traffic frames;
    uint64_t new_flows = 0;  // flows the frames open (each SYN of a new flow)
};

// Opens the scenario's established flows (checking they are all in the table, and for TCP
// ESTABLISHED), then builds its frames from `rng` as the row's pattern says.
prepared prepare_traffic(harness& h, const scenario& sc, std::mt19937_64& rng);

}  // namespace sluice::worker_bench

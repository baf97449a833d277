#pragma once
// A request for a copy of (some of) a worker's flows, for `sluicectl show flows`. One per worker,
// owned by the runtime. The control thread fills the filter and sets `state` to requested; the
// worker copies matching entries a slice of its table per poll (never stalling forwarding for a
// whole-table walk) and sets `state` to done; the control thread reads the copies and sets it
// back to idle. The atomic state orders every other field between the two threads.
#include <atomic>
#include <cstdint>
#include <vector>

#include "flow/flow_table.hpp"

namespace sluice::dataplane {

struct flow_dump {
    enum status : int { idle, requested, done };
    std::atomic<int> state{idle};
    // Filter, written by control before `requested`: backend ids to include (empty: all).
    std::vector<uint32_t> backend_ids;
    uint32_t limit = 100;
    // Written by the worker before `done`.
    std::vector<flow::flow_entry> flows;  // reserved to `limit` by control: no worker allocation
    uint32_t now_tick = 0;                // the worker's clock, to turn deadlines into seconds
    bool truncated = false;               // more flows matched than `limit`
    uint32_t cursor = 0;                  // worker's sweep position
};

}  // namespace sluice::dataplane

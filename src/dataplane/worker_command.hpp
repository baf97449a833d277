#pragma once
// Control → worker requests, the one channel between the control thread and a worker besides
// the published snapshot: each worker has an SP/SC ring of requests (control enqueues) and one of
// completions (the worker hands the same object back when it is done). The control thread
// allocates every command and frees it only after its completion came back, so a worker never
// touches freed memory, and the worker never allocates: whatever it fills in (a flow listing)
// was reserved by control. The rings' release/acquire order everything written before an
// enqueue for the side that dequeues it.
#include <cstdint>
#include <vector>

#include "dataplane/proxy_state.hpp"
#include "flow/flow_table.hpp"
#include "model/snapshot.hpp"

namespace sluice::dataplane {

enum class command_kind : uint8_t {
    list_flows,          // copy matching flows (show flows), a table slice per poll
    reset_flows,         // RST and forget the flows of some backends, a table slice per poll
    attach_proxy_state,  // the SYN proxy's per-flow table, before a snapshot that proxies
    stop,                // leave lcore_main after this pass
};

struct worker_command {
    command_kind kind;
    uint64_t tag = 0;  // control's own: which request (flow listing) this belongs to
    // reset_flows: the sweep starts once the worker runs a snapshot of at least this generation
    // (the one that disabled the backend), so no flow created under an older one is missed.
    uint64_t generation = 0;

    // list_flows. Filter: backend ids to include (empty: all). The worker appends to `flows`
    // (reserved to `limit` by control) and sets `truncated` when more matched.
    std::vector<uint32_t> backend_ids;
    uint32_t limit = 0;
    std::vector<flow::flow_entry> flows;
    uint32_t now_tick = 0;  // the worker's clock when done: turns deadlines into seconds
    bool truncated = false;

    // reset_flows.
    std::vector<model::reset_target> resets;

    // attach_proxy_state: one entry per flow-table entry, owned by the runtime.
    proxy_state* proxy_table = nullptr;
};

}  // namespace sluice::dataplane

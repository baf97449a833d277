// A worker's side of its command ring (worker_command.hpp): takes requests at the start of a
// poll pass, works on the long ones (flow listing, reset sweeps) a table slice per pass in
// housekeeping, and hands each command back on the completion ring when it is done. Worker
// lcore only.
#include <rte_ring.h>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"

namespace sluice::dataplane {

using flow::flow_entry;
using model::snapshot;

void worker::take_commands() {
    if (!commands) return;
    void* got[max_commands];
    const unsigned n = rte_ring_sc_dequeue_burst(commands, got, max_commands, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        auto* c = static_cast<worker_command*>(got[i]);
        switch (c->kind) {
            case command_kind::attach_proxy_state:
                proxy_.attach(c->proxy_table);
                complete(c);
                break;
            case command_kind::stop:
                stopping_ = true;
                complete(c);
                break;
            case command_kind::list_flows:
                // Control sends one listing at a time; a second one waits for the first.
                if (listing_) complete(listing_);
                listing_ = c;
                listing_cursor_ = 0;
                break;
            case command_kind::reset_flows:
                // Control keeps at most max_commands in flight, so there is always room. A
                // new target restarts the sweep: flows already passed must be checked too.
                resets_[n_resets_++] = c;
                reset_cursor_ = 0;
                break;
        }
    }
}

void worker::complete(worker_command* c) {
    // The completion ring holds every command control may have in flight: this cannot fail
    // (a full ring would mean a control bug; the command is then leaked, not freed twice).
    (void)rte_ring_sp_enqueue(completions, c);
}

void worker::hand_back_commands() {
    for (unsigned i = 0; i < n_resets_; ++i) complete(resets_[i]);
    n_resets_ = 0;
    if (listing_) complete(listing_);
    listing_ = nullptr;
}

void worker::run_commands(const snapshot& s) {
    if (n_resets_) sweep_resets(s);
    if (listing_) serve_listing();
}

void worker::sweep_resets(const snapshot& s) {
    // Wait until this worker runs the snapshot the resets were sent after (the one that took
    // the backend out of scheduling): flows created under older ones are then all in the table.
    for (unsigned i = 0; i < n_resets_; ++i)
        if (resets_[i]->generation > s.generation) return;
    const uint32_t end = reset_cursor_ + sweep_slice;
    flows_->for_each_in(reset_cursor_, end, [&](flow_entry& f) {
        for (unsigned i = 0; i < n_resets_; ++i) {
            for (const model::reset_target& r : resets_[i]->resets) {
                if (r.backend_id != f.backend_id) continue;
                reset_flow(s, f, r.cause);
                return;
            }
        }
    });
    if (end < flows_->capacity()) {
        reset_cursor_ = end;
        return;
    }
    for (unsigned i = 0; i < n_resets_; ++i) complete(resets_[i]);
    n_resets_ = 0;
}

void worker::serve_listing() {
    worker_command& d = *listing_;
    const uint32_t end = listing_cursor_ + sweep_slice;
    flows_->for_each_in(listing_cursor_, end, [&](flow_entry& f) {
        if (!d.backend_ids.empty()) {
            bool wanted = false;
            for (uint32_t id : d.backend_ids) wanted |= id == f.backend_id;
            if (!wanted) return;
        }
        if (d.flows.size() < d.limit)
            d.flows.push_back(f);  // reserved by control: no allocation here
        else
            d.truncated = true;
    });
    listing_cursor_ = end;
    if (end < flows_->capacity() && !d.truncated) return;
    d.now_tick = now_tick_;
    complete(listing_);
    listing_ = nullptr;
}

}  // namespace sluice::dataplane

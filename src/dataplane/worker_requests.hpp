#pragma once
// The control thread's requests to the workers over their command rings (command_channel.hpp):
// flow resets, flow listings, the SYN proxy's table, stop. A listing is answered from a later
// control pass (collect), so `show flows` never blocks the control loop. Control thread only;
// the runtime owns it, and the workers it names outlive it.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "control/dataplane_view.hpp"
#include "dataplane/command_channel.hpp"
#include "dataplane/proxy_state.hpp"
#include "dataplane/worker.hpp"
#include "model/snapshot.hpp"

namespace sluice::dataplane {

class worker_requests {
public:
    using listed_flow = control::dataplane_view::listed_flow;
    using flow_list = control::dataplane_view::flow_list;
    using flows_listed = control::dataplane_view::flows_listed;

    explicit worker_requests(const std::vector<std::unique_ptr<worker>>& workers)
        : workers_(workers) {}

    // Creates worker w's command rings and wires them into the worker. Throws on failure.
    void add_worker(unsigned w);
    // A reset command to each worker, which sweeps its table in slices once it runs snapshot
    // `generation` or later (RST to both sides for TCP).
    void reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why, uint64_t generation);
    // Copies of up to `limit` flows of the backend ids `ids` (all flows when empty) from every
    // worker. `done` gets the flows from a later collect(), or an error: at once when another
    // listing is running, later when the workers did not answer within `max_wait_ms`.
    void list_flows(const std::vector<uint32_t>& ids, uint32_t limit, flows_listed done,
                    unsigned max_wait_ms = 2000);
    // Gives worker w its SYN proxy table past the backlog, so that it has the table before the
    // snapshot that needs it. Throws when the ring is full.
    void attach_proxy_state(unsigned w, proxy_state* table);
    // A stop command to each worker, past the backlog (taking completions while a ring is full).
    void send_stop();
    // Commands sent or waiting and not yet completed, over all workers.
    unsigned outstanding() const;
    // Takes the workers' completed commands, answers a finished or timed-out listing, sends
    // what the backlog may now send.
    void collect();
    // The workers stopped: takes back what they still held and frees it; a running listing is
    // dropped unanswered (the daemon is stopping).
    void abandon();
    // Frees every command and the rings.
    void clear() { channel_.clear(); }

private:
    struct flow_listing {
        uint64_t tag;
        unsigned waiting;  // workers still copying
        uint64_t deadline_ns;
        uint32_t limit;
        std::vector<std::unique_ptr<worker_command>> parts;  // by worker, once completed
        flows_listed done;
    };
    void on_completed(unsigned w, std::unique_ptr<worker_command> c);
    void finish_listing(const result<>& outcome);

    const std::vector<std::unique_ptr<worker>>& workers_;
    command_channel channel_;
    std::optional<flow_listing> listing_;
    uint64_t listing_tag_ = 0;
};

}  // namespace sluice::dataplane

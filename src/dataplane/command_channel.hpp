#pragma once
// The control thread's side of the workers' command rings (worker_command.hpp). Control thread
// only. A command is owned here from send() until its completion came back and was handed to
// the caller's callback; commands beyond what a worker may have in flight wait in a backlog and
// go out on a later pump(), in order. Urgent commands (attach_proxy_state, stop) skip the
// backlog: they must reach the worker before the snapshot that needs them is published.
#include <rte_ring.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/worker_command.hpp"

namespace sluice::dataplane {

class command_channel {
public:
    using completed = std::function<void(unsigned worker, std::unique_ptr<worker_command>)>;

    // Creates worker w's request and completion rings (named after w). Throws on failure.
    void add_worker(unsigned w, rte_ring*& requests, rte_ring*& completions);
    // Queues `c` for worker w, sent now when the worker has room, else by a later pump().
    void send(unsigned w, std::unique_ptr<worker_command> c);
    // Enqueues `c` now, past the backlog; false (`c` kept) when the ring has no room.
    bool send_now(unsigned w, std::unique_ptr<worker_command>& c);
    // Takes every completion (each goes to `done`, then is freed unless `done` keeps it) and
    // sends what the backlog may now send.
    void pump(const completed& done);
    // Commands sent or waiting for worker w, not yet completed.
    unsigned outstanding(unsigned w) const;
    unsigned workers() const { return unsigned(workers_.size()); }
    // Workers stopped: frees every command and both rings of each worker.
    void clear();
    ~command_channel() { clear(); }

private:
    struct per_worker {
        rte_ring* requests = nullptr;
        rte_ring* completions = nullptr;
        unsigned in_flight = 0;  // enqueued on requests, not yet completed
        std::deque<std::unique_ptr<worker_command>> backlog;
    };
    void flush_backlog(per_worker& p);
    std::deque<per_worker> workers_;  // no relocation: a per_worker holds a deque of commands
};

}  // namespace sluice::dataplane

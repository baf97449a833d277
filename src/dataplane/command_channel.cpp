#include "dataplane/command_channel.hpp"

#include <rte_errno.h>
#include <rte_lcore.h>

#include <stdexcept>

#include "dataplane/worker.hpp"

namespace sluice::dataplane {

namespace {

// Room for every command a worker may have in flight plus the urgent ones (a proxy table once,
// a stop once) with margin; a power of two minus one usable slot.
constexpr unsigned ring_slots = 4 * worker::max_commands;

rte_ring* make_ring(const std::string& name) {
    rte_ring* r = rte_ring_create(name.c_str(), ring_slots, int(rte_socket_id()),
                                  RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!r) throw std::runtime_error("cannot create ring " + name + ": " + rte_strerror(rte_errno));
    return r;
}

}  // namespace

void command_channel::add_worker(unsigned w, rte_ring*& requests, rte_ring*& completions) {
    if (workers_.size() <= w) workers_.resize(w + 1);
    per_worker& p = workers_[w];
    p.requests = make_ring("cmd_" + std::to_string(w));
    p.completions = make_ring("cmd_done_" + std::to_string(w));
    requests = p.requests;
    completions = p.completions;
}

void command_channel::send(unsigned w, std::unique_ptr<worker_command> c) {
    per_worker& p = workers_.at(w);
    p.backlog.push_back(std::move(c));
    flush_backlog(p);
}

bool command_channel::send_now(unsigned w, std::unique_ptr<worker_command>& c) {
    per_worker& p = workers_.at(w);
    if (rte_ring_sp_enqueue(p.requests, c.get()) != 0) return false;
    c.release();  // the worker holds it until it hands it back
    ++p.in_flight;
    return true;
}

void command_channel::flush_backlog(per_worker& p) {
    while (!p.backlog.empty() && p.in_flight < worker::max_commands) {
        if (rte_ring_sp_enqueue(p.requests, p.backlog.front().get()) != 0) return;
        p.backlog.front().release();
        p.backlog.pop_front();
        ++p.in_flight;
    }
}

void command_channel::pump(const completed& done) {
    for (unsigned w = 0; w < workers_.size(); ++w) {
        per_worker& p = workers_[w];
        if (!p.completions) continue;
        void* got[worker::max_commands];
        unsigned n;
        while ((n = rte_ring_sc_dequeue_burst(p.completions, got, worker::max_commands, nullptr)) >
               0) {
            for (unsigned i = 0; i < n; ++i) {
                --p.in_flight;
                done(w, std::unique_ptr<worker_command>(static_cast<worker_command*>(got[i])));
            }
        }
        flush_backlog(p);
    }
}

unsigned command_channel::outstanding(unsigned w) const {
    const per_worker& p = workers_.at(w);
    return p.in_flight + unsigned(p.backlog.size());
}

void command_channel::clear() {
    for (per_worker& p : workers_) {
        void* c;
        for (rte_ring* r : {p.requests, p.completions}) {
            if (!r) continue;
            while (rte_ring_dequeue(r, &c) == 0) delete static_cast<worker_command*>(c);
            rte_ring_free(r);
        }
    }
    workers_.clear();
}

}  // namespace sluice::dataplane

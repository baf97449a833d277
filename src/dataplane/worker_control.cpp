// The runtime's requests to its workers over their command rings (command_channel.hpp): flow
// resets, flow listings, the SYN proxy's table, stop. Control thread only.
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <stdexcept>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "dataplane/runtime.hpp"

namespace sluice::dataplane {

void runtime::reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why) {
    if (ids.empty()) return;
    const uint64_t generation = snapshot_.load()->generation;
    for (unsigned w = 0; w < workers_.size(); ++w) {
        auto c = std::make_unique<worker_command>();
        c->kind = command_kind::reset_flows;
        c->generation = generation;
        for (uint32_t id : ids) c->resets.push_back({id, why});
        commands_.send(w, std::move(c));
    }
}

void runtime::list_flows(const std::vector<uint32_t>& ids, uint32_t limit, flows_listed done,
                         unsigned max_wait_ms) {
    if (listing_) {
        done(fail("an earlier flow listing is still running; try again"));
        return;
    }
    listing_ = flow_listing{++listing_tag_,
                            unsigned(workers_.size()),
                            monotonic_ns() + uint64_t(max_wait_ms) * 1000000,
                            limit,
                            {},
                            std::move(done)};
    listing_->parts.resize(workers_.size());
    for (unsigned w = 0; w < workers_.size(); ++w) {
        auto c = std::make_unique<worker_command>();
        c->kind = command_kind::list_flows;
        c->tag = listing_->tag;
        c->backend_ids = ids;
        c->limit = limit;
        c->flows.reserve(limit);  // the worker appends without allocating
        commands_.send(w, std::move(c));
    }
}

unsigned runtime::commands_outstanding() const {
    unsigned n = 0;
    for (unsigned w = 0; w < commands_.workers(); ++w) n += commands_.outstanding(w);
    return n;
}

void runtime::collect_commands() {
    commands_.pump(
        [this](unsigned w, std::unique_ptr<worker_command> c) { on_completed(w, std::move(c)); });
    if (listing_ && monotonic_ns() > listing_->deadline_ns)
        finish_listing(fail("the workers did not answer within the listing's time limit"));
}

void runtime::on_completed(unsigned w, std::unique_ptr<worker_command> c) {
    // Only listings carry results; a listing that timed out leaves late parts to be freed.
    if (c->kind != command_kind::list_flows || !listing_ || c->tag != listing_->tag) return;
    listing_->parts[w] = std::move(c);
    if (--listing_->waiting == 0) finish_listing(result<>{});
}

void runtime::finish_listing(const result<>& outcome) {
    flow_listing l = std::move(*listing_);
    listing_.reset();  // before `done`, which may start the next listing
    if (!outcome) return l.done(outcome.error());
    flow_list out;
    for (unsigned i = 0; i < l.parts.size(); ++i) {
        const worker_command& d = *l.parts[i];
        const flow::flow_table& table = workers_[i]->flows();
        out.truncated |= d.truncated;
        for (const flow::flow_entry& f : d.flows) {
            if (out.flows.size() == l.limit) {
                out.truncated = true;
                break;
            }
            double left = double(int32_t(f.expire_tick - d.now_tick)) / ticks_per_second;
            const uint8_t* local = table.local_address(f);
            out.flows.push_back({i, f,
                                 f.client.family == 4 ? ip_address::v4_from_network(local)
                                                      : ip_address::v6_from_network(local),
                                 left < 0 ? 0 : left});
        }
    }
    l.done(out);
}

void runtime::ensure_proxy_state(const model::snapshot& s) {
    if (!s.uses_syn_proxy() || !proxy_memory_.empty()) return;
    // Once, the first time a VIP proxies: one proxy_state per flow-table entry per worker, sent
    // past the backlog before the snapshot that needs it is published: a worker takes its
    // commands right after loading a snapshot, so it has the table before its first packet.
    for (unsigned w = 0; w < workers_.size(); ++w) {
        const size_t bytes = sizeof(proxy_state) * workers_[w]->flows().capacity();
        void* mem = rte_zmalloc("sluice_proxy", bytes, RTE_CACHE_LINE_SIZE);
        if (!mem) throw std::runtime_error("cannot allocate SYN proxy state");
        proxy_memory_.push_back(mem);
        auto c = std::make_unique<worker_command>();
        c->kind = command_kind::attach_proxy_state;
        c->proxy_table = static_cast<proxy_state*>(mem);
        if (!commands_.send_now(w, c))
            throw std::runtime_error("worker " + std::to_string(w) +
                                     "'s command ring is full: cannot attach the SYN proxy state");
    }
    SLUICE_LOG_INFO(
        "syn proxy: state for %u flows per worker (%zu bytes each), at most %u "
        "held client segments per worker",
        workers_.empty() ? 0 : workers_[0]->flows().capacity(), sizeof(proxy_state),
        workers_.empty() ? 0 : workers_[0]->setup().proxy_max_held);
}

void runtime::stop_workers() {
    if (launched_) {
        for (unsigned w = 0; w < workers_.size(); ++w) {
            auto c = std::make_unique<worker_command>();
            c->kind = command_kind::stop;
            // The ring has room past every in-flight command; should a worker lag behind
            // anyway, make room by taking its completions.
            while (!commands_.send_now(w, c)) {
                collect_commands();
                rte_delay_us_sleep(100);
            }
        }
        rte_eal_mp_wait_lcore();
    }
    launched_ = false;
    // Whatever the workers still worked on comes back now and is freed.
    for (auto& w : workers_) w->hand_back_commands();
    collect_commands();
    if (listing_) listing_.reset();  // its client is answered by nobody: the daemon is stopping
}

}  // namespace sluice::dataplane

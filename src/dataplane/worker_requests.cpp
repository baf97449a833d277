#include "dataplane/worker_requests.hpp"

#include <rte_cycles.h>

#include <stdexcept>
#include <string>

#include "common/clock.hpp"

namespace sluice::dataplane {

void worker_requests::add_worker(unsigned w) {
    channel_.add_worker(w, workers_[w]->commands, workers_[w]->completions);
}

void worker_requests::reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why,
                                  uint64_t generation) {
    if (ids.empty()) return;
    for (unsigned w = 0; w < workers_.size(); ++w) {
        auto c = std::make_unique<worker_command>();
        c->kind = command_kind::reset_flows;
        c->generation = generation;
        for (uint32_t id : ids) c->resets.push_back({id, why});
        channel_.send(w, std::move(c));
    }
}

void worker_requests::list_flows(const std::vector<uint32_t>& ids, uint32_t limit,
                                 flows_listed done, unsigned max_wait_ms) {
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
        channel_.send(w, std::move(c));
    }
}

void worker_requests::attach_proxy_state(unsigned w, proxy_state* table) {
    auto c = std::make_unique<worker_command>();
    c->kind = command_kind::attach_proxy_state;
    c->proxy_table = table;
    if (!channel_.send_now(w, c))
        throw std::runtime_error("worker " + std::to_string(w) +
                                 "'s command ring is full: cannot attach the SYN proxy state");
}

void worker_requests::send_stop() {
    for (unsigned w = 0; w < workers_.size(); ++w) {
        auto c = std::make_unique<worker_command>();
        c->kind = command_kind::stop;
        // The ring has room past every in-flight command; should a worker lag behind anyway,
        // make room by taking its completions.
        while (!channel_.send_now(w, c)) {
            collect();
            rte_delay_us_sleep(100);
        }
    }
}

unsigned worker_requests::outstanding() const {
    unsigned n = 0;
    for (unsigned w = 0; w < channel_.workers(); ++w) n += channel_.outstanding(w);
    return n;
}

void worker_requests::collect() {
    channel_.pump(
        [this](unsigned w, std::unique_ptr<worker_command> c) { on_completed(w, std::move(c)); });
    if (listing_ && monotonic_ns() > listing_->deadline_ns)
        finish_listing(fail("the workers did not answer within the listing's time limit"));
}

void worker_requests::abandon() {
    for (auto& w : workers_) w->hand_back_commands();
    collect();
    listing_.reset();
}

void worker_requests::on_completed(unsigned w, std::unique_ptr<worker_command> c) {
    // Only listings carry results; a listing that timed out leaves late parts to be freed.
    if (c->kind != command_kind::list_flows || !listing_ || c->tag != listing_->tag) return;
    listing_->parts[w] = std::move(c);
    if (--listing_->waiting == 0) finish_listing(result<>{});
}

void worker_requests::finish_listing(const result<>& outcome) {
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
            // No backend id is recycled while a listing runs (runtime::ids_quiescent).
            out.flows.push_back(
                {i, f, table.client_key(f), table.reply_key(f), left < 0 ? 0 : left});
        }
    }
    l.done(out);
}

}  // namespace sluice::dataplane

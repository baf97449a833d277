// The engine's phases: opening the flows, one paced trial with its grace period, the uncounted
// repair and drain after it. engine.hpp has the modes and the threads (the engine's lcore only).
#include <rte_cycles.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "engine.hpp"
#include "pacer.hpp"
#include "repair.hpp"

namespace sluice::loadgen {

namespace {

constexpr unsigned repair_rounds = 8;  // re-sends per phase before a flow is left unusable

double hz() {
    return double(rte_get_tsc_hz());
}

}  // namespace

// Counters of a new trial (reset), or of the uncounted phases (accumulated).
void engine::begin_period(period_counts& counts) {
    if (&counts == &trial_) counts = period_counts{};
    cur_ = &counts;
}

// Polls and answers for `seconds`, nothing paced.
void engine::run_for(double seconds, bool answer) {
    const uint64_t until = rte_rdtsc() + uint64_t(seconds * hz());
    for (uint64_t now = rte_rdtsc(); now < until; now = rte_rdtsc()) {
        poll(now, answer);
        flush();
    }
}

// Polls and answers until `p` releases one more packet, then takes it: re-sends are paced at the
// setup rate, so that a repair does not overload the balancer it is repairing after.
void engine::wait_for_slot(pacer& p) {
    for (uint64_t now = rte_rdtsc(); !p.due(now); now = rte_rdtsc()) {
        poll(now, true);
        flush();
    }
    p.taken(1);
}

// Re-sends what stuck connections miss (repair.hpp) and the answers held back at the end of a
// trial; returns how many segments went out. `handshakes`: also the flows whose handshake has
// not completed (opening); after a trial only established flows are repaired, so a flow left
// out at opening stays out.
unsigned engine::repair(bool handshakes) {
    if (opt_.mode == run_mode::udp) return repair_udp();
    if (opt_.mode != run_mode::established) return 0;
    pacer p(hz(), opt_.setup_rate, rte_rdtsc());
    unsigned sent = 0;
    for (uint32_t i = 0; i < table_.capacity(); ++i) {
        tcp_peer& peer = table_.at(i).peer;
        if (!handshakes && peer.client() == client_state::syn_sent) continue;
        const bool server_owes = peer.server() == server_state::response_due ||
                                 peer.server() == server_state::syn_ack_due;
        const bool client_owes = peer.client() == client_state::ack_due;
        const std::optional<resend> r = server_owes || client_owes
                                            ? std::nullopt
                                            : segment_to_resend(peer, opt_.payload, opt_.payload);
        if (!server_owes && !client_owes && !r) continue;
        wait_for_slot(p);
        const uint64_t now_ns = ns_of(rte_rdtsc());
        if (r) {
            send_tcp(r->side, i, r->seg, now_ns);
        } else {
            send_due(server_owes ? peer_side::server : peer_side::client, i, now_ns);
        }
        ++sent;
    }
    flush();
    cur_->repaired += sent;
    return sent;
}

// udp: a datagram again on each flow whose server side has not seen one (the first was lost),
// so every flow exists in the balancer before the trials; paced like repair().
unsigned engine::repair_udp() {
    pacer p(hz(), opt_.setup_rate, rte_rdtsc());
    unsigned sent = 0;
    for (uint32_t i = 0; i < table_.capacity(); ++i) {
        if (table_.at(i).learned) continue;
        wait_for_slot(p);
        send_udp(peer_side::client, i, ns_of(rte_rdtsc()));
        ++sent;
    }
    flush();
    cur_->repaired += sent;
    return sent;
}

// cps: polls until every connection has completed, failed or given up, so that the next trial
// starts with all slots free and late frames of this one arrive while their slots are unused.
void engine::settle_connections() {
    for (;;) {
        const uint64_t now_ns = ns_of(rte_rdtsc());
        uint32_t busy = 0;
        for (uint32_t i = 0; i < table_.capacity() && !busy; ++i) busy = !slot_free(i, now_ns);
        if (!busy) return;
        run_for(0.01, true);
    }
}

uint32_t engine::open_flows() {
    begin_period(other_);
    const uint32_t n = table_.capacity();
    if (opt_.mode == run_mode::established || opt_.mode == run_mode::udp) {
        pacer p(hz(), opt_.setup_rate, rte_rdtsc());
        for (uint32_t next = 0; next < n;) {
            const uint64_t now = rte_rdtsc();
            const unsigned due = std::min(p.due(now), n - next);
            for (unsigned k = 0; k < due; ++k, ++next) {
                table_.open(next, next * 2654435761u);
                if (opt_.mode == run_mode::udp) {
                    send_udp(peer_side::client, next, ns_of(now));
                } else {
                    send_due(peer_side::client, next, ns_of(now));
                }
            }
            p.taken(due);
            poll(now, true);
            flush();
        }
        run_for(opt_.grace_s, true);
        for (unsigned round = 0; round < repair_rounds && repair(true); ++round)
            run_for(opt_.grace_s, true);
    }
    if (runs_connections(opt_.mode)) return usable_ = n;  // slots, opened by the trials
    usable_ = 0;
    for (uint32_t i = 0; i < n; ++i) {
        const connection& c = table_.at(i);
        if (opt_.mode == run_mode::udp ? c.learned : c.peer.client() == client_state::request_due)
            ++usable_;
    }
    return usable_;
}

void engine::idle(double seconds) {
    begin_period(other_);
    run_for(seconds, true);
}

void engine::report_seconds(std::function<void(const second_record&)> sink) {
    second_sink_ = std::move(sink);
    if (second_sink_ && !seconds_) seconds_ = std::make_unique<second_series>();
}

// What the trial has offered so far, as its result counts it (sent frames, cps: connections).
uint64_t engine::trial_offered() const {
    return runs_connections(opt_.mode) ? trial_.opened : trial_.sent_client + trial_.sent_server;
}

// Once a second from the trial loop: the second that ended before the current one is complete.
void engine::next_second(uint64_t now_ns) {
    while (counting_seconds_->due(now_ns)) {
        if (const std::optional<second_record> done = counting_seconds_->advance(trial_offered()))
            second_sink_(*done);
    }
}

void engine::end_seconds() {
    if (!counting_seconds_) return;
    for (const second_record& r : counting_seconds_->finish(trial_offered(), ns_of(rte_rdtsc())))
        second_sink_(r);
    counting_seconds_ = nullptr;
}

// The counted part of a trial: paced offers until `duration_s` after `start`, then the grace
// period (answers during its first half). The per-second check is one compare per pass.
void engine::pace_trial(double paced_rate, uint64_t start, double duration_s) {
    const uint64_t end = start + uint64_t(duration_s * hz());
    const uint64_t answers_end = end + uint64_t(opt_.grace_s * hz() / 2);
    const uint64_t grace_end = end + uint64_t(opt_.grace_s * hz());
    pacer p(hz(), paced_rate, start);
    const bool flood = opt_.mode == run_mode::syn_flood;
    pacer flood_pacer(hz(), flood ? opt_.syn_flood_pps : 1, start);
    for (uint64_t now = start; now < grace_end; now = rte_rdtsc()) {
        if (counting_seconds_) next_second(ns_of(now));
        poll(now, now < answers_end);
        if (flood && now < end) {
            const unsigned n = flood_pacer.due(now);
            for (unsigned k = 0; k < n; ++k) send_flood_syn();
            flood_pacer.taken(n);
        }
        if (now < end) {
            const unsigned due = p.due(now);
            if (due) {
                offer(due, ns_of(now));  // a shortfall shows in `paced`
                p.taken(due);
            }
        }
        flush();
    }
}

trial_stats engine::trial_result(double rate_pps, double duration_s, double paced_rate) const {
    trial_stats t;
    t.rate_pps = rate_pps;
    t.duration_s = duration_s;
    t.detail = trial_;
    const period_counts& c = trial_;
    const double target = paced_rate * duration_s;
    t.short_of_rate = double(c.paced) < 0.98 * target;
    // A frame the port refused counts as offered and lost: on memif a full ring is the balancer
    // not draining it, where a NIC would drop the frame at the balancer's RX.
    t.counts = {trial_offered(),
                runs_connections(opt_.mode) ? c.completed : c.received_client + c.received_server};
    // What the generator could not pace counts as lost too: the rate was not offered.
    const double missing = t.short_of_rate ? target - double(c.paced) : 0;
    t.counts.offered += uint64_t(runs_connections(opt_.mode) ? missing : 2 * missing);
    t.achieved_pps = double(c.paced) * (rate_pps / paced_rate) / duration_s;
    t.latency_samples = latency_->count();
    t.latency_min_ns = latency_->min();
    t.latency_p50_ns = latency_->percentile(50);
    t.latency_p99_ns = latency_->percentile(99);
    t.latency_p999_ns = latency_->percentile(99.9);
    t.latency_max_ns = latency_->max();
    return t;
}

trial_stats engine::run_trial(double rate_pps, double duration_s) {
    latency_->reset();
    begin_period(trial_);
    ++trials_run_;
    // established and udp: the paced packets are half of what the device sees, the answers
    // (responses, echoes) the other half; cps paces connections.
    const double paced_rate = runs_connections(opt_.mode) ? rate_pps : rate_pps / 2;
    const uint64_t start = rte_rdtsc();
    if (seconds_ && second_sink_) {
        seconds_->start(trials_run_, ns_of(start));
        counting_seconds_ = seconds_.get();
    }
    pace_trial(paced_rate, start, duration_s);
    end_seconds();
    const trial_stats t = trial_result(rate_pps, duration_s, paced_rate);
    trials_total_.add(trial_);
    // Uncounted: make every flow usable again for the next trial, and let what is still in
    // flight arrive before it starts.
    begin_period(other_);
    for (unsigned round = 0; round < repair_rounds && repair(false); ++round)
        run_for(opt_.grace_s, true);
    run_for(opt_.grace_s, true);
    if (runs_connections(opt_.mode)) settle_connections();
    return t;
}

}  // namespace sluice::loadgen

#include "health/health_monitor.hpp"

#include <algorithm>
#include <utility>

#include "health/http_check.hpp"

namespace sluice::health {

namespace {

constexpr uint64_t ns_per_ms = 1'000'000;

bool is_probed(const target& t) {
    return t.check.type != config::health_check_type::none;
}

// What to send where; the key is set per probe.
probe_request make_request(const target& t) {
    probe_request request;
    request.address = t.address;
    request.port = t.check.port != 0 ? t.check.port : t.port;
    request.timeout_ms = t.check.timeout_ms;
    if (t.check.type == config::health_check_type::http) {
        request.type = probe_type::http;
        std::string host = t.check.http_host.empty() ? default_http_host(t.address, request.port)
                                                     : t.check.http_host;
        request.http_request = build_http_request(t.check.method, t.check.http_path, host);
        request.expect_status = t.check.expect_status;
    }
    return request;
}

bool same_probe(const probe_request& a, const probe_request& b) {
    return a.address == b.address && a.port == b.port && a.type == b.type &&
           a.timeout_ms == b.timeout_ms && a.http_request == b.http_request &&
           a.expect_status == b.expect_status;
}

// "1 consecutive failure", "3 consecutive failures".
std::string count_of(uint32_t n, std::string_view one, std::string_view many) {
    return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

}  // namespace

health_monitor::health_monitor(prober& engine, uint64_t seed) : engine_(&engine), rng_(seed) {}

health_monitor::~health_monitor() {
    for (auto& [id, e] : entries_)
        if (e.in_flight_key != 0) engine_->cancel(e.in_flight_key);
}

void health_monitor::set_targets(const std::vector<target>& targets, uint64_t now_ns) {
    std::unordered_map<uint32_t, entry> next;
    next.reserve(targets.size());
    for (const auto& t : targets) {
        if (next.contains(t.id)) continue;
        bool probed = is_probed(t);
        auto old = entries_.find(t.id);
        if (old == entries_.end()) {
            bool up = !probed || t.check.initial_state == config::health_initial_state::up;
            entry e{t, make_request(t), health_state(t.check.rise, t.check.fall, up), {}, 0, 0, 0};
            e.shown.probed = probed;
            if (probed) schedule_first(e, now_ns);
            next.emplace(t.id, std::move(e));
            continue;
        }
        entry e = std::move(old->second);
        entries_.erase(old);
        bool was_probed = is_probed(e.spec);
        uint32_t old_interval_ms = e.spec.check.interval_ms;
        probe_request request = make_request(t);
        if (e.in_flight_key != 0 && (!probed || !same_probe(e.request, request))) {
            engine_->cancel(e.in_flight_key);
            e.in_flight_key = 0;
        }
        e.spec = t;
        e.request = std::move(request);
        e.state.set_thresholds(t.check.rise, t.check.fall);
        e.shown.probed = probed;
        if (!probed) {
            e.passive_run = 0;
            if (!e.state.up()) {
                e.state = health_state(t.check.rise, t.check.fall, true);
                change(e, "health checks off (type \"none\")", now_ns);
            }
        } else if (!was_probed) {
            schedule_first(e, now_ns);
        } else if (t.check.interval_ms < old_interval_ms) {
            e.next_probe_ns =
                std::min(e.next_probe_ns, now_ns + uint64_t(t.check.interval_ms) * ns_per_ms);
        }
        next.emplace(t.id, std::move(e));
    }
    for (auto& [id, e] : entries_)  // removed
        if (e.in_flight_key != 0) engine_->cancel(e.in_flight_key);
    std::erase_if(pending_, [&](const transition& t) { return !next.contains(t.id); });
    entries_ = std::move(next);
}

void health_monitor::schedule_first(entry& e, uint64_t now_ns) {
    uint64_t interval_ns = uint64_t(e.spec.check.interval_ms) * ns_per_ms;
    uint64_t offset = e.spec.check.initial_jitter && interval_ns > 0 ? rng_() % interval_ns : 0;
    e.next_probe_ns = now_ns + offset;
}

void health_monitor::start_probe(entry& e, uint64_t now_ns) {
    if (++next_probe_serial_ == 0) ++next_probe_serial_;  // keys are never 0
    uint64_t key = uint64_t(next_probe_serial_) << 32 | e.spec.id;
    e.request.key = key;
    e.in_flight_key = key;
    // Fixed rate from the due time; after a stall, a full interval from now.
    uint64_t interval_ns = uint64_t(e.spec.check.interval_ms) * ns_per_ms;
    e.next_probe_ns += interval_ns;
    if (e.next_probe_ns <= now_ns) e.next_probe_ns = now_ns + interval_ns;
    engine_->start(e.request, now_ns);
}

std::vector<transition> health_monitor::poll(uint64_t now_ns) {
    for (const auto& result : engine_->poll(now_ns)) {
        auto it = entries_.find(uint32_t(result.key));
        if (it == entries_.end() || it->second.in_flight_key != result.key) continue;  // stale
        on_result(it->second, result);
    }
    // A linear pass: a few thousand backends cost microseconds, and no probe is late by more
    // than one poll period.
    for (auto& [id, e] : entries_) {
        if (e.shown.probed && e.in_flight_key == 0 && e.next_probe_ns <= now_ns)
            start_probe(e, now_ns);
    }
    return std::exchange(pending_, {});
}

void health_monitor::on_result(entry& e, const probe_result& result) {
    e.in_flight_key = 0;
    auto& shown = e.shown;
    shown.last_result = result.kind;
    shown.last_detail = result.detail;
    shown.last_http_status = result.http_status;
    shown.last_latency_ns = result.latency_ns;
    shown.last_check_ns = result.finished_ns;
    ++shown.checks[size_t(result.kind)];
    bool ok = result.kind == result_kind::ok;
    if (!e.state.record(ok)) return;
    if (ok)
        change(e,
               count_of(e.state.consecutive_successes(), "consecutive success",
                        "consecutive successes"),
               result.finished_ns);
    else
        change(e,
               count_of(e.state.consecutive_failures(), "consecutive failure",
                        "consecutive failures") +
                   ", last: " + result.detail,
               result.finished_ns);
}

void health_monitor::change(entry& e, std::string reason, uint64_t now_ns) {
    ++e.shown.state_changes;
    e.shown.last_change_ns = now_ns;
    pending_.push_back(transition{e.spec.id, e.state.up(), std::move(reason), now_ns});
}

void health_monitor::passive_failure(uint32_t id, uint64_t now_ns) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    entry& e = it->second;
    if (e.spec.passive_failures == 0 || !e.shown.probed) return;
    if (++e.passive_run < e.spec.passive_failures) return;
    e.passive_run = 0;
    // Already down: the rise count starts over, since the data path still sees it fail.
    if (e.state.force_down())
        change(e,
               "passive: " + count_of(e.spec.passive_failures, "consecutive failed connect",
                                      "consecutive failed connects"),
               now_ns);
}

void health_monitor::passive_success(uint32_t id) {
    auto it = entries_.find(id);
    if (it != entries_.end()) it->second.passive_run = 0;
}

std::optional<target_status> health_monitor::status(uint32_t id) const {
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    const entry& e = it->second;
    target_status out = e.shown;
    out.up = e.state.up();
    out.consecutive_successes = e.state.consecutive_successes();
    out.consecutive_failures = e.state.consecutive_failures();
    out.consecutive_passive_failures = e.passive_run;
    return out;
}

bool health_monitor::is_up(uint32_t id) const {
    auto it = entries_.find(id);
    return it != entries_.end() && it->second.state.up();
}

}  // namespace sluice::health

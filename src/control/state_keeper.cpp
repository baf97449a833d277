#include "control/state_keeper.hpp"

#include <time.h>

#include "common/log.hpp"
#include "config/describe.hpp"
#include "control/state_file.hpp"

namespace sluice::control {

namespace {

void log_dropped(const std::vector<std::string>& dropped) {
    for (const auto& line : dropped) SLUICE_LOG_WARN("state: %s", line.c_str());
}

}  // namespace

int64_t wall_clock_ms() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

state_keeper::state_keeper(std::string path) : path_(std::move(path)) {}

bool state_keeper::is_change(std::string_view cmd) {
    return cmd == "set_weight" || cmd == "set_limit" || cmd == "drain" || cmd == "enable" ||
           cmd == "disable" || cmd == "add_backend" || cmd == "remove_backend";
}

config::config state_keeper::start(const config::config& file) {
    file_ = file;
    if (!enabled()) return file;
    auto text = read_state_file(path_);
    if (!text) {
        held_back_ = text.message();
    } else if (!*text) {
        SLUICE_LOG_INFO("state: %s does not exist yet; starting from the configuration alone",
                        path_.c_str());
        return file;
    } else if (auto parsed = state_from_text(**text); !parsed) {
        held_back_ = parsed.message();
    } else {
        applied_state a = apply(*parsed, file, nullptr);
        log_dropped(a.dropped);
        state_ = a.kept;
        start_admin_ = a.admin;
        written_ms_ = 0;
        SLUICE_LOG_INFO("state: applied %s over %s (%zu VIP(s) with operator changes)",
                        path_.c_str(), file.source_file.c_str(), state_.vips.size());
        return a.cfg;
    }
    SLUICE_LOG_ERROR(
        "state: %s: %s; starting with the configuration alone (the file is left "
        "as it is until the next sluicectl change)",
        path_.c_str(), held_back_.c_str());
    return file;
}

void state_keeper::restore_admin(control_plane& plane, uint64_t now_ns, int64_t now_ms) {
    for (const admin_entry& e : start_admin_) {
        plane.set_admin(e.who, e.admin);
        if (e.deadline_ms && *e.deadline_ms > now_ms)
            plane.set_drain_deadline(e.who, now_ns, uint64_t(*e.deadline_ms - now_ms) * 1'000'000);
    }
    start_admin_.clear();
}

result<> state_keeper::reload(control_plane& plane, const config::config& file, uint64_t now_ns,
                              int64_t now_ms) {
    if (!enabled()) {
        if (auto r = plane.reload(file, now_ns); !r) return r;
        file_ = file;
        return {};
    }
    applied_state a = apply(state_, file, &plane.configuration());
    result<> r = plane.reload(a.cfg, now_ns);
    if (!r && !a.kept.empty()) {
        if (!plane.reload(file, now_ns)) return r;  // the file itself is refused
        SLUICE_LOG_ERROR(
            "state: the operator's state over %s is refused (%s); applied the file "
            "alone",
            file.source_file.c_str(), r.message().c_str());
    } else if (!r) {
        return r;
    } else {
        log_dropped(a.dropped);
    }
    file_ = file;
    const operator_state before = state_;
    state_ = capture_now(plane, now_ns, now_ms);
    // Entries the reload dropped leave the file too, unless it was held back (malformed at
    // start): that one waits for an operator's change.
    if (held_back_.empty() && !(state_ == before)) write(now_ms);
    return {};
}

void state_keeper::changed(const control_plane& plane, uint64_t now_ns, int64_t now_ms) {
    if (!enabled()) return;
    state_ = capture_now(plane, now_ns, now_ms);
    write(now_ms);
}

operator_state state_keeper::capture_now(const control_plane& plane, uint64_t now_ns,
                                         int64_t now_ms) const {
    admin_source admin{
        [&plane](const backend_identity& who) { return plane.admin_of(who); },
        [&plane, now_ns, now_ms](const backend_identity& who) -> std::optional<int64_t> {
            auto left = plane.drain_deadline_in(who, now_ns);
            if (!left) return std::nullopt;
            return now_ms + int64_t(*left / 1'000'000);
        }};
    return capture(file_, plane.configuration(), admin);
}

void state_keeper::write(int64_t now_ms) {
    if (auto w = write_state_file(path_, state_to_text(state_, now_ms)); !w) {
        write_error_ = w.message();
        SLUICE_LOG_ERROR(
            "state: cannot write %s: %s; the change is in force but will not "
            "survive a restart",
            path_.c_str(), write_error_.c_str());
        return;
    }
    if (!held_back_.empty())
        SLUICE_LOG_INFO("state: %s replaced (it was not used at start: %s)", path_.c_str(),
                        held_back_.c_str());
    held_back_.clear();
    write_error_.clear();
    written_ms_ = now_ms;
}

nlohmann::json state_keeper::show() const {
    using nlohmann::json;
    // The state's own "written" is left out until this process wrote it: it would be a guess.
    json state = state_to_json(state_, written_ms_);
    if (!written_ms_) state.erase("written");
    if (!enabled()) return {{"file", nullptr}, {"state", state}};
    json out = {{"file", path_},
                {"state", state},
                {"written", written_ms_ ? json(iso_utc(written_ms_)) : json(nullptr)}};
    if (!held_back_.empty()) out["problem"] = held_back_;
    if (!write_error_.empty()) out["write_error"] = write_error_;
    return out;
}

}  // namespace sluice::control

#pragma once
// Keeps the operator's state (control/operator_state.hpp) across restarts and reloads, in
// [control] state_file (docs/operations.md, "State that survives"): read at start and laid over
// the configuration before the first snapshot, laid over the file at every reload, rewritten
// atomically after every change an operator makes with sluicectl. A state file that cannot be
// read or parsed is logged, not used, and left untouched until the next change. With no
// state_file every call here is the plain behaviour (the file as written).
//
// Control thread only (sluiced's main, the control API, SIGHUP's reload).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "control/control_plane.hpp"
#include "control/operator_state.hpp"
#include "control/state_merge.hpp"
#include "sluice/config.hpp"

namespace sluice::control {

// CLOCK_REALTIME in ms: drain deadlines in the file are wall-clock times.
int64_t wall_clock_ms();

class state_keeper {
public:
    explicit state_keeper(std::string path);  // "" = no state kept
    bool enabled() const { return !path_.empty(); }

    // Start: reads the state file and lays it over `file`; logs every entry that no longer
    // matches and any problem with the file. Returns the configuration to start with.
    config::config start(const config::config& file);
    // Before the first snapshot is built: the admin states (and drain deadlines still ahead)
    // that start() read.
    void restore_admin(control_plane& plane, uint64_t now_ns, int64_t now_ms);
    // A reload of `file`: the state over it, published through `plane`. Should that be refused
    // while the file alone is not (a state entry the file no longer allows), the file alone is
    // applied and the problem logged: the state never stops a valid file from being served.
    result<> reload(control_plane& plane, const config::config& file, uint64_t now_ns,
                    int64_t now_ms);
    // After an operator's change went through: records the state and rewrites the file.
    void changed(const control_plane& plane, uint64_t now_ns, int64_t now_ms);
    // The control API commands that change the operator's state.
    static bool is_change(std::string_view cmd);
    // show_state: {"file", "state" (as held), "written", "problem"?, "write_error"?}.
    nlohmann::json show() const;

private:
    operator_state capture_now(const control_plane& plane, uint64_t now_ns, int64_t now_ms) const;
    void write(int64_t now_ms);

    std::string path_;
    config::config file_;   // the configuration file as last loaded, without the state
    operator_state state_;  // as held: what the file has, or will have after the next write
    std::vector<admin_entry> start_admin_;  // from start() for restore_admin()
    std::string held_back_;    // why the file on disk is not used; it stays until the next change
    std::string write_error_;  // the last write's failure, until a write succeeds
    int64_t written_ms_ = 0;   // when this process last wrote the file (0: not yet)
};

}  // namespace sluice::control

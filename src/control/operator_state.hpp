#pragma once
// The operator's state: what sluicectl changed relative to the configuration file (admin states,
// drain deadlines, weights, rate limits, added and removed backends), keyed by identity — a VIP
// by (address, port, protocol), a backend by (address, port) — never by position, so that a
// reordered file still matches. This file holds the model and its JSON form (the state file,
// docs/operations.md "State that survives"); src/control/state_merge.hpp compares and applies it.
// Pure code, no I/O: any thread, though sluiced uses it on the control thread only.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "model/ids.hpp"
#include "sluice/config.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::control {

// The state file's "version". A file of another version is refused as a whole (a newer sluiced
// may mean something this one cannot apply), not half-read.
inline constexpr int state_format_version = 1;

struct backend_state {
    ip_address address;
    uint16_t port = 0;
    bool added = false;              // not in the file: `add backend`
    std::optional<uint32_t> weight;  // differs from the file's (always set when added)
    // up (only a weight or an addition), draining, disabled, or removing (`remove backend`:
    // the backend leaves its VIP).
    model::backend_admin admin = model::backend_admin::up;
    // drain --timeout: Unix time in ms at which flows still open are reset (wall clock, so it
    // means the same after a restart).
    std::optional<int64_t> drain_deadline_ms;
    bool operator==(const backend_state&) const = default;
};

// [vip.limits] rates `set limit` changed; absent = the file's.
struct limits_state {
    std::optional<config::rate_limit_config> new_connections;
    std::optional<config::rate_limit_config> packets;
    std::optional<config::rate_limit_config> source_new_connections;
    bool empty() const { return !new_connections && !packets && !source_new_connections; }
    bool operator==(const limits_state&) const = default;
};

struct vip_state {
    ip_address address;
    uint16_t port = 0;
    config::l4_protocol protocol = config::l4_protocol::tcp;
    std::string name;  // for people reading the file and the logs; matching ignores it
    limits_state limits;
    std::vector<backend_state> backends;
    bool operator==(const vip_state&) const = default;
};

struct operator_state {
    std::vector<vip_state> vips;
    bool empty() const { return vips.empty(); }
    bool operator==(const operator_state&) const = default;
};

// "198.18.0.10:80/tcp (http)" for log lines.
std::string describe_vip(const vip_state& v);

// {"version": 1, "written": ISO-8601 UTC, "vips": [...]}; `written_ms` is Unix time in ms.
nlohmann::json state_to_json(const operator_state& s, int64_t written_ms);
// The file's text: the JSON above, indented, with a final newline.
std::string state_to_text(const operator_state& s, int64_t written_ms);
// Reads the JSON form back. Strict, like the configuration: an unknown key, a wrong type, a
// value out of range, a duplicate VIP or backend is an error naming its place
// ("vips[1].backends[0].weight: …"); nothing of a malformed state is used.
result<operator_state> state_from_json(const nlohmann::json& j);
// The same from the file's text; a JSON syntax error names its line and column.
result<operator_state> state_from_text(std::string_view text);

// "2026-11-21T23:07:06.512Z"
std::string iso_utc(int64_t unix_ms);

}  // namespace sluice::control

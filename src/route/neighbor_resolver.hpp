#pragma once
// Control-thread state machine over the neighbour table: sends resolution requests, retries,
// refreshes pinned next hops (backends, gateways) before they go stale, expires learned entries,
// and re-resolves anything a worker asked for. Pure logic: the caller sends the frames.
//
//   incomplete --reply--> reachable --reachable_time--> incomplete (pinned) / stale (learned)
//   incomplete --retries exhausted--> failed --(pinned: after a pause, or wanted)--> incomplete
#include <cstdint>
#include <functional>
#include <vector>

#include "route/neighbor_table.hpp"
#include "sluice/config.hpp"

namespace sluice::route {

class neighbor_resolver {
public:
    enum class status : uint8_t { unused, incomplete, reachable, stale, failed };
    using send_fn = std::function<void(uint32_t slot)>;
    using log_fn = std::function<void(uint32_t slot, status from, status to)>;

    neighbor_resolver(neighbor_table& table, const config::neighbor_config& cfg);

    // A next hop that must stay resolved (backend, gateway). Control thread.
    void pin(uint32_t slot, uint64_t now_ns);
    // A reply or request from the neighbour carried its MAC.
    void confirm(uint32_t slot, const uint8_t* mac, uint64_t now_ns);
    // A worker asked for this next hop (resolve request or `want` flag).
    void request(uint32_t slot, uint64_t now_ns);
    // Sends due requests, ages entries. Call every few milliseconds.
    void tick(uint64_t now_ns, const send_fn& send, const log_fn& log);

    status state(uint32_t slot) const { return entries_[slot].st; }
    // True when every pinned next hop is reachable.
    bool pinned_resolved() const;

private:
    struct entry {
        status st = status::unused;
        bool pinned = false;
        uint32_t tries = 0;
        uint64_t next_ns = 0;
        uint64_t confirmed_ns = 0;
    };
    void track(uint32_t slot);
    neighbor_table& table_;
    config::neighbor_config cfg_;
    std::vector<entry> entries_;
    std::vector<uint32_t> tracked_;
};

const char* neighbor_status_name(neighbor_resolver::status s);

}  // namespace sluice::route

#include "route/neighbor_resolver.hpp"

namespace sluice::route {

namespace {
constexpr uint64_t ms = 1000000ull;
constexpr uint64_t sec = 1000000000ull;
}  // namespace

neighbor_resolver::neighbor_resolver(neighbor_table& table, const config::neighbor_config& cfg)
    : table_(table), cfg_(cfg), entries_(table.capacity()) {}

void neighbor_resolver::track(uint32_t slot) {
    if (entries_[slot].st == status::unused) {
        entries_[slot].st = status::incomplete;
        tracked_.push_back(slot);
    }
}

void neighbor_resolver::pin(uint32_t slot, uint64_t now_ns) {
    track(slot);
    entry& e = entries_[slot];
    e.pinned = true;
    if (e.st == status::incomplete && e.tries == 0) e.next_ns = now_ns;
}

void neighbor_resolver::confirm(uint32_t slot, const uint8_t* mac, uint64_t now_ns) {
    track(slot);
    entry& e = entries_[slot];
    table_.set_mac(slot, mac);
    e.st = status::reachable;
    e.tries = 0;
    e.confirmed_ns = now_ns;
    e.next_ns = now_ns + uint64_t(cfg_.reachable_time) * sec * 3 / 4;
}

void neighbor_resolver::request(uint32_t slot, uint64_t now_ns) {
    track(slot);
    entry& e = entries_[slot];
    if (e.st == status::reachable) return;
    if (e.st != status::incomplete || e.tries >= cfg_.retries) {
        e.st = status::incomplete;
        e.tries = 0;
        e.next_ns = now_ns;
    }
}

void neighbor_resolver::tick(uint64_t now_ns, const send_fn& send, const log_fn& log) {
    const uint64_t retry = uint64_t(cfg_.retry_interval_ms) * ms;
    const uint64_t reachable = uint64_t(cfg_.reachable_time) * sec;
    for (uint32_t slot : tracked_) {
        entry& e = entries_[slot];
        if (table_.take_wanted(slot)) request(slot, now_ns);
        switch (e.st) {
            case status::incomplete:
                if (now_ns < e.next_ns) break;
                if (e.tries < cfg_.retries) {
                    send(slot);
                    ++e.tries;
                    e.next_ns = now_ns + retry;
                } else {
                    log(slot, e.st, status::failed);
                    e.st = status::failed;
                    e.next_ns = now_ns + retry * cfg_.retries;
                }
                break;
            case status::reachable:
                if (now_ns >= e.confirmed_ns + reachable) {
                    table_.invalidate(slot);
                    status next = e.pinned ? status::incomplete : status::stale;
                    log(slot, e.st, next);
                    e.st = next;
                    e.tries = 0;
                    e.next_ns = now_ns;
                } else if (e.pinned && now_ns >= e.next_ns) {
                    send(slot);  // refresh before it goes stale; the MAC stays usable meanwhile
                    e.next_ns = now_ns + retry;
                }
                break;
            case status::failed:
                if (e.pinned && now_ns >= e.next_ns) {
                    e.st = status::incomplete;
                    e.tries = 0;
                    e.next_ns = now_ns;
                }
                break;
            case status::stale:
            case status::unused:
                break;
        }
    }
}

bool neighbor_resolver::pinned_resolved() const {
    for (uint32_t slot : tracked_)
        if (entries_[slot].pinned && entries_[slot].st != status::reachable) return false;
    return true;
}

const char* neighbor_status_name(neighbor_resolver::status s) {
    switch (s) {
        case neighbor_resolver::status::unused:
            return "unused";
        case neighbor_resolver::status::incomplete:
            return "incomplete";
        case neighbor_resolver::status::reachable:
            return "reachable";
        case neighbor_resolver::status::stale:
            return "stale";
        case neighbor_resolver::status::failed:
            return "failed";
    }
    return "?";
}

}  // namespace sluice::route

#pragma once
// Temporarily enters a named network namespace (/run/netns/NAME, as `ip netns` makes them) so
// that kernel-backed PMDs (af_packet, af_xdp) open their sockets there; the sockets stay bound
// to that namespace after the thread returns to its own. Startup (main thread) only.
#include <string>

namespace sluice::dataplane {

class netns_switch {
public:
    // Enters `name` if non-empty; throws std::runtime_error with the reason on failure.
    explicit netns_switch(const std::string& name);
    ~netns_switch();
    void restore();  // idempotent

    netns_switch(const netns_switch&) = delete;
    netns_switch& operator=(const netns_switch&) = delete;

private:
    int original_fd_ = -1;
};

}  // namespace sluice::dataplane

#pragma once
// sluiced's side of systemd's service protocol (sd_notify(3)): READY=1 once the data plane
// forwards, RELOADING=1 (with MONOTONIC_USEC) and READY=1 around a configuration reload,
// STOPPING=1 on a stop signal, STATUS= lines an operator sees in `systemctl status`, and
// WATCHDOG=1 from the control loop at half the interval systemd asked for (WatchdogSec=), so a
// wedged control thread gets the service restarted. Every call is a no-op when NOTIFY_SOCKET is
// unset (not started by systemd). Main lcore (control thread) only.
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::service {

class notifier {
public:
    // Reads NOTIFY_SOCKET and WATCHDOG_USEC/WATCHDOG_PID (sd_watchdog_enabled(3)) once.
    notifier();

    bool active() const { return active_; }
    // 0 when systemd asked for no watchdog.
    uint64_t watchdog_usec() const { return watchdog_usec_; }

    void ready(std::string_view status);
    void reloading();
    void stopping();
    void status(std::string_view status);
    // Sends WATCHDOG=1 when half the watchdog interval has passed since the last ping; call on
    // every control-loop pass with the monotonic time.
    void watchdog_poll(uint64_t now_usec);

private:
    void send(const std::string& state);

    bool active_ = false;
    uint64_t watchdog_usec_ = 0;
    uint64_t last_ping_usec_ = 0;
};

// CLOCK_MONOTONIC in microseconds, the clock MONOTONIC_USEC= is read against.
uint64_t monotonic_usec();

}  // namespace sluice::service

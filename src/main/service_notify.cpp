#include "main/service_notify.hpp"

#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>
#include <cstring>

#include "common/log.hpp"

namespace sluice::service {

uint64_t monotonic_usec() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
}

notifier::notifier() {
    const char* socket = getenv("NOTIFY_SOCKET");
    active_ = socket && *socket;
    if (!active_) return;
    uint64_t usec = 0;
    // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is this process.
    if (sd_watchdog_enabled(0, &usec) > 0) watchdog_usec_ = usec;
    if (watchdog_usec_)
        SLUICE_LOG_INFO("systemd: notifying %s, watchdog ping every %llu ms", socket,
                        (unsigned long long)(watchdog_usec_ / 2000));
    else
        SLUICE_LOG_INFO("systemd: notifying %s", socket);
}

void notifier::send(const std::string& state) {
    if (!active_) return;
    // unset_environment = 0: a reload or a later ping needs NOTIFY_SOCKET again.
    const int r = sd_notify(0, state.c_str());
    if (r < 0) SLUICE_LOG_WARN("systemd: sd_notify failed: %s", strerror(-r));
}

void notifier::ready(std::string_view status) {
    send("READY=1\nSTATUS=" + std::string(status));
}

void notifier::reloading() {
    // MONOTONIC_USEC lets systemd (253+, Type=notify-reload) tell this reload from an older one.
    send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" +
         std::to_string(monotonic_usec()));
}

void notifier::stopping() {
    send("STOPPING=1\nSTATUS=stopping");
}

void notifier::status(std::string_view status) {
    send("STATUS=" + std::string(status));
}

void notifier::watchdog_poll(uint64_t now_usec) {
    if (!active_ || watchdog_usec_ == 0) return;
    if (last_ping_usec_ != 0 && now_usec - last_ping_usec_ < watchdog_usec_ / 2) return;
    last_ping_usec_ = now_usec;
    send("WATCHDOG=1");
}

}  // namespace sluice::service

#include "main/dpdk_log.hpp"

#include <rte_log.h>
#include <stdio.h>

#include <cstring>
#include <string>

#include "common/log.hpp"

namespace sluice::service {

namespace {

log::level level_of(int dpdk_level) {
    if (dpdk_level <= int(RTE_LOG_ERR)) return log::level::error;
    if (dpdk_level == int(RTE_LOG_WARNING)) return log::level::warn;
    if (dpdk_level == int(RTE_LOG_DEBUG)) return log::level::debug;
    return log::level::info;
}

// The pieces rte_vlog writes (under the FILE's lock, on the logging thread: the level read back
// with rte_log_cur_msg_loglevel is that thread's current message's) gathered into lines.
struct line_buffer {
    std::string pending;
};

ssize_t write_piece(void* cookie, const char* data, size_t size) {
    auto* b = static_cast<line_buffer*>(cookie);
    b->pending.append(data, size);
    size_t start = 0;
    for (size_t nl; (nl = b->pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        if (nl > start) {
            const std::string line = b->pending.substr(start, nl - start);
            log::write(level_of(rte_log_cur_msg_loglevel()), "%s", line.c_str());
        }
    }
    b->pending.erase(0, start);
    if (b->pending.size() > 4096) {  // a line that never ends: out with it
        log::write(level_of(rte_log_cur_msg_loglevel()), "%s", b->pending.c_str());
        b->pending.clear();
    }
    return ssize_t(size);
}

}  // namespace

void route_dpdk_log() {
    static line_buffer buffer;  // lives as long as the stream, i.e. the process
    cookie_io_functions_t io{};
    io.write = write_piece;
    FILE* stream = fopencookie(&buffer, "w", io);
    if (!stream) {
        SLUICE_LOG_WARN("DPDK's log stays on stdout and syslog: fopencookie: %s",
                        std::strerror(errno));
        return;
    }
    setvbuf(stream, nullptr, _IOLBF, 0);
    rte_openlog_stream(stream);
}

}  // namespace sluice::service

#pragma once
// Health probes over ordinary kernel sockets (the exception path: probes and their replies go
// through the kernel, never through the DPDK workers), multiplexed with one epoll set and driven
// without blocking: start() opens a non-blocking socket and begins connecting, poll(now) does
// epoll_wait(..., 0), advances every probe and returns the finished ones. Called from the control
// thread's loop every ~200 µs; never sleeps.
//
//   tcp:  success = the connect completes; RST = refused; nothing before the timeout = timeout.
//   http: connect, send the request, read until the response's head is judged (http_check.hpp),
//         the peer closes, or the timeout.
//
// Sockets close with SO_LINGER 0 (an RST, not a FIN), so a probe every second per backend leaves
// no TIME_WAIT sockets behind on the load balancer.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sluice/config.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::health {

enum class probe_type : uint8_t { tcp, http };

enum class result_kind : uint8_t {
    ok,          // tcp: connected; http: an expected status
    refused,     // the server answered the SYN with RST (nothing listens)
    timeout,     // no verdict within the probe's timeout
    bad_status,  // http: a well-formed response with a status not in expect_status
    malformed,   // http: the answer is not an HTTP/1.x response
    error,       // anything else: unreachable, reset, socket or bind failures
};
inline constexpr size_t result_kind_count = 6;
const char* result_kind_name(result_kind kind);  // "ok", "refused", "timeout", ...

struct probe_request {
    uint64_t key = 0;  // the caller's name for this probe; it comes back in the result
    ip_address address;
    uint16_t port = 0;
    probe_type type = probe_type::tcp;
    uint32_t timeout_ms = 1000;  // from start() to the verdict, connect included
    std::string http_request;    // http: the bytes to send (build_http_request)
    std::vector<config::http_status_range> expect_status;  // http: statuses that are a success
};

struct probe_result {
    uint64_t key = 0;
    result_kind kind = result_kind::error;
    uint16_t http_status = 0;  // http: the status line's code, when one was read
    uint64_t latency_ns = 0;   // from start() to the verdict, as the caller's clock saw it
    uint64_t finished_ns = 0;  // the `now_ns` at which the verdict was reached
    std::string detail;        // "connected", "HTTP 200", "HTTP 503", "connection refused",
                               // "timeout after 1000 ms while connecting", ...
};

// Source ports for probes: [first, last]; first = 0 leaves them to the kernel.
struct port_range {
    uint16_t first = 0;
    uint16_t last = 0;
};

// What health_monitor needs of a prober: probe_engine does it with sockets, tests with fakes.
// Control thread only.
class prober {
public:
    virtual ~prober() = default;
    // Starts a probe; its result comes out of a later poll(), also when it failed at once.
    // Never blocks. A probe with the same key still in flight is cancelled first.
    virtual void start(const probe_request& request, uint64_t now_ns) = 0;
    // Forgets the probe with this key, if any: its result never comes.
    virtual void cancel(uint64_t key) = 0;
    // Advances the probes without blocking and returns those that finished, including timeouts
    // (deadline <= now_ns). `now_ns` is the caller's monotonic clock, the one start() saw.
    virtual std::vector<probe_result> poll(uint64_t now_ns) = 0;
};

class probe_engine final : public prober {
public:
    // Probes bind to the first of `source_addresses` of the target's family (the load balancer's
    // exception-interface address), so replies come back to it; without one the kernel picks.
    // `source_ports`: when set, probes take their source ports from this range (in turn,
    // skipping ports in use) instead of the kernel's ephemeral range, which may overlap the
    // ports the data path owns for full-NAT. Throws std::system_error when the epoll set cannot
    // be created (startup). `netns`: when not empty, a named network namespace
    // (/run/netns/NAME) in which the probes' sockets are created — where the exception
    // interfaces live — while the calling thread stays in its own; std::system_error when it
    // cannot be opened.
    explicit probe_engine(std::vector<ip_address> source_addresses = {},
                          port_range source_ports = {}, const std::string& netns = {});
    ~probe_engine() override;
    probe_engine(const probe_engine&) = delete;
    probe_engine& operator=(const probe_engine&) = delete;

    void start(const probe_request& request, uint64_t now_ns) override;
    void cancel(uint64_t key) override;
    std::vector<probe_result> poll(uint64_t now_ns) override;

    size_t in_flight() const { return probes_.size(); }

private:
    enum class phase : uint8_t { connecting, sending, receiving };
    struct probe {
        probe_request request;
        int fd = -1;
        phase step = phase::connecting;
        uint64_t started_ns = 0;
        uint64_t deadline_ns = 0;
        size_t sent = 0;
        std::string received;
    };

    void handle(uint64_t serial, uint32_t events, uint64_t now_ns);
    void connected(uint64_t serial, probe& p, uint64_t now_ns);
    void send_request(uint64_t serial, probe& p, uint64_t now_ns);
    void receive_response(uint64_t serial, probe& p, uint64_t now_ns);
    void finish(uint64_t serial, result_kind kind, uint16_t status, std::string detail,
                uint64_t now_ns);
    // A probe that failed before it had a socket in the epoll set.
    void fail_now(const probe_request& request, result_kind kind, std::string detail,
                  uint64_t now_ns);

    int open_socket(int family);

    int epoll_fd_ = -1;
    int netns_fd_ = -1;  // the probes' namespace, or -1: the caller's
    int home_fd_ = -1;   // the caller's namespace, to return to
    // Binds to the source address (if any) and a port of the range; false after reporting.
    bool bind_source(int fd, const probe_request& request, uint64_t now_ns);

    std::vector<ip_address> sources_;
    port_range ports_;
    uint32_t next_port_offset_ = 0;                      // where the next search of ports_ starts
    uint64_t next_serial_ = 1;                           // epoll data: stale events find nothing
    std::unordered_map<uint64_t, probe> probes_;         // by serial
    std::unordered_map<uint64_t, uint64_t> serials_;     // key -> serial
    std::set<std::pair<uint64_t, uint64_t>> deadlines_;  // (deadline_ns, serial)
    std::vector<probe_result> results_;                  // finished since the last poll()
};

}  // namespace sluice::health

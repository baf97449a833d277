#include "health/probe_engine.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "health/http_check.hpp"

namespace sluice::health {

namespace {

constexpr size_t epoll_batch = 64;
constexpr size_t receive_chunk = 4096;
constexpr uint32_t max_port_attempts = 64;  // ports tried per probe before giving up

// "connection refused": the system's text, lower-case like the rest of the details.
std::string errno_text(int error) {
    std::string text = std::system_category().message(error);
    if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z') text[0] = char(text[0] - 'A' + 'a');
    return text;
}

socklen_t to_sockaddr(const ip_address& address, uint16_t port, sockaddr_storage& out) {
    std::memset(&out, 0, sizeof out);
    if (address.is_v4()) {
        auto* in = reinterpret_cast<sockaddr_in*>(&out);
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        std::memcpy(&in->sin_addr, address.bytes.data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    std::memcpy(&in6->sin6_addr, address.bytes.data(), 16);
    return sizeof(sockaddr_in6);
}

// A connect that failed with `error`: refused, a kernel timeout, or another error.
std::pair<result_kind, std::string> connect_failure(int error) {
    if (error == ECONNREFUSED) return {result_kind::refused, "connection refused"};
    if (error == ETIMEDOUT) return {result_kind::timeout, "connect: " + errno_text(error)};
    return {result_kind::error, "connect: " + errno_text(error)};
}

}  // namespace

const char* result_kind_name(result_kind kind) {
    switch (kind) {
        case result_kind::ok:
            return "ok";
        case result_kind::refused:
            return "refused";
        case result_kind::timeout:
            return "timeout";
        case result_kind::bad_status:
            return "bad_status";
        case result_kind::malformed:
            return "malformed";
        case result_kind::error:
            return "error";
    }
    return "error";
}

probe_engine::probe_engine(std::vector<ip_address> source_addresses, port_range source_ports,
                           const std::string& netns)
    : sources_(std::move(source_addresses)), ports_(source_ports) {
    if (ports_.first == 0 || ports_.last < ports_.first) ports_ = {};
    if (!netns.empty()) {
        netns_fd_ = open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
        if (netns_fd_ < 0)
            throw std::system_error(errno, std::system_category(), "network namespace " + netns);
        home_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (home_fd_ < 0) {
            int e = errno;
            close(netns_fd_);
            throw std::system_error(e, std::system_category(), "own network namespace");
        }
    }
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
}

probe_engine::~probe_engine() {
    for (auto& [serial, p] : probes_) close(p.fd);
    close(epoll_fd_);
    if (netns_fd_ >= 0) close(netns_fd_);
    if (home_fd_ >= 0) close(home_fd_);
}

int probe_engine::open_socket(int family) {
    // A socket belongs to the namespace it was created in for its whole life: enter the probes'
    // namespace just for socket(), then return.
    if (netns_fd_ >= 0 && setns(netns_fd_, CLONE_NEWNET) != 0) return -1;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int e = errno;
    if (netns_fd_ >= 0) setns(home_fd_, CLONE_NEWNET);
    errno = e;
    return fd;
}

void probe_engine::fail_now(const probe_request& request, result_kind kind, std::string detail,
                            uint64_t now_ns) {
    results_.push_back(probe_result{request.key, kind, 0, 0, now_ns, std::move(detail)});
}

void probe_engine::start(const probe_request& request, uint64_t now_ns) {
    cancel(request.key);
    const ip_address& target = request.address;
    int fd = open_socket(target.is_v4() ? AF_INET : AF_INET6);
    if (fd < 0)
        return fail_now(request, result_kind::error, "socket: " + errno_text(errno), now_ns);

    // Close with RST: no TIME_WAIT on our side for every probe.
    linger abort_on_close{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);

    if (!bind_source(fd, request, now_ns)) {
        close(fd);
        return;
    }

    uint64_t serial = next_serial_++;
    probe& p = probes_[serial];
    p.request = request;
    p.fd = fd;
    p.started_ns = now_ns;
    p.deadline_ns = now_ns + uint64_t(request.timeout_ms) * 1'000'000;
    serials_[request.key] = serial;
    deadlines_.emplace(p.deadline_ns, serial);

    epoll_event event{};
    event.events = EPOLLOUT;
    event.data.u64 = serial;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0)
        return finish(serial, result_kind::error, 0, "epoll_ctl: " + errno_text(errno), now_ns);

    sockaddr_storage remote;
    socklen_t length = to_sockaddr(target, request.port, remote);
    if (connect(fd, reinterpret_cast<sockaddr*>(&remote), length) == 0)
        return connected(serial, p, now_ns);
    if (errno == EINPROGRESS) return;  // EPOLLOUT tells when it is done
    auto [kind, detail] = connect_failure(errno);
    finish(serial, kind, 0, std::move(detail), now_ns);
}

bool probe_engine::bind_source(int fd, const probe_request& request, uint64_t now_ns) {
    const ip_address& target = request.address;
    auto source = std::find_if(sources_.begin(), sources_.end(),
                               [&](const ip_address& a) { return a.family == target.family; });
    ip_address any;
    any.family = target.family;  // all zeros: the wildcard address
    const ip_address& local = source != sources_.end() ? *source : any;
    if (ports_.first == 0) {
        if (source == sources_.end()) return true;  // the kernel picks address and port
        // The port is chosen at connect(), per destination, so many probes share few ports.
        int on = 1;
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
        sockaddr_storage address;
        socklen_t length = to_sockaddr(local, 0, address);
        if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0) return true;
        fail_now(request, result_kind::error,
                 "bind " + local.to_string() + ": " + errno_text(errno), now_ns);
        return false;
    }
    // Probes close with RST and leave no TIME_WAIT, so a port is free again once its probe
    // finished; a port still in use (another probe, another program) is skipped.
    uint32_t size = uint32_t(ports_.last) - ports_.first + 1;
    int error = EADDRINUSE;
    for (uint32_t attempt = 0; attempt < std::min(size, max_port_attempts); ++attempt) {
        uint16_t port = uint16_t(ports_.first + next_port_offset_);
        next_port_offset_ = (next_port_offset_ + 1) % size;
        sockaddr_storage address;
        socklen_t length = to_sockaddr(local, port, address);
        if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0) return true;
        error = errno;
        if (error != EADDRINUSE) break;
    }
    fail_now(request, result_kind::error,
             "bind " + local.to_string() + " ports " + std::to_string(ports_.first) + "-" +
                 std::to_string(ports_.last) + ": " + errno_text(error),
             now_ns);
    return false;
}

void probe_engine::cancel(uint64_t key) {
    std::erase_if(results_, [&](const probe_result& r) { return r.key == key; });
    auto it = serials_.find(key);
    if (it == serials_.end()) return;
    uint64_t serial = it->second;
    serials_.erase(it);
    auto p = probes_.find(serial);
    deadlines_.erase({p->second.deadline_ns, serial});
    close(p->second.fd);  // also leaves the epoll set
    probes_.erase(p);
}

std::vector<probe_result> probe_engine::poll(uint64_t now_ns) {
    std::array<epoll_event, epoll_batch> events;
    for (;;) {
        int n = epoll_wait(epoll_fd_, events.data(), int(events.size()), 0);
        if (n <= 0) break;  // nothing ready, or EINTR: the next poll() gets it
        for (int i = 0; i < n; ++i)
            handle(events[size_t(i)].data.u64, events[size_t(i)].events, now_ns);
        if (size_t(n) < events.size()) break;
    }
    // Answers first, then the deadlines: a probe answered in this poll is judged by its answer.
    while (!deadlines_.empty() && deadlines_.begin()->first <= now_ns) {
        uint64_t serial = deadlines_.begin()->second;
        const probe& p = probes_.at(serial);
        std::string detail =
            "timeout after " + std::to_string(p.request.timeout_ms) + " ms " +
            (p.step == phase::connecting ? "while connecting" : "waiting for the response");
        finish(serial, result_kind::timeout, 0, std::move(detail), now_ns);
    }
    return std::exchange(results_, {});
}

void probe_engine::handle(uint64_t serial, uint32_t events, uint64_t now_ns) {
    auto it = probes_.find(serial);
    if (it == probes_.end()) return;  // finished earlier in this batch
    probe& p = it->second;
    switch (p.step) {
        case phase::connecting: {
            int error = 0;
            socklen_t length = sizeof error;
            if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
            if (error == 0 && (events & EPOLLOUT)) return connected(serial, p, now_ns);
            auto [kind, detail] = connect_failure(error != 0 ? error : ECONNABORTED);
            return finish(serial, kind, 0, std::move(detail), now_ns);
        }
        case phase::sending:
            return send_request(serial, p, now_ns);
        case phase::receiving:
            return receive_response(serial, p, now_ns);
    }
}

void probe_engine::connected(uint64_t serial, probe& p, uint64_t now_ns) {
    if (p.request.type == probe_type::tcp)
        return finish(serial, result_kind::ok, 0, "connected", now_ns);
    p.step = phase::sending;
    send_request(serial, p, now_ns);
}

void probe_engine::send_request(uint64_t serial, probe& p, uint64_t now_ns) {
    const std::string& request = p.request.http_request;
    while (p.sent < request.size()) {
        ssize_t n = send(p.fd, request.data() + p.sent, request.size() - p.sent, MSG_NOSIGNAL);
        if (n > 0) {
            p.sent += size_t(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT again
        if (n < 0 && errno == EINTR) continue;
        return finish(serial, result_kind::error, 0, "send: " + errno_text(errno), now_ns);
    }
    p.step = phase::receiving;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = serial;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, p.fd, &event) != 0)
        return finish(serial, result_kind::error, 0, "epoll_ctl: " + errno_text(errno), now_ns);
}

void probe_engine::receive_response(uint64_t serial, probe& p, uint64_t now_ns) {
    const auto& expect = p.request.expect_status;
    for (;;) {
        bool closed = false;
        size_t room = max_http_response_head - p.received.size();
        size_t old_size = p.received.size();
        p.received.resize(old_size + std::min(room, receive_chunk));
        ssize_t n = recv(p.fd, p.received.data() + old_size, p.received.size() - old_size, 0);
        p.received.resize(old_size + size_t(std::max<ssize_t>(n, 0)));
        if (n == 0) {
            closed = true;
        } else if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            if (errno == EINTR) continue;
            int error = errno;
            // A reset after the answer still lets the answer count.
            if (p.received.empty())
                return finish(serial, result_kind::error, 0, "receive: " + errno_text(error),
                              now_ns);
            closed = true;
        }
        auto verdict = classify_http_response(p.received, expect, closed);
        switch (verdict.verdict) {
            case http_verdict::need_more:
                if (closed) break;  // cannot happen: a closed peer always gets a verdict
                continue;
            case http_verdict::ok:
                return finish(serial, result_kind::ok, verdict.status,
                              "HTTP " + std::to_string(verdict.status), now_ns);
            case http_verdict::unexpected_status:
                return finish(serial, result_kind::bad_status, verdict.status,
                              "HTTP " + std::to_string(verdict.status), now_ns);
            case http_verdict::malformed:
                return finish(serial, result_kind::malformed, 0,
                              "malformed response: " + std::string(verdict.problem), now_ns);
        }
        return finish(serial, result_kind::malformed, 0, "malformed response", now_ns);
    }
}

void probe_engine::finish(uint64_t serial, result_kind kind, uint16_t status, std::string detail,
                          uint64_t now_ns) {
    auto it = probes_.find(serial);
    probe& p = it->second;
    close(p.fd);  // SO_LINGER 0: RST, no TIME_WAIT; also leaves the epoll set
    deadlines_.erase({p.deadline_ns, serial});
    serials_.erase(p.request.key);
    results_.push_back(probe_result{p.request.key, kind, status, now_ns - p.started_ns, now_ns,
                                    std::move(detail)});
    probes_.erase(it);
}

}  // namespace sluice::health

#include "control/api_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "sluice/control_protocol.hpp"

namespace sluice::control {

namespace {

using line_status = request_lines::status;

constexpr uint64_t idle_limit_ns = uint64_t(control_protocol::idle_timeout_s) * 1000000000ull;
// At the client cap, a new connection displaces the client idle longest if it has been idle this
// long; so a crowd of idle connections cannot lock the operator out for idle_limit.
constexpr uint64_t displace_after_ns = 1000000000ull;
constexpr unsigned max_requests_per_pass = 16;  // per client: one pipelining client cannot
                                                // hold the control thread
constexpr unsigned max_accepts_per_pass = 2 * control_protocol::max_clients;
constexpr size_t read_chunk = 16384;
constexpr size_t kept_capacity = 65536;  // a larger answer's buffer is freed once written

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// The messages are fixed ASCII text without quotes or backslashes: no JSON escaping needed.
std::string error_line(const std::string& message) {
    return "{\"ok\":false,\"error\":\"" + message + "\"}\n";
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

bool fill_address(const std::string& path, sockaddr_un& a) {
    std::memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) return false;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return true;
}

}  // namespace

result<api_server> api_server::open(const std::string& path) {
    sockaddr_un addr;
    if (!fill_address(path, addr)) {
        return fail(path + ": path too long for a Unix socket");
    }
    if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
        std::string dir = path.substr(0, slash);
        if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            return fail(dir + ": " + strerror(errno));
        }
    }
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            return fail(path + ": exists and is not a socket");
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live =
            probe >= 0 && connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        if (probe >= 0) close(probe);
        if (live) {
            return fail(path + ": another sluiced is listening there");
        }
        unlink(path.c_str());  // stale, left by a process that died
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return fail(std::string("socket: ") + strerror(errno));
    }
    // Create the socket file without group/other access from the first moment.
    mode_t old = umask(0177);
    int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int bind_errno = errno;
    umask(old);
    if (rc != 0 || chmod(path.c_str(), 0600) != 0 || listen(fd, int(max_accepts_per_pass)) != 0) {
        close(fd);
        return fail(path + ": " + strerror(rc != 0 ? bind_errno : errno));
    }
    return api_server(fd, path);
}

api_server::api_server(api_server&& o) noexcept
    : replies_(std::move(o.replies_)),
      next_serial_(o.next_serial_),
      fd_(o.fd_),
      path_(std::move(o.path_)),
      clients_(std::move(o.clients_)) {
    o.fd_ = -1;
    o.clients_.clear();
}

api_server::~api_server() {
    for (auto& c : clients_) close(c.fd);
    if (fd_ >= 0) {
        close(fd_);
        unlink(path_.c_str());
    }
}

void api_server::poll(const handler& handle) {
    poll(async_handler(
        [&handle](std::string_view request, const reply& done) { done(handle(request)); }));
}

void api_server::poll(const async_handler& handle) {
    deliver_replies();
    for (auto& c : clients_) serve(c, handle);
    reap(now_ns());
    // Accepted after the reap: a client that just left frees its place for a newcomer now.
    const size_t first_new = clients_.size();
    accept_new(now_ns());
    for (size_t i = first_new; i < clients_.size(); ++i) serve(clients_[i], handle);
}

void api_server::deliver_replies() {
    for (auto& [serial, line] : *replies_) {
        for (auto& c : clients_) {
            if (c.serial != serial || !c.awaiting) continue;
            c.out = std::move(line);
            c.out += '\n';
            c.awaiting = false;
        }
    }
    replies_->clear();
}

void api_server::reap(uint64_t now) {
    for (size_t i = 0; i < clients_.size();) {
        client& c = clients_[i];
        // Idle: no request and no answer taken (a client that never reads is closed too).
        if (c.fd >= 0 && now - c.last_activity_ns > idle_limit_ns) close_fd(c.fd);
        if (c.fd < 0) {
            clients_[i] = std::move(clients_.back());
            clients_.pop_back();
        } else {
            ++i;
        }
    }
}

void api_server::accept_new(uint64_t now) {
    for (unsigned n = 0; n < max_accepts_per_pass; ++n) {
        int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        if (clients_.size() >= control_protocol::max_clients && !make_room(now)) {
            static const std::string busy =
                error_line("too many control connections (" +
                           std::to_string(control_protocol::max_clients) + "); try again later");
            (void)!send(fd, busy.data(), busy.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            ::close(fd);
            continue;
        }
        client c{fd, next_serial_++, request_lines(control_protocol::max_request_bytes), {}, 0,
                 now};
        clients_.push_back(std::move(c));
    }
}

// Closes the client idle longest, if idle for displace_after_ns; false when every client is busy.
bool api_server::make_room(uint64_t now) {
    client* oldest = nullptr;
    for (auto& c : clients_)
        if (c.fd >= 0 && (!oldest || c.last_activity_ns < oldest->last_activity_ns)) oldest = &c;
    if (!oldest || now - oldest->last_activity_ns < displace_after_ns) return false;
    if (oldest->out.empty()) {  // mid-answer a line would break its framing
        static const std::string displaced =
            error_line("closed: idle while " + std::to_string(control_protocol::max_clients) +
                       " control connections are open");
        (void)!send(oldest->fd, displaced.data(), displaced.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    close_fd(oldest->fd);
    *oldest = std::move(clients_.back());
    clients_.pop_back();
    return true;
}

// One client's turn: write its pending answer; only then read and answer its next request.
void api_server::serve(client& c, const async_handler& handle) {
    for (unsigned handled = 0;; ++handled) {
        if (c.awaiting) return;  // its answer comes from a later pass
        if (!flush(c)) return;   // answer still pending (or the client is gone)
        if (c.closing) return close_fd(c.fd);
        if (handled == max_requests_per_pass) return;
        if (!c.peer_done && c.in.wants_more() && !read_some(c)) return;
        std::string line;
        switch (c.in.next(line)) {
            case line_status::incomplete:
                if (c.peer_done) close_fd(c.fd);  // an unfinished line at EOF is dropped
                return;
            case line_status::too_long:
                c.out = error_line("request line longer than " +
                                   std::to_string(control_protocol::max_request_bytes) +
                                   " bytes; closing the connection");
                c.closing = true;
                break;
            case line_status::line:
                answer(c, line, handle);
                break;
        }
    }
}

// Reads what is ready while the line buffer wants more; false when the client is gone.
bool api_server::read_some(client& c) {
    char buf[read_chunk];
    while (c.in.wants_more()) {
        ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
            c.in.append(std::string_view(buf, size_t(n)));
            c.last_activity_ns = now_ns();
        } else if (n == 0) {
            c.peer_done = true;
            return true;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return true;
        } else {
            close_fd(c.fd);
            return false;
        }
    }
    return true;
}

// Writes what the socket takes of the pending answer; true once nothing is pending.
bool api_server::flush(client& c) {
    if (c.fd < 0) return false;
    while (c.out_sent < c.out.size()) {
        ssize_t n = send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            c.out_sent += size_t(n);
            c.last_activity_ns = now_ns();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
        close_fd(c.fd);  // the peer is gone
        return false;
    }
    if (c.out.capacity() > kept_capacity) std::string().swap(c.out);
    c.out.clear();
    c.out_sent = 0;
    return true;
}

void api_server::answer(client& c, const std::string& line, const async_handler& handle) {
    const size_t bad = invalid_utf8_offset(line);
    if (bad != std::string::npos) {
        char byte[8];
        snprintf(byte, sizeof byte, "0x%02X", unsigned(uint8_t(line[bad])));
        c.out = error_line(std::string("request is not valid UTF-8 (byte ") + byte + " at offset " +
                           std::to_string(bad) + ")");
        return;
    }
    c.awaiting = true;
    try {
        std::weak_ptr<reply_queue> queue = replies_;
        handle(line, [queue, serial = c.serial](std::string answer) {
            if (auto q = queue.lock()) q->emplace_back(serial, std::move(answer));
        });
    } catch (const std::exception&) {  // the handler answers errors itself; this is a last guard
        c.awaiting = false;
        c.out = error_line("internal error while handling the request");
        return;
    }
    deliver_replies();  // an answer given at once is written in this pass
}

}  // namespace sluice::control

#include "cli/control_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "sluice/control_protocol.hpp"

namespace sluice::cli {

namespace {

using clock = std::chrono::steady_clock;

// Far above any real answer (a few hundred bytes per backend); stops a runaway peer from eating
// all memory.
constexpr size_t max_response_bytes = 64u << 20;

std::string seconds_text(std::chrono::milliseconds ms) {
    char buf[32];
    if (ms.count() % 1000 == 0)
        std::snprintf(buf, sizeof buf, "%lld s", (long long)(ms.count() / 1000));
    else
        std::snprintf(buf, sizeof buf, "%.3g s", double(ms.count()) / 1000.0);
    return buf;
}

// Milliseconds left until `deadline` for poll(); 0 once it has passed.
int poll_budget(clock::time_point deadline) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
    return left <= 0 ? 0 : left > 1000000 ? 1000000 : int(left);
}

std::string connect_failure(const std::string& path, int err, std::chrono::milliseconds timeout) {
    std::string msg = "cannot connect to " + path + ": ";
    switch (err) {
        case ENOENT:
        case ECONNREFUSED:
            return msg + std::strerror(err) + " — is sluiced running?";
        case EACCES:
        case EPERM:
            return msg + std::strerror(err) +
                   " — the control socket is root-only: run sluicectl as root (sudo)";
        case EAGAIN:
        case ETIMEDOUT:
        case EINPROGRESS:
            return msg + "sluiced did not accept the connection within " + seconds_text(timeout) +
                   " — is it busy or stuck?";
        default:
            return msg + std::strerror(err);
    }
}

}  // namespace

control_client::control_client(control_client&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      timeout_(other.timeout_),
      pending_(std::move(other.pending_)) {}

control_client& control_client::operator=(control_client&& other) noexcept {
    if (this != &other) {
        close_socket();
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
        timeout_ = other.timeout_;
        pending_ = std::move(other.pending_);
    }
    return *this;
}

control_client::~control_client() {
    close_socket();
}

void control_client::close_socket() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

result<> control_client::connect(const std::string& path, std::chrono::milliseconds timeout) {
    close_socket();
    pending_.clear();
    path_ = path;
    timeout_ = timeout;

    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        return fail("cannot connect to '" + path + "': a socket path must be 1 to " +
                    std::to_string(sizeof addr.sun_path - 1) + " bytes");
    std::memcpy(addr.sun_path, path.data(), path.size());

    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail(std::string("socket: ") + std::strerror(errno));

    // A Unix-socket connect only blocks when the listen backlog is full; SO_SNDTIMEO bounds that
    // wait (Linux applies it to connect on AF_UNIX). Afterwards the socket turns non-blocking and
    // poll() enforces the per-request deadline.
    timeval tv{};
    tv.tv_sec = time_t(timeout.count() / 1000);
    tv.tv_usec = suseconds_t(timeout.count() % 1000 * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc;
    do {
        rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int err = errno;
        close_socket();
        return fail(connect_failure(path, err, timeout));
    }
    int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
        int err = errno;
        close_socket();
        return fail(std::string("fcntl: ") + std::strerror(err));
    }
    return {};
}

result<> control_client::send_all(const std::string& data, clock::time_point deadline) {
    size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += size_t(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pollfd p{fd_, POLLOUT, 0};
            int budget = poll_budget(deadline);
            if (budget == 0 || ::poll(&p, 1, budget) == 0)
                return fail("sluiced at " + path_ + " did not take the request within " +
                            seconds_text(timeout_));
            continue;
        }
        return fail("sending to sluiced at " + path_ + ": " + std::strerror(errno));
    }
    return {};
}

result<std::string> control_client::read_line(clock::time_point deadline) {
    size_t scanned = 0;
    for (;;) {
        auto nl = pending_.find('\n', scanned);
        if (nl != std::string::npos) {
            std::string line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            return line;
        }
        scanned = pending_.size();
        if (pending_.size() > max_response_bytes)
            return fail("answer from sluiced exceeds " + std::to_string(max_response_bytes >> 20) +
                        " MiB");
        char buf[65536];
        ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
        if (n > 0) {
            pending_.append(buf, size_t(n));
            continue;
        }
        if (n == 0)
            return fail("sluiced closed the connection without answering" +
                        std::string(pending_.empty() ? "" : " (incomplete line)"));
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            pollfd p{fd_, POLLIN, 0};
            int budget = poll_budget(deadline);
            if (budget == 0 || ::poll(&p, 1, budget) == 0)
                return fail("no answer from sluiced at " + path_ + " within " +
                            seconds_text(timeout_) + " (see --timeout)");
            continue;
        }
        return fail("reading from sluiced at " + path_ + ": " + std::strerror(errno));
    }
}

result<response> control_client::request(const json& req) {
    if (fd_ < 0) return fail("not connected");
    std::string line = req.dump(-1, ' ', false, json::error_handler_t::replace);
    if (line.size() + 1 > control_protocol::max_request_bytes)
        return fail("request of " + std::to_string(line.size() + 1) +
                    " bytes exceeds the protocol limit of " +
                    std::to_string(control_protocol::max_request_bytes));
    line += '\n';
    auto deadline = clock::now() + timeout_;
    if (auto sent = send_all(line, deadline); !sent) return sent.error();
    auto got = read_line(deadline);
    if (!got) return got.error();
    return decode(*got);
}

result<response> control_client::decode(std::string_view line) {
    auto bad = [&](const std::string& why) {
        std::string shown(line.substr(0, 200));
        if (line.size() > 200) shown += "…";
        return fail("unexpected answer from sluiced (" + why + "): " + shown);
    };
    json doc = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return bad("not JSON");
    if (!doc.is_object()) return bad("not a JSON object");
    auto ok = doc.find("ok");
    if (ok == doc.end() || !ok->is_boolean()) return bad("no boolean \"ok\"");
    response r;
    r.ok = ok->get<bool>();
    if (r.ok) {
        if (auto it = doc.find("result"); it != doc.end()) r.result = std::move(*it);
        return r;
    }
    if (auto it = doc.find("error"); it != doc.end() && it->is_string())
        r.error = it->get<std::string>();
    else
        r.error = "refused without a reason";
    if (auto it = doc.find("details"); it != doc.end() && it->is_array())
        for (const auto& d : *it)
            r.details.push_back(d.is_string()
                                    ? d.get<std::string>()
                                    : d.dump(-1, ' ', false, json::error_handler_t::replace));
    return r;
}

}  // namespace sluice::cli

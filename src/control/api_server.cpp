#include "control/api_server.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sluice/control_protocol.hpp"

namespace sluice::control {

namespace {

constexpr uint64_t idle_limit_ns = 30ull * 1000000000ull;  // a silent client is dropped
constexpr size_t max_clients = 16;

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

bool fill_address(const std::string& path, sockaddr_un& a) {
    std::memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (path.size() >= sizeof a.sun_path) return false;
    std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
    return true;
}

}  // namespace

std::optional<api_server> api_server::open(const std::string& path, std::string& error) {
    sockaddr_un addr;
    if (!fill_address(path, addr)) {
        error = path + ": path too long for a Unix socket";
        return std::nullopt;
    }
    if (auto slash = path.rfind('/'); slash != std::string::npos && slash > 0) {
        std::string dir = path.substr(0, slash);
        if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            error = dir + ": " + strerror(errno);
            return std::nullopt;
        }
    }
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            error = path + ": exists and is not a socket";
            return std::nullopt;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live =
            probe >= 0 && connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        if (probe >= 0) close(probe);
        if (live) {
            error = path + ": another sluiced is listening there";
            return std::nullopt;
        }
        unlink(path.c_str());  // stale, left by a process that died
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + strerror(errno);
        return std::nullopt;
    }
    // Create the socket file without group/other access from the first moment.
    mode_t old = umask(0177);
    int rc = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    int bind_errno = errno;
    umask(old);
    if (rc != 0 || chmod(path.c_str(), 0600) != 0 || listen(fd, 16) != 0) {
        error = path + ": " + strerror(rc != 0 ? bind_errno : errno);
        close(fd);
        return std::nullopt;
    }
    return api_server(fd, path);
}

api_server::api_server(api_server&& o) noexcept
    : fd_(o.fd_), path_(std::move(o.path_)), clients_(std::move(o.clients_)) {
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
    const uint64_t now = now_ns();
    while (clients_.size() < max_clients) {
        int c = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) break;
        clients_.push_back({c, {}, {}, now});
    }
    for (auto& c : clients_) serve(c, handle);
    const uint64_t after = now_ns();  // serve() stamps activity later than `now`
    for (size_t i = 0; i < clients_.size();) {
        client& c = clients_[i];
        if (c.fd < 0 || (c.out.empty() && after - c.last_activity_ns > idle_limit_ns)) {
            if (c.fd >= 0) close(c.fd);
            clients_[i] = std::move(clients_.back());
            clients_.pop_back();
        } else {
            ++i;
        }
    }
}

void api_server::serve(client& c, const handler& handle) {
    char buf[4096];
    for (;;) {
        ssize_t n = recv(c.fd, buf, sizeof buf, 0);
        if (n > 0) {
            c.in.append(buf, size_t(n));
            c.last_activity_ns = now_ns();
            if (c.in.size() > control_protocol::max_request_bytes) {
                c.out += "{\"ok\":false,\"error\":\"request too long\"}\n";
                c.in.clear();
                break;
            }
            continue;
        }
        if (n == 0 && c.out.empty() && c.in.find('\n') == std::string::npos) {
            close(c.fd);
            c.fd = -1;
            return;
        }
        break;  // EAGAIN, error, or EOF with work left
    }
    for (size_t nl; (nl = c.in.find('\n')) != std::string::npos;) {
        std::string line = c.in.substr(0, nl);
        c.in.erase(0, nl + 1);
        c.out += handle(line);
        c.out += '\n';
    }
    while (!c.out.empty()) {
        ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
        if (n <= 0) break;
        c.out.erase(0, size_t(n));
    }
}

}  // namespace sluice::control

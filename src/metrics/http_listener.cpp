#include "metrics/http_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>
#include <utility>

#include "metrics/prometheus_text.hpp"

namespace sluice::metrics {

namespace {

// A parsed listen address, ready for bind().
struct socket_address {
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family = AF_UNSPEC;
};

std::optional<uint16_t> parse_port(std::string_view text) {
    if (text.empty() || text.size() > 5) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value > 65535) {
        return std::nullopt;
    }
    return uint16_t(value);
}

// "A.B.C.D:PORT" or "[IPV6]:PORT", literals only (no names: nothing here may block on DNS).
std::optional<socket_address> parse_listen(std::string_view listen) {
    std::string host;
    std::string_view port_text;
    bool bracketed = false;
    if (!listen.empty() && listen.front() == '[') {
        const size_t close = listen.find("]:");
        if (close == std::string_view::npos) return std::nullopt;
        host = std::string(listen.substr(1, close - 1));
        port_text = listen.substr(close + 2);
        bracketed = true;
    } else {
        const size_t colon = listen.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        host = std::string(listen.substr(0, colon));
        port_text = listen.substr(colon + 1);
    }
    const std::optional<uint16_t> port = parse_port(port_text);
    if (!port) return std::nullopt;

    socket_address a;
    if (bracketed) {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
        if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) != 1) return std::nullopt;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(*port);
        a.length = sizeof(sockaddr_in6);
        a.family = AF_INET6;
    } else {
        auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage);
        if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) != 1) return std::nullopt;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(*port);
        a.length = sizeof(sockaddr_in);
        a.family = AF_INET;
    }
    return a;
}

std::string errno_text(int err) {
    return std::system_category().message(err);
}

bool would_block(int err) {
    return err == EAGAIN || err == EWOULDBLOCK;
}

// End of the request head (after the empty line), or npos. Bare LF lines are accepted too.
size_t head_end(std::string_view in) {
    const size_t crlf = in.find("\r\n\r\n");
    const size_t lf = in.find("\n\n");
    if (crlf == std::string_view::npos && lf == std::string_view::npos)
        return std::string_view::npos;
    if (crlf == std::string_view::npos) return lf + 2;
    if (lf == std::string_view::npos) return crlf + 4;
    return std::min(crlf + 4, lf + 2);
}

std::string answer(std::string_view status, std::string_view content_type,
                   std::string_view extra_headers, std::string_view body, bool with_body) {
    std::string out;
    out.reserve(160 + (with_body ? body.size() : 0));
    out += "HTTP/1.1 ";
    out += status;
    out += "\r\nContent-Type: ";
    out += content_type;
    out += "\r\nContent-Length: ";
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, body.size());
    (void)ec;
    out.append(digits, end);
    out += "\r\n";
    out += extra_headers;
    out += "Connection: close\r\n\r\n";
    if (with_body) out += body;
    return out;
}

constexpr std::string_view text_plain = "text/plain; charset=utf-8";

// A link to each route. The paths are the program's own constants, not configuration.
std::string index_page(const http_routes& routes) {
    std::string out = "<html><head><title>Sluice</title></head><body><h1>Sluice</h1><ul>";
    for (const http_route& r : routes)
        out += "<li><a href=\"" + r.path + "\">" + r.path + "</a></li>";
    return out + "</ul></body></html>\n";
}

constexpr size_t read_chunk = 4096;

// Whether the client may send more after this head: then closing right after the answer could
// meet unread input and send a RST that destroys the answer in flight, so we linger instead.
bool may_send_more(std::string_view head, size_t bytes_received) {
    if (bytes_received > head.size()) return true;  // already more than the head
    if (!head.starts_with("GET ") && !head.starts_with("HEAD ")) return true;
    std::string lower(head);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return char(std::tolower(ch)); });
    return lower.find("\ncontent-length:") != std::string::npos ||
           lower.find("\ntransfer-encoding:") != std::string::npos;
}

}  // namespace

http_routes metrics_routes(const std::function<std::string()>& body) {
    return {{"/metrics", [body] {
                 return http_content{std::string(prometheus_content_type), body(), ""};
             }}};
}

std::string http_answer(std::string_view request_head, const std::function<std::string()>& body) {
    return http_answer(request_head, metrics_routes(body));
}

std::string http_answer(std::string_view request_head, const http_routes& routes) {
    std::string_view line = request_head.substr(0, request_head.find('\n'));
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    // request-line = method SP request-target SP HTTP-version
    const size_t sp1 = line.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
    if (sp1 == 0 || sp2 == std::string_view::npos || sp2 == sp1 + 1 ||
        line.find(' ', sp2 + 1) != std::string_view::npos ||
        !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
        return answer("400 Bad Request", text_plain, "", "bad request\n", true);
    }
    const std::string_view method = line.substr(0, sp1);
    std::string_view path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    path = path.substr(0, path.find('?'));

    const bool head = method == "HEAD";
    if (method != "GET" && !head) {
        return answer("405 Method Not Allowed", text_plain, "Allow: GET, HEAD\r\n",
                      "method not allowed\n", true);
    }
    for (const http_route& r : routes) {
        if (path != r.path) continue;
        const http_content c = r.serve();
        return answer("200 OK", c.content_type, c.headers, c.body, !head);
    }
    if (path == "/") {
        return answer("200 OK", "text/html; charset=utf-8", "", index_page(routes), !head);
    }
    return answer("404 Not Found", text_plain, "", "not found; try /metrics\n", !head);
}

request_outcome parse_request(std::string_view received, size_t max_request_bytes,
                              const std::function<std::string()>& body) {
    return parse_request(received, max_request_bytes, metrics_routes(body));
}

request_outcome parse_request(std::string_view received, size_t max_request_bytes,
                              const http_routes& routes) {
    const size_t end = head_end(received);
    if (end != std::string_view::npos && end <= max_request_bytes) {
        const std::string_view head = received.substr(0, end);
        return {request_outcome::kind::answer, http_answer(head, routes),
                may_send_more(head, received.size())};
    }
    if (received.size() > max_request_bytes) return {request_outcome::kind::too_large, {}, false};
    return {request_outcome::kind::incomplete, {}, false};
}

result<http_listener> http_listener::open(std::string_view listen) {
    return open(listen, options{});
}

result<http_listener> http_listener::open(std::string_view listen, const options& opts) {
    const std::optional<socket_address> address = parse_listen(listen);
    if (!address) return fail(std::string(listen) + ": not A.B.C.D:PORT or [IPV6]:PORT");
    const int fd = ::socket(address->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(std::string(listen) + ": " + errno_text(errno));
    const int one = 1;
    sockaddr_storage bound{};
    socklen_t bound_length = sizeof bound;
    if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        ::bind(fd, reinterpret_cast<const sockaddr*>(&address->storage), address->length) != 0 ||
        ::listen(fd, 16) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
        const int err = errno;
        ::close(fd);
        return fail(std::string(listen) + ": " + errno_text(err));
    }
    const uint16_t port = bound.ss_family == AF_INET6
                              ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                              : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
    return http_listener(fd, port, opts);
}

http_listener::http_listener(int fd, uint16_t port, const options& opts)
    : fd_(fd), port_(port), opts_(opts) {}

http_listener::http_listener(http_listener&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      port_(other.port_),
      opts_(other.opts_),
      connections_(std::move(other.connections_)) {
    other.connections_.clear();
}

http_listener& http_listener::operator=(http_listener&& other) noexcept {
    if (this != &other) {
        close_all();
        fd_ = std::exchange(other.fd_, -1);
        port_ = other.port_;
        opts_ = other.opts_;
        connections_ = std::move(other.connections_);
        other.connections_.clear();
    }
    return *this;
}

http_listener::~http_listener() {
    close_all();
}

void http_listener::close_all() {
    for (connection& c : connections_) ::close(c.fd);
    connections_.clear();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void http_listener::poll(const std::function<std::string()>& body) {
    poll(metrics_routes(body), clock::now());
}

void http_listener::poll(const std::function<std::string()>& body, clock::time_point now) {
    poll(metrics_routes(body), now);
}

void http_listener::poll(const http_routes& routes) {
    poll(routes, clock::now());
}

void http_listener::poll(const http_routes& routes, clock::time_point now) {
    if (fd_ < 0) return;
    accept_new(now);
    std::erase_if(connections_, [&](connection& c) {
        if (step(c, routes, now)) return false;
        ::close(c.fd);
        return true;
    });
}

void http_listener::accept_new(clock::time_point now) {
    for (unsigned i = 0; i < opts_.max_accepts_per_poll; ++i) {
        if (connections_.size() >= opts_.max_connections) return;
        const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or an aborted connection: try again next poll
        connection c;
        c.fd = fd;
        c.deadline = now + opts_.request_timeout;
        connections_.push_back(std::move(c));
    }
}

bool http_listener::step(connection& c, const http_routes& routes, clock::time_point now) {
    if (now >= c.deadline) return false;
    switch (c.state) {
        case phase::reading:
            return read_request(c, routes, now);
        case phase::writing:
            return write_answer(c, now);
        case phase::closing:
            return drain_after_answer(c);
    }
    return false;
}

bool http_listener::read_request(connection& c, const http_routes& routes, clock::time_point now) {
    char buffer[read_chunk];
    for (;;) {
        // Never hold more than one byte past the limit: that byte already proves it too large.
        const size_t room = opts_.max_request_bytes + 1 - c.in.size();
        const ssize_t n = ::recv(c.fd, buffer, std::min(room, sizeof buffer), 0);
        if (n < 0) return would_block(errno) || errno == EINTR;
        if (n == 0) return false;  // closed before a full head
        c.in.append(buffer, size_t(n));
        request_outcome r = parse_request(c.in, opts_.max_request_bytes, routes);
        if (r.what == request_outcome::kind::too_large) return false;
        if (r.what == request_outcome::kind::answer) {
            c.out = std::move(r.answer);
            c.linger = r.linger;
            c.in = std::string();
            c.state = phase::writing;
            c.deadline = now + opts_.response_timeout;
            return write_answer(c, now);
        }
    }
}

bool http_listener::write_answer(connection& c, clock::time_point now) {
    while (c.sent < c.out.size()) {
        const ssize_t n = ::send(c.fd, c.out.data() + c.sent, c.out.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0) return would_block(errno) || errno == EINTR;
        c.sent += size_t(n);
    }
    // A plain GET: nothing more is coming, close now (FIN). Otherwise half-close and read until
    // the client closes or the deadline passes.
    if (!c.linger) return false;
    ::shutdown(c.fd, SHUT_WR);
    c.out = std::string();
    c.state = phase::closing;
    c.deadline = now + opts_.request_timeout;
    return drain_after_answer(c);
}

bool http_listener::drain_after_answer(connection& c) {
    char buffer[read_chunk];
    for (int i = 0; i < 16; ++i) {  // bounded: a client that keeps sending waits for its deadline
        const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
        if (n < 0) return would_block(errno) || errno == EINTR;
        if (n == 0) return false;
    }
    return true;
}

}  // namespace sluice::metrics

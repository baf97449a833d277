// Unit tests for src/metrics' /metrics HTTP: http_answer, and the non-blocking listener over TCP.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "metrics/http_listener.hpp"
#include "metrics/prometheus_text.hpp"
#include "metrics_sample_view.hpp"

using sluice::metrics::format_prometheus;
using sluice::metrics::http_answer;
using sluice::metrics::http_listener;
using sluice::metrics::testing::sample_view;

namespace {

// ---- HTTP client side, non-blocking, driven together with the listener ----

struct client {
    int fd = -1;
    explicit client(uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // Loopback connect completes in the kernel's backlog without the listener's help.
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
        REQUIRE(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() {
        if (fd >= 0) ::close(fd);
    }
    void send_text(std::string_view text) const {
        REQUIRE(::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == ssize_t(text.size()));
    }
    // Reads what is there: false once the server closed (EOF or reset).
    bool read_some(std::string& into) const {
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                into.append(buffer, size_t(n));
                continue;
            }
            if (n == 0) return false;
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
    }
};

// Polls the listener and reads the client until the server closes (bounded: about 5 s).
std::string exchange(http_listener& listener, const client& c,
                     const std::function<std::string()>& body) {
    std::string received;
    for (int i = 0; i < 5000; ++i) {
        listener.poll(body);
        if (!c.read_some(received)) return received;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL("the server did not close the connection");
    return received;
}

std::string get(http_listener& listener, std::string_view request,
                const std::function<std::string()>& body) {
    client c(listener.port());
    c.send_text(request);
    return exchange(listener, c, body);
}

std::string header_block(const std::string& answer) {
    return answer.substr(0, answer.find("\r\n\r\n") + 4);
}
std::string body_of(const std::string& answer) {
    const size_t end = answer.find("\r\n\r\n");
    return end == std::string::npos ? "" : answer.substr(end + 4);
}

http_listener open_loopback(const http_listener::options& opts = {}) {
    auto l = http_listener::open("127.0.0.1:0", opts);
    REQUIRE_MESSAGE(l.ok(), l.message());
    REQUIRE(l->port() != 0);
    return std::move(*l);
}

}  // namespace

// ---- HTTP answers ----

TEST_CASE("http_answer routes by method and path") {
    // Property: GET /metrics → 200 text 0.0.4 with the body, / → 200 pointer, other path → 404,
    // other method → 405 with Allow, malformed request line → 400; always Connection: close.
    int calls = 0;
    auto body = [&] {
        ++calls;
        return std::string("m 1\n");
    };
    const std::string ok = http_answer("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", body);
    CHECK(ok.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(ok.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
          std::string::npos);
    CHECK(ok.find("\r\nContent-Length: 4\r\n") != std::string::npos);
    CHECK(ok.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(body_of(ok) == "m 1\n");
    CHECK(calls == 1);

    CHECK(http_answer("GET /metrics?x=1 HTTP/1.0\n\n", body).starts_with("HTTP/1.1 200 OK"));
    const std::string index = http_answer("GET / HTTP/1.1\r\n\r\n", body);
    CHECK(index.starts_with("HTTP/1.1 200 OK"));
    CHECK(body_of(index).find("/metrics") != std::string::npos);
    CHECK(http_answer("GET /nope HTTP/1.1\r\n\r\n", body).starts_with("HTTP/1.1 404 "));
    CHECK(http_answer("GET /metrics/ HTTP/1.1\r\n\r\n", body).starts_with("HTTP/1.1 404 "));
    const std::string post = http_answer("POST /metrics HTTP/1.1\r\n\r\n", body);
    CHECK(post.starts_with("HTTP/1.1 405 "));
    CHECK(post.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
    CHECK(http_answer("get /metrics HTTP/1.1\r\n\r\n", body).starts_with("HTTP/1.1 405 "));
    for (const char* bad :
         {"GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/2\r\n\r\n",
          "\r\n\r\n", "GET /metrics HTTP/1.1 x\r\n\r\n"}) {
        CAPTURE(bad);
        CHECK(http_answer(bad, body).starts_with("HTTP/1.1 400 "));
    }
    CHECK(calls == 2);  // only the two /metrics GETs asked for the text

    const std::string head = http_answer("HEAD /metrics HTTP/1.1\r\n\r\n", body);
    CHECK(head.starts_with("HTTP/1.1 200 OK"));
    CHECK(head.find("\r\nContent-Length: 4\r\n") != std::string::npos);
    CHECK(body_of(head).empty());
}

// ---- Listener ----

TEST_CASE("GET /metrics over TCP gets 200 and the body, then the server closes") {
    // Property: a real client on 127.0.0.1 receives the full answer and EOF; nothing stays open.
    http_listener l = open_loopback();
    const std::string text = format_prometheus(sample_view());
    const std::string answer =
        get(l, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: t\r\n\r\n",
            [&] { return text; });
    CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(header_block(answer).find("Content-Type: text/plain; version=0.0.4; charset=utf-8") !=
          std::string::npos);
    CHECK(header_block(answer).find("Connection: close") != std::string::npos);
    CHECK(body_of(answer) == text);
    l.poll([] { return std::string(); });
    CHECK(l.open_connections() == 0);
}

TEST_CASE("unknown paths get 404, other methods 405, over TCP") {
    // Property: the listener sends http_answer's status for /nope, POST and /.
    http_listener l = open_loopback();
    auto body = [] { return std::string("x 1\n"); };
    CHECK(get(l, "GET /nope HTTP/1.1\r\n\r\n", body).starts_with("HTTP/1.1 404 "));
    CHECK(get(l, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", body)
              .starts_with("HTTP/1.1 405 "));
    const std::string index = get(l, "GET / HTTP/1.1\r\n\r\n", body);
    CHECK(index.starts_with("HTTP/1.1 200 "));
    CHECK(body_of(index).find("/metrics") != std::string::npos);
}

TEST_CASE("a request head arriving in pieces across polls is answered once complete") {
    // Property: per-connection state survives poll() calls; the body is asked for only once.
    http_listener l = open_loopback();
    int calls = 0;
    auto body = [&] {
        ++calls;
        return std::string("x 1\n");
    };
    client c(l.port());
    std::string received;
    c.send_text("GET /met");
    for (int i = 0; i < 20; ++i) {
        l.poll(body);
        CHECK(c.read_some(received));
    }
    CHECK(l.open_connections() == 1);
    CHECK(received.empty());
    CHECK(calls == 0);
    c.send_text("rics HTTP/1.1\r\nHost: a\r\n");
    l.poll(body);
    CHECK(c.read_some(received));
    CHECK(received.empty());
    c.send_text("\r\n");
    received = exchange(l, c, body);
    CHECK(received.starts_with("HTTP/1.1 200 OK"));
    CHECK(body_of(received) == "x 1\n");
    CHECK(calls == 1);
    CHECK(l.open_connections() == 0);  // a plain GET is closed with the answer
}

TEST_CASE("a client that may still send is answered, half-closed and closed on its EOF") {
    // Property: after a request with a body the server lingers (FIN sent, reading) until the
    // client closes, so unread input cannot turn the close into a reset.
    http_listener l = open_loopback();
    auto body = [] { return std::string("x 1\n"); };
    auto c = std::make_unique<client>(l.port());
    c->send_text("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
    CHECK(exchange(l, *c, body).starts_with("HTTP/1.1 405 "));  // ends on the server's FIN
    CHECK(l.open_connections() == 1);
    c->send_text("cde");
    l.poll(body);
    CHECK(l.open_connections() == 1);
    c.reset();
    for (int i = 0; i < 1000 && l.open_connections() != 0; ++i) {
        l.poll(body);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(l.open_connections() == 0);
}

TEST_CASE("a silent client is dropped after the request deadline and never blocks poll") {
    // Property: with the clock supplied, a connection without a request closes at accept + 2 s,
    // not before, and each poll() returns at once.
    http_listener l = open_loopback();
    auto body = [] { return std::string("x 1\n"); };
    client c(l.port());
    const auto t0 = http_listener::clock::now();
    const auto wall = std::chrono::steady_clock::now();
    l.poll(body, t0);
    REQUIRE(l.open_connections() == 1);
    l.poll(body, t0 + std::chrono::milliseconds(1999));
    CHECK(l.open_connections() == 1);
    std::string received;
    CHECK(c.read_some(received));  // still open
    l.poll(body, t0 + std::chrono::milliseconds(2000));
    CHECK(l.open_connections() == 0);
    CHECK(std::chrono::steady_clock::now() - wall < std::chrono::milliseconds(500));
    CHECK(!c.read_some(received));  // closed by the server
    CHECK(received.empty());
}

TEST_CASE("the deadline is an option") {
    // Property: request_timeout from options replaces the 2 s default.
    http_listener::options opts;
    opts.request_timeout = std::chrono::milliseconds(50);
    http_listener l = open_loopback(opts);
    client c(l.port());
    const auto t0 = http_listener::clock::now();
    l.poll([] { return std::string(); }, t0);
    REQUIRE(l.open_connections() == 1);
    l.poll([] { return std::string(); }, t0 + std::chrono::milliseconds(50));
    CHECK(l.open_connections() == 0);
}

TEST_CASE("a request head over 8 KiB is dropped without an answer") {
    // Property: more than max_request_bytes without the empty line closes the connection and the
    // body is never built.
    http_listener l = open_loopback();
    int calls = 0;
    auto body = [&] {
        ++calls;
        return std::string("x 1\n");
    };
    client c(l.port());
    c.send_text("GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(8200, 'a') + "\r\n\r\n");
    const std::string received = exchange(l, c, body);
    CHECK(received.empty());
    CHECK(calls == 0);
    CHECK(l.open_connections() == 0);

    // Just under the limit is fine.
    const std::string request = "GET /metrics HTTP/1.1\r\nX: ";
    const std::string fits = request + std::string(8192 - request.size() - 4, 'a') + "\r\n\r\n";
    REQUIRE(fits.size() == 8192);
    CHECK(get(l, fits, body).starts_with("HTTP/1.1 200 OK"));
}

TEST_CASE("a large body is written across polls without blocking") {
    // Property: a 4 MiB answer the socket cannot take at once arrives complete and in order.
    http_listener l = open_loopback();
    std::string big;
    for (size_t i = 0; big.size() < (4u << 20); ++i)
        big += "m{i=\"" + std::to_string(i) + "\"} 1\n";
    client c(l.port());
    c.send_text("GET /metrics HTTP/1.1\r\n\r\n");
    const std::string received = exchange(l, c, [&] { return big; });
    CHECK(received.starts_with("HTTP/1.1 200 OK"));
    CHECK(header_block(received).find("Content-Length: " + std::to_string(big.size())) !=
          std::string::npos);
    CHECK(body_of(received) == big);
}

TEST_CASE("accepts are bounded per poll and by max_connections") {
    // Property: one poll accepts at most max_accepts_per_poll; open connections stay at most
    // max_connections and the rest wait in the backlog, to be served later.
    http_listener::options opts;
    opts.max_accepts_per_poll = 2;
    opts.max_connections = 3;
    http_listener l = open_loopback(opts);
    std::vector<std::unique_ptr<client>> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(std::make_unique<client>(l.port()));
    auto body = [] { return std::string("x 1\n"); };
    l.poll(body);
    CHECK(l.open_connections() == 2);
    l.poll(body);
    CHECK(l.open_connections() == 3);
    for (auto& c : clients) c->send_text("GET /metrics HTTP/1.1\r\n\r\n");
    for (auto& c : clients) {
        const std::string answer = exchange(l, *c, body);
        CHECK(answer.starts_with("HTTP/1.1 200 OK"));
        CHECK(l.open_connections() <= 3);
    }
}

TEST_CASE("an address in use gives an error naming the address and the reason") {
    // Property: a second listener on a bound port fails with "ADDR:PORT: Address already in use".
    http_listener first = open_loopback();
    const std::string address = "127.0.0.1:" + std::to_string(first.port());
    const auto refused = http_listener::open(address);
    REQUIRE(!refused.ok());
    CHECK(refused.message() == address + ": Address already in use");
}

TEST_CASE("malformed listen addresses are refused with the address in the error") {
    // Property: only IPv4 A.B.C.D:PORT and [IPv6]:PORT literals with a port ≤ 65535 are accepted.
    for (const char* bad :
         {"localhost:9273", "127.0.0.1", "::1:9273", "[::1]9273", "[::1]:", "127.0.0.1:70000",
          "127.0.0.1:-1", "127.0.0.1:80x", "", ":9273", "[127.0.0.1]:80", "1.2.3.4.5:80"}) {
        CAPTURE(bad);
        const auto refused = http_listener::open(bad);
        REQUIRE(!refused.ok());
        CHECK(refused.message().starts_with(std::string(bad) + ": "));
    }
}

TEST_CASE("IPv6 loopback works when the host has it") {
    // Property: "[::1]:0" binds and serves like IPv4; skipped if ::1 is not configured.
    auto l = http_listener::open("[::1]:0");
    if (!l) {
        MESSAGE("no IPv6 loopback here: " << l.message());
        return;
    }
    CHECK(l->port() != 0);
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(l->port());
    sin6.sin6_addr = in6addr_loopback;
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) == 0);
    REQUIRE(::send(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25, MSG_NOSIGNAL) == 25);
    REQUIRE(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    std::string received;
    char buffer[4096];
    for (int i = 0; i < 5000; ++i) {
        l->poll([] { return std::string("v6 1\n"); });
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n == 0) break;
        if (n > 0) received.append(buffer, size_t(n));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::close(fd);
    CHECK(received.starts_with("HTTP/1.1 200 OK"));
    CHECK(body_of(received) == "v6 1\n");
}

TEST_CASE(
    "a moved listener keeps serving; the moved-from one is inert; destruction frees the port") {
    // Property: moving transfers the socket and its connections; after destruction the same
    // address can be bound again.
    auto first = http_listener::open("127.0.0.1:0");
    REQUIRE(first.ok());
    std::optional<http_listener> opened(std::move(*first));
    const uint16_t port = opened->port();
    client pending(port);
    opened->poll([] { return std::string(); });
    REQUIRE(opened->open_connections() == 1);

    http_listener moved(std::move(*opened));
    CHECK(moved.port() == port);
    CHECK(moved.open_connections() == 1);
    CHECK(opened->open_connections() == 0);
    opened->poll([] { return std::string(); });  // no socket: does nothing
    pending.send_text("GET /metrics HTTP/1.1\r\n\r\n");
    CHECK(exchange(moved, pending, [] { return std::string("y 2\n"); }).ends_with("\r\n\r\ny 2\n"));

    opened.reset();
    { http_listener gone = std::move(moved); }
    const std::string address = "127.0.0.1:" + std::to_string(port);
    const auto again = http_listener::open(address);
    CHECK_MESSAGE(again.ok(), again.message());
}

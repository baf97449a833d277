// Unit tests for src/health/probe_engine: TCP and HTTP probes against real sockets on 127.0.0.1.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "health/health_monitor.hpp"
#include "health/http_check.hpp"
#include "health/probe_engine.hpp"
#include "health_helpers.hpp"

using namespace test;
using sluice::config::health_check_type;
using sluice::config::http_method;
using sluice::health::build_http_request;
using sluice::health::health_monitor;
using sluice::health::probe_engine;
using sluice::health::probe_request;
using sluice::health::probe_result;
using sluice::health::probe_type;
using sluice::health::result_kind;
using sluice::health::target;
using sluice::health::transition;

namespace {

// ---- real sockets ----

uint64_t now_ns() {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

struct fd_guard {
    int fd = -1;
    explicit fd_guard(int f) : fd(f) {}
    ~fd_guard() {
        if (fd >= 0) close(fd);
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
};

// A TCP socket bound to 127.0.0.1 on a free port; listening with `backlog` unless it is < 0.
int loopback_socket(int backlog) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    if (backlog >= 0) REQUIRE(listen(fd, backlog) == 0);
    return fd;
}

uint16_t port_of(int fd) {
    sockaddr_in a{};
    socklen_t length = sizeof a;
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) == 0);
    return ntohs(a.sin_port);
}

probe_request tcp_probe(uint64_t key, uint16_t port, uint32_t timeout_ms = 1000) {
    probe_request r;
    r.key = key;
    r.address = addr("127.0.0.1");
    r.port = port;
    r.type = probe_type::tcp;
    r.timeout_ms = timeout_ms;
    return r;
}

probe_request http_probe(uint64_t key, uint16_t port, uint32_t timeout_ms = 1000) {
    probe_request r = tcp_probe(key, port, timeout_ms);
    r.type = probe_type::http;
    r.http_request = build_http_request(http_method::get, "/health", "h");
    r.expect_status = default_expect;
    return r;
}

// Polls every millisecond until `count` results came, or 5 s of wall time (a hung probe).
std::vector<probe_result> collect(probe_engine& engine, size_t count) {
    std::vector<probe_result> out;
    uint64_t give_up = now_ns() + 5000 * ms;
    while (out.size() < count && now_ns() < give_up) {
        for (auto& r : engine.poll(now_ns())) out.push_back(std::move(r));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return out;
}

// An HTTP server on 127.0.0.1: answers each connection with `response` after the request's
// head, then closes. Remembers requests and peer addresses.
class http_server {
public:
    explicit http_server(std::string response)
        : listener_(loopback_socket(16)), response_(std::move(response)) {
        thread_ = std::thread([this] { run(); });
    }
    ~http_server() {
        stop_ = true;
        thread_.join();
    }
    uint16_t port() const { return port_of(listener_.fd); }
    void set_response(std::string response) {
        std::lock_guard lock(mutex_);
        response_ = std::move(response);
    }
    std::vector<std::string> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }
    std::vector<std::string> peers() const {
        std::lock_guard lock(mutex_);
        return peers_;
    }
    std::vector<uint16_t> peer_ports() const {
        std::lock_guard lock(mutex_);
        return peer_ports_;
    }

private:
    void run() {
        while (!stop_) {
            pollfd pfd{listener_.fd, POLLIN, 0};
            if (::poll(&pfd, 1, 10) <= 0) continue;
            sockaddr_in peer{};
            socklen_t length = sizeof peer;
            fd_guard connection(accept(listener_.fd, reinterpret_cast<sockaddr*>(&peer), &length));
            if (connection.fd < 0) continue;
            std::string request;
            char buffer[1024];
            while (request.find("\r\n\r\n") == std::string::npos) {
                pollfd in{connection.fd, POLLIN, 0};
                if (::poll(&in, 1, 2000) <= 0) break;
                ssize_t n = recv(connection.fd, buffer, sizeof buffer, 0);
                if (n <= 0) break;
                request.append(buffer, size_t(n));
            }
            char text[INET_ADDRSTRLEN] = {};
            inet_ntop(AF_INET, &peer.sin_addr, text, sizeof text);
            std::string response;
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(request);
                peers_.push_back(text);
                peer_ports_.push_back(ntohs(peer.sin_port));
                response = response_;
            }
            (void)!send(connection.fd, response.data(), response.size(), MSG_NOSIGNAL);
        }
    }

    fd_guard listener_;
    mutable std::mutex mutex_;
    std::string response_;
    std::vector<std::string> requests_;
    std::vector<std::string> peers_;
    std::vector<uint16_t> peer_ports_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

const std::string ok_response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
const std::string unavailable_response =
    "HTTP/1.0 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n";

}  // namespace

// ---- probe_engine against real sockets on 127.0.0.1 ----

TEST_CASE("a TCP probe to a listening port succeeds") {
    fd_guard listener(loopback_socket(8));
    probe_engine engine;
    engine.start(tcp_probe(11, port_of(listener.fd)), now_ns());
    auto results = collect(engine, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].key == 11);
    CHECK(results[0].kind == result_kind::ok);
    CHECK(results[0].detail == "connected");
    CHECK(engine.in_flight() == 0);
}

TEST_CASE("a TCP probe to a port nobody listens on is refused") {
    fd_guard bound(loopback_socket(-1));  // bound, not listening: the kernel answers RST
    probe_engine engine;
    engine.start(tcp_probe(12, port_of(bound.fd)), now_ns());
    auto results = collect(engine, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].kind == result_kind::refused);
    CHECK(results[0].detail == "connection refused");
}

TEST_CASE("a finished probe closes with RST (SO_LINGER 0), leaving no TIME_WAIT behind") {
    fd_guard listener(loopback_socket(8));
    probe_engine engine;
    engine.start(tcp_probe(13, port_of(listener.fd)), now_ns());
    REQUIRE(collect(engine, 1).size() == 1);
    fd_guard accepted(accept(listener.fd, nullptr, nullptr));
    REQUIRE(accepted.fd >= 0);
    char byte;
    pollfd pfd{accepted.fd, POLLIN, 0};
    REQUIRE(::poll(&pfd, 1, 2000) == 1);
    errno = 0;
    CHECK(recv(accepted.fd, &byte, 1, 0) == -1);
    CHECK(errno == ECONNRESET);  // a FIN would read as 0 (end of stream)
}

TEST_CASE("probes bind to the given source address") {
    http_server server(ok_response);
    probe_engine engine({addr("2001:2::1"), addr("127.0.0.2")});  // the IPv4 one applies
    engine.start(http_probe(14, server.port()), now_ns());
    auto results = collect(engine, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].kind == result_kind::ok);
    CHECK(server.peers() == std::vector<std::string>{"127.0.0.2"});
}

TEST_CASE("with a source port range, probes take their ports from it, one after the other") {
    http_server server(ok_response);
    // Ports just above a free ephemeral one; a port another program holds is skipped.
    uint16_t first = 0;
    {
        fd_guard probe_port(loopback_socket(-1));
        first = port_of(probe_port.fd);
    }
    first = std::min<uint16_t>(first, 65500);
    probe_engine engine({addr("127.0.0.1")}, {first, uint16_t(first + 9)});
    for (uint64_t key = 1; key <= 3; ++key) {
        engine.start(http_probe(key, server.port()), now_ns());
        auto results = collect(engine, 1);
        REQUIRE(results.size() == 1);
        CHECK(results[0].kind == result_kind::ok);
    }
    auto ports = server.peer_ports();
    REQUIRE(ports.size() == 3);
    for (auto port : ports) {
        CHECK(port >= first);
        CHECK(port <= first + 9);
    }
    CHECK(ports[0] < ports[1]);  // in turn, not the same port again
    CHECK(ports[1] < ports[2]);
}

TEST_CASE("an HTTP probe of a server answering 200 is ok, sending the configured request") {
    http_server server(ok_response);
    probe_engine engine;
    engine.start(http_probe(21, server.port()), now_ns());
    auto results = collect(engine, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].kind == result_kind::ok);
    CHECK(results[0].http_status == 200);
    CHECK(results[0].detail == "HTTP 200");
    REQUIRE(server.requests().size() == 1);
    CHECK(server.requests()[0] == build_http_request(http_method::get, "/health", "h"));
}

TEST_CASE("an HTTP probe of a server answering 503 is bad_status with the code") {
    http_server server(unavailable_response);
    probe_engine engine;
    engine.start(http_probe(22, server.port()), now_ns());
    auto results = collect(engine, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].kind == result_kind::bad_status);
    CHECK(results[0].http_status == 503);
    CHECK(results[0].detail == "HTTP 503");
}

TEST_CASE("an HTTP probe of a server that answers something else is malformed") {
    http_server server("SSH-2.0-OpenSSH_9.2\r\n");
    probe_engine engine;
    engine.start(http_probe(23, server.port()), now_ns());
    auto results = collect(engine, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].kind == result_kind::malformed);
    CHECK(results[0].detail == "malformed response: not an HTTP response");
}

TEST_CASE("an HTTP probe of a server that accepts but never answers times out within bounds") {
    // The kernel completes the handshake for a listening socket nobody accepts from.
    fd_guard silent(loopback_socket(8));
    probe_engine engine;
    uint64_t started = now_ns();
    engine.start(http_probe(24, port_of(silent.fd), 200), started);
    auto results = collect(engine, 1);
    uint64_t done = now_ns();
    REQUIRE(results.size() == 1);
    CHECK(results[0].kind == result_kind::timeout);
    CHECK(results[0].detail == "timeout after 200 ms waiting for the response");
    CHECK(results[0].latency_ns >= 200 * ms);   // never before its timeout
    CHECK(done - started < (200 + 1500) * ms);  // loose slack: scheduling, not precision
}

TEST_CASE("a TCP probe whose SYN is never answered times out while connecting") {
    // A full accept queue makes the kernel drop further SYNs.
    fd_guard full(loopback_socket(0));
    uint16_t port = port_of(full.fd);
    probe_engine fill;
    for (uint64_t i = 0; i < 3; ++i) fill.start(tcp_probe(100 + i, port, 300), now_ns());
    collect(fill, 3);  // the first connects fill the queue; the rest time out
    probe_engine engine;
    uint64_t started = now_ns();
    engine.start(tcp_probe(25, port, 300), started);
    auto results = collect(engine, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].kind == result_kind::timeout);
    CHECK(results[0].detail == "timeout after 300 ms while connecting");
    CHECK(results[0].latency_ns >= 300 * ms);
    CHECK(now_ns() - started < (300 + 1500) * ms);
}

TEST_CASE("a cancelled probe never reports, and many probes run at once with their own keys") {
    fd_guard listener(loopback_socket(64));
    fd_guard bound(loopback_socket(-1));
    probe_engine engine;
    engine.start(tcp_probe(1, port_of(listener.fd)), now_ns());
    engine.cancel(1);
    engine.start(tcp_probe(2, port_of(bound.fd)), now_ns());  // refused at once or soon
    engine.cancel(2);
    CHECK(engine.in_flight() == 0);
    for (uint64_t key = 10; key < 40; ++key)
        engine.start(tcp_probe(key, key % 2 ? port_of(listener.fd) : port_of(bound.fd)), now_ns());
    auto results = collect(engine, 30);
    REQUIRE(results.size() == 30);
    std::set<uint64_t> keys;
    for (const auto& r : results) {
        keys.insert(r.key);
        CHECK(r.kind == (r.key % 2 ? result_kind::ok : result_kind::refused));
    }
    CHECK(keys.size() == 30);
    CHECK(*keys.begin() == 10);
    CHECK(engine.poll(now_ns()).empty());
}

TEST_CASE("the monitor over real probes follows a server from 503 to 200") {
    http_server server(unavailable_response);
    probe_engine engine;
    health_monitor monitor(engine, 3);
    target t;
    t.id = 77;
    t.address = addr("127.0.0.1");
    t.port = server.port();
    t.check.type = health_check_type::http;
    t.check.interval_ms = 300;
    t.check.timeout_ms = 300;
    t.check.rise = 1;
    t.check.fall = 1;
    t.check.initial_jitter = false;
    monitor.set_targets({t}, now_ns());
    auto wait_for_transition = [&] {
        uint64_t give_up = now_ns() + 5000 * ms;
        while (now_ns() < give_up) {
            auto changes = monitor.poll(now_ns());
            if (!changes.empty()) return changes;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return std::vector<transition>{};
    };
    auto down = wait_for_transition();
    REQUIRE(down.size() == 1);
    CHECK_FALSE(down[0].up);
    CHECK(down[0].reason == "1 consecutive failure, last: HTTP 503");
    server.set_response(ok_response);
    auto up = wait_for_transition();
    REQUIRE(up.size() == 1);
    CHECK(up[0].up);
    CHECK(up[0].reason == "1 consecutive success");
    CHECK(monitor.status(77)->last_http_status == 200);
}

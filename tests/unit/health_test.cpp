// Unit tests for src/health: the rise/fall state machine, HTTP request and response judging, the
// monitor's scheduling and transitions (with a fake prober and clock), and the probe engine
// against real sockets on 127.0.0.1.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "health/health_monitor.hpp"
#include "health/health_state.hpp"
#include "health/http_check.hpp"
#include "health/probe_engine.hpp"

using sluice::ip_address;
using sluice::config::health_check_type;
using sluice::config::health_initial_state;
using sluice::config::http_method;
using sluice::config::http_status_range;
using sluice::health::build_http_request;
using sluice::health::classify_http_response;
using sluice::health::default_http_host;
using sluice::health::health_monitor;
using sluice::health::health_state;
using sluice::health::http_verdict;
using sluice::health::probe_engine;
using sluice::health::probe_request;
using sluice::health::probe_result;
using sluice::health::probe_type;
using sluice::health::prober;
using sluice::health::result_kind;
using sluice::health::status_expected;
using sluice::health::target;
using sluice::health::transition;

namespace doctest {
template <>
struct StringMaker<http_verdict> {
    static String convert(http_verdict v) {
        const char* names[] = {"need_more", "ok", "unexpected_status", "malformed"};
        return names[size_t(v)];
    }
};
template <>
struct StringMaker<result_kind> {
    static String convert(result_kind k) { return sluice::health::result_kind_name(k); }
};
}  // namespace doctest

namespace {

constexpr uint64_t ms = 1'000'000;
const std::vector<http_status_range> default_expect{{200, 399}};

ip_address addr(const char* text) {
    return *ip_address::parse(text);
}

// ---- a prober whose results the test decides ----

class fake_prober final : public prober {
public:
    struct started {
        probe_request request;
        uint64_t at_ns;
    };
    void start(const probe_request& request, uint64_t now_ns) override {
        starts.push_back({request, now_ns});
        active[request.key] = request;
    }
    void cancel(uint64_t key) override {
        if (active.erase(key)) cancelled.push_back(key);
    }
    std::vector<probe_result> poll(uint64_t) override { return std::exchange(ready, {}); }

    // The probe in flight for backend `id`; fails the test when there is none.
    uint64_t key_of(uint32_t id) const {
        for (const auto& [key, request] : active)
            if (uint32_t(key) == id) return key;
        FAIL("no probe in flight for id " << id);
        return 0;
    }
    bool probing(uint32_t id) const {
        for (const auto& [key, request] : active)
            if (uint32_t(key) == id) return true;
        return false;
    }
    // Finishes backend `id`'s probe; the monitor sees it at its next poll().
    void finish(uint32_t id, result_kind kind, std::string detail, uint64_t now_ns,
                uint16_t status = 0) {
        uint64_t key = key_of(id);
        active.erase(key);
        ready.push_back(probe_result{key, kind, status, 1 * ms, now_ns, std::move(detail)});
    }

    std::vector<started> starts;
    std::map<uint64_t, probe_request> active;
    std::vector<uint64_t> cancelled;
    std::vector<probe_result> ready;
};

target tcp_target(uint32_t id, uint32_t rise = 2, uint32_t fall = 3) {
    target t;
    t.id = id;
    t.address = addr("198.18.1.11");
    t.port = uint16_t(8000 + id);
    t.check.type = health_check_type::tcp;
    t.check.interval_ms = 1000;
    t.check.timeout_ms = 500;
    t.check.rise = rise;
    t.check.fall = fall;
    t.check.initial_jitter = false;
    return t;
}

// Polls at `now`, finishing backend `id`'s probe first when one is in flight.
std::vector<transition> probe_once(health_monitor& monitor, fake_prober& fake, uint32_t id,
                                   result_kind kind, const std::string& detail, uint64_t now) {
    auto before = monitor.poll(now);  // starts the due probe
    REQUIRE(before.empty());
    fake.finish(id, kind, detail, now);
    return monitor.poll(now);
}

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

// ---- health_state ----

TEST_CASE("an up backend goes down on exactly the fall-th consecutive failure") {
    health_state s(2, 3, true);
    CHECK_FALSE(s.record(false));
    CHECK_FALSE(s.record(false));
    CHECK(s.up());
    CHECK(s.consecutive_failures() == 2);
    CHECK(s.record(false));
    CHECK_FALSE(s.up());
    CHECK_FALSE(s.record(false));  // further failures change nothing
    CHECK(s.consecutive_failures() == 4);
}

TEST_CASE("a down backend comes up on exactly the rise-th consecutive success") {
    health_state s(3, 1, false);
    CHECK_FALSE(s.record(true));
    CHECK_FALSE(s.record(true));
    CHECK_FALSE(s.up());
    CHECK(s.record(true));
    CHECK(s.up());
    CHECK(s.consecutive_successes() == 3);
    CHECK(s.consecutive_failures() == 0);
}

TEST_CASE("flapping results never change the state while no run reaches rise or fall") {
    for (bool initially_up : {true, false}) {
        CAPTURE(initially_up);
        health_state s(2, 2, initially_up);
        for (int i = 0; i < 50; ++i) {
            CHECK_FALSE(s.record(i % 2 == 0));
            CHECK(s.up() == initially_up);
        }
        // A success between failures restarts the failure run (fall 3: F F S F F stays up).
        health_state t(2, 3, true);
        for (bool ok : {false, false, true, false, false}) CHECK_FALSE(t.record(ok));
        CHECK(t.up());
        CHECK(t.record(false));
    }
}

TEST_CASE("force_down takes an up backend down, and only rise successes bring it back") {
    health_state s(2, 3, true);
    s.record(true);
    s.record(true);
    CHECK(s.force_down());
    CHECK_FALSE(s.up());
    CHECK(s.consecutive_successes() == 0);
    CHECK_FALSE(s.record(true));
    CHECK(s.record(true));
    CHECK(s.up());
    // When already down, it restarts the rise run and reports no change.
    health_state d(2, 3, false);
    d.record(true);
    CHECK_FALSE(d.force_down());
    CHECK_FALSE(d.record(true));
    CHECK(d.record(true));
}

TEST_CASE("rise and fall of 0 act as 1; set_thresholds keeps the state and judges from then on") {
    health_state s(0, 0, true);
    CHECK(s.rise() == 1);
    CHECK(s.fall() == 1);
    CHECK(s.record(false));
    CHECK(s.record(true));
    health_state t(5, 5, true);
    t.record(false);
    t.record(false);
    t.set_thresholds(5, 3);
    CHECK(t.up());
    CHECK(t.record(false));  // the run of 2 continues: the 3rd failure reaches fall 3
}

// ---- http_check ----

TEST_CASE("the probe request is HTTP/1.0 with Host, Connection: close and the user agent") {
    CHECK(build_http_request(http_method::get, "/healthz?x=1", "web.example") ==
          "GET /healthz?x=1 HTTP/1.0\r\nHost: web.example\r\nConnection: close\r\n"
          "User-Agent: sluice-health\r\nAccept: */*\r\n\r\n");
    CHECK(build_http_request(http_method::head, "/", "h").starts_with("HEAD / HTTP/1.0\r\n"));
    CHECK(build_http_request(http_method::options, "/", "h").starts_with("OPTIONS / HTTP/1.0\r\n"));
}

TEST_CASE("the default Host is the address, IPv6 in brackets, with the port unless 80") {
    CHECK(default_http_host(addr("198.18.1.11"), 80) == "198.18.1.11");
    CHECK(default_http_host(addr("198.18.1.11"), 8080) == "198.18.1.11:8080");
    CHECK(default_http_host(addr("2001:2::11"), 80) == "[2001:2::11]");
    CHECK(default_http_host(addr("2001:2::11"), 443) == "[2001:2::11]:443");
}

TEST_CASE("status_expected matches any listed range, bounds included") {
    const std::vector<http_status_range> ranges{{200, 204}, {301, 301}};
    CHECK(status_expected(200, ranges));
    CHECK(status_expected(204, ranges));
    CHECK(status_expected(301, ranges));
    CHECK_FALSE(status_expected(205, ranges));
    CHECK_FALSE(status_expected(199, ranges));
    CHECK_FALSE(status_expected(302, ranges));
    CHECK_FALSE(status_expected(200, {}));
}

TEST_CASE("a complete response head is ok or unexpected by its status, HTTP/1.0 and 1.1") {
    auto verdict = [](std::string_view text, const std::vector<http_status_range>& expect) {
        return classify_http_response(text, expect, false);
    };
    auto ok = verdict("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", default_expect);
    CHECK(ok.verdict == http_verdict::ok);
    CHECK(ok.status == 200);
    CHECK(verdict("HTTP/1.0 200 OK\r\n\r\n", default_expect).verdict == http_verdict::ok);
    CHECK(verdict("HTTP/1.0 399 X\r\n\r\n", default_expect).verdict == http_verdict::ok);
    auto down =
        verdict("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\n\r\n", default_expect);
    CHECK(down.verdict == http_verdict::unexpected_status);
    CHECK(down.status == 503);
    CHECK(verdict("HTTP/1.1 400 Bad\r\n\r\n", default_expect).verdict ==
          http_verdict::unexpected_status);
    CHECK(verdict("HTTP/1.1 503 X\r\n\r\n", {{500, 503}}).verdict == http_verdict::ok);
    CHECK(verdict("HTTP/1.1 200 OK\r\n\r\n", {{500, 503}}).verdict ==
          http_verdict::unexpected_status);
    // No reason phrase, bare LF line ends, body bytes after the head.
    CHECK(verdict("HTTP/1.1 204\r\n\r\n", default_expect).verdict == http_verdict::ok);
    CHECK(verdict("HTTP/1.1 200 OK\nA: b\n\nbody", default_expect).verdict == http_verdict::ok);
}

TEST_CASE("a partial response needs more bytes until the head is complete") {
    const std::string full = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 0\r\n\r\n";
    for (size_t n = 0; n < full.size(); ++n) {
        CAPTURE(n);
        CHECK(classify_http_response(full.substr(0, n), default_expect, false).verdict ==
              http_verdict::need_more);
    }
    CHECK(classify_http_response(full, default_expect, false).verdict == http_verdict::ok);
}

TEST_CASE("a peer that closes after the status line is judged on it; before it, malformed") {
    auto closed = [](std::string_view text) {
        return classify_http_response(text, default_expect, true);
    };
    CHECK(closed("HTTP/1.0 200 OK\r\n").verdict == http_verdict::ok);
    CHECK(closed("HTTP/1.0 500 Oops\r\nX: y").verdict == http_verdict::unexpected_status);
    CHECK(closed("HTTP/1.0 200 O").verdict == http_verdict::malformed);
    CHECK(closed("").verdict == http_verdict::malformed);
    CHECK(closed("").problem == "connection closed before the status line");
}

TEST_CASE("bytes that are not an HTTP/1.x status line are malformed, without waiting for more") {
    auto verdict = [](std::string_view text) {
        return classify_http_response(text, default_expect, false);
    };
    CHECK(verdict("SSH-2.0-OpenSSH_9.2\r\n").verdict == http_verdict::malformed);
    CHECK(verdict("X").verdict == http_verdict::malformed);
    CHECK(verdict("HTTX").verdict == http_verdict::malformed);
    CHECK(verdict("HTTP/1.1 2OO OK\r\n\r\n").verdict == http_verdict::malformed);
    CHECK(verdict("HTTP/1.1 200OK\r\n\r\n").verdict == http_verdict::malformed);
    CHECK(verdict("HTTP/1.1 600 Weird\r\n\r\n").verdict == http_verdict::malformed);
    CHECK(verdict("HTTP/1.1 099 Low\r\n\r\n").verdict == http_verdict::malformed);
    CHECK(verdict("HTTP/x.1 200 OK\r\n\r\n").verdict == http_verdict::malformed);
    CHECK(verdict("HTTP/1.1 200 OK\r\n\r\n").verdict == http_verdict::ok);
    // A status line that never ends.
    CHECK(verdict("HTTP/1.1 200 " + std::string(2000, 'a')).verdict == http_verdict::malformed);
    // A head that never ends is judged on its status line once the limit is read.
    std::string endless = "HTTP/1.1 200 OK\r\n";
    while (endless.size() < sluice::health::max_http_response_head)
        endless += "X-Filler: aaaaaaaaaaaaaaaa\r\n";
    CHECK(verdict(endless).verdict == http_verdict::ok);
}

// ---- health_monitor with a fake prober and clock ----

TEST_CASE(
    "a probed target goes down after fall failures and up after rise successes, with reasons") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    monitor.set_targets({tcp_target(7)}, 0);
    CHECK(monitor.is_up(7));
    uint64_t t = 0;
    for (int i = 0; i < 2; ++i, t += 1000 * ms)
        CHECK(probe_once(monitor, fake, 7, result_kind::refused, "connection refused", t).empty());
    auto down = probe_once(monitor, fake, 7, result_kind::refused, "connection refused", t);
    REQUIRE(down.size() == 1);
    CHECK(down[0].id == 7);
    CHECK_FALSE(down[0].up);
    CHECK(down[0].reason == "3 consecutive failures, last: connection refused");
    CHECK(down[0].at_ns == t);
    CHECK_FALSE(monitor.is_up(7));
    t += 1000 * ms;
    CHECK(probe_once(monitor, fake, 7, result_kind::ok, "connected", t).empty());
    t += 1000 * ms;
    auto up = probe_once(monitor, fake, 7, result_kind::ok, "connected", t);
    REQUIRE(up.size() == 1);
    CHECK(up[0].up);
    CHECK(up[0].reason == "2 consecutive successes");
    CHECK(monitor.is_up(7));
}

TEST_CASE("probes start every interval, one at a time, to the backend's or the override port") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto t = tcp_target(1);
    auto overridden = tcp_target(2);
    overridden.check.port = 9999;
    monitor.set_targets({t, overridden}, 0);
    monitor.poll(0);
    REQUIRE(fake.starts.size() == 2);
    std::set<uint16_t> ports{fake.starts[0].request.port, fake.starts[1].request.port};
    CHECK(ports == std::set<uint16_t>{8001, 9999});
    CHECK(fake.starts[0].request.timeout_ms == 500);
    // While a probe is in flight, no second one starts, even when the next is due.
    monitor.poll(1500 * ms);
    CHECK(fake.starts.size() == 2);
    fake.finish(1, result_kind::ok, "connected", 1500 * ms);
    fake.finish(2, result_kind::ok, "connected", 1500 * ms);
    monitor.poll(1500 * ms);  // overdue: starts at once
    CHECK(fake.starts.size() == 4);
    fake.finish(1, result_kind::ok, "connected", 1600 * ms);
    monitor.poll(1600 * ms);
    monitor.poll(1999 * ms);
    CHECK(fake.starts.size() == 4);  // next due at 1000 ms + 1000 ms
    monitor.poll(2000 * ms);
    CHECK(fake.starts.size() == 5);
    CHECK(fake.starts[4].at_ns == 2000 * ms);
}

TEST_CASE("with initial_jitter each first probe falls within the first interval, spread out") {
    fake_prober fake;
    health_monitor monitor(fake, 42);
    std::vector<target> targets;
    for (uint32_t id = 0; id < 100; ++id) {
        auto t = tcp_target(id);
        t.check.initial_jitter = true;
        t.check.interval_ms = 2000;
        targets.push_back(t);
    }
    const uint64_t start = 5000 * ms;
    monitor.set_targets(targets, start);
    for (uint64_t t = start; t < start + 2000 * ms; t += 10 * ms) monitor.poll(t);
    monitor.poll(start + 2000 * ms - 1);
    REQUIRE(fake.starts.size() == 100);  // all within [start, start + interval)
    std::set<uint64_t> buckets;          // 100 ms buckets hit
    for (const auto& s : fake.starts) {
        CHECK(s.at_ns >= start);
        CHECK(s.at_ns < start + 2000 * ms);
        buckets.insert((s.at_ns - start) / (100 * ms));
    }
    CHECK(buckets.size() >= 10);  // not all at once
    // Without jitter, all start at once.
    fake_prober fake2;
    health_monitor monitor2(fake2, 42);
    monitor2.set_targets({tcp_target(1), tcp_target(2)}, start);
    monitor2.poll(start);
    CHECK(fake2.starts.size() == 2);
}

TEST_CASE("set_targets keeps the state of ids that stay, starts new ones, forgets removed ones") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    monitor.set_targets({tcp_target(1, 2, 1), tcp_target(2, 2, 1)}, 0);
    monitor.poll(0);
    fake.finish(1, result_kind::timeout, "timeout after 500 ms while connecting", 10 * ms);
    auto down = monitor.poll(10 * ms);
    REQUIRE(down.size() == 1);
    CHECK_FALSE(monitor.is_up(1));
    REQUIRE(fake.probing(2));
    // Reload: 1 stays (down, with its counters), 2 goes (its probe cancelled), 3 comes down.
    auto three = tcp_target(3);
    three.check.initial_state = health_initial_state::down;
    monitor.set_targets({tcp_target(1, 2, 1), three}, 20 * ms);
    CHECK(monitor.size() == 2);
    CHECK_FALSE(monitor.is_up(1));
    CHECK(monitor.status(1)->checks[size_t(result_kind::timeout)] == 1);
    CHECK(monitor.status(1)->state_changes == 1);
    CHECK_FALSE(monitor.status(2).has_value());
    CHECK_FALSE(monitor.is_up(2));
    CHECK_FALSE(fake.probing(2));
    CHECK(fake.cancelled.size() == 1);
    CHECK_FALSE(monitor.is_up(3));
    // A late result for the removed id is ignored.
    fake.ready.push_back(probe_result{uint64_t(1) << 32 | 2, result_kind::ok, 0, 0, 30 * ms, ""});
    CHECK(monitor.poll(30 * ms).empty());
    // The initially down target comes up after rise (2) successes.
    fake.finish(3, result_kind::ok, "connected", 40 * ms);
    CHECK(monitor.poll(40 * ms).empty());
    monitor.poll(1030 * ms);
    fake.finish(3, result_kind::ok, "connected", 1040 * ms);
    auto up = monitor.poll(1040 * ms);
    REQUIRE(up.size() == 1);
    CHECK(up[0].id == 3);
    CHECK(up[0].up);
}

TEST_CASE("a reload that changes the probe cancels the one in flight; the same probe keeps it") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto t = tcp_target(4);
    monitor.set_targets({t}, 0);
    monitor.poll(0);
    uint64_t first = fake.key_of(4);
    auto same = t;
    same.check.rise = 5;  // thresholds are not part of the probe
    monitor.set_targets({same}, 10 * ms);
    CHECK(fake.cancelled.empty());
    CHECK(fake.key_of(4) == first);
    auto moved = t;
    moved.port = 9000;
    monitor.set_targets({moved}, 20 * ms);
    CHECK(fake.cancelled == std::vector<uint64_t>{first});
    CHECK_FALSE(fake.probing(4));
    // A result with the cancelled key is ignored.
    fake.ready.push_back(probe_result{first, result_kind::refused, 0, 0, 30 * ms, "x"});
    monitor.poll(30 * ms);
    CHECK(monitor.status(4)->checks[size_t(result_kind::refused)] == 0);
}

TEST_CASE("passive_failures consecutive reports mark down; probes bring it back after rise") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto t = tcp_target(9, 2, 3);
    t.passive_failures = 3;
    monitor.set_targets({t}, 0);
    monitor.passive_failure(9, 1 * ms);
    monitor.passive_failure(9, 2 * ms);
    monitor.passive_success(9);  // the run is over
    monitor.passive_failure(9, 3 * ms);
    monitor.passive_failure(9, 4 * ms);
    CHECK(monitor.status(9)->consecutive_passive_failures == 2);
    CHECK(monitor.is_up(9));
    monitor.passive_failure(9, 5 * ms);
    CHECK_FALSE(monitor.is_up(9));
    auto down = monitor.poll(5 * ms);
    REQUIRE(down.size() == 1);
    CHECK_FALSE(down[0].up);
    CHECK(down[0].reason == "passive: 3 consecutive failed connects");
    CHECK(down[0].at_ns == 5 * ms);
    // The probe started at 5 ms succeeds, then one more: rise 2.
    fake.finish(9, result_kind::ok, "connected", 6 * ms);
    CHECK(monitor.poll(6 * ms).empty());
    monitor.poll(1005 * ms);
    fake.finish(9, result_kind::ok, "connected", 1006 * ms);
    auto up = monitor.poll(1006 * ms);
    REQUIRE(up.size() == 1);
    CHECK(up[0].up);
    CHECK(up[0].reason == "2 consecutive successes");
}

TEST_CASE("passive reports do nothing when passive_failures is 0 or the type is none") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto off = tcp_target(1);
    auto none = tcp_target(2);
    none.check.type = health_check_type::none;
    none.passive_failures = 1;
    monitor.set_targets({off, none}, 0);
    for (int i = 0; i < 10; ++i) {
        monitor.passive_failure(1, 0);
        monitor.passive_failure(2, 0);
        monitor.passive_failure(99, 0);  // unknown
    }
    CHECK(monitor.is_up(1));
    CHECK(monitor.is_up(2));
    CHECK(monitor.poll(0).empty());
}

TEST_CASE("type none is up and never probed; switching a down target to none brings it up") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto none = tcp_target(1);
    none.check.type = health_check_type::none;
    none.check.initial_state = health_initial_state::down;  // ignored: never probed
    monitor.set_targets({none}, 0);
    for (uint64_t t = 0; t < 10000 * ms; t += 500 * ms) monitor.poll(t);
    CHECK(fake.starts.empty());
    CHECK(monitor.is_up(1));
    CHECK_FALSE(monitor.status(1)->probed);

    auto probed = tcp_target(2, 2, 1);
    monitor.set_targets({probed}, 0);
    monitor.poll(0);
    fake.finish(2, result_kind::refused, "connection refused", 1 * ms);
    REQUIRE(monitor.poll(1 * ms).size() == 1);
    CHECK_FALSE(monitor.is_up(2));
    probed.check.type = health_check_type::none;
    monitor.set_targets({probed}, 2 * ms);
    auto up = monitor.poll(2 * ms);
    REQUIRE(up.size() == 1);
    CHECK(up[0].up);
    CHECK(up[0].reason == "health checks off (type \"none\")");
    CHECK(fake.starts.size() == 1);
}

TEST_CASE("status shows the last result, check time, runs, totals by kind and state changes") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    monitor.set_targets({tcp_target(5, 1, 1)}, 0);
    CHECK_FALSE(monitor.status(5)->last_result.has_value());
    CHECK(monitor.status(5)->last_check_ns == 0);
    const std::pair<result_kind, const char*> results[] = {
        {result_kind::ok, "connected"},
        {result_kind::refused, "connection refused"},
        {result_kind::refused, "connection refused"},
        {result_kind::timeout, "timeout after 500 ms while connecting"},
    };
    uint64_t t = 0;
    for (const auto& [kind, detail] : results) {
        monitor.poll(t);
        fake.finish(5, kind, detail, t + 7 * ms);
        monitor.poll(t + 7 * ms);
        t += 1000 * ms;
    }
    auto s = *monitor.status(5);
    CHECK_FALSE(s.up);
    CHECK(s.probed);
    CHECK(s.last_result == result_kind::timeout);
    CHECK(s.last_detail == "timeout after 500 ms while connecting");
    CHECK(s.last_check_ns == 3007 * ms);
    CHECK(s.last_latency_ns == 1 * ms);
    CHECK(s.consecutive_failures == 3);
    CHECK(s.consecutive_successes == 0);
    CHECK(s.checks[size_t(result_kind::ok)] == 1);
    CHECK(s.checks[size_t(result_kind::refused)] == 2);
    CHECK(s.checks[size_t(result_kind::timeout)] == 1);
    CHECK(s.state_changes == 1);  // down at the first refusal (fall 1)
    CHECK(s.last_change_ns == 1007 * ms);
    CHECK_FALSE(monitor.status(6).has_value());
}

TEST_CASE("an http target's probe carries its request, Host and expected statuses") {
    fake_prober fake;
    health_monitor monitor(fake, 1);
    auto t = tcp_target(1);
    t.check.type = health_check_type::http;
    t.check.method = http_method::head;
    t.check.http_path = "/ready";
    t.check.expect_status = {{204, 204}};
    auto named = t;
    named.id = 2;
    named.check.http_host = "svc.example";
    monitor.set_targets({t, named}, 0);
    monitor.poll(0);
    REQUIRE(fake.starts.size() == 2);
    for (const auto& s : fake.starts) {
        CHECK(s.request.type == probe_type::http);
        CHECK(s.request.expect_status == std::vector<http_status_range>{{204, 204}});
        std::string host = uint32_t(s.request.key) == 1 ? "198.18.1.11:8001" : "svc.example";
        CHECK(s.request.http_request == build_http_request(http_method::head, "/ready", host));
    }
}

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

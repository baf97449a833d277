#pragma once
// A minimal HTTP/1.1 server for /metrics and the status page, polled by the control thread: one
// non-blocking listening socket and a few non-blocking connections whose state survives between
// poll() calls. No threads, no blocking call, one request per connection (`Connection: close`).
//
//   GET ROUTE     200, the route's content (its callback is called once per request)
//   GET /         200, a short page linking the routes
//   GET other     404          HEAD: as GET without the body
//   other method  405          malformed request line: 400
//
// sluiced's routes: /metrics (text format 0.0.4), /status and /status.json (status_page.hpp).
//
// A connection that has not sent a full request head within request_timeout, or sends a head
// larger than max_request_bytes, is closed without an answer; one whose answer is not read within
// response_timeout is closed too.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace sluice::metrics {

// What a route answers: its body, the body's type and header lines of its own.
struct http_content {
    std::string content_type;
    std::string body;
    std::string headers;  // extra header lines, each ending in "\r\n" ("" for none)
};

// One path served to GET and HEAD (exact match; a query string is ignored) and the callback that
// answers it, called once per request on the thread that polls the listener.
struct http_route {
    std::string path;
    std::function<http_content()> serve;
};
using http_routes = std::vector<http_route>;

// The routes of a /metrics-only listener: `body` gives the text format 0.0.4 exposition.
http_routes metrics_routes(const std::function<std::string()>& body);

class http_listener {
public:
    using clock = std::chrono::steady_clock;

    struct options {
        std::chrono::milliseconds request_timeout{2000};    // accept → full request head
        std::chrono::milliseconds response_timeout{10000};  // head → answer fully sent
        size_t max_request_bytes = 8192;                    // request head, request line included
        unsigned max_accepts_per_poll = 4;
        size_t max_connections = 16;  // beyond this, clients wait in the kernel's backlog
    };

    // Binds and listens on "A.B.C.D:PORT" or "[IPV6]:PORT" (port 0: the kernel picks; see port()).
    // On failure the error names the address and the reason, e.g. "127.0.0.1:9273: Address
    // already in use". Control thread (or startup).
    static result<http_listener> open(std::string_view listen);
    static result<http_listener> open(std::string_view listen, const options& opts);

    http_listener(http_listener&& other) noexcept;
    http_listener& operator=(http_listener&& other) noexcept;
    http_listener(const http_listener&) = delete;
    http_listener& operator=(const http_listener&) = delete;
    ~http_listener();

    // The bound port (the kernel's choice when opened with port 0).
    uint16_t port() const { return port_; }
    // Connections accepted and not yet closed.
    size_t open_connections() const { return connections_.size(); }

    // Accepts, reads, answers and closes what is ready, then returns; never blocks. `routes`
    // answer the GETs. Control thread, every few hundred µs.
    void poll(const http_routes& routes);
    // The same with the time supplied (tests drive deadlines with it).
    void poll(const http_routes& routes, clock::time_point now);
    // poll(metrics_routes(body)): a listener serving /metrics only (tests).
    void poll(const std::function<std::string()>& body);
    void poll(const std::function<std::string()>& body, clock::time_point now);

private:
    enum class phase { reading, writing, closing };

    struct connection {
        int fd = -1;
        phase state = phase::reading;
        clock::time_point deadline;
        std::string in;       // request head received so far
        std::string out;      // answer
        size_t sent = 0;      // bytes of `out` written
        bool linger = false;  // the client may still send (a body, a pipelined request)
    };

    http_listener(int fd, uint16_t port, const options& opts);
    void close_all();
    void accept_new(clock::time_point now);
    // Each returns false when the connection is finished and must be closed.
    bool step(connection& c, const http_routes& routes, clock::time_point now);
    bool read_request(connection& c, const http_routes& routes, clock::time_point now);
    bool write_answer(connection& c, clock::time_point now);
    bool drain_after_answer(connection& c);

    int fd_ = -1;
    uint16_t port_ = 0;
    options opts_;
    std::vector<connection> connections_;
};

// Builds the full HTTP answer for one request head (request line and headers up to and including
// the empty line). Exposed for tests; any thread (the routes' callbacks run on it).
std::string http_answer(std::string_view request_head, const http_routes& routes);
// http_answer(head, metrics_routes(body)).
std::string http_answer(std::string_view request_head, const std::function<std::string()>& body);

// What the bytes a client sent so far call for, the listener's whole request parsing as a pure
// function (the listener applies it to a connection's input after every read; the fuzz target
// tests/fuzz/http_request.cpp drives it directly). Any thread.
struct request_outcome {
    enum class kind {
        incomplete,  // no complete head yet: read more
        too_large,   // no complete head within max_request_bytes: close without an answer
        answer,      // `answer` is the full response
    };
    kind what;
    std::string answer;
    bool linger;  // the client may still send (a body, a pipelined request): drain before close
};
request_outcome parse_request(std::string_view received, size_t max_request_bytes,
                              const http_routes& routes);
// parse_request(received, max_request_bytes, metrics_routes(body)).
request_outcome parse_request(std::string_view received, size_t max_request_bytes,
                              const std::function<std::string()>& body);

}  // namespace sluice::metrics

#pragma once
// The control API's Unix socket: root-only (mode 0600), non-blocking, served from the control
// thread's loop (never from a worker). Requests and responses are single lines (JSON, see
// include/sluice/control_protocol.hpp); the handler turns one request line into one response line.
//
// Whatever a client sends, the control thread does not block and memory stays bounded
// (docs/operations.md, "Control socket limits"): a request line is at most
// control_protocol::max_request_bytes, a line that is not UTF-8 gets an error answer, a client has
// at most one answer pending (its next request is read once that answer is written), a client
// silent for idle_limit is closed, and at most max_clients are served at once.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "control/request_lines.hpp"

namespace sluice::control {

class api_server {
public:
    using handler = std::function<std::string(std::string_view request)>;
    // An answer that may come later: the handler calls `reply` once, now or from a later
    // control pass (a flow listing waits for the workers). Until then the client's next request
    // is not read. A reply for a client that has gone is dropped.
    using reply = std::function<void(std::string response_line)>;
    using async_handler = std::function<void(std::string_view request, reply done)>;

    // Creates the parent directory (0755) if needed, refuses when another process is already
    // listening on `path`, replaces a stale socket file, binds, listens and sets mode 0600.
    static result<api_server> open(const std::string& path);
    api_server(api_server&& o) noexcept;
    api_server& operator=(api_server&&) = delete;
    api_server(const api_server&) = delete;
    ~api_server();

    // Accepts, reads and answers whatever is ready; returns at once otherwise. Control thread.
    void poll(const handler& handle);
    void poll(const async_handler& handle);
    const std::string& path() const { return path_; }
    size_t client_count() const { return clients_.size(); }

private:
    api_server(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    struct client {
        int fd;
        uint64_t serial;  // names the client in late replies
        request_lines in;
        std::string out;      // the answer being written, from out_sent on
        size_t out_sent = 0;  //
        uint64_t last_activity_ns;
        bool closing = false;    // close once `out` is written (the stream cannot be framed)
        bool peer_done = false;  // the client sent EOF: answer what is complete, then close
        bool awaiting = false;   // its request's answer has not come yet
    };
    // Replies, possibly late, by client serial; shared with the reply functions so that they
    // stay valid when the server moves or is gone.
    using reply_queue = std::vector<std::pair<uint64_t, std::string>>;
    std::shared_ptr<reply_queue> replies_ = std::make_shared<reply_queue>();
    uint64_t next_serial_ = 1;
    void deliver_replies();
    void reap(uint64_t now);
    void accept_new(uint64_t now);
    bool make_room(uint64_t now);
    void serve(client& c, const async_handler& handle);
    bool read_some(client& c);
    bool flush(client& c);
    void answer(client& c, const std::string& line, const async_handler& handle);
    int fd_ = -1;
    std::string path_;
    std::vector<client> clients_;
};

}  // namespace sluice::control

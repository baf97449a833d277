#pragma once
// Client end of the control socket (include/sluice/control_protocol.hpp): one connection carrying
// requests in turn, each answered by one JSON line. Single-threaded; sluicectl's main thread only.
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace sluice::cli {

// Keeps the daemon's key order (totals and per-worker counters are shown in the order sent).
using json = nlohmann::ordered_json;

// A failed request (sluice::error): the daemon could not be reached, did not answer in time, or
// answered something that is not the protocol. sluicectl exits 3 on these. A refusal by the
// daemon is not one: it is a decoded response with ok = false.

// One decoded response line.
struct response {
    bool ok = false;
    json result;                       // when ok
    std::string error;                 // when refused
    std::vector<std::string> details;  // when refused, e.g. "FILE:LINE:COL: problem"
};

class control_client {
public:
    control_client() = default;
    control_client(const control_client&) = delete;
    control_client& operator=(const control_client&) = delete;
    control_client(control_client&& other) noexcept;
    control_client& operator=(control_client&& other) noexcept;
    ~control_client();

    // Connects to the socket at `path`. `timeout` bounds the connect and, later, each request
    // (sending it and reading its whole answer).
    result<> connect(const std::string& path, std::chrono::milliseconds timeout);

    // Sends one request and reads its response line.
    result<response> request(const json& req);

    // Decodes one response line; exposed for tests and for the request path above.
    static result<response> decode(std::string_view line);

private:
    result<> send_all(const std::string& data, std::chrono::steady_clock::time_point deadline);
    result<std::string> read_line(std::chrono::steady_clock::time_point deadline);
    void close_socket();

    int fd_ = -1;
    std::string path_;
    std::chrono::milliseconds timeout_{0};
    std::string pending_;  // bytes read past the last response line
};

}  // namespace sluice::cli

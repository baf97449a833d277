#pragma once
// The control API's Unix socket: root-only (mode 0600), non-blocking, served from the control
// thread's loop (never from a worker). Requests and responses are single lines (JSON, see
// include/sluice/control_protocol.hpp); the handler turns one request line into one response line.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::control {

class api_server {
public:
    using handler = std::function<std::string(std::string_view request)>;

    // Creates the parent directory (0755) if needed, refuses when another process is already
    // listening on `path`, replaces a stale socket file, binds, listens and sets mode 0600.
    static std::optional<api_server> open(const std::string& path, std::string& error);
    api_server(api_server&& o) noexcept;
    api_server& operator=(api_server&&) = delete;
    api_server(const api_server&) = delete;
    ~api_server();

    // Accepts, reads and answers whatever is ready; returns at once otherwise. Control thread.
    void poll(const handler& handle);
    const std::string& path() const { return path_; }

private:
    api_server(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
    struct client {
        int fd;
        std::string in;
        std::string out;
        uint64_t last_activity_ns;
    };
    void serve(client& c, const handler& handle);
    int fd_ = -1;
    std::string path_;
    std::vector<client> clients_;
};

}  // namespace sluice::control

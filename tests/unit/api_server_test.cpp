// The control socket's late answers (api_server's async handler): a request whose answer comes
// from a later pass holds that client's next request back until it is written, in order; a late
// answer for a client that left, or after the server is gone, is dropped without harm.
#include "control/api_server.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

using sluice::control::api_server;

namespace {

std::string socket_path() {
    char dir[] = "/tmp/sluice_api_test.XXXXXX";
    REQUIRE(mkdtemp(dir) != nullptr);
    return std::string(dir) + "/ctl.sock";
}

int connect_to(const std::string& path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    return fd;
}

void say(int fd, const std::string& text) {
    REQUIRE(send(fd, text.data(), text.size(), MSG_NOSIGNAL) == ssize_t(text.size()));
}

// What the server wrote so far (non-blocking).
std::string heard(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof buf, 0)) > 0) out.append(buf, size_t(n));
    return out;
}

// A handler that answers "now:X" at once and keeps "later:X" for the test to answer.
struct deferring {
    std::vector<std::string> seen;
    std::vector<api_server::reply> pending;
    api_server::async_handler handler() {
        return [this](std::string_view line, api_server::reply done) {
            seen.emplace_back(line);
            if (line.starts_with("later:"))
                pending.push_back(std::move(done));
            else
                done("answer " + std::string(line));
        };
    }
};

}  // namespace

TEST_CASE("a late answer is written when given, and the client's next request waits for it") {
    // Property: answers go out in request order; the second request is not even read before
    // the first one's late answer is written.
    const std::string path = socket_path();
    auto server = api_server::open(path);
    REQUIRE(server.ok());
    deferring d;
    const auto handle = d.handler();
    int fd = connect_to(path);
    say(fd, "later:1\nnow:2\n");
    for (int i = 0; i < 3; ++i) server->poll(handle);
    CHECK(heard(fd).empty());
    CHECK(d.seen == std::vector<std::string>{"later:1"});
    REQUIRE(d.pending.size() == 1);
    d.pending[0]("answer later:1");
    server->poll(handle);
    server->poll(handle);
    CHECK(heard(fd) == "answer later:1\nanswer now:2\n");
    close(fd);
}

TEST_CASE("a late answer for a client that left is dropped; others are still served") {
    // Property: the reply finds no client and changes nothing; a new client gets its answer.
    const std::string path = socket_path();
    auto server = api_server::open(path);
    REQUIRE(server.ok());
    deferring d;
    const auto handle = d.handler();
    int gone = connect_to(path);
    say(gone, "later:x\n");
    server->poll(handle);
    REQUIRE(d.pending.size() == 1);
    close(gone);
    server->poll(handle);
    d.pending[0]("answer later:x");
    int fd = connect_to(path);
    say(fd, "now:y\n");
    server->poll(handle);
    server->poll(handle);
    CHECK(heard(fd) == "answer now:y\n");
    close(fd);
}

TEST_CASE("a late answer after the server is gone does nothing") {
    // Property: the reply function outlives the server safely (it holds no pointer to it).
    const std::string path = socket_path();
    std::optional<api_server::reply> late;
    {
        auto server = api_server::open(path);
        REQUIRE(server.ok());
        deferring d;
        const auto handle = d.handler();
        int fd = connect_to(path);
        say(fd, "later:z\n");
        server->poll(handle);
        REQUIRE(d.pending.size() == 1);
        late = d.pending[0];
        close(fd);
    }
    (*late)("answer later:z");
    CHECK(true);  // reaching here without a crash (ASan: no use after free) is the property
}

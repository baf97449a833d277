// metrics::parse_request, the /metrics listener's request parsing as a pure function (the fuzz
// target tests/fuzz/http_request.cpp drives it with arbitrary bytes; these are its fixed points).
#include <doctest/doctest.h>

#include <string>

#include "metrics/http_listener.hpp"

using sluice::metrics::parse_request;
using kind = sluice::metrics::request_outcome::kind;

namespace {

std::string body() {
    return "sluice_up 1\n";
}

}  // namespace

TEST_CASE("no answer until the head's empty line arrives, CRLF or bare LF") {
    CHECK(parse_request("GET /metrics HTTP/1.1\r\nHost: x\r\n", 8192, body).what ==
          kind::incomplete);
    CHECK(parse_request("", 8192, body).what == kind::incomplete);
    const auto crlf = parse_request("GET /metrics HTTP/1.1\r\n\r\n", 8192, body);
    CHECK(crlf.what == kind::answer);
    CHECK(crlf.answer.starts_with("HTTP/1.1 200 OK"));
    CHECK(crlf.answer.ends_with(body()));
    CHECK_FALSE(crlf.linger);
    CHECK(parse_request("GET / HTTP/1.0\n\n", 8192, body).what == kind::answer);
}

TEST_CASE("a head ending past the limit is too large; one ending exactly at it is answered") {
    const std::string head = "GET /metrics HTTP/1.1\r\n\r\n";
    CHECK(parse_request(head, head.size(), body).what == kind::answer);
    CHECK(parse_request(head, head.size() - 1, body).what == kind::too_large);
    // No head end yet, but already over the limit: nothing can follow that would fit.
    CHECK(parse_request(std::string(20, 'a'), 16, body).what == kind::too_large);
    CHECK(parse_request(std::string(16, 'a'), 16, body).what == kind::incomplete);
}

TEST_CASE("a client that sent more than the head, or announced a body, may still send") {
    CHECK(parse_request("GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n", 8192, body).linger);
    const auto post = parse_request("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n", 8192, body);
    CHECK(post.answer.starts_with("HTTP/1.1 405 "));
    CHECK(post.linger);
    CHECK(parse_request("GET / HTTP/1.1\r\ncontent-length: 0\r\n\r\n", 8192, body).linger);
}

// Unit tests for src/health/http_check: the probe's HTTP request and the judging of responses.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "health/http_check.hpp"
#include "health_helpers.hpp"

using namespace test;
using sluice::config::http_method;
using sluice::config::http_status_range;
using sluice::health::build_http_request;
using sluice::health::classify_http_response;
using sluice::health::default_http_host;
using sluice::health::http_verdict;
using sluice::health::status_expected;

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

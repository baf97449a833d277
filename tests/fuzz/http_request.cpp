// Fuzz target: the metrics listener's request parsing (parse_request: head framing, size limit,
// request line, method and path) never crashes, and its verdict is well formed: no answer before
// a complete head within the limit, and every answer a complete HTTP/1.1 response whose
// Content-Length matches the body it carries (none for HEAD).
//
// Input: byte 0 picks the head-size limit (small limits reach the too_large path), the rest is
// what the client sent. Pure code: no sockets. Fuzzer thread only.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "metrics/http_listener.hpp"

namespace {

[[noreturn]] void fail(const char* why, std::string_view answer) {
    fprintf(stderr, "http_request: %s\nanswer: %.*s\n", why, int(answer.size()), answer.data());
    abort();
}

void check_answer(std::string_view received, const std::string& answer) {
    if (!answer.starts_with("HTTP/1.1 ")) fail("no status line", answer);
    const size_t end = answer.find("\r\n\r\n");
    if (end == std::string::npos) fail("no end of head", answer);
    const std::string_view head = std::string_view(answer).substr(0, end + 4);
    const size_t at = head.find("\r\nContent-Length: ");
    if (at == std::string::npos) fail("no Content-Length", answer);
    const size_t length = std::stoul(std::string(head.substr(at + 18)));
    const size_t body = answer.size() - head.size();
    // HEAD answers carry the length of the body they leave out.
    const bool without_body = body == 0 && received.starts_with("HEAD ");
    if (body != length && !without_body) fail("body and Content-Length differ", answer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const size_t limit = data[0] < 128 ? data[0] : 8192;  // the listener's default: 8192
    const std::string_view received(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto body = [] { return std::string("sluice_up 1\n"); };
    using kind = sluice::metrics::request_outcome::kind;
    const sluice::metrics::request_outcome r =
        sluice::metrics::parse_request(received, limit, body);
    switch (r.what) {
        case kind::incomplete:
            if (received.size() > limit) fail("incomplete beyond the limit", "");
            if (!r.answer.empty()) fail("an answer to an incomplete head", r.answer);
            break;
        case kind::too_large:
            if (received.size() <= limit) fail("too large within the limit", "");
            break;
        case kind::answer:
            check_answer(received, r.answer);
            break;
    }
    return 0;
}

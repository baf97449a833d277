#pragma once
// The HTTP half of a health probe as pure functions over bytes: the request to send, and the
// verdict on the (possibly partial) response received so far. No sockets. Any thread.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "sluice/config.hpp"
#include "sluice/ip_address.hpp"

namespace sluice::health {

// Response bytes a probe reads at most: once this much arrived without the end of the header
// block, the status line alone decides.
inline constexpr size_t max_http_response_head = 16384;

// An HTTP/1.0 request without a body:
//   METHOD PATH HTTP/1.0\r\nHost: HOST\r\nConnection: close\r\nUser-Agent: sluice-health\r\n
//   Accept: */*\r\n\r\n
// `path` and `host` are validated by the config loader (printable ASCII, no spaces).
std::string build_http_request(config::http_method method, std::string_view path,
                               std::string_view host);

// The Host header for a backend without http_host: "198.18.1.11" or "[2001:2::11]", with
// ":PORT" unless the port is 80 (as curl writes it).
std::string default_http_host(const ip_address& address, uint16_t port);

// True when one of the ranges contains the status.
bool status_expected(uint16_t status, std::span<const config::http_status_range> expect);

enum class http_verdict : uint8_t {
    need_more,          // not decided yet: read more
    ok,                 // a well-formed response with an expected status
    unexpected_status,  // a well-formed response with another status
    malformed,          // not an HTTP/1.x response
};

struct http_classification {
    http_verdict verdict = http_verdict::need_more;
    uint16_t status = 0;       // ok and unexpected_status: the status line's code
    std::string_view problem;  // malformed: what is wrong (static text)
};

// Judges `received`, the response bytes so far. `closed`: the peer has closed, nothing more will
// come. A verdict needs the status line ("HTTP/d.d NNN reason") and the end of the header block;
// a peer that closes, or a head of max_http_response_head bytes, after a complete status line is
// judged on the status line. Bytes that cannot begin "HTTP/" are malformed at once.
http_classification classify_http_response(std::string_view received,
                                           std::span<const config::http_status_range> expect,
                                           bool closed);

}  // namespace sluice::health

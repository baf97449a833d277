#include "health/http_check.hpp"

#include <algorithm>

namespace sluice::health {

namespace {

constexpr size_t max_status_line = 1024;
constexpr std::string_view http_prefix = "HTTP/";

std::string_view method_text(config::http_method method) {
    switch (method) {
        case config::http_method::get:
            return "GET";
        case config::http_method::head:
            return "HEAD";
        case config::http_method::options:
            return "OPTIONS";
    }
    return "GET";
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

http_classification malformed(std::string_view problem) {
    return {http_verdict::malformed, 0, problem};
}

// "HTTP/1.1 200 OK" (without the line end) -> 200; 0 when it is not a status line.
uint16_t parse_status_line(std::string_view line) {
    // HTTP/d.d SP ddd [SP reason]
    if (line.size() < 12 || !line.starts_with(http_prefix)) return 0;
    if (!is_digit(line[5]) || line[6] != '.' || !is_digit(line[7]) || line[8] != ' ') return 0;
    if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11])) return 0;
    if (line.size() > 12 && line[12] != ' ') return 0;
    int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status < 100 || status > 599) return 0;
    return uint16_t(status);
}

}  // namespace

std::string build_http_request(config::http_method method, std::string_view path,
                               std::string_view host) {
    std::string out;
    out.reserve(96 + path.size() + host.size());
    out.append(method_text(method)).append(" ").append(path).append(" HTTP/1.0\r\n");
    out.append("Host: ").append(host).append("\r\n");
    out.append("Connection: close\r\nUser-Agent: sluice-health\r\nAccept: */*\r\n\r\n");
    return out;
}

std::string default_http_host(const ip_address& address, uint16_t port) {
    std::string host = address.is_v4() ? address.to_string() : "[" + address.to_string() + "]";
    if (port != 80) host += ":" + std::to_string(port);
    return host;
}

bool status_expected(uint16_t status, std::span<const config::http_status_range> expect) {
    return std::any_of(expect.begin(), expect.end(),
                       [&](const config::http_status_range& r) { return r.contains(status); });
}

http_classification classify_http_response(std::string_view received,
                                           std::span<const config::http_status_range> expect,
                                           bool closed) {
    size_t prefix = std::min(received.size(), http_prefix.size());
    if (received.substr(0, prefix) != http_prefix.substr(0, prefix))
        return malformed("not an HTTP response");
    size_t line_end = received.find('\n');
    if (line_end == std::string_view::npos) {
        if (received.size() > max_status_line) return malformed("status line too long");
        if (closed) return malformed("connection closed before the status line");
        return {};
    }
    std::string_view line = received.substr(0, line_end);
    if (line.ends_with('\r')) line.remove_suffix(1);
    uint16_t status = parse_status_line(line);
    if (status == 0) return malformed("bad status line");
    // The header block ends with an empty line (CRLF CRLF; bare LF tolerated).
    std::string_view rest = received.substr(line_end + 1);
    bool head_complete = rest.starts_with("\r\n") || rest.starts_with("\n") ||
                         rest.find("\r\n\r\n") != std::string_view::npos ||
                         rest.find("\n\n") != std::string_view::npos;
    if (!head_complete && !closed && received.size() < max_http_response_head) return {};
    return {status_expected(status, expect) ? http_verdict::ok : http_verdict::unexpected_status,
            status,
            {}};
}

}  // namespace sluice::health

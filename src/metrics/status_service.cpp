// /status and /status.json (status_service.hpp). Control thread only.
#include "metrics/status_service.hpp"

#include <sys/random.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

#include "metrics/status_json.hpp"
#include "metrics/status_page.hpp"

namespace sluice::metrics {

std::string fresh_nonce() {
    uint64_t words[2] = {};
    if (::getrandom(words, sizeof words, GRND_NONBLOCK) != ssize_t(sizeof words)) {
        static uint64_t counter = 0;
        words[0] = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
        words[1] = ++counter * 0x9e3779b97f4a7c15ull;
    }
    char text[33];
    std::snprintf(text, sizeof text, "%016llx%016llx", (unsigned long long)words[0],
                  (unsigned long long)words[1]);
    return text;
}

status_view status_service::sample() {
    status_view v = source_();
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    rates_.apply(v, uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count()));
    return v;
}

http_route status_service::page_route() {
    return {"/status", [this] {
                const std::string nonce = fresh_nonce();
                return http_content{std::string(status_page_content_type),
                                    format_status_page(sample(), nonce),
                                    status_page_headers(nonce)};
            }};
}

http_route status_service::json_route() {
    return {"/status.json", [this] {
                return http_content{
                    std::string(status_json_content_type), format_status_json(sample()),
                    "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"};
            }};
}

}  // namespace sluice::metrics

#pragma once
// The status page's two routes for the metrics listener: /status (status_page.hpp) and
// /status.json (status_json.hpp). Each request takes a fresh status_view from the source, adds
// the rates (status_rates.hpp, kept here between requests) and formats it. Read-only: the routes
// answer GET and HEAD only (the listener refuses other methods with 405). Control thread only:
// the listener is polled there, and the source reads the control plane.
#include <functional>
#include <string>

#include "metrics/http_listener.hpp"
#include "metrics/status_rates.hpp"
#include "metrics/status_view.hpp"

namespace sluice::metrics {

class status_service {
public:
    using source = std::function<status_view()>;
    explicit status_service(source s) : source_(std::move(s)) {}

    // The routes call back into this object, which must outlive them.
    http_route page_route();  // /status
    http_route json_route();  // /status.json

private:
    status_view sample();

    source source_;
    status_rates rates_;
};

// 128 random bits as 32 hex digits for a CSP nonce (getrandom; if that fails, a value from the
// clock and a counter: the nonce is defence in depth, escaping keeps markup out already).
std::string fresh_nonce();

}  // namespace sluice::metrics

#pragma once
// Prometheus text exposition format 0.0.4 of a metrics_view. Pure formatting: no I/O, no data-plane
// access; the control thread builds the view and hands the text to the HTTP listener.
#include <string>
#include <string_view>

#include "metrics/metrics_view.hpp"

namespace sluice::metrics {

// The Content-Type a scraper expects with this text.
inline constexpr std::string_view prometheus_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

// Every family with `# HELP` and `# TYPE` once (also when it has no series), series sorted by the
// view's order. Every drop reason of drop_reason.hpp appears for every worker, zeros included, so
// rate() works from the first scrape. Any thread; the control thread in sluiced.
std::string format_prometheus(const metrics_view& v);

// A label value escaped for the text format: backslash, double quote and newline.
void append_escaped_label_value(std::string& out, std::string_view value);

}  // namespace sluice::metrics

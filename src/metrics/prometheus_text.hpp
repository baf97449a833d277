#pragma once
// Prometheus text exposition format 0.0.4 of a metrics_view. Pure formatting: no I/O, no data-plane
// access; the control thread builds the view and hands the text to the HTTP listener.
#include <cstdint>
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

// What the process tells about itself: appended by sluiced after format_prometheus's families.
struct process_info {
    std::string version;              // Sluice's version (meson project version)
    std::string dpdk_version;         // DPDK's, e.g. "22.11.5" ("" leaves the label out)
    uint64_t start_time_seconds = 0;  // Unix time the daemon started
};

// sluice_build_info{version,dpdk} 1 and sluice_start_time_seconds (gauges), HELP and TYPE once
// each, for appending to format_prometheus's text (no family of it repeats them).
std::string format_process_info(const process_info& p);

// A label value escaped for the text format: backslash, double quote and newline.
void append_escaped_label_value(std::string& out, std::string_view value);

}  // namespace sluice::metrics

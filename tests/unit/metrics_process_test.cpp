// Unit tests for src/metrics' process families: sluice_build_info and sluice_start_time_seconds
// are strict 0.0.4 text and, appended to format_prometheus's text, repeat none of its families.
#include <doctest/doctest.h>

#include <string>

#include "metrics/prometheus_text.hpp"
#include "metrics_sample_view.hpp"
#include "prometheus_strict.hpp"

using namespace test;
using sluice::metrics::format_process_info;
using sluice::metrics::format_prometheus;
using sluice::metrics::process_info;

TEST_CASE("build info is one gauge of 1 labelled with the versions, start time in seconds") {
    // Property: each family has HELP and TYPE gauge once and exactly one sample with its values.
    const exposition e =
        parse_strict(format_process_info({"0.1.0", "22.11.5", uint64_t{1767225600}}));
    CHECK(e.errors.empty());
    for (const auto& name : {"sluice_build_info", "sluice_start_time_seconds"}) {
        CAPTURE(name);
        CHECK(e.help_count.count(name) == 1);
        CHECK(e.type.at(name) == "gauge");
        CHECK(count_of(e, name) == 1);
    }
    CHECK(value_of(e, "sluice_build_info", {{"version", "0.1.0"}, {"dpdk", "22.11.5"}}) == "1");
    CHECK(value_of(e, "sluice_start_time_seconds", {}) == "1767225600");
    CHECK(e.samples.size() == 2);
}

TEST_CASE("build info without a DPDK version leaves the label out; odd versions are escaped") {
    // Property: an empty dpdk_version drops the label (no dpdk=""), and a version with a quote,
    // backslash or newline reads back equal after escaping.
    const std::string odd = "1.0 \"rc\\1\"\nx";
    const exposition e = parse_strict(format_process_info({odd, "", 0}));
    CHECK(e.errors.empty());
    CHECK(value_of(e, "sluice_build_info", {{"version", odd}}) == "1");
    CHECK(value_of(e, "sluice_start_time_seconds", {}) == "0");
}

TEST_CASE("the process families appended to the view's text keep the exposition strict") {
    // Property: format_prometheus(view) + format_process_info(p), what sluiced serves, parses
    // without errors: no family twice, no sample outside its block, no duplicate series.
    const std::string text = format_prometheus(sluice::metrics::testing::sample_view()) +
                             format_process_info({"0.1.0", "22.11.5", 1});
    const exposition e = parse_strict(text);
    for (const auto& err : e.errors) FAIL_CHECK(err);
    CHECK(e.type.at("sluice_build_info") == "gauge");
    CHECK(e.type.at("sluice_start_time_seconds") == "gauge");
    CHECK(e.type.contains("sluice_drops_total"));
}

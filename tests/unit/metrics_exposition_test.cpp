// Unit tests for src/metrics' Prometheus text: a strict 0.0.4 grammar, each family announced once.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "metrics/prometheus_text.hpp"
#include "metrics_sample_view.hpp"
#include "prometheus_strict.hpp"

using namespace test;
using sluice::metrics::format_prometheus;
using sluice::metrics::metrics_view;
using sluice::metrics::testing::sample_view;

namespace {

const std::vector<std::string> all_families = {
    "sluice_backend_up",
    "sluice_backend_weight",
    "sluice_backend_state",
    "sluice_backend_health",
    "sluice_health_checks_total",
    "sluice_backend_state_changes_total",
    "sluice_backend_active_connections",
    "sluice_backend_inactive_connections",
    "sluice_backend_max_connection_rate",
    "sluice_backend_connections_total",
    "sluice_backend_packets_total",
    "sluice_backend_bytes_total",
    "sluice_worker_packets_total",
    "sluice_worker_bytes_total",
    "sluice_drops_total",
    "sluice_handoff_packets_total",
    "sluice_worker_to_control_total",
    "sluice_flows_created_total",
    "sluice_flows_expired_total",
    "sluice_flows_reused_total",
    "sluice_flows_early_dropped_total",
    "sluice_flows_reset_total",
    "sluice_resets_sent_total",
    "sluice_resets_unsent_total",
    "sluice_mss_clamped_total",
    "sluice_syn_proxy_total",
    "sluice_rst_total",
    "sluice_translated_packets_total",
    "sluice_fragments_received_total",
    "sluice_fragment_datagrams_total",
    "sluice_fragments_sent_total",
    "sluice_icmp_total",
    "sluice_worker_cycles_total",
    "sluice_flow_table_entries",
    "sluice_arp_total",
    "sluice_ndp_total",
    "sluice_neighbor_events_total",
    "sluice_control_tx_dropped_total",
    "sluice_kernel_frames_total",
    "sluice_exception_budget_exhausted_total",
    "sluice_port_packets_total",
    "sluice_port_bytes_total",
    "sluice_port_rx_missed_total",
    "sluice_port_rx_nombuf_total",
    "sluice_port_errors_total",
    "sluice_port_link_up",
    "sluice_port_link_speed_mbps",
    "sluice_port_link_changes_total",
    "sluice_port_nic_stat_total",
    "sluice_vip_drops_total",
    "sluice_protect_refused_total",
    "sluice_rule_matches_total",
    "sluice_source_table_entries",
    "sluice_syn_proxy_engaged",
    "sluice_syn_proxy_engagements_total",
    "sluice_source_table_evictions_total",
    "sluice_local_tuples",
    "sluice_flow_table_capacity",
    "sluice_mbufs_in_use",
    "sluice_mbufs_capacity",
    "sluice_config_generation",
    "sluice_config_reloads_total",
};

}  // namespace

// ---- Formatter ----

TEST_CASE("the text of a sample view parses line by line under the strict grammar") {
    // Property: every line is a HELP, a TYPE or a sample with a valid name, labels and value.
    const exposition e = parse_strict(format_prometheus(sample_view()));
    for (const std::string& err : e.errors) FAIL_CHECK(err);
    CHECK(e.errors.empty());
    CHECK(!e.samples.empty());
}

TEST_CASE("every family has exactly one HELP and one TYPE, also without series") {
    // Property: each family is announced once, for a full and for an empty view.
    for (const metrics_view& v : {sample_view(), metrics_view{}}) {
        const exposition e = parse_strict(format_prometheus(v));
        CHECK(e.errors.empty());
        CHECK(e.help_count.size() == all_families.size());
        CHECK(e.type_count.size() == all_families.size());
        for (const std::string& name : all_families) {
            CAPTURE(name);
            CHECK(e.help_count.count(name) == 1);
            CHECK(e.help_count.at(name) == 1);
            CHECK(e.type_count.at(name) == 1);
        }
    }
}

TEST_CASE("counters and only counters end in _total") {
    // Property: a family's TYPE is counter exactly when its name ends in _total.
    const exposition e = parse_strict(format_prometheus(sample_view()));
    REQUIRE(!e.type.empty());
    for (const auto& [name, type] : e.type) {
        const std::string& family = name;  // CAPTURE's lambda: clang 14 cannot take a binding
        CAPTURE(family);
        CHECK((type == "counter") == name.ends_with("_total"));
        CHECK(name.starts_with("sluice_"));
    }
}

TEST_CASE("the strict grammar rejects malformed exposition lines") {
    // Property: the test's reader is strict: each malformed line below yields an error.
    const char* bad[] = {
        "# HELP x h\n# TYPE x gauge\nx{a=\"b\",} 1\n",         // trailing comma
        "# HELP x h\n# TYPE x gauge\nx{a=\"b\\t\"} 1\n",       // unknown escape
        "# HELP x h\n# TYPE x gauge\nx{a=b} 1\n",              // unquoted value
        "# HELP x h\n# TYPE x gauge\nx 1e\n",                  // bad float
        "# HELP x h\n# TYPE x gauge\nx .\n",                   // bad float
        "# HELP x h\n# TYPE x gauge\nx 0x10\n",                // not decimal
        "# HELP x h\n# TYPE x gauge\nx 1 2\n",                 // timestamps are not emitted
        "# HELP x h\n# TYPE x gauge\n1x 1\n",                  // bad name
        "# HELP x h\n# TYPE x gauge\ny 1\n",                   // sample outside its family
        "# TYPE x gauge\nx 1\n",                               // no HELP
        "# HELP x h\n# TYPE x gauge\nx 1\nx 2\n",              // duplicate series
        "# HELP x h\n# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n",  // duplicate label
        "# HELP x h\n# TYPE x gauge\nx 1",                     // no final newline
    };
    for (const char* text : bad) {
        CAPTURE(text);
        CHECK(!parse_strict(text).errors.empty());
    }
    CHECK(
        parse_strict("# HELP x h\\\\ \\n\n# TYPE x gauge\nx{a=\"\\\"\"} -1.5e3\n").errors.empty());
    for (const char* value :
         {"0", "+Inf", "-Inf", "NaN", ".5", "1.", "1e-3", "18446744073709551615"}) {
        CAPTURE(value);
        CHECK(parse_strict(std::string("# HELP x h\n# TYPE x gauge\nx ") + value + "\n")
                  .errors.empty());
    }
}

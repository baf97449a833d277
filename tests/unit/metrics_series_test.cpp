// Unit tests for src/metrics' Prometheus text: each view value in its series, label values escaped.
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <utility>

#include "metrics/prometheus_text.hpp"
#include "metrics_sample_view.hpp"
#include "prometheus_strict.hpp"
#include "sluice/drop_reason.hpp"

using namespace test;
using sluice::metrics::format_prometheus;
using sluice::metrics::metrics_view;
using sluice::metrics::testing::sample_view;

TEST_CASE("label values escape backslash, double quote and newline") {
    // Property: the escaped text holds no raw quote or newline inside a value and reads back equal.
    std::string out;
    sluice::metrics::append_escaped_label_value(out, "a\\b\"c\nd");
    CHECK(out == "a\\\\b\\\"c\\nd");

    const metrics_view v = sample_view();
    const std::string text = format_prometheus(v);
    CHECK(text.find("vip=\"say \\\"hi\\\"\\\\path\\nnext\"") != std::string::npos);
    const exposition e = parse_strict(text);
    CHECK(e.errors.empty());
    CHECK(value_of(e, "sluice_backend_weight",
                   {{"vip", v.backends[2].vip}, {"backend", "[2001:db8::7]:443"}}) == "5");
    const labels odd = {{"vip", v.backends[2].vip}, {"backend", "[2001:db8::7]:443"}};
    auto with = [](labels l, std::string k, std::string val) {
        l.emplace_back(std::move(k), std::move(val));
        return l;
    };
    CHECK(value_of(e, "sluice_backend_health", with(odd, "health", "down")) == "1");
    CHECK(value_of(e, "sluice_health_checks_total", with(odd, "result", "ok")) == "10");
    CHECK(value_of(e, "sluice_health_checks_total", with(odd, "result", "timeout")) == "3");
    CHECK(value_of(e, "sluice_backend_state_changes_total", odd) == "2");
    CHECK(value_of(e, "sluice_backend_health",
                   {{"vip", "web"}, {"backend", "10.0.0.2:80"}, {"health", "unchecked"}}) == "1");
}

TEST_CASE("every drop reason appears for every worker, zeros included") {
    // Property: sluice_drops_total has one series per (worker, known reason), missing ones at 0,
    // plus reasons the view lists that this build does not know.
    const exposition e = parse_strict(format_prometheus(sample_view()));
    REQUIRE(e.errors.empty());
    for (const std::string worker : {"0", "1"}) {
        for (unsigned r = 0; r < sluice::drop_reason_count; ++r) {
            const std::string reason(sluice::drop_reason_name(sluice::drop_reason(r)));
            CAPTURE(worker);
            CAPTURE(reason);
            const std::string value =
                value_of(e, "sluice_drops_total", {{"worker", worker}, {"reason", reason}});
            if (worker == "0") {
                CHECK(value == std::to_string(r));
            } else {
                CHECK(value == (reason == "no_vip" ? "7" : "0"));
            }
        }
    }
    CHECK(value_of(e, "sluice_drops_total", {{"worker", "1"}, {"reason", "from_a_newer_build"}}) ==
          "2");
    CHECK(count_of(e, "sluice_drops_total") == 2 * sluice::drop_reason_count + 1);
}

TEST_CASE("a sample view's values land in the right series") {
    // Property: each view field appears as the value of its family with the documented labels.
    const exposition e = parse_strict(format_prometheus(sample_view()));
    REQUIRE(e.errors.empty());
    const labels web1 = {{"vip", "web"}, {"backend", "10.0.0.1:80"}};
    const labels web2 = {{"vip", "web"}, {"backend", "10.0.0.2:80"}};
    auto with = [](labels l, std::string k, std::string v) {
        l.emplace_back(std::move(k), std::move(v));
        return l;
    };
    CHECK(value_of(e, "sluice_backend_up", web1) == "1");
    CHECK(value_of(e, "sluice_backend_up", web2) == "0");
    CHECK(value_of(e, "sluice_backend_weight", web1) == "3");
    CHECK(value_of(e, "sluice_backend_state", with(web1, "state", "up")) == "1");
    CHECK(value_of(e, "sluice_backend_state", with(web2, "state", "draining")) == "1");
    CHECK(count_of(e, "sluice_backend_state") == 3);  // only the current state's series
    CHECK(value_of(e, "sluice_backend_active_connections", web1) == "12");
    CHECK(value_of(e, "sluice_backend_inactive_connections", web1) == "2");
    CHECK(value_of(e, "sluice_backend_connections_total", web1) == "1000");
    CHECK(value_of(e, "sluice_backend_packets_total", with(web1, "direction", "to_backend")) ==
          "5000");
    CHECK(value_of(e, "sluice_backend_packets_total", with(web1, "direction", "from_backend")) ==
          "4000");
    CHECK(value_of(e, "sluice_backend_bytes_total", with(web1, "direction", "to_backend")) ==
          "700000");
    CHECK(value_of(e, "sluice_backend_bytes_total", with(web1, "direction", "from_backend")) ==
          "9000000");

    CHECK(value_of(e, "sluice_worker_packets_total", {{"worker", "0"}, {"direction", "rx"}}) ==
          "10");
    CHECK(value_of(e, "sluice_worker_packets_total", {{"worker", "0"}, {"direction", "tx"}}) ==
          "9");
    CHECK(value_of(e, "sluice_worker_packets_total", {{"worker", "1"}, {"direction", "rx"}}) ==
          "18446744073709551615");
    CHECK(value_of(e, "sluice_worker_bytes_total", {{"worker", "0"}, {"direction", "rx"}}) ==
          "1500");
    CHECK(value_of(e, "sluice_worker_bytes_total", {{"worker", "0"}, {"direction", "tx"}}) ==
          "1400");
    CHECK(value_of(e, "sluice_flows_created_total", {{"worker", "0"}}) == "40");
    CHECK(value_of(e, "sluice_flows_expired_total", {{"worker", "0"}}) == "36");
    CHECK(value_of(e, "sluice_flows_reset_total", {{"worker", "0"}, {"cause", "drain_timeout"}}) ==
          "3");
    CHECK(value_of(e, "sluice_flows_reset_total", {{"worker", "0"}, {"cause", "disabled"}}) == "5");
    CHECK(value_of(e, "sluice_flows_reset_total", {{"worker", "0"}, {"cause", "backend_down"}}) ==
          "7");
    CHECK(value_of(e, "sluice_resets_sent_total", {{"worker", "0"}}) == "30");
    CHECK(value_of(e, "sluice_flow_table_entries", {{"worker", "0"}}) == "4");
    CHECK(value_of(e, "sluice_flow_table_entries", {{"worker", "1"}}) == "0");
    CHECK(value_of(e, "sluice_handoff_packets_total", {{"worker", "1"}, {"direction", "sent"}}) ==
          "0");
    CHECK(value_of(e, "sluice_arp_total", {{"event", "request_answered"}}) == "6");
    CHECK(value_of(e, "sluice_exception_budget_exhausted_total", {{"ring", "kernel"}}) == "2");
    CHECK(value_of(e, "sluice_control_tx_dropped_total", {}) == "0");
    CHECK(value_of(e, "sluice_port_packets_total", {{"port", "client"}, {"direction", "rx"}}) ==
          "100");
    CHECK(value_of(e, "sluice_port_rx_missed_total", {{"port", "client"}}) == "3");
    CHECK(value_of(e, "sluice_port_link_up", {{"port", "client"}}) == "1");
    CHECK(value_of(e, "sluice_port_link_up", {{"port", "servers"}}) == "0");
    CHECK(value_of(e, "sluice_port_link_speed_mbps", {{"port", "client"}}) == "10000");
    CHECK(value_of(e, "sluice_flow_table_capacity", {}) == "1048576");
    CHECK(value_of(e, "sluice_mbufs_in_use", {}) == "1234");
    CHECK(value_of(e, "sluice_mbufs_capacity", {}) == "8191");
    CHECK(value_of(e, "sluice_config_generation", {}) == "3");
    CHECK(value_of(e, "sluice_config_reloads_total", {{"result", "ok"}}) == "2");
    CHECK(value_of(e, "sluice_config_reloads_total", {{"result", "error"}}) == "1");
    CHECK(value_of(e, "sluice_vip_drops_total", {{"vip", "web"}, {"reason", "no_flow"}}) == "12");
    CHECK(value_of(e, "sluice_vip_drops_total",
                   {{"vip", "web"}, {"reason", "limit_connections"}}) == "3");
}

TEST_CASE("local tuples: in_use and free per port and address, a gauge naming the refusals") {
    // Property: each (port, address) of the view gets an in_use and a free series; the HELP
    // says resting tuples count as free and names the refusal counter.
    const std::string text = format_prometheus(sample_view());
    const exposition e = parse_strict(text);
    REQUIRE(e.errors.empty());
    CHECK(e.type.at("sluice_local_tuples") == "gauge");
    const labels v4 = {{"port", "servers"}, {"address", "198.18.1.128"}};
    auto in = [](labels l, std::string state) {
        l.emplace_back("state", std::move(state));
        return l;
    };
    CHECK(value_of(e, "sluice_local_tuples", in(v4, "in_use")) == "3");
    CHECK(value_of(e, "sluice_local_tuples", in(v4, "free")) == "130045");
    CHECK(value_of(e, "sluice_local_tuples",
                   {{"port", "servers"}, {"address", "2001:db8:1::80"}, {"state", "free"}}) ==
          "130048");
    CHECK(count_of(e, "sluice_local_tuples") == 4);
    CHECK(text.find("resting") != std::string::npos);
    CHECK(text.find("local_port_exhausted") != std::string::npos);
}

// Unit tests for /status.json (metrics/status_json.hpp) and its rates (status_rates.hpp), and the
// status routes on the metrics listener (status_service.hpp): the JSON's shape and types, rates
// from counter deltas between samples, GET/HEAD only.
#include "metrics/status_json.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "metrics/http_listener.hpp"
#include "metrics/status_rates.hpp"
#include "metrics/status_service.hpp"
#include "status_sample_view.hpp"

using namespace sluice;
using namespace sluice::metrics;
using nlohmann::json;
using sluice::metrics::testing::sample_status;

namespace {

constexpr uint64_t second_ns = 1'000'000'000;

json parsed(const status_view& v) {
    return json::parse(format_status_json(v));
}

std::string body_of(const std::string& answer) {
    const size_t end = answer.find("\r\n\r\n");
    return end == std::string::npos ? "" : answer.substr(end + 4);
}

}  // namespace

TEST_CASE("the JSON has every documented field with its type") {
    const json d = parsed(sample_status());
    for (const char* key : {"version", "uptime_s", "generation", "workers", "rate_interval_s",
                            "flow_table", "totals", "drops", "vips"})
        CHECK_MESSAGE(d.contains(key), key);
    CHECK(d["version"] == "0.1.0");
    CHECK(d["rate_interval_s"].is_null());
    CHECK(d["flow_table"] == json{{"entries", 10}, {"capacity", 131072}});
    CHECK(d["totals"]["rx_packets"] == 1000);
    CHECK(d["totals"]["flows_per_second"].is_null());
    CHECK(d["drops"] ==
          json::array({{{"reason", "no_backend"}, {"count", 4}, {"per_second", nullptr}}}));
    REQUIRE(d["vips"].size() == 2);
    const json& web = d["vips"][0];
    CHECK(web["name"] == "web<script>alert('x')</script>&");  // JSON-escaped, not HTML-escaped
    CHECK(web["address"] == "198.18.0.10");
    CHECK(web["port"] == 80);
    CHECK(web["protocol"] == "tcp");
    CHECK(web["scheduler"] == "wrr");
    CHECK(web["syn_proxy"] == json{{"mode", "auto"}, {"engaged_workers", 1}});
    CHECK(web["refused"] == json{{"source_connections", 7}});
    CHECK(web["drops"] == json{{"no_flow", 12}});
    CHECK(web["active"] == 15);
    CHECK(web["inactive"] == 5);
    REQUIRE(web["backends"].size() == 5);
    const json& down = web["backends"][1];
    for (const char* key :
         {"backend", "state", "display_state", "weight", "configured_weight", "health", "active",
          "inactive", "drain_reset_in_s", "connections_total", "packets_to_backend",
          "packets_from_backend", "bytes_to_backend", "bytes_from_backend",
          "connections_per_second", "packets_per_second", "bytes_per_second"})
        CHECK_MESSAGE(down.contains(key), key);
    CHECK(down["state"] == "up");
    CHECK(down["display_state"] == "down");
    CHECK(down["health"] == json{{"state", "down"},
                                 {"last_result", "refused"},
                                 {"last_detail", "connection <refused>"},
                                 {"last_check_ago_s", 0.4}});
    CHECK(web["backends"][0]["health"]["last_result"].is_null());
    CHECK(web["backends"][2]["display_state"] == "draining");
    CHECK(web["backends"][2]["drain_reset_in_s"] == 41.2);
    CHECK(web["backends"][3]["display_state"] == "drained");
    CHECK(web["backends"][4]["display_state"] == "disabled");
    CHECK(d["vips"][1]["backends"][0]["display_state"] == "removing");
}

TEST_CASE("bytes that are not UTF-8 are replaced, not thrown on") {
    status_view v = sample_status();
    v.vips[0].name = "bad\xff";
    CHECK(parsed(v)["vips"][0]["name"] == "bad\xef\xbf\xbd");
}

TEST_CASE("rates come from counter deltas over at least a second, null before") {
    // Property: the first sample has no rates; a second one 2 s later gives delta / 2 s; a sample
    // sooner than the interval keeps the last window's rates; a counter that went backwards and
    // a backend new since the reference have none.
    status_rates rates;
    status_view v = sample_status();
    rates.apply(v, 10 * second_ns);
    CHECK_FALSE(v.rate_interval_s.has_value());
    CHECK_FALSE(v.vips[0].backends[0].rates.connections.has_value());

    status_view later = sample_status();
    later.vips[0].backends[0].traffic[backend_counter::connections_total] += 20;
    later.vips[0].backends[0].traffic[backend_counter::bytes_to_backend] += 4000;
    later.vips[0].backends[1].traffic[backend_counter::connections_total] = 0;  // re-added
    later.vips[0].backends[2].backend = "198.18.1.99:80";                       // new
    later.totals[worker_counter::rx_packets] += 3000;
    later.drops[0].count += 6;
    later.drops.push_back({"no_flow", 8, std::nullopt});  // first count of a reason
    rates.apply(later, 12 * second_ns);
    REQUIRE(later.rate_interval_s.has_value());
    CHECK(*later.rate_interval_s == doctest::Approx(2.0));
    CHECK(*later.vips[0].backends[0].rates.connections == doctest::Approx(10.0));
    CHECK(*later.vips[0].backends[0].rates.bytes == doctest::Approx(2000.0));
    CHECK(*later.vips[0].backends[0].rates.packets == doctest::Approx(0.0));
    CHECK_FALSE(later.vips[0].backends[1].rates.connections.has_value());
    CHECK_FALSE(later.vips[0].backends[2].rates.connections.has_value());
    CHECK_FALSE(later.vips[0].rates.connections.has_value());  // a backend without a rate
    CHECK(*later.vips[1].rates.connections == doctest::Approx(0.0));
    CHECK(*later.rx_packets_per_second == doctest::Approx(1500.0));
    CHECK(*later.drops[0].per_second == doctest::Approx(3.0));
    CHECK(*later.drops[1].per_second == doctest::Approx(4.0));
    const json d = parsed(later);
    CHECK(d["vips"][0]["backends"][0]["connections_per_second"] == 10.0);
    CHECK(d["vips"][0]["connections_per_second"].is_null());
    CHECK(d["totals"]["rx_packets_per_second"] == 1500.0);

    // 0.5 s later: no new window; the rates stay those of the last one.
    status_view soon = later;
    rates.apply(soon, 12 * second_ns + second_ns / 2);
    CHECK(*soon.rate_interval_s == doctest::Approx(2.0));
    CHECK(*soon.vips[0].backends[0].rates.connections == doctest::Approx(10.0));

    // After a long pause nobody watched, the old reference is dropped rather than averaged.
    status_view idle = later;
    rates.apply(idle, 100 * second_ns);
    CHECK_FALSE(idle.rate_interval_s.has_value());
}

TEST_CASE("/status and /status.json answer GET and HEAD only; other paths stay 404") {
    int sampled = 0;
    status_service service([&sampled] {
        ++sampled;
        return sample_status();
    });
    const http_routes routes = {service.page_route(), service.json_route()};
    const std::string json_answer = http_answer("GET /status.json HTTP/1.1\r\n\r\n", routes);
    CHECK(json_answer.starts_with("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"));
    CHECK(json_answer.find("Cache-Control: no-store\r\n") != std::string::npos);
    CHECK(json::parse(body_of(json_answer))["vips"].size() == 2);

    const std::string page = http_answer("GET /status?refresh=1 HTTP/1.1\r\n\r\n", routes);
    CHECK(page.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"));
    // The CSP nonce of the header is the page's.
    const size_t at = page.find("script-src 'nonce-");
    REQUIRE(at != std::string::npos);
    const std::string nonce = page.substr(at + 18, 32);
    CHECK(nonce.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(body_of(page).find("<script nonce=\"" + nonce + "\">") != std::string::npos);

    const std::string head = http_answer("HEAD /status HTTP/1.1\r\n\r\n", routes);
    CHECK(head.starts_with("HTTP/1.1 200 OK"));
    CHECK(body_of(head).empty());
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS"}) {
        const std::string refused =
            http_answer(std::string(method) + " /status HTTP/1.1\r\n\r\n", routes);
        CHECK(refused.starts_with("HTTP/1.1 405 "));
        CHECK(refused.find("Allow: GET, HEAD\r\n") != std::string::npos);
    }
    CHECK(sampled == 3);  // GET, GET, HEAD: a refused method builds nothing
    CHECK(http_answer("GET /status/ HTTP/1.1\r\n\r\n", routes).starts_with("HTTP/1.1 404 "));
    CHECK(http_answer("GET /status.jso HTTP/1.1\r\n\r\n", routes).starts_with("HTTP/1.1 404 "));
    CHECK(body_of(http_answer("GET / HTTP/1.1\r\n\r\n", routes)).find("/status.json") !=
          std::string::npos);
}

TEST_CASE("a fresh nonce is 32 hex digits and differs each time") {
    const std::string a = fresh_nonce(), b = fresh_nonce();
    CHECK(a.size() == 32);
    CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(a != b);
}

// /status (status_page.hpp): the page, its server-rendered tables and its headers. The texts and
// formats match the script's (status_page_assets.cpp), so the live page and the <noscript>
// fallback read alike. Any thread.
#include "metrics/status_page.hpp"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <optional>

#include "metrics/status_page_assets.hpp"

namespace sluice::metrics {

namespace {

constexpr std::string_view dash = "\xe2\x80\x93";      // U+2013, for a rate not known yet
constexpr std::string_view middle_dot = " \xc2\xb7 ";  // U+00B7 between a VIP's facts

std::string printed(const char* format, double x) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, format, x);
    return buffer;
}

std::string rate_text(const std::optional<double>& x) {
    return x ? printed("%.1f", *x) : std::string(dash);
}

std::string bytes_text(const std::optional<double>& x) {
    if (!x) return std::string(dash);
    static constexpr const char* units[] = {"B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"};
    double value = *x;
    size_t i = 0;
    while (value >= 1024 && i + 1 < std::size(units)) {
        value /= 1024;
        ++i;
    }
    return printed(i == 0 ? "%.0f " : "%.1f ", value) + units[i];
}

std::string duration_text(uint64_t s) {
    const uint64_t d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60;
    std::string out;
    if (d) out += std::to_string(d) + "d ";
    if (d || h) out += std::to_string(h) + "h ";
    if (d || h || m) out += std::to_string(m) + "m ";
    return out + std::to_string(s % 60) + "s";
}

std::string endpoint_text(const status_vip& v) {
    const bool v6 = v.address.find(':') != std::string::npos;
    return (v6 ? "[" + v.address + "]" : v.address) + ":" + std::to_string(v.port) + "/" +
           v.protocol;
}

std::string state_text(const status_backend& b) {
    const std::string_view shown = display_state(b);
    const std::string left = std::to_string(b.active + b.inactive) + " flows left";
    if (shown == "draining") {
        const std::string reset =
            b.drain_reset_in_s
                ? ", reset in " + std::to_string(uint64_t(std::ceil(*b.drain_reset_in_s))) + "s"
                : "";
        return "draining (" + left + reset + ")";
    }
    if (shown == "removing") return "removing (" + left + ")";
    return std::string(shown);
}

std::string health_text(const status_backend& b) {
    if (b.last_result.empty()) return b.health;
    const std::string detail = b.last_detail.empty() ? "" : ": " + b.last_detail;
    return b.health + " (" + b.last_result + detail + ", " +
           printed("%.1f", b.last_check_ago_s.value_or(0)) + "s ago)";
}

std::string weight_text(const status_backend& b) {
    std::string out = std::to_string(b.weight);
    if (b.weight != b.configured_weight)
        out += " (cfg " + std::to_string(b.configured_weight) + ")";
    return out;
}

// <td class="CLASS">TEXT</td>, TEXT escaped.
void cell(std::string& out, std::string_view cls, std::string_view text) {
    out += "<td class=\"";
    out += cls;
    out += "\">";
    out += html_escape(text);
    out += "</td>";
}

void header_row(std::string& out, std::initializer_list<std::string_view> names) {
    out += "<thead><tr>";
    for (std::string_view n : names) out += "<th>" + std::string(n) + "</th>";
    out += "</tr></thead>";
}

void append_summary(std::string& out, const status_view& v) {
    const double pct = v.flow_table_capacity
                           ? 100.0 * double(v.flows_active) / double(v.flow_table_capacity)
                           : 0.0;
    struct item {
        std::string_view key, label;
        std::string value;
    };
    const item items[] = {
        {"version", "Version", v.version},
        {"uptime", "Uptime", duration_text(v.uptime_s)},
        {"generation", "Config generation", std::to_string(v.generation)},
        {"workers", "Workers", std::to_string(v.workers)},
        {"flow_table", "Flow table",
         std::to_string(v.flows_active) + " / " + std::to_string(v.flow_table_capacity) + " (" +
             printed("%.1f", pct) + " %)"},
        {"flows_per_second", "New flows/s", rate_text(v.flows_per_second)},
        {"packets_per_second", "Packets/s rx / tx",
         rate_text(v.rx_packets_per_second) + " / " + rate_text(v.tx_packets_per_second)},
        {"bytes_per_second", "Bytes/s rx / tx",
         bytes_text(v.rx_bytes_per_second) + " / " + bytes_text(v.tx_bytes_per_second)},
    };
    out += "<table class=\"summary\">";
    for (const item& i : items) {
        out += "<tr><th>" + std::string(i.label) + "</th><td data-key=\"" + std::string(i.key) +
               "\">" + html_escape(i.value) + "</td></tr>";
    }
    out += "</table>";
}

void append_backend_row(std::string& out, const status_backend& b) {
    out += "<tr class=\"backend state-" + html_escape(display_state(b)) + "\" data-backend=\"" +
           html_escape(b.backend) + "\">";
    cell(out, "name", b.backend);
    cell(out, "state", state_text(b));
    cell(out, "num weight", weight_text(b));
    cell(out, "health health-" + html_escape(b.health), health_text(b));
    cell(out, "num active", std::to_string(b.active));
    cell(out, "num inactive", std::to_string(b.inactive));
    cell(out, "num", rate_text(b.rates.connections));
    cell(out, "num", rate_text(b.rates.packets));
    cell(out, "num", bytes_text(b.rates.bytes));
    cell(out, "num total", std::to_string(b.traffic[backend_counter::connections_total]));
    out += "</tr>";
}

std::string vip_meta(const status_vip& v) {
    uint64_t active = 0, inactive = 0;
    for (const status_backend& b : v.backends) {
        active += b.active;
        inactive += b.inactive;
    }
    const std::string proxy =
        v.syn_proxy == "off"
            ? "off"
            : v.syn_proxy + " (engaged on " + std::to_string(v.syn_proxy_engaged) + " workers)";
    std::string out = "scheduler " + v.scheduler;
    out += std::string(middle_dot) + "SYN proxy " + proxy;
    out += std::string(middle_dot) + "active " + std::to_string(active) + ", inactive " +
           std::to_string(inactive);
    out += std::string(middle_dot) + rate_text(v.rates.connections) + " conn/s";
    out += std::string(middle_dot) + rate_text(v.rates.packets) + " pkts/s";
    out += std::string(middle_dot) + bytes_text(v.rates.bytes);
    for (size_t i = 0; i < v.refused.size(); ++i) {
        out += i == 0 ? std::string(middle_dot) + "refused: " : std::string(", ");
        out += v.refused[i].first + " " + std::to_string(v.refused[i].second);
    }
    for (size_t i = 0; i < v.drops.size(); ++i) {
        out += i == 0 ? std::string(middle_dot) + "dropped: " : std::string(", ");
        out += v.drops[i].first + " " + std::to_string(v.drops[i].second);
    }
    return out;
}

void append_vip(std::string& out, const status_vip& v) {
    out += "<section class=\"vip\" data-vip=\"" + html_escape(v.name) + "\"><h2>" +
           html_escape(v.name) + " <span class=\"addr\">" + html_escape(endpoint_text(v)) +
           "</span></h2><p class=\"vip-meta\">" + html_escape(vip_meta(v)) + "</p>";
    out += "<table class=\"backends\">";
    header_row(out, {"Backend", "State", "Weight", "Health", "Active", "Inactive", "Conn/s",
                     "Pkts/s", "Bytes/s", "Connections"});
    out += "<tbody>";
    for (const status_backend& b : v.backends) append_backend_row(out, b);
    out += "</tbody></table></section>";
}

void append_drops(std::string& out, const status_view& v) {
    out += "<section class=\"drops\"><h2>Drops</h2>";
    if (v.drops.empty()) {
        out += "<p class=\"note\">no packet dropped</p></section>";
        return;
    }
    out += "<table class=\"drops\">";
    header_row(out, {"Reason", "Packets", "Per second"});
    out += "<tbody>";
    for (const status_drop& d : v.drops) {
        out += "<tr class=\"drop\" data-reason=\"" + html_escape(d.reason) + "\">";
        cell(out, "name", d.reason);
        cell(out, "num", std::to_string(d.count));
        cell(out, "num", rate_text(d.per_second));
        out += "</tr>";
    }
    out += "</tbody></table></section>";
}

}  // namespace

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string format_status_page(const status_view& v, std::string_view nonce) {
    const std::string n = html_escape(nonce);
    std::string out =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Sluice status</title>"
        "<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>";
    out += "<style nonce=\"" + n + "\">";
    out += status_page_style;
    out +=
        "</style></head>\n<body><h1>Sluice status</h1><p id=\"updated\"></p>\n"
        "<main id=\"live\" hidden></main>\n<noscript><main id=\"static\">"
        "<p class=\"note\">JavaScript is off: these tables were rendered by sluiced and the "
        "page reloads every 5 s.</p>";
    append_summary(out, v);
    for (const status_vip& vip : v.vips) append_vip(out, vip);
    append_drops(out, v);
    out += "</main></noscript>\n<script nonce=\"" + n + "\">";
    out += status_page_script;
    out += "</script></body></html>\n";
    return out;
}

std::string status_page_headers(std::string_view nonce) {
    const std::string n(nonce);
    return "Content-Security-Policy: default-src 'none'; script-src 'nonce-" + n +
           "'; style-src 'nonce-" + n +
           "'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'\r\n"
           "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
           "X-Frame-Options: DENY\r\nReferrer-Policy: no-referrer\r\n";
}

}  // namespace sluice::metrics

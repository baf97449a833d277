// Unit tests for src/metrics: the Prometheus text exposition (checked against a strict grammar of
// the 0.0.4 text format written here) and the non-blocking /metrics HTTP listener (driven from the
// test thread, with the clock supplied to poll() for deadlines).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "metrics/http_listener.hpp"
#include "metrics/prometheus_text.hpp"
#include "metrics_sample_view.hpp"
#include "sluice/drop_reason.hpp"

using sluice::metrics::format_prometheus;
using sluice::metrics::http_answer;
using sluice::metrics::http_listener;
using sluice::metrics::metrics_view;
using sluice::metrics::testing::sample_view;

namespace {

// ---- A strict reader of the text format (the subset format_prometheus may emit) ----

using labels = std::vector<std::pair<std::string, std::string>>;

struct sample {
    std::string name;
    labels label_set;  // values unescaped
    std::string value;
};

struct exposition {
    std::map<std::string, int> help_count;
    std::map<std::string, int> type_count;
    std::map<std::string, std::string> type;
    std::vector<sample> samples;
    std::vector<std::string> errors;  // "line N: what"
};

// Hand-written rather than std::regex: GCC 12's <regex> trips -Wmaybe-uninitialized under
// sanitizers, and these are a few lines each.
bool is_alpha_(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_name(std::string_view s) {
    if (s.empty() || is_digit(s[0])) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return is_alpha_(c) || is_digit(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*
bool is_label_name(std::string_view s) {
    if (s.empty() || is_digit(s[0])) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return is_alpha_(c) || is_digit(c); });
}

// [-+]?(D+(.D*)?|.D+)([eE][-+]?D+)? | [-+]?Inf | NaN
bool is_value(std::string_view s) {
    if (s == "NaN") return true;
    size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (s.substr(i) == "Inf") return true;
    auto digits = [&] {
        const size_t from = i;
        while (i < s.size() && is_digit(s[i])) ++i;
        return i - from;
    };
    size_t mantissa = digits();
    if (i < s.size() && s[i] == '.') {
        ++i;
        mantissa += digits();
    }
    if (mantissa == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        if (digits() == 0) return false;
    }
    return i == s.size();
}

// Help text: any character but a raw newline; backslash only as \\ or \n.
bool valid_help(std::string_view help) {
    for (size_t i = 0; i < help.size(); ++i) {
        if (help[i] != '\\') continue;
        if (i + 1 == help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n')) return false;
        ++i;
    }
    return true;
}

// Parses `{a="x",b="y"}` starting at pos (at '{'); advances pos past '}'. Empty string = ok.
std::string parse_labels(std::string_view line, size_t& pos, labels& out) {
    ++pos;  // '{'
    std::set<std::string> seen;
    for (;;) {
        size_t eq = line.find('=', pos);
        if (eq == std::string_view::npos) return "label without '='";
        const std::string name(line.substr(pos, eq - pos));
        if (!is_label_name(name)) return "bad label name '" + name + "'";
        if (name.starts_with("__")) return "reserved label name '" + name + "'";
        if (!seen.insert(name).second) return "duplicate label '" + name + "'";
        pos = eq + 1;
        if (pos >= line.size() || line[pos] != '"') return "label value not quoted";
        ++pos;
        std::string value;
        for (;;) {
            if (pos >= line.size()) return "unterminated label value";
            const char c = line[pos++];
            if (c == '"') break;
            if (c == '\\') {
                if (pos >= line.size()) return "dangling backslash";
                const char e = line[pos++];
                if (e == '\\') {
                    value += '\\';
                } else if (e == '"') {
                    value += '"';
                } else if (e == 'n') {
                    value += '\n';
                } else {
                    return std::string("bad escape \\") + e;
                }
            } else {
                value += c;
            }
        }
        out.emplace_back(name, value);
        if (pos >= line.size()) return "labels not closed";
        if (line[pos] == '}') {
            ++pos;
            return "";
        }
        if (line[pos] != ',') return "expected ',' or '}' after a label";
        ++pos;  // no trailing comma: the next label must follow
    }
}

exposition parse_strict(const std::string& text) {
    exposition e;
    if (text.empty() || text.back() != '\n') e.errors.push_back("text does not end in a newline");
    std::string family;  // the family whose samples may follow (its TYPE line came last)
    std::set<std::string> closed_families;
    std::set<std::string> series;
    size_t start = 0;
    for (int number = 1; start < text.size(); ++number) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        auto fail = [&](const std::string& what) {
            e.errors.push_back("line " + std::to_string(number) + ": " + what + ": " + line);
        };
        if (line.empty()) {
            fail("empty line");
            continue;
        }
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            const std::string rest = line.substr(7);
            const size_t sp = rest.find(' ');
            const std::string name = rest.substr(0, sp);
            const std::string arg = sp == std::string::npos ? "" : rest.substr(sp + 1);
            if (!is_name(name)) fail("bad metric name");
            if (closed_families.contains(name)) fail("family appears twice");
            if (line[2] == 'H') {
                ++e.help_count[name];
                if (sp == std::string::npos || arg.empty()) fail("empty help");
                if (!valid_help(arg)) fail("bad escape in help");
                if (e.type_count.contains(name)) fail("HELP after TYPE");
            } else {
                ++e.type_count[name];
                e.type[name] = arg;
                if (arg != "counter" && arg != "gauge") fail("type not counter or gauge");
                if (!e.help_count.contains(name)) fail("TYPE without HELP before it");
                if (!family.empty() && family != name) closed_families.insert(family);
                family = name;
            }
            continue;
        }
        if (line[0] == '#') {
            fail("unexpected comment");
            continue;
        }
        sample s;
        size_t pos = 0;
        while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
        s.name = line.substr(0, pos);
        if (!is_name(s.name)) fail("bad metric name");
        if (pos < line.size() && line[pos] == '{') {
            const std::string err = parse_labels(line, pos, s.label_set);
            if (!err.empty()) {
                fail(err);
                continue;
            }
        }
        if (pos >= line.size() || line[pos] != ' ') {
            fail("no space before the value");
            continue;
        }
        s.value = line.substr(pos + 1);
        if (!is_value(s.value)) fail("bad value '" + s.value + "'");
        if (s.name != family) fail("sample outside its family's block (after its TYPE)");
        labels key = s.label_set;
        std::sort(key.begin(), key.end());
        std::string id = s.name;
        for (const auto& [k, v] : key) id += "\x01" + k + "\x02" + v;
        if (!series.insert(id).second) fail("duplicate series");
        e.samples.push_back(std::move(s));
    }
    return e;
}

// The value of the one sample with exactly these labels (any order), or "" if absent.
std::string value_of(const exposition& e, const std::string& name, labels wanted) {
    std::sort(wanted.begin(), wanted.end());
    std::string found;
    int matches = 0;
    for (const sample& s : e.samples) {
        labels have = s.label_set;
        std::sort(have.begin(), have.end());
        if (s.name == name && have == wanted) {
            found = s.value;
            ++matches;
        }
    }
    return matches == 1 ? found : "";
}

size_t count_of(const exposition& e, const std::string& name) {
    return size_t(std::count_if(e.samples.begin(), e.samples.end(),
                                [&](const sample& s) { return s.name == name; }));
}

const std::vector<std::string> all_families = {
    "sluice_backend_up",
    "sluice_backend_weight",
    "sluice_backend_state",
    "sluice_backend_health",
    "sluice_health_checks_total",
    "sluice_backend_state_changes_total",
    "sluice_backend_active_connections",
    "sluice_backend_inactive_connections",
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

// ---- HTTP client side, non-blocking, driven together with the listener ----

struct client {
    int fd = -1;
    explicit client(uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sin{};
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // Loopback connect completes in the kernel's backlog without the listener's help.
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
        REQUIRE(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    }
    client(const client&) = delete;
    client& operator=(const client&) = delete;
    ~client() {
        if (fd >= 0) ::close(fd);
    }
    void send_text(std::string_view text) const {
        REQUIRE(::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == ssize_t(text.size()));
    }
    // Reads what is there: false once the server closed (EOF or reset).
    bool read_some(std::string& into) const {
        char buffer[65536];
        for (;;) {
            const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                into.append(buffer, size_t(n));
                continue;
            }
            if (n == 0) return false;
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
        }
    }
};

// Polls the listener and reads the client until the server closes (bounded: about 5 s).
std::string exchange(http_listener& listener, const client& c,
                     const std::function<std::string()>& body) {
    std::string received;
    for (int i = 0; i < 5000; ++i) {
        listener.poll(body);
        if (!c.read_some(received)) return received;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL("the server did not close the connection");
    return received;
}

std::string get(http_listener& listener, std::string_view request,
                const std::function<std::string()>& body) {
    client c(listener.port());
    c.send_text(request);
    return exchange(listener, c, body);
}

std::string header_block(const std::string& answer) {
    return answer.substr(0, answer.find("\r\n\r\n") + 4);
}
std::string body_of(const std::string& answer) {
    const size_t end = answer.find("\r\n\r\n");
    return end == std::string::npos ? "" : answer.substr(end + 4);
}

http_listener open_loopback(const http_listener::options& opts = {}) {
    auto l = http_listener::open("127.0.0.1:0", opts);
    REQUIRE_MESSAGE(l.ok(), l.message());
    REQUIRE(l->port() != 0);
    return std::move(*l);
}

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

// ---- HTTP answers ----

TEST_CASE("http_answer routes by method and path") {
    // Property: GET /metrics → 200 text 0.0.4 with the body, / → 200 pointer, other path → 404,
    // other method → 405 with Allow, malformed request line → 400; always Connection: close.
    int calls = 0;
    auto body = [&] {
        ++calls;
        return std::string("m 1\n");
    };
    const std::string ok = http_answer("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", body);
    CHECK(ok.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(ok.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
          std::string::npos);
    CHECK(ok.find("\r\nContent-Length: 4\r\n") != std::string::npos);
    CHECK(ok.find("\r\nConnection: close\r\n") != std::string::npos);
    CHECK(body_of(ok) == "m 1\n");
    CHECK(calls == 1);

    CHECK(http_answer("GET /metrics?x=1 HTTP/1.0\n\n", body).starts_with("HTTP/1.1 200 OK"));
    const std::string index = http_answer("GET / HTTP/1.1\r\n\r\n", body);
    CHECK(index.starts_with("HTTP/1.1 200 OK"));
    CHECK(body_of(index).find("/metrics") != std::string::npos);
    CHECK(http_answer("GET /nope HTTP/1.1\r\n\r\n", body).starts_with("HTTP/1.1 404 "));
    CHECK(http_answer("GET /metrics/ HTTP/1.1\r\n\r\n", body).starts_with("HTTP/1.1 404 "));
    const std::string post = http_answer("POST /metrics HTTP/1.1\r\n\r\n", body);
    CHECK(post.starts_with("HTTP/1.1 405 "));
    CHECK(post.find("\r\nAllow: GET, HEAD\r\n") != std::string::npos);
    CHECK(http_answer("get /metrics HTTP/1.1\r\n\r\n", body).starts_with("HTTP/1.1 405 "));
    for (const char* bad :
         {"GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/2\r\n\r\n",
          "\r\n\r\n", "GET /metrics HTTP/1.1 x\r\n\r\n"}) {
        CAPTURE(bad);
        CHECK(http_answer(bad, body).starts_with("HTTP/1.1 400 "));
    }
    CHECK(calls == 2);  // only the two /metrics GETs asked for the text

    const std::string head = http_answer("HEAD /metrics HTTP/1.1\r\n\r\n", body);
    CHECK(head.starts_with("HTTP/1.1 200 OK"));
    CHECK(head.find("\r\nContent-Length: 4\r\n") != std::string::npos);
    CHECK(body_of(head).empty());
}

// ---- Listener ----

TEST_CASE("GET /metrics over TCP gets 200 and the body, then the server closes") {
    // Property: a real client on 127.0.0.1 receives the full answer and EOF; nothing stays open.
    http_listener l = open_loopback();
    const std::string text = format_prometheus(sample_view());
    const std::string answer =
        get(l, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: t\r\n\r\n",
            [&] { return text; });
    CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
    CHECK(header_block(answer).find("Content-Type: text/plain; version=0.0.4; charset=utf-8") !=
          std::string::npos);
    CHECK(header_block(answer).find("Connection: close") != std::string::npos);
    CHECK(body_of(answer) == text);
    l.poll([] { return std::string(); });
    CHECK(l.open_connections() == 0);
}

TEST_CASE("unknown paths get 404, other methods 405, over TCP") {
    // Property: the listener sends http_answer's status for /nope, POST and /.
    http_listener l = open_loopback();
    auto body = [] { return std::string("x 1\n"); };
    CHECK(get(l, "GET /nope HTTP/1.1\r\n\r\n", body).starts_with("HTTP/1.1 404 "));
    CHECK(get(l, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", body)
              .starts_with("HTTP/1.1 405 "));
    const std::string index = get(l, "GET / HTTP/1.1\r\n\r\n", body);
    CHECK(index.starts_with("HTTP/1.1 200 "));
    CHECK(body_of(index).find("/metrics") != std::string::npos);
}

TEST_CASE("a request head arriving in pieces across polls is answered once complete") {
    // Property: per-connection state survives poll() calls; the body is asked for only once.
    http_listener l = open_loopback();
    int calls = 0;
    auto body = [&] {
        ++calls;
        return std::string("x 1\n");
    };
    client c(l.port());
    std::string received;
    c.send_text("GET /met");
    for (int i = 0; i < 20; ++i) {
        l.poll(body);
        CHECK(c.read_some(received));
    }
    CHECK(l.open_connections() == 1);
    CHECK(received.empty());
    CHECK(calls == 0);
    c.send_text("rics HTTP/1.1\r\nHost: a\r\n");
    l.poll(body);
    CHECK(c.read_some(received));
    CHECK(received.empty());
    c.send_text("\r\n");
    received = exchange(l, c, body);
    CHECK(received.starts_with("HTTP/1.1 200 OK"));
    CHECK(body_of(received) == "x 1\n");
    CHECK(calls == 1);
    CHECK(l.open_connections() == 0);  // a plain GET is closed with the answer
}

TEST_CASE("a client that may still send is answered, half-closed and closed on its EOF") {
    // Property: after a request with a body the server lingers (FIN sent, reading) until the
    // client closes, so unread input cannot turn the close into a reset.
    http_listener l = open_loopback();
    auto body = [] { return std::string("x 1\n"); };
    auto c = std::make_unique<client>(l.port());
    c->send_text("POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nab");
    CHECK(exchange(l, *c, body).starts_with("HTTP/1.1 405 "));  // ends on the server's FIN
    CHECK(l.open_connections() == 1);
    c->send_text("cde");
    l.poll(body);
    CHECK(l.open_connections() == 1);
    c.reset();
    for (int i = 0; i < 1000 && l.open_connections() != 0; ++i) {
        l.poll(body);
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    CHECK(l.open_connections() == 0);
}

TEST_CASE("a silent client is dropped after the request deadline and never blocks poll") {
    // Property: with the clock supplied, a connection without a request closes at accept + 2 s,
    // not before, and each poll() returns at once.
    http_listener l = open_loopback();
    auto body = [] { return std::string("x 1\n"); };
    client c(l.port());
    const auto t0 = http_listener::clock::now();
    const auto wall = std::chrono::steady_clock::now();
    l.poll(body, t0);
    REQUIRE(l.open_connections() == 1);
    l.poll(body, t0 + std::chrono::milliseconds(1999));
    CHECK(l.open_connections() == 1);
    std::string received;
    CHECK(c.read_some(received));  // still open
    l.poll(body, t0 + std::chrono::milliseconds(2000));
    CHECK(l.open_connections() == 0);
    CHECK(std::chrono::steady_clock::now() - wall < std::chrono::milliseconds(500));
    CHECK(!c.read_some(received));  // closed by the server
    CHECK(received.empty());
}

TEST_CASE("the deadline is an option") {
    // Property: request_timeout from options replaces the 2 s default.
    http_listener::options opts;
    opts.request_timeout = std::chrono::milliseconds(50);
    http_listener l = open_loopback(opts);
    client c(l.port());
    const auto t0 = http_listener::clock::now();
    l.poll([] { return std::string(); }, t0);
    REQUIRE(l.open_connections() == 1);
    l.poll([] { return std::string(); }, t0 + std::chrono::milliseconds(50));
    CHECK(l.open_connections() == 0);
}

TEST_CASE("a request head over 8 KiB is dropped without an answer") {
    // Property: more than max_request_bytes without the empty line closes the connection and the
    // body is never built.
    http_listener l = open_loopback();
    int calls = 0;
    auto body = [&] {
        ++calls;
        return std::string("x 1\n");
    };
    client c(l.port());
    c.send_text("GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(8200, 'a') + "\r\n\r\n");
    const std::string received = exchange(l, c, body);
    CHECK(received.empty());
    CHECK(calls == 0);
    CHECK(l.open_connections() == 0);

    // Just under the limit is fine.
    const std::string request = "GET /metrics HTTP/1.1\r\nX: ";
    const std::string fits = request + std::string(8192 - request.size() - 4, 'a') + "\r\n\r\n";
    REQUIRE(fits.size() == 8192);
    CHECK(get(l, fits, body).starts_with("HTTP/1.1 200 OK"));
}

TEST_CASE("a large body is written across polls without blocking") {
    // Property: a 4 MiB answer the socket cannot take at once arrives complete and in order.
    http_listener l = open_loopback();
    std::string big;
    for (size_t i = 0; big.size() < (4u << 20); ++i)
        big += "m{i=\"" + std::to_string(i) + "\"} 1\n";
    client c(l.port());
    c.send_text("GET /metrics HTTP/1.1\r\n\r\n");
    const std::string received = exchange(l, c, [&] { return big; });
    CHECK(received.starts_with("HTTP/1.1 200 OK"));
    CHECK(header_block(received).find("Content-Length: " + std::to_string(big.size())) !=
          std::string::npos);
    CHECK(body_of(received) == big);
}

TEST_CASE("accepts are bounded per poll and by max_connections") {
    // Property: one poll accepts at most max_accepts_per_poll; open connections stay at most
    // max_connections and the rest wait in the backlog, to be served later.
    http_listener::options opts;
    opts.max_accepts_per_poll = 2;
    opts.max_connections = 3;
    http_listener l = open_loopback(opts);
    std::vector<std::unique_ptr<client>> clients;
    for (int i = 0; i < 5; ++i) clients.push_back(std::make_unique<client>(l.port()));
    auto body = [] { return std::string("x 1\n"); };
    l.poll(body);
    CHECK(l.open_connections() == 2);
    l.poll(body);
    CHECK(l.open_connections() == 3);
    for (auto& c : clients) c->send_text("GET /metrics HTTP/1.1\r\n\r\n");
    for (auto& c : clients) {
        const std::string answer = exchange(l, *c, body);
        CHECK(answer.starts_with("HTTP/1.1 200 OK"));
        CHECK(l.open_connections() <= 3);
    }
}

TEST_CASE("an address in use gives an error naming the address and the reason") {
    // Property: a second listener on a bound port fails with "ADDR:PORT: Address already in use".
    http_listener first = open_loopback();
    const std::string address = "127.0.0.1:" + std::to_string(first.port());
    const auto refused = http_listener::open(address);
    REQUIRE(!refused.ok());
    CHECK(refused.message() == address + ": Address already in use");
}

TEST_CASE("malformed listen addresses are refused with the address in the error") {
    // Property: only IPv4 A.B.C.D:PORT and [IPv6]:PORT literals with a port ≤ 65535 are accepted.
    for (const char* bad :
         {"localhost:9273", "127.0.0.1", "::1:9273", "[::1]9273", "[::1]:", "127.0.0.1:70000",
          "127.0.0.1:-1", "127.0.0.1:80x", "", ":9273", "[127.0.0.1]:80", "1.2.3.4.5:80"}) {
        CAPTURE(bad);
        const auto refused = http_listener::open(bad);
        REQUIRE(!refused.ok());
        CHECK(refused.message().starts_with(std::string(bad) + ": "));
    }
}

TEST_CASE("IPv6 loopback works when the host has it") {
    // Property: "[::1]:0" binds and serves like IPv4; skipped if ::1 is not configured.
    auto l = http_listener::open("[::1]:0");
    if (!l) {
        MESSAGE("no IPv6 loopback here: " << l.message());
        return;
    }
    CHECK(l->port() != 0);
    const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(l->port());
    sin6.sin6_addr = in6addr_loopback;
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6) == 0);
    REQUIRE(::send(fd, "GET /metrics HTTP/1.1\r\n\r\n", 25, MSG_NOSIGNAL) == 25);
    REQUIRE(::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) == 0);
    std::string received;
    char buffer[4096];
    for (int i = 0; i < 5000; ++i) {
        l->poll([] { return std::string("v6 1\n"); });
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n == 0) break;
        if (n > 0) received.append(buffer, size_t(n));
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::close(fd);
    CHECK(received.starts_with("HTTP/1.1 200 OK"));
    CHECK(body_of(received) == "v6 1\n");
}

TEST_CASE(
    "a moved listener keeps serving; the moved-from one is inert; destruction frees the port") {
    // Property: moving transfers the socket and its connections; after destruction the same
    // address can be bound again.
    auto first = http_listener::open("127.0.0.1:0");
    REQUIRE(first.ok());
    std::optional<http_listener> opened(std::move(*first));
    const uint16_t port = opened->port();
    client pending(port);
    opened->poll([] { return std::string(); });
    REQUIRE(opened->open_connections() == 1);

    http_listener moved(std::move(*opened));
    CHECK(moved.port() == port);
    CHECK(moved.open_connections() == 1);
    CHECK(opened->open_connections() == 0);
    opened->poll([] { return std::string(); });  // no socket: does nothing
    pending.send_text("GET /metrics HTTP/1.1\r\n\r\n");
    CHECK(exchange(moved, pending, [] { return std::string("y 2\n"); }).ends_with("\r\n\r\ny 2\n"));

    opened.reset();
    { http_listener gone = std::move(moved); }
    const std::string address = "127.0.0.1:" + std::to_string(port);
    const auto again = http_listener::open(address);
    CHECK_MESSAGE(again.ok(), again.message());
}

// Unit tests for the status page's HTML (metrics/status_page.hpp): escaping of every string
// from configuration and state, the distinct row state of down and drained/draining backends,
// the <noscript> fallback, inline assets only, and the CSP nonce.
#include "metrics/status_page.hpp"

#include <doctest/doctest.h>

#include <string>

#include "metrics/status_page_assets.hpp"
#include "status_sample_view.hpp"

using namespace sluice::metrics;
using sluice::metrics::testing::sample_status;

namespace {

size_t count(const std::string& text, std::string_view what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

// The server-rendered part: what <noscript> holds.
std::string fallback_of(const std::string& page) {
    const size_t begin = page.find("<noscript><main");
    const size_t end = page.find("</noscript>", begin);
    REQUIRE(begin != std::string::npos);
    REQUIRE(end != std::string::npos);
    return page.substr(begin, end - begin);
}

}  // namespace

TEST_CASE("html_escape replaces the five markup characters and keeps everything else") {
    CHECK(html_escape("") == "");
    CHECK(html_escape("plain 198.18.0.10:80/tcp") == "plain 198.18.0.10:80/tcp");
    CHECK(html_escape("<a href=\"x\" title='y'>&amp;</a>") ==
          "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;");
    CHECK(html_escape("caf\xc3\xa9 \xff") == "caf\xc3\xa9 \xff");  // bytes pass through
}

TEST_CASE("strings from configuration and state never reach the page unescaped") {
    // Property: a VIP name carrying markup and a health detail with <> appear only escaped.
    const std::string page = format_status_page(sample_status(), "abc123");
    CHECK(page.find("<script>alert") == std::string::npos);
    CHECK(page.find("connection <refused>") == std::string::npos);
    CHECK(page.find("web&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;") !=
          std::string::npos);
    CHECK(page.find("data-vip=\"web&lt;script&gt;") != std::string::npos);
    CHECK(page.find("connection &lt;refused&gt;") != std::string::npos);
    // The only <script> element is the page's own, carrying the nonce.
    CHECK(count(page, "<script") == 1);
    CHECK(page.find("<script nonce=\"abc123\">") != std::string::npos);
    CHECK(page.find("<style nonce=\"abc123\">") != std::string::npos);
}

TEST_CASE("each backend row carries its display state as a class and a text") {
    // Property: down, draining, drained, disabled, removing and up rows are told apart by class
    // (state-…) and by the text of their state cell.
    const std::string fallback = fallback_of(format_status_page(sample_status(), "n"));
    CHECK(fallback.find("<tr class=\"backend state-up\" data-backend=\"198.18.1.11:80\">") !=
          std::string::npos);
    CHECK(fallback.find("<tr class=\"backend state-down\" data-backend=\"198.18.1.12:80\">"
                        "<td class=\"name\">198.18.1.12:80</td><td class=\"state\">down</td>") !=
          std::string::npos);
    CHECK(fallback.find("data-backend=\"198.18.1.13:80\"><td class=\"name\">198.18.1.13:80</td>"
                        "<td class=\"state\">draining (4 flows left, reset in 42s)</td>") !=
          std::string::npos);
    CHECK(fallback.find("<tr class=\"backend state-draining\"") != std::string::npos);
    // Drained wins over its failing health: the operator's state is what the row shows.
    CHECK(fallback.find("<tr class=\"backend state-drained\" data-backend=\"198.18.1.14:80\">") !=
          std::string::npos);
    CHECK(fallback.find("<td class=\"health health-down\">down</td>") != std::string::npos);
    CHECK(fallback.find("<tr class=\"backend state-disabled\"") != std::string::npos);
    CHECK(fallback.find("<td class=\"state\">removing (4 flows left)</td>") != std::string::npos);
    CHECK(fallback.find("<td class=\"num weight\">0 (cfg 2)</td>") != std::string::npos);
    CHECK(fallback.find("down (refused: connection &lt;refused&gt;, 0.4s ago)") !=
          std::string::npos);
    // The stylesheet makes the states look different.
    for (const char* cls : {"tr.state-down", "tr.state-draining", "tr.state-drained",
                            "tr.state-disabled", "tr.state-removing"})
        CHECK(status_page_style.find(cls) != std::string_view::npos);
}

TEST_CASE("the fallback holds the VIPs, summary and drops; the live part is left to the script") {
    const std::string page = format_status_page(sample_status(), "n");
    const std::string fallback = fallback_of(page);
    CHECK(fallback.find("<span class=\"addr\">198.18.0.10:80/tcp</span>") != std::string::npos);
    CHECK(fallback.find("<span class=\"addr\">[2001:2::10]:53/udp</span>") != std::string::npos);
    CHECK(fallback.find("scheduler wrr") != std::string::npos);
    CHECK(fallback.find("SYN proxy auto (engaged on 1 workers)") != std::string::npos);
    CHECK(fallback.find("refused: source_connections 7") != std::string::npos);
    CHECK(fallback.find("dropped: no_flow 12") != std::string::npos);
    CHECK(fallback.find("<td data-key=\"flow_table\">10 / 131072 (0.0 %)</td>") !=
          std::string::npos);
    CHECK(fallback.find("<td data-key=\"uptime\">1h 2m 5s</td>") != std::string::npos);
    CHECK(fallback.find("<tr class=\"drop\" data-reason=\"no_backend\">") != std::string::npos);
    // Rates unknown yet: a dash, not a zero.
    CHECK(fallback.find("<td data-key=\"flows_per_second\">\xe2\x80\x93</td>") !=
          std::string::npos);
    CHECK(page.find("<main id=\"live\" hidden></main>") != std::string::npos);
    CHECK(page.find("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>") !=
          std::string::npos);
}

TEST_CASE("the page loads nothing from elsewhere; the CSP allows only its nonce and this origin") {
    const std::string page = format_status_page(sample_status(), "n0nce");
    CHECK(page.find("http://") == std::string::npos);
    CHECK(page.find("https://") == std::string::npos);
    CHECK(page.find(" src=") == std::string::npos);
    CHECK(page.find("<link") == std::string::npos);
    CHECK(status_page_script.find("innerHTML") == std::string_view::npos);
    CHECK(status_page_script.find("fetch(\"/status.json\"") != std::string_view::npos);
    const std::string headers = status_page_headers("n0nce");
    CHECK(headers.find("Content-Security-Policy: default-src 'none'; script-src 'nonce-n0nce'; "
                       "style-src 'nonce-n0nce'; connect-src 'self';") != std::string::npos);
    CHECK(headers.find("Cache-Control: no-store\r\n") != std::string::npos);
    CHECK(headers.ends_with("\r\n"));
}

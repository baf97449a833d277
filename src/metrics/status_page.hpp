#pragma once
// /status: an HTML page like HAProxy's stats page. The server renders the tables into a
// <noscript> fallback (which reloads itself every 5 s); with JavaScript the inline script
// (status_page_assets.hpp) fetches /status.json every second and renders the same tables
// live. Every string from the configuration or the state is HTML-escaped; the style sheet and
// script are inline, allowed by a per-response CSP nonce (status_page_headers). Pure
// formatting: any thread; the control thread in sluiced.
#include <string>
#include <string_view>

#include "metrics/status_view.hpp"

namespace sluice::metrics {

inline constexpr std::string_view status_page_content_type = "text/html; charset=utf-8";

// `text` with & < > " ' replaced by character references: safe in element content and in
// quoted attribute values.
std::string html_escape(std::string_view text);

// The page; `nonce` (letters and digits only, fresh per response) marks the inline style and
// script that status_page_headers' Content-Security-Policy allows.
std::string format_status_page(const status_view& v, std::string_view nonce);

// Header lines for the page ("Name: value\r\n" each): a CSP allowing only the nonce's inline
// style and script and fetches from this origin, no caching, no framing, no MIME sniffing.
std::string status_page_headers(std::string_view nonce);

}  // namespace sluice::metrics

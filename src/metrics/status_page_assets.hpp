#pragma once
// The status page's inline style sheet and script (status_page.cpp puts them in the page; no
// external asset, no CDN). The script fetches /status.json every second and renders it into
// <main id="live"> with the markup the server renders for the <noscript> fallback: one
// <section class="vip" data-vip=NAME> per VIP whose backend rows are
// <tr class="backend state-STATE" data-backend=ADDR:PORT> (STATE: up, down, draining, drained,
// disabled, removing), a summary table and a drops table. It builds the DOM with textContent
// only, never innerHTML, so nothing from the JSON is parsed as markup.
#include <string_view>

namespace sluice::metrics {

extern const std::string_view status_page_style;
extern const std::string_view status_page_script;

}  // namespace sluice::metrics

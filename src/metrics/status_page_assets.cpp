// The status page's style sheet and script (status_page_assets.hpp). Constants only.
#include "metrics/status_page_assets.hpp"

namespace sluice::metrics {

const std::string_view status_page_style = R"css(
body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #222; background: #fafafa; }
h1 { font-size: 1.4em; margin: 0.2em 0; }
h2 { font-size: 1.15em; margin: 1.2em 0 0.2em; }
h2 .addr { font-weight: normal; color: #555; font-family: monospace; }
table { border-collapse: collapse; margin: 0.3em 0; }
th, td { padding: 0.2em 0.6em; border-bottom: 1px solid #ddd; text-align: left;
         white-space: nowrap; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.vip-meta { color: #444; margin: 0.2em 0; }
tr.state-up td.state { color: #1a7f37; font-weight: bold; }
tr.state-down { background: #ffd7d5; }
tr.state-down td.state { color: #b00; font-weight: bold; text-transform: uppercase; }
tr.state-draining { background: #fff3c4; }
tr.state-draining td.state { color: #8a6100; font-weight: bold; }
tr.state-drained { background: #e1e8f5; }
tr.state-drained td.state { color: #234; font-weight: bold; }
tr.state-disabled { background: #e6e6e6; color: #666; }
tr.state-disabled td.state { font-weight: bold; }
tr.state-removing { background: #f1e2fb; }
tr.state-removing td.state { color: #603; font-weight: bold; }
td.health-down { color: #b00; font-weight: bold; }
#updated { color: #555; }
#updated.stale { color: #b00; font-weight: bold; }
main.stale { opacity: 0.6; }
.note { color: #555; }
)css";

// Rendering mirrors status_page.cpp's server-side tables (same classes, texts and formats).
const std::string_view status_page_script = R"js(
"use strict";
(() => {
  const DASH = "\u2013";
  const REFRESH_MS = 1000, TIMEOUT_MS = 3000;
  const live = document.getElementById("live");
  const updated = document.getElementById("updated");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  const known = (x) => x !== null && x !== undefined;
  const rate = (x) => (known(x) ? x.toFixed(1) : DASH);
  function bytes(x) {
    if (!known(x)) return DASH;
    const units = ["B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s"];
    let i = 0;
    while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
    return (i === 0 ? x.toFixed(0) : x.toFixed(1)) + " " + units[i];
  }
  function duration(s) {
    const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
    const m = Math.floor((s % 3600) / 60);
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") +
           (s % 60) + "s";
  }
  function endpoint(v) {
    const a = v.address.includes(":") ? "[" + v.address + "]" : v.address;
    return a + ":" + v.port + "/" + v.protocol;
  }
  function stateText(b) {
    const left = b.active + b.inactive;
    if (b.display_state === "draining") {
      const reset =
        known(b.drain_reset_in_s) ? ", reset in " + Math.ceil(b.drain_reset_in_s) + "s" : "";
      return "draining (" + left + " flows left" + reset + ")";
    }
    if (b.display_state === "removing") return "removing (" + left + " flows left)";
    return b.display_state;
  }
  function healthText(b) {
    const h = b.health;
    if (!known(h.last_result)) return h.state;
    const detail = known(h.last_detail) && h.last_detail !== "" ? ": " + h.last_detail : "";
    const ago = h.last_check_ago_s.toFixed(1) + "s ago";
    return h.state + " (" + h.last_result + detail + ", " + ago + ")";
  }
  const weightText = (b) => String(b.weight) +
    (b.weight !== b.configured_weight ? " (cfg " + b.configured_weight + ")" : "");

  function table(cls, head, rows) {
    const t = el("table", cls), thead = el("thead"), tr = el("tr"), tbody = el("tbody");
    for (const h of head) tr.append(el("th", null, h));
    thead.append(tr);
    for (const r of rows) tbody.append(r);
    t.append(thead, tbody);
    return t;
  }
  function row(cls, cells) {
    const tr = el("tr", cls);
    for (const [text, c] of cells) tr.append(el("td", c, text));
    return tr;
  }

  function summary(d) {
    const t = d.totals, ft = d.flow_table;
    const pct = ft.capacity ? (100 * ft.entries) / ft.capacity : 0;
    const items = [
      ["version", "Version", d.version], ["uptime", "Uptime", duration(d.uptime_s)],
      ["generation", "Config generation", d.generation], ["workers", "Workers", d.workers],
      ["flow_table", "Flow table",
       ft.entries + " / " + ft.capacity + " (" + pct.toFixed(1) + " %)"],
      ["flows_per_second", "New flows/s", rate(t.flows_per_second)],
      ["packets_per_second", "Packets/s rx / tx",
       rate(t.rx_packets_per_second) + " / " + rate(t.tx_packets_per_second)],
      ["bytes_per_second", "Bytes/s rx / tx",
       bytes(t.rx_bytes_per_second) + " / " + bytes(t.tx_bytes_per_second)],
    ];
    const tbl = el("table", "summary");
    for (const [key, label, value] of items) {
      const tr = el("tr"), td = el("td", null, value);
      td.dataset.key = key;
      tr.append(el("th", null, label), td);
      tbl.append(tr);
    }
    return tbl;
  }

  function backendRow(b) {
    const tr = row("backend state-" + b.display_state, [
      [b.backend, "name"], [stateText(b), "state"], [weightText(b), "num weight"],
      [healthText(b), "health health-" + b.health.state], [b.active, "num active"],
      [b.inactive, "num inactive"], [rate(b.connections_per_second), "num"],
      [rate(b.packets_per_second), "num"], [bytes(b.bytes_per_second), "num"],
      [b.connections_total, "num total"]]);
    tr.dataset.backend = b.backend;
    return tr;
  }
  function vipMeta(v) {
    const proxy = v.syn_proxy.mode === "off" ? "off"
      : v.syn_proxy.mode + " (engaged on " + v.syn_proxy.engaged_workers + " workers)";
    const parts = ["scheduler " + v.scheduler, "SYN proxy " + proxy,
      "active " + v.active + ", inactive " + v.inactive,
      rate(v.connections_per_second) + " conn/s", rate(v.packets_per_second) + " pkts/s",
      bytes(v.bytes_per_second)];
    const refused = Object.entries(v.refused).map(([r, n]) => r + " " + n);
    if (refused.length) parts.push("refused: " + refused.join(", "));
    const dropped = Object.entries(v.drops || {}).map(([r, n]) => r + " " + n);
    if (dropped.length) parts.push("dropped: " + dropped.join(", "));
    return parts.join(" \u00b7 ");
  }
  const BACKEND_COLUMNS = ["Backend", "State", "Weight", "Health", "Active", "Inactive",
                           "Conn/s", "Pkts/s", "Bytes/s", "Connections"];
  function vipSection(v) {
    const sec = el("section", "vip"), h = el("h2", null, v.name + " ");
    sec.dataset.vip = v.name;
    h.append(el("span", "addr", endpoint(v)));
    sec.append(h, el("p", "vip-meta", vipMeta(v)),
               table("backends", BACKEND_COLUMNS, v.backends.map(backendRow)));
    return sec;
  }
  function dropsSection(d) {
    const sec = el("section", "drops");
    sec.append(el("h2", null, "Drops"));
    if (!d.drops.length) {
      sec.append(el("p", "note", "no packet dropped"));
      return sec;
    }
    const rows = d.drops.map((x) => {
      const tr = row("drop", [[x.reason, "name"], [x.count, "num"], [rate(x.per_second), "num"]]);
      tr.dataset.reason = x.reason;
      return tr;
    });
    sec.append(table("drops", ["Reason", "Packets", "Per second"], rows));
    return sec;
  }

  function render(d) {
    live.replaceChildren(summary(d), ...d.vips.map(vipSection), dropsSection(d));
    live.hidden = false;
    live.classList.remove("stale");
    updated.className = "";
    updated.textContent = "updated " + new Date().toLocaleTimeString() + ", every " +
                          REFRESH_MS / 1000 + " s";
  }
  async function refresh() {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    try {
      const r = await fetch("/status.json", { cache: "no-store", signal: abort.signal });
      if (!r.ok) throw new Error("HTTP " + r.status);
      render(await r.json());
    } catch (e) {
      updated.className = "stale";
      updated.textContent = "not updated (" + (e && e.message ? e.message : e) + "), retrying";
      live.classList.add("stale");
    } finally {
      clearTimeout(timer);
      setTimeout(refresh, REFRESH_MS);
    }
  }
  refresh();
})();
)js";

}  // namespace sluice::metrics

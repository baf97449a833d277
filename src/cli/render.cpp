#include "cli/render.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <vector>

namespace sluice::cli {

namespace {

// A field as text: "-" when absent, numbers without a trailing ".0".
std::string cell(const json& obj, const char* key) {
    if (!obj.is_object()) return "-";
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return "-";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_float()) {
        double v = it->get<double>();
        char buf[48];
        if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
            std::snprintf(buf, sizeof buf, "%.0f", v);
        else
            std::snprintf(buf, sizeof buf, "%.1f", v);
        return buf;
    }
    if (it->is_boolean()) return it->get<bool>() ? "yes" : "no";
    return it->dump(-1, ' ', false, json::error_handler_t::replace);
}

uint64_t count(const json& obj, const char* key) {
    if (!obj.is_object()) return 0;
    auto it = obj.find(key);
    if (it == obj.end()) return 0;
    if (it->is_number_unsigned()) return it->get<uint64_t>();
    if (it->is_number_integer()) return uint64_t(std::max<int64_t>(it->get<int64_t>(), 0));
    if (it->is_number_float()) return uint64_t(std::max(it->get<double>(), 0.0));
    if (it->is_array()) return it->size();  // e.g. a list of backends
    return 0;
}

bool is_numeric_text(const std::string& s) {
    return !s.empty() && s != "-" && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '.';
    });
}

// Display width: UTF-8 code points (names and addresses are ASCII in practice).
size_t width(const std::string& s) {
    return size_t(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

struct text_table {
    std::vector<std::string> header;
    std::vector<bool> right;  // per column
    std::vector<std::vector<std::string>> rows;

    // `indent` starts every line; a key/value list leaves the header out.
    std::string render(const std::string& indent = "", bool with_header = true) const {
        std::vector<size_t> w(header.size(), 0);
        for (size_t c = 0; c < header.size(); ++c) w[c] = width(header[c]);
        for (const auto& row : rows)
            for (size_t c = 0; c < row.size() && c < w.size(); ++c)
                w[c] = std::max(w[c], width(row[c]));
        std::string out;
        auto line = [&](const std::vector<std::string>& cells) {
            std::string l = indent;
            for (size_t c = 0; c < w.size(); ++c) {
                const std::string& v = c < cells.size() ? cells[c] : std::string("-");
                std::string pad(w[c] - std::min(w[c], width(v)), ' ');
                bool last = c + 1 == w.size();
                if (right[c])
                    l += pad + v;
                else
                    l += v + (last ? "" : pad);
                if (!last) l += "  ";
            }
            out += l + "\n";
        };
        if (with_header) line(header);
        for (const auto& row : rows) line(row);
        return out;
    }
};

std::string upper_words(const std::string& key) {
    std::string h = key;
    for (char& c : h) c = c == '_' ? ' ' : char(std::toupper((unsigned char)c));
    return h;
}

// "ADDR:PORT/PROTO", IPv6 in brackets, as the VIP is named when it has no name of its own.
std::string vip_endpoint(const json& vip) {
    std::string address = cell(vip, "address");
    if (address.find(':') != std::string::npos) address = "[" + address + "]";
    return address + ":" + cell(vip, "port") + "/" + cell(vip, "protocol");
}

std::string who(const json& backend) {
    return cell(backend, "vip") + " " + cell(backend, "backend");
}

bool is_drop_key(const std::string& key) {
    return key.rfind("drop_", 0) == 0;
}

// Drop reasons of a counter object: "drop_<reason>" keys, or a nested "drops" object.
std::vector<std::pair<std::string, uint64_t>> drops_of(const json& counters) {
    std::vector<std::pair<std::string, uint64_t>> out;
    if (!counters.is_object()) return out;
    for (const auto& [key, value] : counters.items()) {
        if (is_drop_key(key)) out.emplace_back(key.substr(5), count(counters, key.c_str()));
        if (key == "drops" && value.is_object())
            for (const auto& [reason, n] : value.items())
                out.emplace_back(reason, count(value, reason.c_str()));
    }
    return out;
}

}  // namespace

std::string state_label(const json& backend) {
    std::string state = cell(backend, "state");
    if (state == "draining" || state == "removing") {
        uint64_t left = count(backend, "active") + count(backend, "inactive");
        if (left > 0) {
            std::string label =
                state + " (" + std::to_string(left) + (left == 1 ? " flow" : " flows") + " left";
            const auto deadline = backend.find("drain_deadline_in");
            if (deadline != backend.end() && deadline->is_number()) {
                char buf[32];
                std::snprintf(buf, sizeof buf, ", reset in %.0fs", deadline->get<double>());
                label += buf;
            }
            return label + ")";
        }
    }
    return state;
}

std::string health_label(const json& backend) {
    const auto h = backend.find("health");
    if (h == backend.end() || !h->is_object()) return "-";
    std::string label = cell(*h, "state");
    const auto detail = h->find("last_detail");
    const auto ago = h->find("last_check_ago");
    if (detail != h->end() && detail->is_string() && ago != h->end() && ago->is_number()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, ", %.1fs ago", ago->get<double>());
        label += " (" + detail->get<std::string>() + buf + ")";
    }
    return label;
}

std::string render_vips(const json& vips) {
    text_table t{{"NAME", "VIP", "SCHEDULER", "BACKENDS", "ACTIVE", "INACTIVE"},
                 {false, false, false, true, true, true},
                 {}};
    for (const auto& v : vips)
        t.rows.push_back({cell(v, "name"), vip_endpoint(v), cell(v, "scheduler"),
                          std::to_string(count(v, "backends")), cell(v, "active"),
                          cell(v, "inactive")});
    return t.render();
}

std::string render_ports(const json& ports) {
    std::string out;
    if (!ports.is_array()) return out;
    for (const auto& p : ports) {
        const json empty = json::object();
        const json& nic = p.is_object() && p.contains("nic") ? p["nic"] : empty;
        const json& c = p.is_object() && p.contains("counters") ? p["counters"] : empty;
        out += "port " + cell(p, "name") + " (" + cell(p, "device") + ")\n";
        text_table t{{"", ""}, {false, false}, {}};
        t.rows.push_back({"link", cell(p, "link")});
        t.rows.push_back({"driver", cell(nic, "driver") + ", dpdk port " + cell(p, "dpdk_port") +
                                        ", NUMA socket " + cell(nic, "numa_socket")});
        t.rows.push_back({"mac / mtu / vlan", cell(p, "mac") + " / " + cell(p, "mtu") + " / " +
                                                  (count(p, "vlan") ? cell(p, "vlan") : "none")});
        t.rows.push_back({"queues", cell(nic, "rx_queues") + " RX x " +
                                        cell(nic, "rx_descriptors") + ", " +
                                        cell(nic, "tx_queues") + " TX x " +
                                        cell(nic, "tx_descriptors") + " descriptors"});
        t.rows.push_back({"rss", cell(nic, "rss")});
        t.rows.push_back({"offloads", "rx checksum " + cell(nic, "rx_checksum_offload") +
                                          ", vlan strip " + cell(nic, "vlan_strip") +
                                          ", vlan insert " + cell(nic, "vlan_insert") +
                                          ", link interrupt " + cell(nic, "link_interrupt")});
        t.rows.push_back({"steering", cell(nic, "steering")});
        t.rows.push_back(
            {"packets rx / tx", cell(c, "rx_packets") + " / " + cell(c, "tx_packets")});
        t.rows.push_back({"bytes rx / tx", cell(c, "rx_bytes") + " / " + cell(c, "tx_bytes")});
        t.rows.push_back({"missed / no mbuf", cell(c, "rx_missed") + " / " + cell(c, "rx_nombuf")});
        t.rows.push_back({"errors rx / tx", cell(c, "rx_errors") + " / " + cell(c, "tx_errors")});
        t.rows.push_back({"link changes", cell(c, "link_changes")});
        out += t.render("  ", false);
    }
    return out;
}

std::string render_info(const json& info) {
    text_table t{{"", ""}, {false, false}, {}};
    for (const char* key :
         {"version", "dpdk", "pid", "started", "uptime_s", "config", "config_generation", "reloads",
          "reload_failures", "workers", "ports", "vips", "flows", "flow_capacity", "mbufs_in_use",
          "mbufs_total", "mbuf_pools"})
        t.rows.push_back({key, cell(info, key)});
    return t.render("", false);
}

std::string render_protection(const json& vips) {
    std::string out;
    if (!vips.is_array()) return out;
    for (const auto& v : vips) {
        auto rate = [&](const char* key) {
            if (!v.is_object() || !v.contains(key) || count(v[key], "per_second") == 0)
                return std::string("unlimited");
            return cell(v[key], "per_second") + "/s burst " + cell(v[key], "burst");
        };
        out += "vip " + cell(v, "vip") + "\n";
        text_table t{{"", ""}, {false, false}, {}};
        t.rows.push_back({"new connections", rate("new_connections")});
        t.rows.push_back({"per source", rate("source_new_connections")});
        t.rows.push_back({"packets", rate("packets")});
        t.rows.push_back({"refused connections get", cell(v, "action")});
        std::string half_open = cell(v, "half_open");
        if (count(v, "max_half_open")) half_open += " (max " + cell(v, "max_half_open") + ")";
        t.rows.push_back({"half-open", half_open});
        std::string proxy = cell(v, "syn_proxy");
        if (proxy == "auto")
            proxy += " (engaged on " + cell(v, "syn_proxy_engaged_workers") + " of " +
                     cell(v, "workers") + " workers)";
        t.rows.push_back({"syn proxy", proxy});
        if (v.is_object() && v.contains("source_entries"))
            t.rows.push_back({"sources tracked", cell(v, "source_entries") + " (" +
                                                     cell(v, "source_evictions") +
                                                     " evicted while limited)"});
        out += t.render("  ", false);
        const json empty = json::object();
        const json& refused = v.is_object() && v.contains("refused") ? v["refused"] : empty;
        std::string line;
        for (const auto& [reason, n] : refused.items())
            if (count(refused, reason.c_str()))
                line += (line.empty() ? "" : ", ") + reason + " " + cell(refused, reason.c_str());
        out += "  refused: " + (line.empty() ? std::string("none") : line) + "\n";
        if (v.is_object() && v.contains("rules") && v["rules"].is_array() && !v["rules"].empty()) {
            text_table rules{
                {"RULE", "ACTION", "MATCHES", "PATTERN"}, {false, false, true, false}, {}};
            for (const auto& r : v["rules"])
                rules.rows.push_back(
                    {cell(r, "name"), cell(r, "action"), cell(r, "matches"), cell(r, "pattern")});
            out += rules.render("  ");
        }
    }
    return out;
}

std::string render_backends(const json& backends) {
    text_table t{{"VIP", "BACKEND", "STATE", "HEALTH", "WEIGHT", "ACTIVE", "INACTIVE", "CONN/S",
                  "PKTS IN/OUT", "BYTES IN/OUT"},
                 {false, false, false, false, true, true, true, true, true, true},
                 {}};
    for (const auto& b : backends) {
        // A weight changed at run time shows the configured one beside it.
        std::string weight = cell(b, "weight");
        std::string configured = cell(b, "configured_weight");
        if (configured != "-" && configured != weight) weight += " (cfg " + configured + ")";
        t.rows.push_back({cell(b, "vip"), cell(b, "backend"), state_label(b), health_label(b),
                          weight, cell(b, "active"), cell(b, "inactive"),
                          cell(b, "new_connections_per_second"),
                          cell(b, "packets_to_backend") + "/" + cell(b, "packets_from_backend"),
                          cell(b, "bytes_to_backend") + "/" + cell(b, "bytes_from_backend")});
    }
    return t.render();
}

std::string render_flows(const json& result) {
    text_table t{{"WORKER", "PROTO", "CLIENT", "VIP", "BACKEND", "LOCAL", "STATE", "EXPIRES"},
                 {true, false, false, false, false, false, false, true},
                 {}};
    const json empty = json::array();
    const json& flows = result.is_object() && result.contains("flows") && result["flows"].is_array()
                            ? result["flows"]
                            : empty;
    for (const auto& f : flows) {
        std::string expires = "-";
        if (f.is_object() && f.contains("expires_in") && f["expires_in"].is_number()) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1fs", f["expires_in"].get<double>());
            expires = buf;
        }
        t.rows.push_back({cell(f, "worker"), cell(f, "protocol"), cell(f, "client"), cell(f, "vip"),
                          cell(f, "backend"), cell(f, "local"), cell(f, "state"), expires});
    }
    if (t.rows.empty()) return "no flows\n";
    std::string out = t.render();
    if (result.value("truncated", false))
        out +=
            "(first " + std::to_string(t.rows.size()) + " flows shown; raise --limit for more)\n";
    return out;
}

namespace {

// Full-NAT source tuples per (port, local address): held by flows and free (resting included).
std::string render_local_tuples(const json& stats) {
    if (!stats.is_object() || !stats.contains("local_tuples")) return "";
    const json& tuples = stats["local_tuples"];
    if (!tuples.is_array() || tuples.empty()) return "";
    text_table t{{"PORT", "ADDRESS", "IN USE", "FREE"}, {false, false, true, true}, {}};
    for (const auto& row : tuples)
        if (row.is_object())
            t.rows.push_back(
                {cell(row, "port"), cell(row, "address"), cell(row, "in_use"), cell(row, "free")});
    return "local tuples:\n" + t.render("  ");
}

}  // namespace

std::string render_stats(const json& stats) {
    std::string out;
    const json empty = json::object();
    const json& totals = stats.is_object() && stats.contains("totals") ? stats["totals"] : empty;

    text_table sums{{"", ""}, {false, true}, {}};
    for (const auto& [key, value] : totals.items())
        if (!is_drop_key(key) && key != "drops" && !value.is_structured())
            sums.rows.push_back({key, cell(totals, key.c_str())});
    out += "totals:\n" + sums.render("  ", false);

    text_table drops{{"", ""}, {false, true}, {}};
    for (const auto& [reason, n] : drops_of(totals))
        if (n != 0) drops.rows.push_back({reason, std::to_string(n)});
    if (drops.rows.empty()) {
        out += "drops: none\n";
    } else {
        out += "drops:\n" + drops.render("  ", false);
    }

    out += render_local_tuples(stats);

    const json& workers =
        stats.is_object() && stats.contains("workers") && stats["workers"].is_array()
            ? stats["workers"]
            : empty;
    if (workers.empty()) return out;
    // Columns: every plain counter any worker reports, in the daemon's order; drops summed.
    std::vector<std::string> keys;
    bool any_drops = false;
    for (const auto& w : workers) {
        if (!w.is_object()) continue;
        for (const auto& [key, value] : w.items()) {
            if (is_drop_key(key) || key == "drops") {
                any_drops = true;
                continue;
            }
            if (!value.is_structured() && std::find(keys.begin(), keys.end(), key) == keys.end())
                keys.push_back(key);
        }
    }
    // The worker's id leads whatever order the daemon's keys come in.
    if (auto id = std::find(keys.begin(), keys.end(), "worker"); id != keys.end())
        std::rotate(keys.begin(), id, id + 1);
    text_table per_worker;
    for (const auto& key : keys) {
        per_worker.header.push_back(upper_words(key));
        per_worker.right.push_back(true);
    }
    if (any_drops) {
        per_worker.header.push_back("DROPS");
        per_worker.right.push_back(true);
    }
    for (const auto& w : workers) {
        std::vector<std::string> row;
        for (const auto& key : keys) row.push_back(cell(w, key.c_str()));
        if (any_drops) {
            uint64_t sum = 0;
            for (const auto& d : drops_of(w)) sum += d.second;
            row.push_back(std::to_string(sum));
        }
        per_worker.rows.push_back(std::move(row));
    }
    // Text columns (rare) read better left-aligned.
    for (size_t c = 0; c < keys.size(); ++c)
        per_worker.right[c] =
            std::all_of(per_worker.rows.begin(), per_worker.rows.end(),
                        [&](const auto& row) { return row[c] == "-" || is_numeric_text(row[c]); });
    out += "workers:\n" + per_worker.render("  ");
    return out;
}

std::string describe_weight_change(const json& before, const json& after) {
    std::string now = cell(after, "weight");
    if (before.is_null()) return who(after) + ": weight set to " + now;
    std::string was = cell(before, "weight");
    if (was == now) return who(after) + ": weight " + now + " (unchanged)";
    return who(after) + ": weight " + was + " -> " + now;
}

std::string describe_state_change(const json& before, const json& after) {
    std::string now = state_label(after);
    if (before.is_null()) return who(after) + ": " + now;
    if (cell(before, "state") == cell(after, "state")) return who(after) + ": already " + now;
    return who(after) + ": " + state_label(before) + " -> " + now;
}

std::string describe_added(const json& after) {
    return who(after) + ": added, weight " + cell(after, "weight") + ", " + state_label(after);
}

std::string describe_reload(const json& result) {
    return "reloaded " + cell(result, "file") + ": generation " + cell(result, "generation");
}

}  // namespace sluice::cli

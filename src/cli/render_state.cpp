// sluicectl show state: the operator's state as sluiced holds it (its state file), one line per
// VIP limit and per backend, columns aligned. Input is show_state's result
// (include/sluice/control_protocol.hpp); missing fields print as "-".
#include <algorithm>
#include <string>
#include <vector>

#include "cli/render.hpp"

namespace sluice::cli {

namespace {

std::string text_of(const json& obj, const char* key) {
    if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "-";
    const json& v = obj[key];
    return v.is_string() ? v.get<std::string>()
                         : v.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string endpoint_of(const json& obj) {
    std::string address = text_of(obj, "address");
    if (address.find(':') != std::string::npos) address = "[" + address + "]";
    return address + ":" + text_of(obj, "port");
}

std::string vip_of(const json& v) {
    if (v.contains("name") && v["name"].is_string()) return v["name"].get<std::string>();
    return endpoint_of(v) + "/" + text_of(v, "protocol");
}

// "removed", "draining", "up" for a backend entry; "added" is a note of its own.
std::string backend_state_of(const json& b) {
    std::string admin = text_of(b, "admin");
    if (admin == "removing") return "removed";
    return admin == "-" ? "up" : admin;
}

std::string backend_note(const json& b) {
    std::string note;
    if (b.value("added", false)) note = "added";
    if (b.contains("drain_deadline_unix") && b["drain_deadline_unix"].is_number())
        note += std::string(note.empty() ? "" : ", ") + "reset at Unix " +
                std::to_string(int64_t(b["drain_deadline_unix"].get<double>()));
    return note.empty() ? "-" : note;
}

std::string aligned(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> w;
    for (const auto& row : rows)
        for (size_t c = 0; c < row.size(); ++c) {
            if (w.size() <= c) w.push_back(0);
            w[c] = std::max(w[c], row[c].size());
        }
    std::string out;
    for (const auto& row : rows) {
        std::string line;
        for (size_t c = 0; c < row.size(); ++c)
            line +=
                c + 1 == row.size() ? row[c] : row[c] + std::string(w[c] - row[c].size() + 2, ' ');
        out += line + "\n";
    }
    return out;
}

}  // namespace

std::string render_state(const json& result) {
    std::string out;
    const std::string file = text_of(result, "file");
    if (file == "-")
        return "no state file ([control] state_file is not set): changes made with sluicectl last "
               "until the next reload or restart\n";
    out += "state file " + file;
    const std::string written = text_of(result, "written");
    out += written == "-" ? " (not written since start)\n" : " (written " + written + ")\n";
    if (result.contains("problem"))
        out += "not used at start: " + text_of(result, "problem") +
               " (kept as it is until the next change)\n";
    if (result.contains("write_error"))
        out += "last write failed: " + text_of(result, "write_error") + "\n";
    const json state = result.contains("state") ? result["state"] : json::object();
    const json vips = state.is_object() && state.contains("vips") ? state["vips"] : json::array();
    std::vector<std::vector<std::string>> backends{{"VIP", "BACKEND", "STATE", "WEIGHT", "NOTE"}};
    std::vector<std::vector<std::string>> limits{{"VIP", "LIMIT", "RATE", "BURST"}};
    for (const auto& v : vips) {
        if (!v.is_object()) continue;
        if (v.contains("limits") && v["limits"].is_object())
            for (const auto& [name, r] : v["limits"].items())
                limits.push_back(
                    {vip_of(v), name, text_of(r, "per_second") + "/s", text_of(r, "burst")});
        if (!v.contains("backends") || !v["backends"].is_array()) continue;
        for (const auto& b : v["backends"])
            backends.push_back({vip_of(v), endpoint_of(b), backend_state_of(b),
                                text_of(b, "weight"), backend_note(b)});
    }
    if (backends.size() == 1 && limits.size() == 1)
        return out + "no changes: the configuration file applies as written\n";
    if (backends.size() > 1) out += aligned(backends);
    if (limits.size() > 1) out += aligned(limits);
    return out;
}

}  // namespace sluice::cli

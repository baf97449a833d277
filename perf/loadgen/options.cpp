// sluice-loadgen's command line (options.hpp has the threads).
#include "options.hpp"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <string_view>

#include "connection_table.hpp"

namespace sluice::loadgen {

namespace {

// Each option takes one value; the setter returns false when the value does not fit.
using setter = std::function<bool(std::string_view, options&)>;

bool to_double(std::string_view s, double lo, double hi, double& out) {
    const std::string text(s);
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || *end != '\0' || !std::isfinite(v) || v < lo || v > hi) return false;
    out = v;
    return true;
}

template <typename T>
bool to_unsigned(std::string_view s, uint64_t lo, uint64_t hi, T& out) {
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string_view::npos)
        return false;
    const uint64_t v = std::strtoull(std::string(s).c_str(), nullptr, 10);
    if (v < lo || v > hi) return false;
    out = T(v);
    return true;
}

bool to_v4(std::string_view s, ip_address& out) {
    auto a = ip_address::parse(s);
    if (!a || !a->is_v4()) return false;
    out = *a;
    return true;
}

setter dbl(double options::*field, double lo, double hi) {
    return [=](std::string_view s, options& o) { return to_double(s, lo, hi, o.*field); };
}
setter search_dbl(double search_config::*field, double lo, double hi) {
    return [=](std::string_view s, options& o) { return to_double(s, lo, hi, o.search.*field); };
}
setter address(ip_address options::*field) {
    return [=](std::string_view s, options& o) { return to_v4(s, o.*field); };
}
template <typename T>
setter uns(T options::*field, uint64_t lo, uint64_t hi) {
    return [=](std::string_view s, options& o) { return to_unsigned(s, lo, hi, o.*field); };
}
setter text(std::string options::*field) {
    return [=](std::string_view s, options& o) {
        o.*field = std::string(s);
        return !s.empty();
    };
}

bool set_mode(std::string_view s, options& o) {
    for (run_mode m : {run_mode::established, run_mode::cps, run_mode::udp, run_mode::syn_flood}) {
        if (s == mode_name(m)) {
            o.mode = m;
            return true;
        }
    }
    return false;
}

bool set_max_trials(std::string_view s, options& o) {
    return to_unsigned(s, 1, 10000, o.search.max_trials);
}

struct option_row {
    std::string_view name;
    setter set;
    std::string_view help;
};

const std::vector<option_row>& rows() {
    static const std::vector<option_row> table = {
        {"--mode", set_mode, "established | cps | udp | syn-flood (default established)"},
        {"--flows", uns(&options::flows, 1, max_connections), "flows (cps: table slots), 1000"},
        {"--payload", uns(&options::payload, stamp_len, 1400), "payload bytes, >= 16, 16"},
        {"--scenario", text(&options::scenario), "name in the report, <mode>_<flows>"},
        {"--clients", address(&options::client_first), "first client address, 198.19.0.1"},
        {"--client-ports", uns(&options::client_ports, 1, 64512), "ports per client, 60000"},
        {"--gateway", address(&options::gateway), "the clients' next hop, 198.18.0.2"},
        {"--lb-client", address(&options::lb_client_address), "LB client port, 198.18.0.1"},
        {"--vip", address(&options::vip), "VIP, 198.18.0.10"},
        {"--vip-port", uns(&options::vip_port, 1, 65535), "VIP port, 80"},
        {"--backends", address(&options::backend_first), "first backend, 198.18.1.11"},
        {"--backend-count", uns(&options::backends, 1, 256), "backends, 4"},
        {"--backend-port", uns(&options::backend_port, 1, 65535), "backend port, the VIP's"},
        {"--lb-server", address(&options::lb_server_address), "LB server port, 198.18.1.1"},
        {"--locals", address(&options::local_first), "first LB local address, 198.18.1.128"},
        {"--local-count", uns(&options::locals, 1, 256), "LB local addresses, 16"},
        {"--client-port-name", text(&options::client_port_name), "DPDK port, port 0"},
        {"--server-port-name", text(&options::server_port_name), "DPDK port, port 1"},
        {"--rate", dbl(&options::rate_pps, 1, 1e9), "one trial at this rate (pps), no search"},
        {"--duration", dbl(&options::duration_s, 0.01, 3600), "fixed-rate trial seconds, 1"},
        {"--grace", dbl(&options::grace_s, 0.001, 10), "drain seconds after a trial, 0.1"},
        {"--setup-rate", dbl(&options::setup_rate, 1, 1e8), "connections/s when opening, 1e5"},
        {"--syn-flood-rate", dbl(&options::syn_flood_pps, 0, 1e9), "spoofed SYNs/s, 0"},
        {"--flood-sources", address(&options::flood_first), "first spoofed source, 198.19.250.1"},
        {"--flood-source-count", uns(&options::flood_sources, 1, 65536), "spoofed sources, 250"},
        {"--sample-every", uns(&options::sample_every, 1, 1u << 20), "latency sample 1 in N, 1"},
        {"--repeats", uns(&options::repeats, 1, 100), "whole searches, 1"},
        {"--max-rate", search_dbl(&search_config::max_rate_pps, 1, 1e9), "line rate pps, 1e6"},
        {"--min-rate", search_dbl(&search_config::min_rate_pps, 0, 1e9), "lowest rate, 1000"},
        {"--resolution", search_dbl(&search_config::resolution, 1e-4, 0.5), "0.005"},
        {"--pdr-loss", search_dbl(&search_config::pdr_loss_ratio, 0, 0.5), "0.005"},
        {"--trial", search_dbl(&search_config::trial_duration_s, 0.01, 3600), "short trial s, 1"},
        {"--final", search_dbl(&search_config::final_duration_s, 0.01, 3600), "full trial s, 30"},
        {"--initial-step", search_dbl(&search_config::initial_step, 1e-4, 1), "0.02"},
        {"--start-rate", search_dbl(&search_config::start_rate_pps, 0, 1e9), "first rate"},
        {"--max-trials", set_max_trials, "trial budget of one search, 60"},
        {"--json", text(&options::json_path), "write every trial as JSON here"},
        {"--soak", dbl(&options::soak_s, 1, 1e7), "soak: one trial of V s, per-second lines"},
        {"--soak-of-ndr", dbl(&options::soak_ndr_fraction, 0.01, 1),
         "soak without --rate: search, soak at V x NDR, 0.5"},
        {"--per-second", text(&options::per_second_path), "per-second JSON lines of every trial"},
    };
    return table;
}

}  // namespace

const char* mode_name(run_mode mode) {
    switch (mode) {
        case run_mode::established:
            return "established";
        case run_mode::cps:
            return "cps";
        case run_mode::udp:
            return "udp";
        case run_mode::syn_flood:
            return "syn-flood";
    }
    return "?";
}

std::string parse_options(int argc, const char* const* argv, int first, options& out) {
    out.search.max_rate_pps = 1e6;
    out.search.min_rate_pps = 1000;
    for (int i = first; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") return "help";
        if (arg == "--quiet" || arg == "--hold") {
            (arg == "--quiet" ? out.quiet : out.hold) = true;
            continue;
        }
        const option_row* row = nullptr;
        for (const option_row& r : rows())
            if (r.name == arg) row = &r;
        if (!row) return "unknown option '" + std::string(arg) + "'";
        if (i + 1 >= argc) return std::string(arg) + " needs a value";
        const std::string_view value = argv[++i];
        if (!row->set(value, out))
            return std::string(arg) + ": bad value '" + std::string(value) + "'";
    }
    if (out.backend_port == 0) out.backend_port = out.vip_port;
    if (uint64_t(out.client_ports) + out.client_port_first > 65536)
        return "--client-ports: the client ports pass 65535";
    if (out.mode == run_mode::syn_flood && out.syn_flood_pps <= 0)
        return "syn-flood mode needs --syn-flood-rate";
    if (out.rate_pps <= 0) {
        const std::string e = search_config_error(out.search);
        if (!e.empty()) return e;
    }
    if (!client_range(out).valid()) return "the client addresses overflow";
    if (out.mode == run_mode::syn_flood) {
        const address_range c = client_range(out), f = flood_range(out);
        if (!f.valid()) return "the spoofed sources overflow";
        if (c.offset_of(f.first) || f.offset_of(c.first))
            return "the spoofed sources overlap the clients";
    }
    return "";
}

std::string usage() {
    std::string u =
        "usage: sluice-loadgen [EAL arguments] -- [options]\n"
        "Plays clients (first port) and backends (second port) through a load balancer;\n"
        "docs/hil.md. Options (default after the comma):\n";
    for (const option_row& r : rows()) {
        u += "  " + std::string(r.name) + " V  " + std::string(r.help) + "\n";
    }
    u += "  --quiet  no per-trial lines\n"
         "  --hold   after the report, wait for SIGTERM before closing the ports\n";
    return u;
}

address_range client_range(const options& o) {
    const uint32_t per = o.client_ports;
    return {o.client_first, (o.flows + per - 1) / per};
}

port_range client_port_range(const options& o) {
    return {o.client_port_first, o.client_ports};
}
address_range backend_range(const options& o) {
    return {o.backend_first, o.backends};
}
address_range local_range(const options& o) {
    return {o.local_first, o.locals};
}
address_range flood_range(const options& o) {
    return {o.flood_first, o.flood_sources};
}

std::string flows_label(uint32_t flows) {
    if (flows >= 1000000 && flows % 1000000 == 0) return std::to_string(flows / 1000000) + "M";
    if (flows >= 1000 && flows % 1000 == 0) return std::to_string(flows / 1000) + "k";
    return std::to_string(flows);
}

std::string scenario_name(const options& o) {
    if (!o.scenario.empty()) return o.scenario;
    std::string m = mode_name(o.mode);
    for (char& c : m)
        if (c == '-') c = '_';
    return m + "_" + flows_label(o.flows);
}

}  // namespace sluice::loadgen

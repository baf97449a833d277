#include "control/api_requests.hpp"

#include "config/describe.hpp"

namespace sluice::control::api_requests {

std::string vip_label(const config::vip_config& v) {
    return config::detail::vip_label(v.address, v.port, v.protocol);
}

std::string backend_label(const ip_address& a, uint16_t port) {
    return config::detail::endpoint(a, port);
}

bool has(const nlohmann::json& req, const char* key) {
    return req.contains(key) && !req[key].is_null();
}

result<size_t> find_vip(const config::config& cfg, const nlohmann::json& req) {
    if (!req.contains("vip") || !req["vip"].is_string()) return fail("missing 'vip'");
    const std::string name = req["vip"];
    for (size_t i = 0; i < cfg.vips.size(); ++i)
        if (cfg.vips[i].name == name || vip_label(cfg.vips[i]) == name) return i;
    return fail("unknown VIP '" + name + "'");
}

result<endpoint> parse_backend(const nlohmann::json& req, uint16_t default_port) {
    if (!req.contains("backend") || !req["backend"].is_string()) return fail("missing 'backend'");
    const std::string text = req["backend"];
    std::string host = text;
    uint16_t port = default_port;
    auto colon = text.rfind(':');
    bool bracketed = !text.empty() && text[0] == '[';
    if (colon != std::string::npos && (bracketed || text.find(':') == colon)) {
        host = text.substr(0, colon);
        std::string p = text.substr(colon + 1);
        if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos ||
            std::stoul(p) == 0 || std::stoul(p) > 65535)
            return fail("bad port in backend '" + text + "'");
        port = uint16_t(std::stoul(p));
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    auto addr = ip_address::parse(host);
    if (!addr) return fail("'" + text + "' is not an address");
    return endpoint{*addr, port};
}

result<size_t> find_backend(const config::vip_config& v, const nlohmann::json& req) {
    auto named = parse_backend(req, v.port);
    if (!named) return named.error();
    for (size_t i = 0; i < v.backends.size(); ++i)
        if (v.backends[i].address == named->address && v.backends[i].port == named->port) return i;
    return fail("VIP " + v.name + " has no backend " + backend_label(named->address, named->port));
}

backend_identity identity(const config::vip_config& v, const config::backend_config& b) {
    return {v.address, v.port, uint8_t(v.protocol), b.address, b.port};
}

result<uint32_t> integer_arg(const nlohmann::json& req, const char* key, uint64_t max) {
    if (!req.contains(key) || !req[key].is_number_integer())
        return fail(std::string("missing or non-integer '") + key + "'");
    int64_t v = req[key];
    if (v < 0 || uint64_t(v) > max)
        return fail(std::string("'") + key + "' must be 0.." + std::to_string(max));
    return uint32_t(v);
}

}  // namespace sluice::control::api_requests

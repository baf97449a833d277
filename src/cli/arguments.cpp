#include "cli/arguments.hpp"

#include <algorithm>

namespace sluice::cli {

namespace {

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string quoted(std::string_view s) {
    return "'" + std::string(s) + "'";
}

// "1".."65535"; nullopt otherwise.
std::optional<uint16_t> parse_port(std::string_view s) {
    if (!all_digits(s) || s.size() > 5) return std::nullopt;
    uint32_t v = 0;
    for (char c : s) v = v * 10 + uint32_t(c - '0');
    if (v == 0 || v > 65535) return std::nullopt;
    return uint16_t(v);
}

std::optional<endpoint> with_port(const ip_address& address, std::string_view port_text,
                                  std::string_view text, std::string& why) {
    auto port = parse_port(port_text);
    if (!port) {
        why = quoted(text) + ": port must be an integer from 1 to 65535, got " + quoted(port_text);
        return std::nullopt;
    }
    return endpoint{address, port};
}

}  // namespace

std::optional<endpoint> parse_endpoint(std::string_view text, std::string& why) {
    if (text.empty()) {
        why = "empty address";
        return std::nullopt;
    }
    if (text.front() == '[') {  // [IPV6] or [IPV6]:PORT
        auto close = text.find(']');
        if (close == std::string_view::npos) {
            why = quoted(text) + ": missing ']' (IPv6 with a port is written [ADDR]:PORT)";
            return std::nullopt;
        }
        auto inner = text.substr(1, close - 1);
        auto address = ip_address::parse(inner);
        if (!address || address->is_v4()) {
            why = quoted(text) + ": " + quoted(inner) + " is not an IPv6 address";
            return std::nullopt;
        }
        auto rest = text.substr(close + 1);
        if (rest.empty()) return endpoint{*address, std::nullopt};
        if (rest.front() != ':') {
            why = quoted(text) + ": expected ':PORT' after ']'";
            return std::nullopt;
        }
        return with_port(*address, rest.substr(1), text, why);
    }
    auto colons = std::count(text.begin(), text.end(), ':');
    if (colons >= 2) {  // bare IPv6
        auto address = ip_address::parse(text);
        if (!address) {
            why = quoted(text) + " is not an IP address (IPv6 with a port is written [ADDR]:PORT)";
            return std::nullopt;
        }
        return endpoint{*address, std::nullopt};
    }
    auto colon = text.find(':');
    auto address_text = text.substr(0, colon);
    auto address = ip_address::parse(address_text);
    if (!address || !address->is_v4()) {
        why = quoted(text) + ": " + quoted(address_text) + " is not an IPv4 address";
        return std::nullopt;
    }
    if (colon == std::string_view::npos) return endpoint{*address, std::nullopt};
    return with_port(*address, text.substr(colon + 1), text, why);
}

std::string check_weight(const std::string& text) {
    bool ok = all_digits(text) && text.size() <= 5 && std::stoul(text) <= max_weight;
    return ok ? "" : "must be an integer from 0 to 65535, got " + quoted(text);
}

std::string check_rate(const std::string& text) {
    bool ok = all_digits(text) && text.size() <= 10 && std::stoull(text) <= 1'000'000'000;
    return ok ? "" : "must be an integer from 0 to 1000000000, got " + quoted(text);
}

std::string check_flow_limit(const std::string& text) {
    bool ok = all_digits(text) && text.size() <= 6 && std::stoul(text) >= 1 &&
              std::stoul(text) <= max_flow_limit;
    return ok ? ""
              : "must be an integer from 1 to " + std::to_string(max_flow_limit) + ", got " +
                    quoted(text);
}

std::string check_seconds(const std::string& text) {
    // Plain decimal only: no signs, exponents, "inf" or "nan".
    auto dot = text.find('.');
    std::string_view whole = std::string_view(text).substr(0, dot);
    std::string_view fraction =
        dot == std::string::npos ? std::string_view("0") : std::string_view(text).substr(dot + 1);
    bool ok = all_digits(whole) && all_digits(fraction) && whole.size() <= 9 &&
              text.find_first_not_of("0.") != std::string::npos;
    return ok ? "" : "must be a number of seconds greater than 0, got " + quoted(text);
}

std::string check_backend(const std::string& text) {
    std::string why;
    return parse_endpoint(text, why) ? "" : why;
}

std::string check_vip(const std::string& text) {
    // The config's rule for VIP names (src/config/parse_vips.cpp): typed on a command line.
    constexpr size_t max_vip_name = 64;
    if (text.empty() || text.size() > max_vip_name)
        return "a VIP is a name of 1 to 64 characters or ADDR:PORT/PROTO, got " + quoted(text);
    for (unsigned char c : text)
        if (c <= ' ' || c == 0x7f) return "a VIP name has no spaces or control characters";
    // "ADDR:PORT/PROTO" is checked as such; any other text is a name.
    auto slash = text.rfind('/');
    if (slash == std::string::npos) return "";
    std::string_view endpoint_text = std::string_view(text).substr(0, slash);
    bool looks_like_address = endpoint_text.find(':') != std::string_view::npos &&
                              (endpoint_text.front() == '[' ||
                               (endpoint_text.front() >= '0' && endpoint_text.front() <= '9'));
    if (!looks_like_address) return "";
    std::string why;
    auto ep = parse_endpoint(endpoint_text, why);
    if (!ep) return why;
    if (!ep->port) return quoted(text) + ": a VIP is written ADDR:PORT/PROTO";
    std::string_view proto = std::string_view(text).substr(slash + 1);
    if (proto != "tcp" && proto != "udp")
        return quoted(text) + ": protocol must be tcp or udp, got " + quoted(proto);
    return "";
}

bool same_backend(std::string_view typed, std::string_view reported) {
    if (typed == reported) return true;
    std::string why;
    auto a = parse_endpoint(typed, why);
    auto b = parse_endpoint(reported, why);
    if (!a || !b) return false;
    return a->address == b->address && (!a->port || !b->port || *a->port == *b->port);
}

}  // namespace sluice::cli

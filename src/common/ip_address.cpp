#include "sluice/ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace sluice {

std::optional<ip_address> ip_address::parse(std::string_view text) {
    std::string s(text);
    ip_address a;
    if (s.find(':') != std::string::npos) {
        a.family = address_family::ipv6;
        if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
        return a;
    }
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
    return a;
}

std::string ip_address::to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<ip_prefix> ip_prefix::parse(std::string_view text) {
    auto slash = text.find('/');
    auto addr = ip_address::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    ip_prefix p{*addr, uint8_t(addr->size() * 8)};
    if (slash == std::string_view::npos) return p;
    auto len_text = text.substr(slash + 1);
    if (len_text.empty() || len_text.size() > 3) return std::nullopt;
    unsigned len = 0;
    for (char c : len_text) {
        if (c < '0' || c > '9') return std::nullopt;
        len = len * 10 + unsigned(c - '0');
    }
    if (len > addr->size() * 8) return std::nullopt;
    p.length = uint8_t(len);
    return p;
}

bool ip_prefix::contains(const ip_address& a) const {
    if (a.family != address.family) return false;
    // Two 64-bit words in network order under the prefix's mask: once per new flow (route
    // lookup), so no byte loop.
    for (unsigned w = 0; w < 2; ++w) {
        const unsigned bits = length > 64 * w ? std::min(64u, length - 64 * w) : 0u;
        if (bits == 0) return true;
        uint64_t x, y;
        std::memcpy(&x, a.bytes.data() + 8 * w, 8);
        std::memcpy(&y, address.bytes.data() + 8 * w, 8);
        const uint64_t mask = bits == 64 ? ~uint64_t(0) : ~(~uint64_t(0) >> bits);
        if ((__builtin_bswap64(x ^ y) & mask) != 0) return false;
    }
    return true;
}

std::string ip_prefix::to_string() const {
    return address.to_string() + "/" + std::to_string(length);
}

}  // namespace sluice

#pragma once
// Address-family generic IP address and prefix. Used by the config model, the flow key, the
// neighbour table and routes. Stored in network byte order, IPv4 in the first 4 bytes.
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace sluice {

enum class address_family : uint8_t { ipv4 = 4, ipv6 = 6 };

struct ip_address {
    std::array<uint8_t, 16> bytes{};
    address_family family = address_family::ipv4;

    static ip_address v4(uint32_t host_order) {
        ip_address a;
        a.bytes[0] = uint8_t(host_order >> 24);
        a.bytes[1] = uint8_t(host_order >> 16);
        a.bytes[2] = uint8_t(host_order >> 8);
        a.bytes[3] = uint8_t(host_order);
        return a;
    }
    static ip_address v4_from_network(const void* p) {
        ip_address a;
        std::memcpy(a.bytes.data(), p, 4);
        return a;
    }
    static ip_address v6_from_network(const void* p) {
        ip_address a;
        a.family = address_family::ipv6;
        std::memcpy(a.bytes.data(), p, 16);
        return a;
    }
    bool is_v4() const { return family == address_family::ipv4; }
    // Host-order IPv4 value; only meaningful when is_v4().
    uint32_t v4_host() const {
        return uint32_t(bytes[0]) << 24 | uint32_t(bytes[1]) << 16 | uint32_t(bytes[2]) << 8 |
               bytes[3];
    }
    size_t size() const { return is_v4() ? 4 : 16; }
    bool operator==(const ip_address&) const = default;

    static std::optional<ip_address> parse(std::string_view text);
    std::string to_string() const;
};

struct ip_prefix {
    ip_address address;
    uint8_t length = 0;

    // "198.18.0.1/24" or "2001:2::1/64"; a bare address gets the full length.
    static std::optional<ip_prefix> parse(std::string_view text);
    bool operator==(const ip_prefix&) const = default;
    bool contains(const ip_address& a) const;
    std::string to_string() const;
};

}  // namespace sluice

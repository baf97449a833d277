#include "config/describe.hpp"

namespace sluice::config::detail {

std::string_view protocol_name(l4_protocol protocol) {
    return protocol == l4_protocol::udp ? "udp" : "tcp";
}

std::string endpoint(const ip_address& address, uint16_t port) {
    auto text = address.is_v4() ? address.to_string() : "[" + address.to_string() + "]";
    return text + ":" + std::to_string(port);
}

std::string vip_label(const ip_address& address, uint16_t port, l4_protocol protocol) {
    return endpoint(address, port) + "/" + std::string(protocol_name(protocol));
}

std::string_view family_name(const ip_address& address) {
    return address.is_v4() ? "IPv4" : "IPv6";
}

}  // namespace sluice::config::detail

// The few behaviours the config model itself declares (include/sluice/config.hpp).
#include <cctype>

#include "sluice/config.hpp"

namespace sluice::config {

namespace {

bool hex_digits(std::string_view text) {
    for (char c : text)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

// "BB:DD.F": bus, device, function.
bool is_bus_device_function(std::string_view text) {
    return text.size() == 7 && hex_digits(text.substr(0, 2)) && text[2] == ':' &&
           hex_digits(text.substr(3, 2)) && text[5] == '.' && text[6] >= '0' && text[6] <= '7';
}

}  // namespace

// "0000:03:00.0", or the domain-less "03:00.0" that DPDK also accepts.
std::vector<ip_address> port_config::full_nat_sources(address_family family) const {
    std::vector<ip_address> out;
    for (const ip_address& a : local_addresses)
        if (a.family == family) out.push_back(a);
    if (out.empty())
        for (const ip_prefix& p : addresses)
            if (p.address.family == family) return {p.address};
    return out;
}

bool port_config::is_pci() const {
    std::string_view text = device;
    if (text.size() == 12)
        return hex_digits(text.substr(0, 4)) && text[4] == ':' &&
               is_bus_device_function(text.substr(5));
    return is_bus_device_function(text);
}

// DPDK names PCI ports by their full lower-case address and vdevs by the part before the first
// ',' (the driver name plus instance number). Used to find the port after EAL probing.
std::string port_config::dpdk_name() const {
    if (!is_pci()) return device.substr(0, device.find(','));
    std::string name = device.size() == 7 ? "0000:" + device : device;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
}

std::string error::to_string() const {
    if (line == 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

namespace {

std::string join(const std::vector<error>& errors) {
    std::string text;
    for (const auto& e : errors) text += (text.empty() ? "" : "\n") + e.to_string();
    return text;
}

}  // namespace

config_error::config_error(std::vector<error> errors)
    : std::runtime_error(join(errors)), errors_(std::move(errors)) {}

}  // namespace sluice::config

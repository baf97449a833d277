#include "config/prefix_math.hpp"

namespace sluice::config::detail {

ip_prefix network_of(const ip_prefix& prefix) {
    ip_prefix out = prefix;
    for (unsigned i = 0; i < out.address.bytes.size(); ++i) {
        unsigned first_bit = i * 8;
        if (first_bit >= prefix.length) {
            out.address.bytes[i] = 0;
        } else if (prefix.length - first_bit < 8) {
            out.address.bytes[i] &= uint8_t(0xff << (8 - (prefix.length - first_bit)));
        }
    }
    return out;
}

ip_address nth_address(const ip_address& network, size_t k) {
    ip_address out = network;
    out.bytes[network.size() - 1] = uint8_t(out.bytes[network.size() - 1] + k);
    return out;
}

bool overlaps(const ip_prefix& a, const ip_prefix& b) {
    if (a.address.family != b.address.family) return false;
    return a.length <= b.length ? a.contains(b.address) : b.contains(a.address);
}

}  // namespace sluice::config::detail

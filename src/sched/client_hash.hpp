#pragma once
// The hash Maglev looks a new flow up by, over the part of the client→VIP flow the VIP's hash key
// selects. Deterministic across processes and hosts (bytes are read little-endian explicitly, the
// seed is the only variable), so LB instances with the same configuration pick the same backend.
#include <bit>
#include <cstdint>
#include <cstring>

namespace sluice::sched {

// What the hash covers: the client address, address and port, or the whole 5-tuple.
enum class hash_selector : uint8_t { src_ip, src_ip_port, five_tuple };

namespace detail {

// One unaligned load; byte-swapped on big-endian hosts so every host computes the same hash.
template <class T>
inline uint64_t load_le(const uint8_t* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    if constexpr (std::endian::native == std::endian::big) {
        if constexpr (sizeof v == 8) v = __builtin_bswap64(v);
        if constexpr (sizeof v == 4) v = __builtin_bswap32(v);
    }
    return v;
}

inline uint64_t mix_in(uint64_t h, uint64_t word) {
    h ^= word;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
}

// murmur3's fmix64: every input bit flips each output bit with probability ~1/2, so the high bits
// Maglev's multiply-shift reduction uses are as good as the low ones.
inline uint64_t finish(uint64_t h) {
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

// Folds an address (network order; 4 bytes for family 4, else 16) into `h`. An IPv4 address is
// one word tagged with its family, an IPv6 address two words, so 1.2.3.4 and 0102:0304:: differ.
inline uint64_t mix_address(uint64_t h, const uint8_t* addr, uint8_t family) {
    if (family == 4) return mix_in(h, load_le<uint32_t>(addr) | uint64_t(4) << 32);
    return mix_in(mix_in(h, load_le<uint64_t>(addr)), load_le<uint64_t>(addr + 8));
}

}  // namespace detail

// `src`/`dst` are the flow's client and VIP addresses in network order; ports in host order;
// `family` is 4 or 6. Pure; any thread.
inline uint64_t client_hash(hash_selector key, const uint8_t* src, const uint8_t* dst,
                            uint8_t family, uint16_t sport, uint16_t dport, uint8_t proto,
                            uint64_t seed) {
    uint64_t h = detail::mix_in(seed ^ 0x9e3779b97f4a7c15ull, uint64_t(key));
    h = detail::mix_address(h, src, family);
    if (key == hash_selector::src_ip_port) h = detail::mix_in(h, sport);
    if (key == hash_selector::five_tuple) {
        h = detail::mix_address(h, dst, family);
        h = detail::mix_in(h, uint64_t(sport) | uint64_t(dport) << 16 | uint64_t(proto) << 32);
    }
    return detail::finish(h);
}

// A stable Maglev key for a backend (address, port): what maglev_backend::key expects. Unseeded;
// the table's seed is applied when the table is built. Control thread.
inline uint64_t backend_key(const uint8_t* addr, uint8_t family, uint16_t port) {
    uint64_t h = detail::mix_address(0x6a09e667f3bcc909ull, addr, family);
    return detail::finish(detail::mix_in(h, port));
}

}  // namespace sluice::sched

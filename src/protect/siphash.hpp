#pragma once
// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed 64-bit
// PRF over short messages, used to MAC SYN cookies. Written from the paper's description; the
// unit test checks it against the reference test vectors (key 00..0f, messages 00..n-1).
//
// Pure, header-only, no allocation; any thread (the key is read-only).
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace sluice::protect {

// The 128-bit key as two little-endian 64-bit words (k0 = bytes 0..7, k1 = bytes 8..15).
struct siphash_key {
    uint64_t k0 = 0;
    uint64_t k1 = 0;
};

namespace siphash_detail {

inline uint64_t load_le64(const uint8_t* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
    return v;
}

struct state {
    uint64_t v0, v1, v2, v3;

    void round() {
        v0 += v1;
        v1 = std::rotl(v1, 13);
        v1 ^= v0;
        v0 = std::rotl(v0, 32);
        v2 += v3;
        v3 = std::rotl(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = std::rotl(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = std::rotl(v1, 17);
        v1 ^= v2;
        v2 = std::rotl(v2, 32);
    }
    void compress(uint64_t m) {  // c = 2 rounds per message word
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
};

}  // namespace siphash_detail

inline siphash_key siphash_key_from_bytes(const uint8_t* bytes16) {
    return {siphash_detail::load_le64(bytes16), siphash_detail::load_le64(bytes16 + 8)};
}

// SipHash-2-4 of `len` bytes at `data`.
inline uint64_t siphash24(const siphash_key& key, const void* data, size_t len) {
    const auto* in = static_cast<const uint8_t*>(data);
    // Initialisation constants: "somepseudorandomlygeneratedbytes" in ASCII.
    siphash_detail::state s{key.k0 ^ 0x736f6d6570736575ull, key.k1 ^ 0x646f72616e646f6dull,
                            key.k0 ^ 0x6c7967656e657261ull, key.k1 ^ 0x7465646279746573ull};
    const size_t full = len & ~size_t(7);
    for (size_t i = 0; i < full; i += 8) s.compress(siphash_detail::load_le64(in + i));
    // Last word: the remaining 0..7 bytes, little endian, with len mod 256 in the top byte.
    uint64_t last = uint64_t(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); ++i) last |= uint64_t(in[full + i]) << (8 * i);
    s.compress(last);
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; ++i) s.round();  // d = 4 finalisation rounds
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace sluice::protect

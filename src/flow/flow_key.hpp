#pragma once
// The 5-tuple a packet is looked up by, IPv6-sized so both families share one table.
// Built from a packet as seen on the wire: (src, dst, sport, dport, protocol).
#include <cstdint>
#include <cstring>

#include "packet/parse.hpp"
#include "packet/wire.hpp"

namespace sluice::flow {

struct flow_key {
    uint8_t src[16];
    uint8_t dst[16];
    uint16_t src_port;  // host order
    uint16_t dst_port;
    uint8_t protocol;
    uint8_t family;  // 4 or 6
    uint16_t zero;   // keeps the struct free of padding so it can be hashed as words

    // Five 64-bit words compared without a branch per word (GCC calls libc memcmp for 40 bytes:
    // ~57 instructions per lookup; this is about 15).
    bool operator==(const flow_key& o) const {
        uint64_t a[5], b[5];
        std::memcpy(a, this, sizeof a);
        std::memcpy(b, &o, sizeof b);
        return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
    }
};
static_assert(sizeof(flow_key) == 40);

// Two 16-byte addresses are equal (word compare, see flow_key::operator==).
inline bool same_address(const uint8_t* x, const uint8_t* y) {
    uint64_t a[2], b[2];
    std::memcpy(a, x, 16);
    std::memcpy(b, y, 16);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
}

// 64-bit hash of the whole key: a multiply-xorshift over its words with a final avalanche.
// An IPv4 key's addresses fill 4 of their 16 bytes: both go into one word, the ports, protocol
// and family are the other, two rounds instead of five (per packet). The seed lets two instances
// agree or differ as configured.
inline uint64_t flow_hash(const flow_key& k, uint64_t seed = 0x5eed5111ce) {
    uint64_t w[5];
    std::memcpy(w, &k, sizeof w);
    uint64_t h = seed ^ 0x9e3779b97f4a7c15ull;
    auto round = [&h](uint64_t x) {
        h ^= x;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    };
    if (k.family == 4) {
        uint32_t src, dst;
        std::memcpy(&src, k.src, 4);
        std::memcpy(&dst, k.dst, 4);
        round(uint64_t(src) | uint64_t(dst) << 32);
        round(w[4]);
    } else {
        for (uint64_t x : w) round(x);
    }
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

// The worker (of `workers`) that owns a client's flow: the hash's high half scaled to the count
// (a multiply, not a modulo). Per packet, any lcore; tests pick client ports with it.
inline unsigned owner_of(uint64_t hash, unsigned workers) {
    return unsigned(((hash >> 32) * workers) >> 32);
}

inline flow_key make_flow_key(const uint8_t* frame, const packet::parsed_frame& p) {
    flow_key k;
    std::memset(&k, 0, sizeof k);
    const uint8_t* l3 = frame + p.l3_offset;
    if (p.family == address_family::ipv4) {
        std::memcpy(k.src, l3 + packet::ip4_src, 4);
        std::memcpy(k.dst, l3 + packet::ip4_dst, 4);
        k.family = 4;
    } else {
        std::memcpy(k.src, l3 + packet::ip6_src, 16);
        std::memcpy(k.dst, l3 + packet::ip6_dst, 16);
        k.family = 6;
    }
    k.src_port = p.src_port;
    k.dst_port = p.dst_port;
    k.protocol = p.protocol;
    return k;
}

}  // namespace sluice::flow

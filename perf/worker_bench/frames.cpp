// Frame building for the benchmark's traffic (see frames.hpp).
#include "frames.hpp"

#include <cstring>

#include "addresses.hpp"

namespace sluice::worker_bench {

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc) {
    for (size_t i = 0; i + 1 < n; i += 2) acc += get16(p + i);
    if (n & 1) acc += uint32_t(p[n - 1]) << 8;
    return acc;
}
uint32_t fold(uint32_t acc) {
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return acc;
}
uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t protocol, uint32_t l4_len) {
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + protocol + l4_len;
}

uint32_t pseudo_sum(const uint8_t* src, const uint8_t* dst, unsigned address_len, uint8_t protocol,
                    uint32_t l4_len) {
    return sum16(src, address_len, sum16(dst, address_len, protocol + l4_len));
}

namespace {

struct frame_fields {
    const uint8_t* dst_mac;
    const uint8_t* src_mac;
    bool v6 = false;
    uint8_t src[16] = {}, dst[16] = {};  // IPv4: the first 4 bytes
    uint16_t sport, dport;
    uint8_t protocol;
    uint8_t tcp_flags = 0;
    uint32_t seq = 0, ack = 0;
    uint16_t payload = 0;  // bytes after the L4 header; the first 4 carry `tag`
    uint32_t tag = 0;
    bool dest_options = false;  // IPv6 only
};

void set_address(uint8_t* to, uint32_t v4) {
    put32(to, v4);
}
void set_address(uint8_t* to, const ip6& v6) {
    std::memcpy(to, v6.data(), 16);
}

// Writes the IP header (and destination options) of `s` for `l4_len` bytes of L4; returns the
// L4 header's offset in the frame.
unsigned build_ip(uint8_t* f, const frame_fields& s, uint16_t l4_len) {
    uint8_t* ip = f + 14;
    if (!s.v6) {
        put16(f + 12, 0x0800);
        ip[0] = 0x45;
        put16(ip + 2, 20u + l4_len);
        ip[8] = 64;
        ip[9] = s.protocol;
        std::memcpy(ip + 12, s.src, 4);
        std::memcpy(ip + 16, s.dst, 4);
        put16(ip + 10, ~fold(sum16(ip, 20, 0)) & 0xffff);
        return 34;
    }
    put16(f + 12, 0x86dd);
    const unsigned ext = s.dest_options ? 8 : 0;
    ip[0] = 0x60;
    put16(ip + 4, ext + l4_len);
    ip[6] = s.dest_options ? 60 : s.protocol;
    ip[7] = 64;
    std::memcpy(ip + 8, s.src, 16);
    std::memcpy(ip + 24, s.dst, 16);
    if (s.dest_options) {
        // Length 0 (8 bytes): a PadN option of 4 bytes fills it, as a sender pads an empty one.
        ip[40] = s.protocol;
        ip[42] = 1;
        ip[43] = 4;
    }
    return 54 + ext;
}

// Writes a complete frame, checksums valid; IPv4 ones padded to 60 bytes. Returns its length.
uint16_t build_frame(uint8_t* f, const frame_fields& s) {
    const bool tcp = s.protocol == 6;
    const uint16_t l4_len = uint16_t((tcp ? 20 : 8) + s.payload);
    const uint16_t length = s.v6 ? uint16_t(54 + (s.dest_options ? 8 : 0) + l4_len) : frame_len;
    std::memset(f, 0, length);  // a 60-byte frame fills one 64-byte slot, no more
    std::memcpy(f, s.dst_mac, 6);
    std::memcpy(f + 6, s.src_mac, 6);
    uint8_t* l4 = f + build_ip(f, s, l4_len);
    put16(l4, s.sport);
    put16(l4 + 2, s.dport);
    if (tcp) {
        put32(l4 + 4, s.seq);
        put32(l4 + 8, s.ack);
        l4[12] = 5 << 4;
        l4[13] = s.tcp_flags;
        put16(l4 + 14, 65535);
    } else {
        put16(l4 + 4, l4_len);
    }
    if (s.payload >= 4) put32(l4 + (tcp ? 20 : 8), s.tag);
    const uint32_t pseudo = pseudo_sum(s.src, s.dst, s.v6 ? 16 : 4, s.protocol, l4_len);
    uint32_t c = ~fold(sum16(l4, l4_len, pseudo)) & 0xffff;
    if (!tcp && c == 0) c = 0xffff;
    put16(l4 + (tcp ? 16 : 6), c);
    return length;
}

uint16_t vip_port(uint8_t protocol) {
    return protocol == 6 ? tcp_vip_port : udp_vip_port;
}

// Sequence and acknowledgment numbers, flags and payload of a TCP segment (frames.hpp's table):
// plausible numbers for every segment of a connection, as a real peer would send them.
constexpr uint32_t backend_isn = 1000;
constexpr uint16_t data_bytes = 6;  // a request or a response
constexpr uint8_t fin = 0x01, syn = 0x02, psh = 0x08, ack = 0x10;

void client_numbers(frame_fields& s, uint32_t flow, segment what) {
    // Past the SYNs, both sides send the same: 6 bytes, then a FIN (one sequence number). So
    // what the client sent before this segment is also what it has seen of the backend's.
    const uint32_t past = what == segment::fin        ? data_bytes
                          : what == segment::last_ack ? data_bytes + 1
                                                      : 0;
    s.seq = what == segment::open ? flow : flow + 1 + past;
    s.ack = what == segment::open ? 0 : backend_isn + 1 + past;
    switch (what) {
        case segment::open:
            s.tcp_flags = syn;
            break;
        case segment::data:
            s.tcp_flags = psh | ack;
            s.payload = data_bytes;
            break;
        case segment::fin:
            s.tcp_flags = fin | ack;
            break;
        default:  // ack, last_ack
            s.tcp_flags = ack;
            break;
    }
}

void backend_numbers(frame_fields& s, uint32_t flow, segment what) {
    s.seq = what == segment::synack ? backend_isn
            : what == segment::fin  ? backend_isn + 1 + data_bytes
                                    : backend_isn + 1;
    s.ack = what == segment::response ? flow + 1 + data_bytes
            : what == segment::fin    ? flow + 2 + data_bytes  // the client's FIN counts one
                                      : flow + 1;
    switch (what) {
        case segment::synack:
            s.tcp_flags = syn | ack;
            break;
        case segment::fin:
            s.tcp_flags = fin | ack;
            break;
        default:  // data, response
            s.tcp_flags = psh | ack;
            s.payload = data_bytes;
            break;
    }
}

}  // namespace

uint16_t client_frame(uint8_t* f, const frame_macs& macs, const flow_set& fs, uint32_t flow,
                      segment what) {
    frame_fields s{};
    s.dst_mac = macs.port[client];
    s.v6 = fs.shape.client_v6;
    s.src_mac = s.v6 ? macs.gateway6 : macs.gateway;
    if (s.v6) {
        set_address(s.src, client_address6(flow));
        set_address(s.dst, vip_address6);
        s.dest_options = fs.shape.dest_options;
    } else {
        set_address(s.src, client_address(flow));
        set_address(s.dst, vip_address);
    }
    s.sport = client_port(flow);
    s.dport = vip_port(fs.protocol);
    s.protocol = fs.protocol;
    s.tag = flow;
    if (fs.protocol == 6) {
        client_numbers(s, flow, what);
    } else {
        s.payload = 18;
    }
    return build_frame(f, s);
}

uint16_t backend_frame(uint8_t* f, const frame_macs& macs, const flow_set& fs, uint32_t flow,
                       segment what) {
    uint8_t mac[6];
    frame_fields s{};
    s.v6 = fs.shape.backend_v6;
    if (s.v6) {
        set_address(s.src, backend_address6(fs.backend[flow]));
        set_address(s.dst, lb_server_address6);
        mac_of6(s.src, mac);
    } else {
        const uint32_t b = backend_address(fs.backend[flow]);
        set_address(s.src, b);
        set_address(s.dst, lb_server_address);
        mac_of(b, mac);
    }
    s.dst_mac = macs.port[servers];
    s.src_mac = mac;
    s.sport = vip_port(fs.protocol);
    s.dport = fs.local_port[flow];
    s.protocol = fs.protocol;
    s.tag = flow;
    if (fs.protocol == 6) {
        backend_numbers(s, flow, what);
    } else {
        s.payload = 18;
    }
    return build_frame(f, s);
}

l3_view view_of(const uint8_t* f, uint32_t len) {
    l3_view v;
    const uint8_t* ip = f + 14;
    if (len >= 34 && get16(f + 12) == 0x0800 && ip[0] == 0x45) {
        v.protocol = ip[9];
        v.src = ip + 12;
        v.dst = ip + 16;
        const uint32_t total = get16(ip + 2);
        if (total < 20 || 14 + total > len) return v;
        v.l4 = 34;
        v.l4_len = total - 20;
        return v;
    }
    if (len < 54 || get16(f + 12) != 0x86dd || (ip[0] >> 4) != 6) return v;
    v.v6 = true;
    v.src = ip + 8;
    v.dst = ip + 24;
    const uint32_t end = 54 + get16(ip + 4);
    if (end > len) return v;
    uint8_t next = ip[6];
    unsigned at = 54;
    while (next == 0 || next == 43 || next == 60) {
        if (at + 8 > end || at + 8u * (f[at + 1] + 1u) > end) return v;
        next = f[at];
        at += 8u * (f[at + 1] + 1u);
    }
    v.protocol = next;
    v.l4 = at;
    v.l4_len = end - at;
    return v;
}

uint16_t neighbor_advert(uint8_t* f, const uint8_t* target, const uint8_t* target_mac,
                         const uint8_t* asker, const uint8_t* asker_mac) {
    constexpr uint16_t icmp_len = 24 + 8, len = 14 + 40 + icmp_len;
    std::memset(f, 0, len);
    std::memcpy(f, asker_mac, 6);
    std::memcpy(f + 6, target_mac, 6);
    put16(f + 12, 0x86dd);
    uint8_t* ip = f + 14;
    ip[0] = 0x60;
    put16(ip + 4, icmp_len);
    ip[6] = 58;
    ip[7] = 255;  // RFC 4861 7.1.2: a receiver takes no NA from beyond the link
    std::memcpy(ip + 8, target, 16);
    std::memcpy(ip + 24, asker, 16);
    uint8_t* icmp = ip + 40;
    icmp[0] = 136;
    icmp[4] = 0x40 | 0x20;  // solicited, override
    std::memcpy(icmp + 8, target, 16);
    icmp[24] = 2;  // target link-layer address
    icmp[25] = 1;
    std::memcpy(icmp + 26, target_mac, 6);
    put16(icmp + 2, ~fold(sum16(icmp, icmp_len, pseudo_sum(target, asker, 16, 58, icmp_len))));
    return len;
}

void syn_frame(uint8_t* f, const frame_macs& macs, uint32_t i) {
    std::memset(f, 0, syn_frame_len);
    std::memcpy(f, macs.port[client], 6);
    std::memcpy(f + 6, macs.attack_gateway, 6);
    put16(f + 12, 0x0800);
    uint8_t* ip = f + 14;
    const uint32_t src = spoofed_address(i);
    ip[0] = 0x45;
    put16(ip + 2, 60);
    put16(ip + 4, i & 0xffff);
    put16(ip + 6, 0x4000);  // DF
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, src);
    put32(ip + 16, vip_address);
    put16(ip + 10, ~fold(sum16(ip, 20, 0)) & 0xffff);
    uint8_t* tcp = ip + 20;
    put16(tcp, spoofed_port(i));
    put16(tcp + 2, tcp_vip_port);
    put32(tcp + 4, spoofed_isn(i));
    tcp[12] = 10 << 4;  // 40-byte header
    tcp[13] = 0x02;     // SYN
    put16(tcp + 14, 64240);
    static constexpr uint8_t options_head[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10};
    std::memcpy(tcp + 20, options_head, sizeof options_head);
    put32(tcp + 28, spoofed_tsval(i));  // TSecr (tcp + 32) stays 0
    tcp[36] = 1;                        // NOP
    tcp[37] = 3;                        // window scale 7
    tcp[38] = 3;
    tcp[39] = 7;
    put16(tcp + 16, ~fold(sum16(tcp, 40, pseudo_sum(src, vip_address, 6, 40))) & 0xffff);
}

}  // namespace sluice::worker_bench

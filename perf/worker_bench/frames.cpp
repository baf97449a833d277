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

namespace {

struct frame_fields {
    const uint8_t* dst_mac;
    const uint8_t* src_mac;
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t protocol;
    uint8_t tcp_flags = 0;
    uint32_t seq = 0, ack = 0;
    uint16_t payload = 0;  // bytes after the L4 header; the first 4 carry `tag`
    uint32_t tag = 0;
};

// Writes a complete 60-byte frame (Ethernet padding after short packets), checksums valid.
void build_frame(uint8_t* f, const frame_fields& s) {
    std::memset(f, 0, frame_len);
    std::memcpy(f, s.dst_mac, 6);
    std::memcpy(f + 6, s.src_mac, 6);
    put16(f + 12, 0x0800);
    uint8_t* ip = f + 14;
    const bool tcp = s.protocol == 6;
    const uint16_t l4_len = uint16_t((tcp ? 20 : 8) + s.payload);
    ip[0] = 0x45;
    put16(ip + 2, 20u + l4_len);
    ip[8] = 64;
    ip[9] = s.protocol;
    put32(ip + 12, s.src);
    put32(ip + 16, s.dst);
    put16(ip + 10, ~fold(sum16(ip, 20, 0)) & 0xffff);
    uint8_t* l4 = ip + 20;
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
    uint32_t c = ~fold(sum16(l4, l4_len, pseudo_sum(s.src, s.dst, s.protocol, l4_len))) & 0xffff;
    if (!tcp && c == 0) c = 0xffff;
    put16(l4 + (tcp ? 16 : 6), c);
}

uint16_t vip_port(uint8_t protocol) {
    return protocol == 6 ? tcp_vip_port : udp_vip_port;
}

}  // namespace

void client_frame(uint8_t* f, const frame_macs& macs, uint8_t protocol, uint32_t flow,
                  segment what) {
    frame_fields s{};
    s.dst_mac = macs.port[client];
    s.src_mac = macs.gateway;
    s.src = client_address(flow);
    s.dst = vip_address;
    s.sport = client_port(flow);
    s.dport = vip_port(protocol);
    s.protocol = protocol;
    s.tag = flow;
    if (protocol == 6) {
        s.seq = what == segment::open ? flow : flow + 1;  // the SYN's seq names the flow
        s.ack = what == segment::open ? 0 : 1001;
        s.tcp_flags = what == segment::open ? 0x02 : what == segment::ack ? 0x10 : 0x18;
        s.payload = what == segment::data ? 6 : 0;
    } else {
        s.payload = 18;
    }
    build_frame(f, s);
}

void backend_frame(uint8_t* f, const frame_macs& macs, const flow_set& fs, uint32_t flow,
                   segment what) {
    const uint32_t b = backend_address(fs.backend[flow]);
    uint8_t mac[6];
    mac_of(b, mac);
    frame_fields s{};
    s.dst_mac = macs.port[servers];
    s.src_mac = mac;
    s.src = b;
    s.dst = lb_server_address;
    s.sport = vip_port(fs.protocol);
    s.dport = fs.local_port[flow];
    s.protocol = fs.protocol;
    s.tag = flow;
    if (fs.protocol == 6) {
        s.seq = what == segment::synack ? 1000 : 1001;
        s.ack = flow + 1;
        s.tcp_flags = what == segment::synack ? 0x12 : 0x18;
        s.payload = what == segment::data ? 6 : 0;
    } else {
        s.payload = 18;
    }
    build_frame(f, s);
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

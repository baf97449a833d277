// Checks of the frames the worker transmits (--smoke checks every one; see harness.hpp).
// Benchmark thread only.
#include <algorithm>
#include <cstring>

#include "harness.hpp"

namespace sluice::worker_bench {

namespace {

// The frame's packet whole, of the family expected on `port` (IPv6 towards the side whose
// addresses are IPv6: NAT64 and NAT46 translate), IPv4 header and L4 checksums valid. nullptr
// or what is wrong.
const char* check_packet(const harness& h, uint8_t port, const uint8_t* f, uint32_t len,
                         const l3_view& v) {
    if (!v.l4) return "not an IPv4 or IPv6 frame";
    const bool want_v6 = port == servers ? h.check.shape.backend_v6 : h.check.shape.client_v6;
    if (v.v6 != want_v6)
        return v.v6 ? "IPv6 out where IPv4 belongs" : "IPv4 out where IPv6 belongs";
    // Bytes after the packet: up to a 60-byte frame's Ethernet padding (the shortest IPv6
    // frame is longer: none; a translated frame is trimmed to its packet). Shorter IPv4 frames
    // are padded by the NIC.
    const uint32_t packet = v.l4 + v.l4_len;
    if (len < packet || len > std::max(packet, v.v6 ? packet : uint32_t(frame_len)))
        return "frame length is not the packet's";
    if (v.protocol != 6 && v.protocol != 17) return "neither TCP nor UDP";
    if (v.l4_len < (v.protocol == 6 ? 20u : 8u)) return "L4 header cut short";
    if (!v.v6 && fold(sum16(f + 14, 20, 0)) != 0xffff) return "bad IPv4 header checksum";
    const uint8_t* l4 = f + v.l4;
    const bool udp_no_sum = v.protocol == 17 && get16(l4 + 6) == 0;
    if (udp_no_sum && v.v6) return "IPv6 UDP without a checksum";
    const uint32_t pseudo = pseudo_sum(v.src, v.dst, v.v6 ? 16 : 4, v.protocol, v.l4_len);
    if (!udp_no_sum && fold(sum16(l4, v.l4_len, pseudo)) != 0xffff) return "bad L4 checksum";
    return nullptr;
}

bool is_backend(const l3_view& v) {
    if (!v.v6) return get32(v.dst) - first_backend < backend_count;
    const ip6 first = backend_address6(0);
    return std::memcmp(v.dst, first.data(), 12) == 0 &&
           host6(v.dst) - first_backend_host6 < backend_count;
}

// The full-NAT rewrite of a packet that left on `port`: MACs, addresses, TTL / hop limit, and
// (IPv6 to IPv6) the client's extension headers kept. nullptr or what is wrong.
const char* check_rewrite(const harness& h, uint8_t port, const uint8_t* f, const l3_view& v) {
    if ((v.v6 ? f[21] : f[22]) != 63) return "TTL not decremented";
    uint8_t mac[6];
    if (std::memcmp(f + 6, h.macs.port[port], 6) != 0) return "source MAC is not the port's";
    if (port == servers) {
        const bool local = v.v6 ? std::memcmp(v.src, lb_server_address6.data(), 16) == 0
                                : get32(v.src) - h.check.local_first < h.check.local_count;
        if (!local) return "to a backend: source is not a local address";
        if (!is_backend(v)) return "not a backend";
        v.v6 ? mac_of6(v.dst, mac) : mac_of(get32(v.dst), mac);
        if (std::memcmp(f, mac, 6) != 0) return "to a backend: not the backend's MAC";
        const bool v6_both = v.v6 && h.check.shape.client_v6;
        if (v6_both && v.l4 != (h.check.shape.dest_options ? 62u : 54u))
            return "to a backend: the client's extension headers not kept";
        return nullptr;
    }
    if (v.v6) {
        const ip6 client0 = client_address6(0);
        if (std::memcmp(v.src, vip_address6.data(), 16) != 0)
            return "to a client: source is not the VIP";
        if (std::memcmp(v.dst, client0.data(), 8) != 0) return "to a client: not a client address";
        if (std::memcmp(f, h.macs.gateway6, 6) != 0) return "to a client: not the gateway's MAC";
        return nullptr;
    }
    if (get32(v.src) != vip_address) return "to a client: source is not the VIP";
    if ((get32(v.dst) >> 16) != ((198u << 8) | 19u)) return "to a client: not a client address";
    mac_of(gateway_address, mac);
    if (std::memcmp(f, mac, 6) != 0) return "to a client: not the gateway's MAC";
    return nullptr;
}

// Checks one frame the worker transmitted. `nat`: it went through the full-NAT path (addresses,
// MACs and TTL rewritten); otherwise (baseline) it must be unchanged, so only checksums are
// checked. Returns what is wrong, or nullptr.
const char* check_output(const harness& h, uint8_t port, const uint8_t* f, uint32_t len, bool nat) {
    const l3_view v = view_of(f, len);
    if (const char* e = check_packet(h, port, f, len, v)) return e;
    return nat ? check_rewrite(h, port, f, v) : nullptr;
}

// The TCP options of a SYN-ACK the checks look at.
struct syn_ack_options {
    bool mss = false, sack = false, ws = false, ts = false;
    uint32_t tsval = 0, tsecr = 0;
};

// Parses the options of a TCP header of `header` bytes; nullptr or what is malformed.
const char* parse_options(const uint8_t* tcp, uint32_t header, syn_ack_options& o) {
    for (uint32_t i = 20; i < header;) {
        const uint8_t kind = tcp[i];
        if (kind == 0) break;
        if (kind == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= header || tcp[i + 1] < 2 || i + tcp[i + 1] > header)
            return "SYN-ACK: malformed options";
        o.mss |= kind == 2 && tcp[i + 1] == 4;
        o.sack |= kind == 4 && tcp[i + 1] == 2;
        o.ws |= kind == 3 && tcp[i + 1] == 3;
        if (kind == 8 && tcp[i + 1] == 10) {
            o.ts = true;
            o.tsval = get32(tcp + i + 2);
            o.tsecr = get32(tcp + i + 6);
        }
        i += tcp[i + 1];
    }
    return nullptr;
}

// Checks one SYN proxy answer: a SYN-ACK to the source of one of the SYNs (the first for that
// source), from the VIP through the attack gateway, checksums valid, ack = ISN + 1, options
// answering the client's, and a sequence number the proxy accepts as its cookie.
const char* check_syn_ack(harness& h, uint8_t port, const uint8_t* f, uint32_t len) {
    if (port != client) return "a frame on the servers port";
    if (len < 14 + 20 + 20 || get16(f + 12) != 0x0800) return "SYN-ACK: not an IPv4 frame";
    const uint8_t* ip = f + 14;
    if (ip[0] != 0x45 || ip[9] != 6) return "SYN-ACK: not IPv4/TCP without IP options";
    if (fold(sum16(ip, 20, 0)) != 0xffff) return "SYN-ACK: bad IPv4 header checksum";
    const uint32_t total = get16(ip + 2);
    if (total < 40 || 14 + total > len) return "SYN-ACK: bad IPv4 total length";
    if (ip[8] == 0) return "SYN-ACK: TTL 0";
    const uint32_t src = get32(ip + 12), dst = get32(ip + 16);
    const uint8_t* tcp = ip + 20;
    const uint32_t l4_len = total - 20, header = uint32_t(tcp[12] >> 4) * 4;
    if (header < 20 || header > l4_len) return "SYN-ACK: bad TCP header length";
    if (fold(sum16(tcp, l4_len, pseudo_sum(src, dst, 6, l4_len))) != 0xffff)
        return "SYN-ACK: bad TCP checksum";
    if (src != vip_address || get16(tcp) != tcp_vip_port) return "SYN-ACK: not from the VIP";
    const uint32_t i = spoofed_index(dst, get16(tcp + 2));
    if (i == spoofed_sources) return "SYN-ACK: not to a source that sent a SYN";
    if (std::memcmp(f, h.macs.attack_gateway, 6) != 0)
        return "SYN-ACK: not to the attack gateway's MAC";
    if (std::memcmp(f + 6, h.macs.port[client], 6) != 0)
        return "SYN-ACK: source MAC is not the client port's";
    if (tcp[13] != 0x12) return "SYN-ACK: flags are not SYN|ACK";
    if (get32(tcp + 8) != spoofed_isn(i) + 1) return "SYN-ACK: ack is not the SYN's ISN + 1";
    syn_ack_options o;
    if (const char* e = parse_options(tcp, header, o)) return e;
    if (!o.mss || !o.sack || !o.ws || !o.ts)
        return "SYN-ACK: MSS, SACK_PERM, timestamps or WS missing";
    if (o.tsecr != spoofed_tsval(i)) return "SYN-ACK: TSecr is not the SYN's TSval";
    const cookie_verdict v =
        h.rt->check_cookie(dst, spoofed_port(i), spoofed_isn(i), get32(tcp + 4), o.tsval);
    if (!v.valid) return "SYN-ACK: its sequence number is not a valid cookie";
    if (v.mss != 1460) return "SYN-ACK: cookie lost the MSS";
    if (v.wscale != 7 || !v.sack_ok) return "SYN-ACK: TSval lost the client's options";
    if (h.check.syn_acks_seen[i]++) return "two SYN-ACKs for one SYN";
    return nullptr;
}

}  // namespace

void check_frame(harness& h, uint8_t port, const rte_mbuf* m) {
    const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
    // The RST an early drop sends to the evicted flow's backend is the LB's own frame (counted
    // by the scenario against resets_sent), not a rewritten one.
    if (port == servers && m->data_len >= 54 && get16(f + 12) == 0x0800 && f[23] == 6 &&
        (f[47] & 0x04))
        return;
    const char* e = h.check.expected == expect::syn_ack
                        ? check_syn_ack(h, port, f, m->data_len)
                        : check_output(h, port, f, m->data_len, h.check.expected == expect::nat);
    if (e && !h.check.errors++) h.check.first_error = e;
}

}  // namespace sluice::worker_bench

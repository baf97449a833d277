// Checks of the frames the worker transmits (--smoke checks every one; see harness.hpp).
// Benchmark thread only.
#include <cstring>

#include "harness.hpp"

namespace sluice::worker_bench {

namespace {

// Checks one frame the worker transmitted. `nat`: it went through the full-NAT path (addresses,
// MACs and TTL rewritten); otherwise (baseline) it must be unchanged, so only checksums are
// checked. Returns what is wrong, or nullptr.
const char* check_output(const harness& h, uint8_t port, const uint8_t* f, uint32_t len, bool nat) {
    if (len != frame_len || get16(f + 12) != 0x0800) return "not a 60-byte IPv4 frame";
    const uint8_t* ip = f + 14;
    if (fold(sum16(ip, 20, 0)) != 0xffff) return "bad IPv4 header checksum";
    const uint32_t total = get16(ip + 2), l4_len = total - 20;
    const uint32_t src = get32(ip + 12), dst = get32(ip + 16);
    const uint8_t* l4 = ip + 20;
    const bool udp_no_sum = ip[9] == 17 && get16(l4 + 6) == 0;
    if (!udp_no_sum && fold(sum16(l4, l4_len, pseudo_sum(src, dst, ip[9], l4_len))) != 0xffff)
        return "bad L4 checksum";
    if (!nat) return nullptr;
    if (ip[8] != 63) return "TTL not decremented";
    uint8_t mac[6];
    if (std::memcmp(f + 6, h.macs.port[port], 6) != 0) return "source MAC is not the port's";
    if (port == servers) {
        if (src - h.check.local_first >= h.check.local_count)
            return "to a backend: source is not a local address";
        if (dst < first_backend || dst >= first_backend + backend_count) return "not a backend";
        mac_of(dst, mac);
        if (std::memcmp(f, mac, 6) != 0) return "to a backend: not the backend's MAC";
    } else {
        if (src != vip_address) return "to a client: source is not the VIP";
        if ((dst >> 16) != ((198u << 8) | 19u)) return "to a client: not a client address";
        mac_of(gateway_address, mac);
        if (std::memcmp(f, mac, 6) != 0) return "to a client: not the gateway's MAC";
    }
    return nullptr;
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
    if (port == servers && m->data_len >= 54 && f[23] == 6 && (f[47] & 0x04)) return;
    const char* e = h.check.expected == expect::syn_ack
                        ? check_syn_ack(h, port, f, m->data_len)
                        : check_output(h, port, f, m->data_len, h.check.expected == expect::nat);
    if (e && !h.check.errors++) h.check.first_error = e;
}

}  // namespace sluice::worker_bench

#pragma once
// TCP/IPv4 segments for the SYN proxy's packet tests, built and read back by the tests' own
// code (not src/packet): options (RFC 9293, RFC 7323, RFC 2018), decoding of transmitted frames
// with their checksums verified by full recomputation, client and backend segments, and the
// cookie handshake up to the LB's SYN towards a backend. Test code only.
#include <doctest/doctest.h>
#include <rte_mempool.h>

#include <cstring>
#include <initializer_list>
#include <vector>

#include "packet/harness.hpp"

namespace sluice::packet_test {

namespace flag {
constexpr uint8_t syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10;
}

// --- TCP options, written and parsed here (RFC 9293, RFC 7323, RFC 2018) ---

inline bytes cat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}
inline bytes opt_nop() {
    return {1};
}
inline bytes opt_mss(uint16_t mss) {
    return {2, 4, uint8_t(mss >> 8), uint8_t(mss)};
}
inline bytes opt_ws(uint8_t shift) {
    return {3, 3, shift};
}
inline bytes opt_sack_perm() {
    return {4, 2};
}
inline bytes opt_ts(uint32_t tsval, uint32_t tsecr) {
    bytes o(10, 0);
    o[0] = 8;
    o[1] = 10;
    test::put32(o, 2, tsval);
    test::put32(o, 6, tsecr);
    return o;
}
inline bytes opt_sack(std::initializer_list<uint32_t> edges) {
    bytes o(2 + 4 * edges.size(), 0);
    o[0] = 5;
    o[1] = uint8_t(o.size());
    size_t at = 2;
    for (uint32_t e : edges) {
        test::put32(o, at, e);
        at += 4;
    }
    return o;
}
// A SYN's options as Linux sends them: MSS, SACK_PERM, TS, NOP, WS (20 bytes).
inline bytes syn_options(uint32_t tsval, uint8_t wscale) {
    return cat({opt_mss(1460), opt_sack_perm(), opt_ts(tsval, 0), opt_nop(), opt_ws(wscale)});
}
// NOP NOP TS (12 bytes): what every segment after the handshake carries.
inline bytes ts_options(uint32_t tsval, uint32_t tsecr) {
    return cat({opt_nop(), opt_nop(), opt_ts(tsval, tsecr)});
}

struct options_seen {
    bool well_formed = true;
    int mss = -1;     // -1: absent
    int wscale = -1;  // -1: absent
    bool sack_perm = false;
    bool timestamps = false;
    uint32_t tsval = 0, tsecr = 0;
    std::vector<uint32_t> sack_edges;
};

// One received TCP/IPv4 frame, decoded.
struct segment {
    ipv4_view ip;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t window;
    options_seen options;
    bytes payload;
};

inline segment decode(const bytes& f) {
    segment s;
    s.ip = view(f);
    const size_t l4 = 14 + size_t(f[14] & 0x0f) * 4;
    const size_t header = size_t(f[l4 + 12] >> 4) * 4;
    const size_t end = 14 + test::get16(f, 16);
    REQUIRE(f[23] == 6);
    REQUIRE(end <= f.size());
    REQUIRE(l4 + header <= end);
    s.seq = test::get32(f, l4 + 4);
    s.ack = test::get32(f, l4 + 8);
    s.flags = f[l4 + 13];
    s.window = test::get16(f, l4 + 14);
    s.payload.assign(f.begin() + long(l4 + header), f.begin() + long(end));
    options_seen& o = s.options;
    for (size_t i = l4 + 20; i < l4 + header;) {
        const uint8_t kind = f[i];
        if (kind == 0) break;
        if (kind == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= l4 + header || f[i + 1] < 2 || i + f[i + 1] > l4 + header) {
            o.well_formed = false;
            break;
        }
        const size_t len = f[i + 1];
        if (kind == 2 && len == 4) o.mss = test::get16(f, i + 2);
        if (kind == 3 && len == 3) o.wscale = f[i + 2];
        if (kind == 4 && len == 2) o.sack_perm = true;
        if (kind == 8 && len == 10) {
            o.timestamps = true;
            o.tsval = test::get32(f, i + 2);
            o.tsecr = test::get32(f, i + 6);
        }
        if (kind == 5)
            for (size_t e = 2; e + 4 <= len; e += 4) o.sack_edges.push_back(test::get32(f, i + e));
        i += len;
    }
    return s;
}

// What the LB transmitted on `port`, every frame's checksums verified by full recomputation.
inline std::vector<bytes> sent(uint16_t port) {
    std::vector<bytes> out = transmitted(port);
    for (size_t i = 0; i < out.size(); ++i) {
        CAPTURE(port);
        CAPTURE(i);
        REQUIRE(out[i].size() >= 34);
        CHECK(test::get16(out[i], 12) == 0x0800);
        CHECK(ipv4_checksum_ok(out[i]));
        CHECK(l4_checksum_ok(out[i]));
    }
    return out;
}

// Sets the TCP window of a built frame and recomputes its TCP checksum from scratch.
inline void set_window(bytes& f, uint16_t window) {
    const size_t l4 = 14 + size_t(f[14] & 0x0f) * 4;
    const uint32_t l4_len = uint32_t(test::get16(f, 16) - (l4 - 14));
    test::put16(f, l4 + 14, window);
    test::put16(f, l4 + 16, 0);
    const uint32_t pseudo = test::pseudo_sum(address_family::ipv4, &f[26], &f[30], 6, l4_len);
    test::put16(f, l4 + 16, test::ones_checksum(&f[l4], l4_len, pseudo));
}

inline bytes client_segment(uint16_t vip_port, uint16_t client_port, uint8_t flags, uint32_t seq,
                            uint32_t ack, bytes options, bytes payload = {}) {
    frame_spec s;
    s.dst = v4(198, 18, 0, 10);
    s.src_port = client_port;
    s.dst_port = vip_port;
    s.tcp_flags = flags;
    s.tcp_seq = seq;
    s.tcp_ack = ack;
    s.tcp_options = std::move(options);
    s.payload = std::move(payload);
    return from_client(s);
}

// A segment from backend `b` (198.18.1.11 + b) port `bport` (the VIP's: no backend sets one) to
// the LB's local address and `lport`.
inline bytes backend_segment(unsigned b, uint16_t bport, uint16_t lport, uint8_t flags,
                             uint32_t seq, uint32_t ack, bytes options, bytes payload = {},
                             uint16_t window = 0xffff) {
    frame_spec s;
    s.src = v4(198, 18, 1, uint8_t(11 + b));
    s.dst = v4(198, 18, 1, 1);
    s.src_port = bport;
    s.dst_port = lport;
    s.tcp_flags = flags;
    s.tcp_seq = seq;
    s.tcp_ack = ack;
    s.tcp_options = std::move(options);
    s.payload = std::move(payload);
    bytes f = test::build_frame(s);
    set_macs(f, port_mac(servers), backend_mac[b]);
    if (window != 0xffff) set_window(f, window);
    return f;
}

inline uint64_t count_of(const dataplane::counter dataplane::worker_counters::*which) {
    return dataplane::read(h.rt->worker_at(0).counters.*which);
}
using wc = dataplane::worker_counters;

inline uint32_t flow_count() {
    return h.rt->worker_at(0).flows().size();
}

// The cookie SYN-ACK of a client SYN with syn_options(tsval, 7): what the test needs of it.
struct cookie_answer {
    uint32_t cookie;  // the SYN-ACK's sequence number
    uint32_t tsval;   // the SYN-ACK's TSval (the proxy's clock)
};

// Sends a SYN with MSS 1460, SACK_PERM, TS and WS 7 and returns the SYN-ACK's cookie and TSval.
inline cookie_answer handshake_syn(uint16_t vip_port, uint16_t client_port, uint32_t isn,
                                   uint32_t tsval) {
    inject(client, client_segment(vip_port, client_port, flag::syn, isn, 0, syn_options(tsval, 7)));
    run_passes();
    REQUIRE(sent(servers).empty());
    auto out = sent(client);
    REQUIRE(out.size() == 1);
    segment s = decode(out[0]);
    REQUIRE(s.flags == (flag::syn | flag::ack));
    REQUIRE(s.ack == isn + 1);
    REQUIRE(s.options.timestamps);
    return {s.seq, s.options.tsval};
}

// The SYN the LB opened towards a backend once the client's cookie ACK was accepted.
struct backend_syn {
    unsigned b;      // backend index: 198.18.1.11 + b
    uint16_t lport;  // the LB's local port
    segment s;
};

inline backend_syn read_backend_syn(const bytes& f) {
    backend_syn r;
    r.s = decode(f);
    REQUIRE(r.s.ip.dst[3] >= 11);
    r.b = unsigned(r.s.ip.dst[3] - 11);
    REQUIRE(r.b < 3);
    r.lport = r.s.ip.sport;
    return r;
}

// A client connection through a proxied VIP up to the backend's SYN-ACK: the cookie handshake,
// the backend SYN and its SYN-ACK (ISN backend_isn, WS 5, TS), the held ACK read back.
struct spliced_connection {
    uint16_t cport;
    uint32_t isn;
    cookie_answer ours;
    backend_syn bs;
    uint32_t backend_isn;
    uint32_t backend_ts;
};

inline spliced_connection splice(uint16_t vip_port, uint16_t cport, uint32_t isn,
                                 uint32_t backend_isn) {
    spliced_connection c{cport, isn, {}, {}, backend_isn, 424242};
    c.ours = handshake_syn(vip_port, cport, isn, 1000);
    inject(client, client_segment(vip_port, cport, flag::ack, isn + 1, c.ours.cookie + 1,
                                  ts_options(1001, c.ours.tsval)));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    c.bs = read_backend_syn(out[0]);
    inject(servers, backend_segment(c.bs.b, vip_port, c.bs.lport, flag::syn | flag::ack,
                                    backend_isn, c.bs.s.seq + 1,
                                    cat({opt_mss(1460), opt_sack_perm(), opt_ts(c.backend_ts, 1001),
                                         opt_nop(), opt_ws(5)})));
    run_passes();
    out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(decode(out[0]).ack == backend_isn + 1);
    REQUIRE(sent(client).empty());
    return c;
}

// Mbufs of the test's pool not in use: frames the worker held or dropped must come back.
inline unsigned pool_free() {
    return rte_mempool_avail_count(h.pool);
}

}  // namespace sluice::packet_test

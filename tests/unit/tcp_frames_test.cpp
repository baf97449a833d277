// Unit tests for src/packet/tcp_options.hpp, syn_proxy_frames.hpp and tcp_translate.hpp: options
// parse (NOP padding, malformed lengths refused); the SYN proxy's SYN-ACK and SYN carry valid IP
// and TCP checksums and the options asked for; translation shifts seq/ack/SACK/TS (mod 2^32),
// rescales the window and keeps the TCP checksum right, or leaves a malformed segment alone.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "frame_builder.hpp"
#include "packet/parse.hpp"
#include "packet/syn_proxy_frames.hpp"
#include "packet/tcp_options.hpp"
#include "packet/tcp_translate.hpp"

using sluice::address_family;
using sluice::drop_reason;
using namespace sluice::packet;
using namespace sluice::test;

namespace {

// A bare TCP header (20 bytes) followed by `options` (caller keeps the total a multiple of 4).
bytes tcp_header(const bytes& options) {
    bytes h(20, 0);
    h[12] = uint8_t(((20 + options.size()) / 4) << 4);
    h.insert(h.end(), options.begin(), options.end());
    return h;
}

bool parse(const bytes& options, syn_options& out) {
    const bytes h = tcp_header(options);
    return parse_tcp_options(h.data(), unsigned(h.size()), out);
}

// Full RFC 1071 verification (frame_builder's independent arithmetic): the IPv4 header and the
// TCP segment with its pseudo header both sum to all ones.
void check_checksums(const bytes& f) {
    const bool v4 = get16(f, 12) == 0x0800;
    const size_t l3 = eth_len, l4 = eth_len + (v4 ? 20 : 40);
    const size_t l4_len = f.size() - l4;
    if (v4) CHECK(ones_checksum(&f[l3], 20) == 0);
    const uint32_t pseudo =
        pseudo_sum(v4 ? address_family::ipv4 : address_family::ipv6, &f[l3 + (v4 ? 12 : 8)],
                   &f[l3 + (v4 ? 16 : 24)], 6, uint32_t(l4_len));
    CHECK(ones_checksum(&f[l4], l4_len, pseudo) == 0);
}

// Recomputes the TCP checksum of a frame_builder frame after the test edited the segment.
void refresh_tcp_checksum(bytes& f, const frame_spec& s) {
    const size_t l4 = l4_offset(s), l4_len = f.size() - s.trailer - l4;
    put16(f, l4 + 16, 0);
    put16(f, l4 + 16,
          ones_checksum(&f[l4], l4_len,
                        pseudo_sum(s.family, s.src.data(), s.dst.data(), 6, uint32_t(l4_len))));
}

}  // namespace

// ---- option parsing --------------------------------------------------------------------------

TEST_CASE("parse_tcp_options reads MSS, window scale, SACK-permitted and timestamps") {
    syn_options o;
    // Linux's SYN: MSS, SACK_PERM, TS, NOP, WS.
    REQUIRE(parse({2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 3, 7}, o));
    CHECK(o.mss == 1460);
    CHECK(o.sack_ok);
    CHECK(o.timestamps);
    CHECK(o.tsval == 1);
    CHECK(o.tsecr == 2);
    CHECK(o.wscale == 7);
}

TEST_CASE("absent options leave the defaults: MSS 536, no wscale, no SACK, no timestamps") {
    syn_options o;
    o.mss = 1;  // parse resets stale fields
    o.timestamps = true;
    REQUIRE(parse({}, o));
    CHECK(o.mss == 536);
    CHECK(o.wscale == no_wscale);
    CHECK_FALSE(o.sack_ok);
    CHECK_FALSE(o.timestamps);
}

TEST_CASE("NOP padding, EOL and unknown options are tolerated; wscale > 14 reads as 14") {
    syn_options o;
    REQUIRE(parse({1, 1, 1, 2, 4, 0x02, 0x18, 30, 4, 0xaa, 0xbb, 1, 3, 3, 15, 0, 0xff, 0xff}, o));
    CHECK(o.mss == 536);
    CHECK(o.wscale == 14);
    CHECK_FALSE(o.timestamps);
    // Everything after EOL is ignored, even garbage.
    REQUIRE(parse({2, 4, 0x05, 0x00, 0, 0, 0xff, 0xff}, o));
    CHECK(o.mss == 1280);
    // NOP NOP TS at a 4-byte aligned offset.
    REQUIRE(parse({1, 1, 8, 10, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, o));
    CHECK(o.timestamps);
    CHECK(o.tsval == 0xffffffff);
}

TEST_CASE("malformed option lengths make parse_tcp_options return false") {
    syn_options o;
    CHECK_FALSE(parse({2, 0, 0, 0}, o));              // length 0
    CHECK_FALSE(parse({30, 1, 0, 0}, o));             // length 1
    CHECK_FALSE(parse({1, 1, 1, 30}, o));             // kind with no length byte
    CHECK_FALSE(parse({1, 30, 5, 0}, o));             // runs past the header
    CHECK_FALSE(parse({2, 3, 5, 1}, o));              // MSS of length 3
    CHECK_FALSE(parse({3, 4, 7, 0}, o));              // WS of length 4
    CHECK_FALSE(parse({4, 3, 0, 1}, o));              // SACK_PERM of length 3
    CHECK_FALSE(parse({8, 8, 0, 0, 0, 1, 0, 0}, o));  // TS of length 8
    CHECK_FALSE(parse({5, 7, 0, 0, 0, 1, 0, 0}, o));  // SACK of length 7
    CHECK_FALSE(parse({5, 2, 1, 1}, o));              // SACK without a block
    bytes h = tcp_header({});
    CHECK_FALSE(parse_tcp_options(h.data(), 16, o));  // data offset below 20
    CHECK_FALSE(parse_tcp_options(h.data(), 64, o));  // data offset above 60
}

TEST_CASE("find_timestamp_option and find_sack_option return the kind byte's offset") {
    const bytes h = tcp_header({1, 8, 10, 0,  0, 0, 1, 0, 0, 0, 2, 1,    // NOP TS NOP
                                1, 1, 5,  10, 0, 0, 0, 3, 0, 0, 0, 4});  // NOP NOP SACK(1)
    unsigned len = 0;
    CHECK(find_timestamp_option(h.data(), unsigned(h.size())) == 21);
    CHECK(find_sack_option(h.data(), unsigned(h.size()), len) == 34);
    CHECK(len == 10);
    const bytes none = tcp_header({2, 4, 5, 0xb4});
    CHECK(find_timestamp_option(none.data(), unsigned(none.size())) == -1);
    CHECK(find_sack_option(none.data(), unsigned(none.size()), len) == -1);
    const bytes bad = tcp_header({8, 10, 0, 0});
    CHECK(find_timestamp_option(bad.data(), unsigned(bad.size())) == -1);
}

// ---- SYN-ACK / SYN ---------------------------------------------------------------------------

TEST_CASE("build_syn_ack and build_syn: checksums verify, options parse back as specified") {
    const auto c4 = v4(198, 18, 0, 10), s4 = v4(198, 18, 1, 1);
    const auto c6 = v6(0x10), s6 = v6(0x101);
    for (uint8_t family : {uint8_t(4), uint8_t(6)}) {
        for (unsigned combo = 0; combo < 8; ++combo) {
            for (bool syn_ack : {true, false}) {
                CAPTURE(int(family));
                CAPTURE(combo);
                CAPTURE(syn_ack);
                handshake_spec s{};
                s.family = family;
                s.src = family == 4 ? s4.data() : s6.data();
                s.dst = family == 4 ? c4.data() : c6.data();
                s.src_port = 80;
                s.dst_port = 40001;
                s.seq = 0x89abcdef;
                s.ack = syn_ack ? 0x01020305 : 0;
                s.window = 65535;
                s.mss = family == 4 ? 1460 : 1440;
                s.wscale = (combo & 1) ? uint8_t(combo + 3) : no_wscale;
                s.sack_ok = (combo & 2) != 0;
                s.timestamps = (combo & 4) != 0;
                s.tsval = 0xfedcba98;
                s.tsecr = 0x11223344;
                bytes f(handshake_max_len, 0xee);
                const size_t len = syn_ack ? build_syn_ack(f.data(), s) : build_syn(f.data(), s);
                REQUIRE(len <= handshake_max_len);
                f.resize(len);
                check_checksums(f);

                parsed_frame p;
                REQUIRE(parse_frame(f.data(), uint32_t(f.size()), p) == drop_reason::none);
                CHECK(p.protocol == 6);
                CHECK(p.src_port == 80);
                CHECK(p.dst_port == 40001);
                CHECK(p.tcp_flags == (syn_ack ? 0x12 : 0x02));
                const uint8_t* tcp = f.data() + p.l4_offset;
                const unsigned header_len = unsigned(tcp[12] >> 4) * 4;
                CHECK(header_len % 4 == 0);
                CHECK(header_len == p.l4_length);  // no payload
                CHECK(get32(f, p.l4_offset + 4) == s.seq);
                CHECK(get32(f, p.l4_offset + 8) == s.ack);
                CHECK(get16(f, p.l4_offset + 14) == 65535);

                syn_options o;
                REQUIRE(parse_tcp_options(tcp, header_len, o));
                CHECK(o.mss == s.mss);
                CHECK(o.wscale == s.wscale);
                CHECK(o.sack_ok == s.sack_ok);
                CHECK(o.timestamps == s.timestamps);
                if (s.timestamps) {
                    CHECK(o.tsval == s.tsval);
                    CHECK(o.tsecr == s.tsecr);
                }
            }
        }
    }
}

// ---- translation -----------------------------------------------------------------------------

namespace {

// A data segment with TS and a 2-block SACK option, at odd offsets when `odd` (NOP TS NOP ...).
frame_spec data_segment(address_family family, bool odd) {
    frame_spec s;
    s.family = family;
    if (family == address_family::ipv6) {
        s.src = v6(0x10);
        s.dst = v6(0x101);
    }
    s.tcp_flags = 0x18;  // PSH|ACK
    s.tcp_seq = 0xfffffff0;
    s.tcp_ack = 0x7ffffffe;
    const bytes ts = {8, 10, 0xff, 0xff, 0xff, 0xf0, 0x00, 0x00, 0x10, 0x00};
    const bytes sack = {5, 18,   0xff, 0xff, 0xff, 0xfe, 0,    0,    0,
                        5, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x66, 0x78};
    bytes o;
    if (odd) {
        o = {1};
        o.insert(o.end(), ts.begin(), ts.end());
        o.insert(o.end(), sack.begin(), sack.end());
        o.insert(o.end(), {1, 1, 1});  // 1 + 10 + 18 + 3 = 32
    } else {
        o = {1, 1};
        o.insert(o.end(), ts.begin(), ts.end());
        o.insert(o.end(), {1, 1});
        o.insert(o.end(), sack.begin(), sack.end());  // 2 + 10 + 2 + 18 = 32
    }
    s.tcp_options = o;
    s.payload = {'h', 'e', 'l', 'l', 'o', '!', '\n'};  // odd length: padded in the checksum
    return s;
}

}  // namespace

TEST_CASE("translate_tcp adds seq/ack/SACK/TS deltas mod 2^32 and the checksum still verifies") {
    std::mt19937 rng(7);
    for (auto family : {address_family::ipv4, address_family::ipv6}) {
        for (bool odd : {false, true}) {
            for (int round = 0; round < 50; ++round) {
                CAPTURE(int(family));
                CAPTURE(odd);
                CAPTURE(round);
                const frame_spec spec = data_segment(family, odd);
                bytes f = build_frame(spec);
                const size_t l4 = l4_offset(spec);
                uint8_t* tcp = &f[l4];
                const int ts = find_timestamp_option(tcp, 52);
                unsigned sack_len = 0;
                const int sack = find_sack_option(tcp, 52, sack_len);
                REQUIRE(ts == (odd ? 21 : 22));
                REQUIRE(sack == (odd ? 31 : 34));
                uint32_t edges[4];
                for (unsigned e = 0; e < 4; ++e)
                    edges[e] = get32(f, l4 + unsigned(sack) + 2 + 4 * e);
                const uint32_t tsval = get32(f, l4 + unsigned(ts) + 2);
                const uint32_t tsecr = get32(f, l4 + unsigned(ts) + 6);

                tcp_translation t;
                t.seq_add = round == 0 ? 0x20 : uint32_t(rng());  // round 0: seq wraps past 0
                t.ack_add = round == 0 ? 0x80000005 : uint32_t(rng());
                t.sack_add = uint32_t(rng());
                t.tsval_add = round == 0 ? 0x10 : uint32_t(rng());
                t.tsecr_add = round % 5 == 0 ? 0 : uint32_t(rng());  // a zero delta changes nothing
                REQUIRE(translate_tcp(tcp, unsigned(f.size() - l4), t));

                CHECK(get32(f, l4 + 4) == spec.tcp_seq + t.seq_add);
                CHECK(get32(f, l4 + 8) == spec.tcp_ack + t.ack_add);
                for (unsigned e = 0; e < 4; ++e)
                    CHECK(get32(f, l4 + unsigned(sack) + 2 + 4 * e) == edges[e] + t.sack_add);
                CHECK(get32(f, l4 + unsigned(ts) + 2) == tsval + t.tsval_add);
                CHECK(get32(f, l4 + unsigned(ts) + 6) == tsecr + t.tsecr_add);
                CHECK(get16(f, l4 + 14) == 0xffff);  // no rescale asked
                if (round == 0) {
                    CHECK(get32(f, l4 + 4) == 0x10);
                    CHECK(get32(f, l4 + 8) == 0x00000003);
                    CHECK(get32(f, l4 + unsigned(ts) + 2) == 0);
                }
                check_checksums(f);
            }
        }
    }
}

TEST_CASE("translate_tcp leaves the ack number alone when the ACK flag is clear") {
    frame_spec spec = data_segment(address_family::ipv4, false);
    spec.tcp_flags = 0x08;  // PSH only
    bytes f = build_frame(spec);
    const size_t l4 = l4_offset(spec);
    tcp_translation t;
    t.seq_add = 100;
    t.ack_add = 12345;
    REQUIRE(translate_tcp(&f[l4], unsigned(f.size() - l4), t));
    CHECK(get32(f, l4 + 4) == spec.tcp_seq + 100);
    CHECK(get32(f, l4 + 8) == spec.tcp_ack);
    check_checksums(f);
}

TEST_CASE("translate_tcp rescales the window: min(0xffff, (w << left) >> right), not on SYNs") {
    struct row {
        uint16_t window;
        uint8_t left, right;
        uint16_t expect;
    };
    for (const row& r :
         {row{1000, 7, 2, 32000}, row{0xffff, 7, 0, 0xffff}, row{4096, 0, 7, 32}, row{100, 0, 7, 0},
          row{513, 14, 14, 513}, row{4, 14, 0, 0xffff}, row{3, 14, 0, 49152}}) {
        CAPTURE(r.window);
        CAPTURE(int(r.left));
        CAPTURE(int(r.right));
        for (bool syn : {false, true}) {
            frame_spec spec = data_segment(address_family::ipv6, true);
            spec.tcp_flags = syn ? 0x12 : 0x10;
            bytes f = build_frame(spec);
            const size_t l4 = l4_offset(spec);
            put16(f, l4 + 14, r.window);
            refresh_tcp_checksum(f, spec);
            tcp_translation t;
            t.window_shift_left = r.left;
            t.window_shift_right = r.right;
            REQUIRE(translate_tcp(&f[l4], unsigned(f.size() - l4), t));
            CHECK(get16(f, l4 + 14) == (syn ? r.window : r.expect));
            check_checksums(f);
        }
    }
}

TEST_CASE("translate_tcp refuses malformed options or data offsets and leaves the segment alone") {
    tcp_translation t;
    t.seq_add = 1;
    t.ack_add = 2;
    t.tsval_add = 3;
    t.window_shift_left = 2;
    for (const bytes& options : {bytes{1, 1, 8, 9, 0, 0, 0, 0, 0, 0, 0, 0},   // TS length 9
                                 bytes{5, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},  // SACK length 12
                                 bytes{1, 1, 1, 0x1e, 0x20, 0, 0, 0}}) {      // past the end
        frame_spec spec;
        spec.tcp_options = options;
        const bytes before = build_frame(spec);
        bytes f = before;
        const size_t l4 = l4_offset(spec);
        CHECK_FALSE(translate_tcp(&f[l4], unsigned(f.size() - l4), t));
        CHECK(f == before);
    }
    frame_spec spec;
    bytes f = build_frame(spec);
    const size_t l4 = l4_offset(spec);
    const bytes before = f;
    CHECK_FALSE(translate_tcp(&f[l4], 19, t));  // shorter than a TCP header
    f[l4 + 12] = 0x40;                          // data offset 16 bytes
    CHECK_FALSE(translate_tcp(&f[l4], unsigned(f.size() - l4), t));
    f[l4 + 12] = 0x60;  // data offset 24 bytes, segment only 20
    CHECK_FALSE(translate_tcp(&f[l4], unsigned(f.size() - l4), t));
    f[l4 + 12] = before[l4 + 12];
    CHECK(f == before);
}

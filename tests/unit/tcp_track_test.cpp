// Unit tests for src/flow/tcp_track: RST judging (RFC 5961, SYN-SENT rules), sequence/ack/window
// tracking with window scaling, plausible SYN reuse, early-drop eligibility and whether the
// backend keeps TIME_WAIT for a flow's tuple; the plain path (plain_segment, track_plain) against
// track_segment.
#include "flow/tcp_track.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "packet/wire.hpp"

using sluice::flow::backend_forgets_tuple;
using sluice::flow::direction;
using sluice::flow::evictable;
using sluice::flow::flow_entry;
using sluice::flow::judge_rst;
using sluice::flow::plausible_new_syn;
using sluice::flow::read_segment;
using sluice::flow::rst_verdict;
using sluice::flow::tcp_segment;
using sluice::flow::tcp_state;
using sluice::flow::track_segment;
namespace flow_flag = sluice::flow::flow_flag;
namespace flow_extra = sluice::flow::flow_extra;
namespace tcp_flag = sluice::packet::tcp_flag;

namespace {

constexpr direction client = direction::from_client;
constexpr direction backend = direction::from_backend;

// The protocol is the endpoint row's (flow_table::is_tcp); these functions take it as `tcp`.
flow_entry blank(tcp_state state = tcp_state::syn_sent) {
    flow_entry f;
    std::memset(static_cast<void*>(&f), 0, sizeof f);
    f.state = state;
    return f;
}
constexpr bool tcp = true, udp = false;

// An established flow: the client sends from 1000, the backend from 5000, each side has
// acknowledged everything of the other and advertises a window of 100 (unscaled).
flow_entry established() {
    flow_entry f = blank(tcp_state::established);
    f.flags = flow_flag::seq_client | flow_flag::seq_backend;
    f.extra = flow_extra::ack_client | flow_extra::ack_backend | flow_extra::replied;
    f.seq_next[size_t(client)] = 1000;
    f.seq_next[size_t(backend)] = 5000;
    f.ack_seen[size_t(client)] = 5000;
    f.ack_seen[size_t(backend)] = 1000;
    f.window[size_t(client)] = 100;
    f.window[size_t(backend)] = 100;
    return f;
}

tcp_segment rst(uint32_t seq, uint32_t ack = 0, uint8_t more = 0) {
    return {seq, ack, 0, uint8_t(tcp_flag::rst | more), 0};
}

// A TCP header (20 bytes + options padded with NOPs to a multiple of 4).
std::vector<uint8_t> header(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
                            std::vector<uint8_t> options = {}) {
    while (options.size() % 4) options.push_back(1);  // NOP
    std::vector<uint8_t> h(20 + options.size(), 0);
    sluice::packet::store_be16(&h[0], 40000);
    sluice::packet::store_be16(&h[2], 80);
    sluice::packet::store_be32(&h[4], seq);
    sluice::packet::store_be32(&h[8], ack);
    h[12] = uint8_t(h.size() / 4 << 4);
    h[13] = flags;
    sluice::packet::store_be16(&h[14], window);
    for (size_t i = 0; i < options.size(); ++i) h[20 + i] = options[i];
    return h;
}

std::vector<uint8_t> wscale_option(uint8_t shift) {
    return {3, 3, shift};
}

// Tracks a segment given as header fields plus `payload` bytes (not stored, only counted).
void track(flow_entry& f, direction dir, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t window,
           uint32_t payload = 0, std::vector<uint8_t> options = {}) {
    auto h = header(seq, ack, flags, window, std::move(options));
    tcp_segment seg = read_segment(h.data(), uint16_t(h.size() + payload));
    REQUIRE(seg.payload == payload);
    track_segment(f, dir, h.data(), seg);
}

}  // namespace

// --- read_segment -------------------------------------------------------------------------------

TEST_CASE("read_segment reads seq, ack, window, flags and payload length after the options") {
    auto h =
        header(0x01020304, 0xa0b0c0d0, tcp_flag::ack | tcp_flag::psh, 0x1234, wscale_option(7));
    tcp_segment s = read_segment(h.data(), uint16_t(h.size() + 33));
    CHECK(s.seq == 0x01020304);
    CHECK(s.ack == 0xa0b0c0d0);
    CHECK(s.window == 0x1234);
    CHECK(s.flags == (tcp_flag::ack | tcp_flag::psh));
    CHECK(s.payload == 33);
    CHECK(read_segment(h.data(), uint16_t(h.size())).payload == 0);
}

// --- judge_rst ----------------------------------------------------------------------------------

TEST_CASE("an RST at exactly the receiver's next expected sequence is accepted") {
    flow_entry f = established();
    CHECK(judge_rst(f, client, rst(1000), 0) == rst_verdict::accept);
    CHECK(judge_rst(f, backend, rst(5000), 0) == rst_verdict::accept);
}

TEST_CASE("an RST at seq_next beyond the receiver's last ack is accepted; so is one at the ack") {
    flow_entry f = established();
    f.ack_seen[size_t(backend)] = 900;  // the backend has not acknowledged the last 100 bytes
    f.window[size_t(backend)] = 200;
    CHECK(judge_rst(f, client, rst(1000), 0) == rst_verdict::accept);
    CHECK(judge_rst(f, client, rst(900), 0) == rst_verdict::accept);
    CHECK(judge_rst(f, client, rst(950), 0) == rst_verdict::in_window);
}

TEST_CASE("seq_shift: a translated flow's seq_next is compared in the sender's own numbers") {
    // SYN proxy: the client's bytes reach the backend 0x10000 higher, so seq_next[client] is
    // kept 0x10000 ahead of what the client writes; ack_seen[backend] is in the client's numbers.
    flow_entry f = established();
    f.seq_next[size_t(client)] = 1000 + 0x10000;
    f.ack_seen[size_t(backend)] = 900;
    f.window[size_t(backend)] = 50;
    CHECK(judge_rst(f, client, rst(1000), 0x10000) == rst_verdict::accept);
    CHECK(judge_rst(f, client, rst(1000), 0) == rst_verdict::out_of_window);
    CHECK(judge_rst(f, client, rst(1000 + 0x10000), 0x10000) == rst_verdict::out_of_window);
    // The backend's side shifted down (its numbers run ahead of what the client sees).
    f.seq_next[size_t(backend)] = 5000 - 0x20000;
    CHECK(judge_rst(f, backend, rst(5000), uint32_t(0) - 0x20000) == rst_verdict::accept);
}

TEST_CASE("an RST inside the receiver's window but not exact is in_window") {
    flow_entry f = established();
    CHECK(judge_rst(f, client, rst(1001), 0) == rst_verdict::in_window);
    CHECK(judge_rst(f, client, rst(1099), 0) == rst_verdict::in_window);
    CHECK(judge_rst(f, backend, rst(5050), 0) == rst_verdict::in_window);
}

TEST_CASE("an RST outside the receiver's window is out_of_window") {
    flow_entry f = established();
    CHECK(judge_rst(f, client, rst(1100), 0) == rst_verdict::out_of_window);
    CHECK(judge_rst(f, client, rst(999), 0) == rst_verdict::out_of_window);  // behind
    CHECK(judge_rst(f, client, rst(1000 + 0x80000000u), 0) == rst_verdict::out_of_window);
    CHECK(judge_rst(f, backend, rst(4999), 0) == rst_verdict::out_of_window);
    CHECK(judge_rst(f, backend, rst(5100), 0) == rst_verdict::out_of_window);
}

TEST_CASE("the receiver's window is scaled by its shift once both sides agreed on scaling") {
    flow_entry f = established();
    f.wscale = 0x21;  // client shift 1 (low nibble), backend shift 2 (high nibble)
    // Not agreed: the raw windows apply.
    CHECK(judge_rst(f, client, rst(1000 + 150), 0) == rst_verdict::out_of_window);
    f.extra |= flow_extra::wscale_agreed;
    // RST to the backend: its window 100 << 2 = 400.
    CHECK(judge_rst(f, client, rst(1000 + 399), 0) == rst_verdict::in_window);
    CHECK(judge_rst(f, client, rst(1000 + 400), 0) == rst_verdict::out_of_window);
    // RST to the client: its window 100 << 1 = 200.
    CHECK(judge_rst(f, backend, rst(5000 + 199), 0) == rst_verdict::in_window);
    CHECK(judge_rst(f, backend, rst(5000 + 200), 0) == rst_verdict::out_of_window);
}

TEST_CASE("a zero window accepts only the exact RST, even the next sequence is out_of_window") {
    flow_entry f = established();
    f.window[size_t(backend)] = 0;
    CHECK(judge_rst(f, client, rst(1000), 0) == rst_verdict::accept);
    CHECK(judge_rst(f, client, rst(1001), 0) == rst_verdict::out_of_window);
}

TEST_CASE("SYN_SENT: the backend's RST is accepted only if it ACKs the client's SYN") {
    flow_entry f = blank();
    track(f, client, 1000, 0, tcp_flag::syn, 64240);  // seq_next[client] = 1001
    REQUIRE(f.seq_next[size_t(client)] == 1001);
    CHECK(judge_rst(f, backend, rst(0, 1001, tcp_flag::ack), 0) == rst_verdict::accept);
    CHECK(judge_rst(f, backend, rst(0, 1000, tcp_flag::ack), 0) == rst_verdict::out_of_window);
    CHECK(judge_rst(f, backend, rst(0, 1002, tcp_flag::ack), 0) == rst_verdict::out_of_window);
    CHECK(judge_rst(f, backend, rst(0, 1001), 0) == rst_verdict::out_of_window);  // no ACK bit
    // Without any known client sequence nothing is accepted.
    flow_entry unknown = blank();
    CHECK(judge_rst(unknown, backend, rst(0, 0, tcp_flag::ack), 0) == rst_verdict::out_of_window);
}

TEST_CASE("SYN_SENT: the client's RST is accepted only at the sequence after its SYN") {
    flow_entry f = blank();
    track(f, client, 1000, 0, tcp_flag::syn, 64240);
    CHECK(judge_rst(f, client, rst(1001), 0) == rst_verdict::accept);
    CHECK(judge_rst(f, client, rst(1000), 0) == rst_verdict::out_of_window);
    CHECK(judge_rst(f, client, rst(1002), 0) == rst_verdict::out_of_window);
}

// --- track_segment ------------------------------------------------------------------------------

TEST_CASE("seq_next counts SYN, payload and FIN and never moves back on retransmission") {
    flow_entry f = blank();
    track(f, client, 1000, 0, tcp_flag::syn, 64240);
    CHECK((f.flags & flow_flag::seq_client) != 0);
    CHECK((f.flags & flow_flag::seq_backend) == 0);
    CHECK(f.seq_next[size_t(client)] == 1001);
    track(f, client, 1001, 5001, tcp_flag::ack | tcp_flag::psh, 500, 100);
    CHECK(f.seq_next[size_t(client)] == 1101);
    track(f, client, 1001, 5001, tcp_flag::ack | tcp_flag::psh, 500, 50);  // retransmission
    CHECK(f.seq_next[size_t(client)] == 1101);
    track(f, client, 1000, 0, tcp_flag::syn, 64240);  // retransmitted SYN
    CHECK(f.seq_next[size_t(client)] == 1101);
    track(f, client, 1101, 5001, tcp_flag::ack | tcp_flag::fin, 500);
    CHECK(f.seq_next[size_t(client)] == 1102);
}

TEST_CASE("seq_next moves forward across the 2^32 sequence wrap-around") {
    flow_entry f = blank();
    track(f, client, 0xffffff00u, 0, tcp_flag::syn, 64240);
    CHECK(f.seq_next[size_t(client)] == 0xffffff01u);
    track(f, client, 0xffffff01u, 1, tcp_flag::ack, 500, 0x200);
    CHECK(f.seq_next[size_t(client)] == 0x101u);
    track(f, client, 0xffffff01u, 1, tcp_flag::ack, 500, 0x10);  // old, before the wrap
    CHECK(f.seq_next[size_t(client)] == 0x101u);
}

TEST_CASE("an RST records nothing") {
    flow_entry f = established();
    const flow_entry before = f;
    track(f, client, 1500, 6000, tcp_flag::rst | tcp_flag::ack, 9999, 10);
    CHECK(std::memcmp(&f, &before, sizeof f) == 0);
}

TEST_CASE("ack and window are recorded per direction; an older ack does not move them back") {
    flow_entry f = blank();
    track(f, client, 1000, 0, tcp_flag::syn, 64240);
    CHECK((f.extra & flow_extra::ack_client) == 0);  // a SYN without ACK acknowledges nothing
    track(f, backend, 5000, 1001, tcp_flag::syn | tcp_flag::ack, 29200);
    CHECK((f.extra & flow_extra::ack_backend) != 0);
    CHECK((f.extra & flow_extra::replied) != 0);
    CHECK(f.ack_seen[size_t(backend)] == 1001);
    CHECK(f.window[size_t(backend)] == 29200);
    CHECK(f.seq_next[size_t(backend)] == 5001);
    track(f, client, 1001, 5001, tcp_flag::ack, 502);
    CHECK((f.extra & flow_extra::ack_client) != 0);
    CHECK(f.ack_seen[size_t(client)] == 5001);
    CHECK(f.window[size_t(client)] == 502);
    track(f, client, 1001, 5301, tcp_flag::ack, 400);
    CHECK(f.ack_seen[size_t(client)] == 5301);
    CHECK(f.window[size_t(client)] == 400);
    track(f, client, 1001, 5001, tcp_flag::ack, 7);  // reordered old ACK
    CHECK(f.ack_seen[size_t(client)] == 5301);
    CHECK(f.window[size_t(client)] == 400);
}

TEST_CASE("window scaling applies only when both SYNs carry the option") {
    SUBCASE("both: shifts stored, client low nibble, backend high nibble") {
        flow_entry f = blank();
        track(f, client, 1000, 0, tcp_flag::syn, 64240, 0, wscale_option(7));
        CHECK((f.extra & flow_extra::wscale_client_offered) != 0);
        CHECK((f.extra & flow_extra::wscale_agreed) == 0);
        track(f, backend, 5000, 1001, tcp_flag::syn | tcp_flag::ack, 29200, 0, wscale_option(3));
        CHECK((f.extra & flow_extra::wscale_agreed) != 0);
        CHECK(f.wscale == 0x37);
        // The SYN-ACK's window is unscaled: kept in scaled units, rounded up (29200 / 8 = 3650).
        CHECK(f.window[size_t(backend)] == 3650);
        // Later windows are scaled already and stored as sent.
        track(f, backend, 5001, 1001, tcp_flag::ack, 1000);
        CHECK(f.window[size_t(backend)] == 1000);
    }
    SUBCASE("only the client: not agreed") {
        flow_entry f = blank();
        track(f, client, 1000, 0, tcp_flag::syn, 64240, 0, wscale_option(7));
        track(f, backend, 5000, 1001, tcp_flag::syn | tcp_flag::ack, 29200);
        CHECK((f.extra & flow_extra::wscale_agreed) == 0);
        CHECK(f.window[size_t(backend)] == 29200);
    }
    SUBCASE("only the backend: not agreed") {
        flow_entry f = blank();
        track(f, client, 1000, 0, tcp_flag::syn, 64240);
        track(f, backend, 5000, 1001, tcp_flag::syn | tcp_flag::ack, 29200, 0, wscale_option(3));
        CHECK((f.extra & flow_extra::wscale_agreed) == 0);
        CHECK((f.wscale >> 4) == 0);
    }
    SUBCASE("a new client SYN without the option clears an earlier offer") {
        flow_entry f = blank();
        track(f, client, 1000, 0, tcp_flag::syn, 64240, 0, wscale_option(7));
        track(f, client, 9000, 0, tcp_flag::syn, 64240);
        CHECK((f.extra & flow_extra::wscale_client_offered) == 0);
        track(f, backend, 5000, 9001, tcp_flag::syn | tcp_flag::ack, 29200, 0, wscale_option(3));
        CHECK((f.extra & flow_extra::wscale_agreed) == 0);
    }
}

TEST_CASE("a backend FIN before the client's marks backend_closed_first") {
    flow_entry f = established();
    f.extra &= uint8_t(~flow_extra::backend_closed_first);
    track(f, backend, 5000, 1000, tcp_flag::fin | tcp_flag::ack, 100);
    CHECK((f.extra & flow_extra::backend_closed_first) != 0);

    flow_entry g = established();
    g.flags |= flow_flag::fin_from_client;  // set by the state machine on the client's FIN
    track(g, backend, 5000, 1001, tcp_flag::fin | tcp_flag::ack, 100);
    CHECK((g.extra & flow_extra::backend_closed_first) == 0);
}

// --- plausible_new_syn --------------------------------------------------------------------------

TEST_CASE("plausible_new_syn: a SYN beyond the old connection's sequence starts a new one") {
    flow_entry f = established();  // client seq_next 1000, client ACKed
    CHECK(plausible_new_syn(f, 1001));
    CHECK(plausible_new_syn(f, 1000 + 0x7fffffffu));
    CHECK_FALSE(plausible_new_syn(f, 1000));                // equal
    CHECK_FALSE(plausible_new_syn(f, 999));                 // behind, also the old SYN once ACKed
    CHECK_FALSE(plausible_new_syn(f, 1000 + 0x80000000u));  // behind by serial arithmetic
}

TEST_CASE("plausible_new_syn: the same SYN retried after the backend refused it is accepted") {
    // The backend's bare ACK to the SYN (TIME_WAIT on the tuple) marks the attempt refused.
    flow_entry f = blank();
    track(f, client, 1000, 0, tcp_flag::syn, 64240);    // seq_next 1001, no client ACK
    CHECK_FALSE(plausible_new_syn(f, 1000));            // not refused: a replay (a SYN flood's)
    track(f, backend, 7000, 4242, tcp_flag::ack, 502);  // challenge ACK, not a SYN-ACK
    CHECK(plausible_new_syn(f, 1000));                  // the same SYN again
    CHECK_FALSE(plausible_new_syn(f, 999));
    CHECK_FALSE(plausible_new_syn(f, 1001));
    CHECK(plausible_new_syn(f, 1002));
    track(f, client, 1001, 5001, tcp_flag::ack, 502);  // the client ACKed: no longer a retry
    CHECK_FALSE(plausible_new_syn(f, 1000));
}

TEST_CASE("plausible_new_syn: a SYN answered with a SYN-ACK and reset is not retried") {
    flow_entry f = blank();
    track(f, client, 1000, 0, tcp_flag::syn, 64240);
    track(f, backend, 7000, 1001, tcp_flag::syn | tcp_flag::ack, 64240);
    CHECK_FALSE(plausible_new_syn(f, 1000));
}

TEST_CASE("plausible_new_syn: without a known client sequence any SYN is plausible") {
    flow_entry f = blank(tcp_state::close);
    CHECK(plausible_new_syn(f, 0));
    CHECK(plausible_new_syn(f, 123456));
}

// --- evictable / backend_forgets_tuple ----------------------------------------------------------

TEST_CASE("evictable: TCP established never, any other TCP state yes") {
    for (auto s : {tcp_state::syn_sent, tcp_state::syn_recv, tcp_state::established,
                   tcp_state::fin_wait, tcp_state::time_wait, tcp_state::close}) {
        CAPTURE(int(s));
        flow_entry f = established();
        f.state = s;
        CHECK(evictable(f, tcp) == (s != tcp_state::established));
    }
}

TEST_CASE("evictable: UDP only while the backend never replied") {
    flow_entry f = blank(tcp_state::established);
    CHECK(evictable(f, udp));
    track(f, client, 0, 0, 0, 0);  // whatever the client sends, still unanswered
    CHECK(evictable(f, udp));
    f.extra |= flow_extra::replied;
    CHECK_FALSE(evictable(f, udp));
}

TEST_CASE("backend_forgets_tuple: UDP, handshake unanswered, reset, client closed first") {
    CHECK(backend_forgets_tuple(blank(tcp_state::established), udp));
    CHECK(backend_forgets_tuple(blank(tcp_state::syn_sent), tcp));
    CHECK(backend_forgets_tuple(blank(tcp_state::close), tcp));
    flow_entry tw = blank(tcp_state::time_wait);
    CHECK(backend_forgets_tuple(tw, tcp));  // the client closed first: TIME_WAIT is the client's
    tw.extra |= flow_extra::backend_closed_first;
    CHECK_FALSE(backend_forgets_tuple(tw, tcp));  // the backend holds TIME_WAIT
    CHECK_FALSE(backend_forgets_tuple(blank(tcp_state::syn_recv), tcp));
    CHECK_FALSE(backend_forgets_tuple(blank(tcp_state::established), tcp));
    CHECK_FALSE(backend_forgets_tuple(blank(tcp_state::fin_wait), tcp));
}

// --- the plain path (plain_segment, track_plain) ------------------------------------------------

TEST_CASE("plain_segment: only an established, tracked, untranslated, unproxied flow's ACK") {
    using sluice::flow::plain_segment;
    flow_entry f = established();
    f.flags |= flow_flag::inspected;
    CHECK(plain_segment(f, tcp_flag::ack));
    CHECK(plain_segment(f, tcp_flag::ack | 0x08));  // PSH
    CHECK_FALSE(plain_segment(f, tcp_flag::ack | tcp_flag::fin));
    CHECK_FALSE(plain_segment(f, tcp_flag::ack | tcp_flag::rst));
    CHECK_FALSE(plain_segment(f, tcp_flag::ack | tcp_flag::syn));
    const auto without = [&](auto edit) {
        flow_entry g = f;
        edit(g);
        return plain_segment(g, tcp_flag::ack);
    };
    CHECK_FALSE(without([](flow_entry& g) { g.state = tcp_state::fin_wait; }));
    CHECK_FALSE(without([](flow_entry& g) { g.state = tcp_state::syn_recv; }));
    CHECK_FALSE(without([](flow_entry& g) { g.flags &= uint8_t(~flow_flag::inspected); }));
    CHECK_FALSE(without([](flow_entry& g) { g.flags |= flow_flag::proxied; }));
    CHECK_FALSE(without([](flow_entry& g) { g.flags &= uint8_t(~flow_flag::seq_backend); }));
    CHECK_FALSE(without([](flow_entry& g) { g.extra |= flow_extra::translated; }));
    CHECK_FALSE(without([](flow_entry& g) { g.extra &= uint8_t(~flow_extra::ack_client); }));
    CHECK_FALSE(without([](flow_entry& g) { g.extra &= uint8_t(~flow_extra::replied); }));
}

TEST_CASE("track_plain leaves an entry exactly as track_segment does for a plain segment") {
    // Segments ahead, behind and across the 2^32 wrap, with and without payload, acks moving
    // both ways, both directions, with window scaling agreed or not (a non-SYN window is kept
    // unscaled either way).
    uint32_t x = 0x12345678;
    const auto next = [&x] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return x;
    };
    for (int i = 0; i < 20000; ++i) {
        flow_entry a = established();
        a.flags |= flow_flag::inspected;
        if (i & 1) {
            a.extra |= flow_extra::wscale_agreed | flow_extra::wscale_client_offered;
            a.wscale = 0x73;
        }
        const uint32_t base = next();
        a.seq_next[0] = base;
        a.seq_next[1] = base + next() % 4096;
        a.ack_seen[0] = a.seq_next[1] - next() % 2048;
        a.ack_seen[1] = a.seq_next[0] - next() % 2048;
        flow_entry b = a;
        const direction dir = (i & 2) ? backend : client;
        const uint32_t seq = a.seq_next[size_t(dir)] + next() % 8192 - 4096;
        const uint32_t ack = a.ack_seen[size_t(dir)] + next() % 8192 - 4096;
        const uint8_t flags = uint8_t(tcp_flag::ack | ((i & 4) ? 0x08 : 0));
        auto h = header(seq, ack, flags, uint16_t(next()));
        const tcp_segment seg = read_segment(h.data(), uint16_t(h.size() + next() % 1500));
        REQUIRE(sluice::flow::plain_segment(a, seg.flags));
        track_segment(a, dir, h.data(), seg);
        sluice::flow::track_plain(b, dir, seg);
        REQUIRE(std::memcmp(&a, &b, sizeof a) == 0);
    }
}

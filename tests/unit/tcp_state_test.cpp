// Unit tests for src/flow/tcp_state: the full-NAT view of a TCP connection's life.
#include "flow/tcp_state.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "packet/wire.hpp"

using sluice::flow::direction;
using sluice::flow::tcp_next_state;
using sluice::flow::tcp_state;
using sluice::flow::tcp_state_name;
using sluice::flow::tcp_transition;
namespace flow_flag = sluice::flow::flow_flag;
namespace tcp_flag = sluice::packet::tcp_flag;

namespace doctest {
template <>
struct StringMaker<tcp_state> {
    static String convert(tcp_state s) { return tcp_state_name(s); }
};
}  // namespace doctest

namespace {

constexpr auto C = direction::from_client;
constexpr auto B = direction::from_backend;
constexpr uint8_t syn = tcp_flag::syn, ack = tcp_flag::ack, fin = tcp_flag::fin,
                  rst = tcp_flag::rst, psh = tcp_flag::psh;

const std::vector<tcp_state> all_states = {tcp_state::syn_sent,    tcp_state::syn_recv,
                                           tcp_state::established, tcp_state::fin_wait,
                                           tcp_state::time_wait,   tcp_state::close};

struct segment {
    direction dir;
    uint8_t flags;
};

// Runs segments from syn_sent (the state a flow is created in) and returns the final transition.
tcp_transition run(const std::vector<segment>& segments, tcp_state from = tcp_state::syn_sent) {
    tcp_transition t{from, 0};
    for (const auto& s : segments) t = tcp_next_state(t.state, t.flags, s.dir, s.flags);
    return t;
}

}  // namespace

TEST_CASE("the three-way handshake goes syn_sent -> syn_recv -> established") {
    // Property: backend SYN-ACK then client ACK (with or without data) establishes the flow.
    for (uint8_t client_ack : {ack, uint8_t(ack | psh)}) {
        auto t1 = tcp_next_state(tcp_state::syn_sent, 0, B, syn | ack);
        CHECK(t1.state == tcp_state::syn_recv);
        auto t2 = tcp_next_state(t1.state, t1.flags, C, client_ack);
        CHECK(t2.state == tcp_state::established);
        CHECK(t2.flags == 0);
    }
    // Data both ways keeps it established.
    CHECK(run({{B, syn | ack}, {C, ack}, {C, ack | psh}, {B, ack | psh}, {B, ack}}).state ==
          tcp_state::established);
}

TEST_CASE("segments that do not complete the handshake do not advance it") {
    // Property: only a backend SYN-ACK, then a client ACK without SYN, advance the handshake.
    for (uint8_t flags : {syn, ack, uint8_t(syn | ack), psh, uint8_t(ack | psh)}) {
        CAPTURE(int(flags));
        CHECK(tcp_next_state(tcp_state::syn_sent, 0, C, flags).state == tcp_state::syn_sent);
        if (flags != (syn | ack))
            CHECK(tcp_next_state(tcp_state::syn_sent, 0, B, flags).state == tcp_state::syn_sent);
    }
    CHECK(tcp_next_state(tcp_state::syn_recv, 0, C, syn | ack).state == tcp_state::syn_recv);
    CHECK(tcp_next_state(tcp_state::syn_recv, 0, C, syn).state == tcp_state::syn_recv);
    CHECK(tcp_next_state(tcp_state::syn_recv, 0, B, ack).state == tcp_state::syn_recv);
    CHECK(tcp_next_state(tcp_state::syn_recv, 0, B, syn | ack).state == tcp_state::syn_recv);
}

TEST_CASE("a FIN from one side gives fin_wait, from both sides time_wait") {
    // Property: one side's FIN gives fin_wait, both sides' FINs (either order) time_wait.
    for (direction first : {C, B}) {
        direction second = first == C ? B : C;
        uint8_t first_bit = first == C ? flow_flag::fin_from_client : flow_flag::fin_from_backend;
        auto t = tcp_next_state(tcp_state::established, 0, first, fin | ack);
        CHECK(t.state == tcp_state::fin_wait);
        CHECK(t.flags == first_bit);
        auto again = tcp_next_state(t.state, t.flags, first, fin | ack);
        CHECK(again.state == tcp_state::fin_wait);
        CHECK(again.flags == first_bit);
        auto acked = tcp_next_state(t.state, t.flags, second, ack);
        CHECK(acked.state == tcp_state::fin_wait);
        auto both = tcp_next_state(acked.state, acked.flags, second, fin | ack);
        CHECK(both.state == tcp_state::time_wait);
        CHECK(both.flags == (flow_flag::fin_from_client | flow_flag::fin_from_backend));
        CHECK(tcp_next_state(both.state, both.flags, first, ack).state == tcp_state::time_wait);
    }
}

TEST_CASE("RST closes the flow from any state") {
    // Property: RST in any state, direction and flag mix gives close, keeping the FIN bits.
    for (tcp_state s : all_states) {
        for (direction d : {C, B}) {
            for (uint8_t extra : {uint8_t(0), ack, fin, syn, uint8_t(fin | ack)}) {
                for (uint8_t bits : {uint8_t(0), flow_flag::fin_from_client}) {
                    CAPTURE(s);
                    CAPTURE(int(extra));
                    auto t = tcp_next_state(s, bits, d, uint8_t(rst | extra));
                    CHECK(t.state == tcp_state::close);
                    CHECK(t.flags == bits);
                }
            }
        }
    }
    for (uint8_t f : {ack, syn, uint8_t(syn | ack), fin, uint8_t(fin | ack)})
        for (direction d : {C, B})
            CHECK(tcp_next_state(tcp_state::close, 0, d, f).state == tcp_state::close);
}

TEST_CASE("FIN flag bits are recorded per direction") {
    // Property: a FIN sets only its direction's bit, in every state; set bits never clear.
    for (tcp_state s : all_states) {
        for (uint8_t before :
             {uint8_t(0), flow_flag::fin_from_client, flow_flag::fin_from_backend}) {
            CAPTURE(s);
            CAPTURE(int(before));
            CHECK(tcp_next_state(s, before, C, fin).flags == (before | flow_flag::fin_from_client));
            CHECK(tcp_next_state(s, before, B, fin).flags ==
                  (before | flow_flag::fin_from_backend));
            CHECK(tcp_next_state(s, before, C, ack).flags == before);
            CHECK(tcp_next_state(s, before, B, syn | ack).flags == before);
        }
    }
}

TEST_CASE("a whole connection walks through every state in order") {
    // Property: a normal connection goes syn_sent, syn_recv, established, fin_wait, time_wait.
    std::vector<segment> segs = {{B, syn | ack}, {C, ack}, {C, fin | ack}, {B, fin | ack}};
    tcp_transition t{tcp_state::syn_sent, 0};
    std::vector<std::string> names = {tcp_state_name(t.state)};
    for (const auto& s : segs) {
        t = tcp_next_state(t.state, t.flags, s.dir, s.flags);
        names.push_back(tcp_state_name(t.state));
    }
    CHECK(names ==
          std::vector<std::string>{"syn_sent", "syn_recv", "established", "fin_wait", "time_wait"});
    CHECK(std::string(tcp_state_name(tcp_state::close)) == "close");
}

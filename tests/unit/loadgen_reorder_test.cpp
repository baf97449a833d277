// Unit tests for perf/loadgen/flow_order.hpp, the generator's reorder count: a frame whose
// sequence number is below the highest its side has received on the flow counts as reordered
// (copies and unnumbered frames do not), across the 24-bit wrap, against a model on random
// arrival orders; the numbers travel in the payload stamp through a built and checked frame; a
// new use of a connection slot starts its numbers again.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

#include "loadgen/connection_table.hpp"
#include "loadgen/flow_order.hpp"
#include "loadgen/frames.hpp"

using namespace sluice::loadgen;
using sluice::ip_address;

namespace {

constexpr peer_side client = peer_side::client;
constexpr peer_side server = peer_side::server;

// How many of `arrivals` the flow counts as reordered, fed to one receiving side.
unsigned reordered(flow_order& o, const std::vector<uint32_t>& arrivals, peer_side at = client) {
    unsigned n = 0;
    for (uint32_t seq : arrivals) n += o.arrived(at, seq);
    return n;
}

ip_address addr(const char* text) {
    return *ip_address::parse(text);
}

}  // namespace

TEST_CASE("a frame numbered below the highest already received is reordered, not lost") {
    flow_order o;
    CHECK(reordered(o, {1, 2, 4, 3, 5}) == 1);  // 3 after 4
    flow_order late;
    CHECK(reordered(late, {2, 3, 4, 1}) == 1);  // the first frame overtaken by three
    flow_order two;
    CHECK(reordered(two, {1, 4, 2, 3, 5}) == 2);  // 2 and 3 after 4
    flow_order gaps;
    CHECK(reordered(gaps, {1, 5, 9}) == 0);  // gaps are losses, not reordering
    CHECK(gaps.highest[size_t(client)] == 9);
}

TEST_CASE("copies and unnumbered frames are not reordered; the two directions are judged apart") {
    flow_order o;
    CHECK(reordered(o, {1, 1, 2, 2, 0, 0, 3}) == 0);
    // The server side has received nothing yet: 1 is its first, not older than the client's 3.
    CHECK(reordered(o, {1, 2}, server) == 0);
    CHECK(reordered(o, {1}, server) == 1);
    CHECK(reordered(o, {2}, client) == 1);
}

TEST_CASE("each side numbers its frames 1, 2, ... and wraps from 2^24 - 1 to 1, never 0") {
    flow_order o;
    CHECK(o.next(client) == 1);
    CHECK(o.next(client) == 2);
    CHECK(o.next(server) == 1);  // per side
    o.last_sent[size_t(client)] = stamp_seq_mask - 1;
    CHECK(o.next(client) == stamp_seq_mask);
    CHECK(o.next(client) == 1);
}

TEST_CASE("order is judged across the wrap: serial-number arithmetic over 24 bits") {
    flow_order o;
    CHECK(reordered(o, {stamp_seq_mask - 1, stamp_seq_mask, 1, 2}) == 0);
    CHECK(o.highest[size_t(client)] == 2);
    CHECK(reordered(o, {stamp_seq_mask}) == 1);  // sent before 1 and 2
    // Half the space ahead is newer, anything further is taken as older.
    flow_order far;
    CHECK(reordered(far, {10, 10 + flow_order::half_space - 1}) == 0);
    CHECK(reordered(far, {10 + flow_order::half_space - 1 + flow_order::half_space + 1}) == 1);
}

TEST_CASE("random arrival orders: the count equals a model's (numbers below the running maximum)") {
    std::mt19937 rng(17);
    for (unsigned round = 0; round < 200; ++round) {
        // Frames 1..n sent in order; some lost, some displaced by up to `window` places.
        const unsigned n = 1 + rng() % 300, window = 1 + rng() % 20;
        std::vector<uint32_t> arrivals;
        for (uint32_t s = 1; s <= n; ++s)
            if (rng() % 10) arrivals.push_back(s);
        for (size_t i = 0; i + 1 < arrivals.size(); ++i) {
            const size_t j = std::min(arrivals.size() - 1, i + rng() % window);
            std::swap(arrivals[i], arrivals[j]);
        }
        unsigned model = 0;
        uint32_t highest = 0;
        for (uint32_t s : arrivals) {
            if (s < highest) ++model;
            highest = std::max(highest, s);
        }
        flow_order o;
        CAPTURE(round);
        CHECK(reordered(o, arrivals, server) == model);
    }
}

TEST_CASE("the sequence number travels in the stamp through a built and checked datagram") {
    flow_order sender, receiver;
    client_side_expectation x{addr("198.18.0.10"), 9000, {addr("198.19.0.1"), 1}, {1024, 100}};
    frame_ends ends;  // the balancer's answer: VIP -> client
    ends.src = addr("198.18.0.10");
    ends.dst = addr("198.19.0.1");
    ends.src_port = 9000;
    ends.dst_port = 1030;
    std::vector<std::vector<uint8_t>> frames;
    for (unsigned k = 0; k < 3; ++k) {
        const payload_stamp stamp{6, 1000 + k, sender.next(server)};
        std::vector<uint8_t> f(max_header_len + 16);
        f.resize(build_udp_frame(f.data(), f.size(), ends, 16, &stamp));
        frames.push_back(f);
    }
    unsigned n = 0;
    for (unsigned k : {0u, 2u, 1u}) {  // the third overtakes the second
        received_frame r;
        REQUIRE(check_client_frame(frames[k].data(), uint32_t(frames[k].size()), x, r) ==
                frame_verdict::ok);
        REQUIRE(r.stamp.has_value());
        CHECK(r.stamp->seq == k + 1);
        n += receiver.arrived(client, r.stamp->seq);
    }
    CHECK(n == 1);
}

TEST_CASE("a new use of a connection slot starts both directions' numbers again") {
    table_config c;
    c.clients = {addr("198.19.0.1"), 1};
    c.client_ports = {1024, 100};
    c.vip = addr("198.18.0.10");
    c.vip_port = 80;
    c.local = {addr("198.18.1.128"), 16};
    c.backends = {addr("198.18.1.11"), 4};
    c.backend_port = 80;
    c.capacity = 10;
    connection_table t(c);
    t.open(3, 77);
    CHECK(t.order(3).next(client) == 1);
    CHECK(t.order(3).next(client) == 2);
    CHECK_FALSE(t.order(3).arrived(server, 2));
    CHECK(t.order(4).next(client) == 1);  // per connection
    t.open(3, 78);
    CHECK(t.order(3).next(client) == 1);
    CHECK_FALSE(t.order(3).arrived(server, 1));  // the previous use's highest is gone
}

// Packet tests of the half-open limits max_half_open and max_half_open_per_backend (no proxy).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "packet/harness.hpp"
#include "packet/proxy_segments.hpp"
#include "packet/syn_proxy_config.hpp"

using namespace sluice;
using namespace sluice::packet_test;

TEST_CASE("max_half_open refuses SYNs while the VIP has that many half-open connections") {
    // Property: max_half_open = 2 refuses SYNs while the VIP has two half-open connections.
    // Without the proxy: two SYNs are forwarded, a third is a limit_connections drop with no
    // output; a backend SYN-ACK alone (SYN_RECV) frees no slot, the client's ACK completing the
    // handshake does, and a new SYN is forwarded.
    resolve_neighbors();
    const uint64_t limited = drops(drop_reason::limit_connections);
    std::vector<segment> forwarded;
    for (uint16_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        inject(client, client_segment(half_open_port, uint16_t(47001 + i), flag::syn,
                                      1000u * (i + 1), 0, {}));
        run_passes();
        CHECK(sent(client).empty());
        auto out = sent(servers);
        if (i < 2) {
            REQUIRE(out.size() == 1);
            forwarded.push_back(decode(out[0]));
            CHECK(forwarded.back().flags == flag::syn);
            CHECK(forwarded.back().ip.dport == half_open_port);
            CHECK(drops(drop_reason::limit_connections) == limited);
        } else {
            CHECK(out.empty());
            CHECK(drops(drop_reason::limit_connections) == limited + 1);
        }
    }
    REQUIRE(forwarded.size() == 2);

    // The first connection's backend answers: SYN_RECV is still half-open.
    const segment& first = forwarded[0];
    const unsigned b = unsigned(first.ip.dst[3] - 11);
    REQUIRE(b < 3);
    inject(servers, backend_segment(b, half_open_port, first.ip.sport, flag::syn | flag::ack, 90000,
                                    1001, {}));
    run_passes();
    auto back = sent(client);
    REQUIRE(back.size() == 1);
    CHECK(decode(back[0]).flags == (flag::syn | flag::ack));
    CHECK(view(back[0]).dport == 47001);
    inject(client, client_segment(half_open_port, 47003, flag::syn, 3000, 0, {}));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::limit_connections) == limited + 2);

    // The client completes the handshake: one slot frees, a new SYN is forwarded.
    inject(client, client_segment(half_open_port, 47001, flag::ack, 1001, 90001, {}));
    run_passes();
    auto ack = sent(servers);
    REQUIRE(ack.size() == 1);
    CHECK(decode(ack[0]).flags == flag::ack);
    inject(client, client_segment(half_open_port, 47004, flag::syn, 4000, 0, {}));
    run_passes();
    CHECK(sent(client).empty());
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(decode(out[0]).flags == flag::syn);
    CHECK(drops(drop_reason::limit_connections) == limited + 2);
}

TEST_CASE("max_half_open_per_backend = 1 spreads SYNs one per backend and then refuses") {
    // Property: max_half_open_per_backend = 1 puts one half-open flow on each backend, no more.
    // Three backends: three SYNs go to three distinct backends, a fourth is a backends_full drop
    // with no output.
    resolve_neighbors();
    const uint64_t full = drops(drop_reason::backends_full);
    std::vector<uint8_t> backends;
    for (uint16_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        inject(client, client_segment(per_backend_port, uint16_t(48001 + i), flag::syn,
                                      2000u * (i + 1), 0, {}));
        run_passes();
        CHECK(sent(client).empty());
        auto out = sent(servers);
        if (i < 3) {
            REQUIRE(out.size() == 1);
            auto v = view(out[0]);
            CHECK(v.dport == per_backend_port);
            backends.push_back(v.dst[3]);
            CHECK(drops(drop_reason::backends_full) == full);
        } else {
            CHECK(out.empty());
            CHECK(drops(drop_reason::backends_full) == full + 1);
        }
    }
    std::sort(backends.begin(), backends.end());
    CHECK(backends == std::vector<uint8_t>{11, 12, 13});
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, syn_proxy_config_text, "syn_proxy_half_open_test");
}

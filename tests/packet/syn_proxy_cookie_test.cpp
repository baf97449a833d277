// Packet tests of the SYN proxy's cookie handshake: the LB's SYN-ACK, and ACKs it refuses.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>

#include "packet/harness.hpp"
#include "packet/proxy_segments.hpp"
#include "packet/syn_proxy_config.hpp"

using namespace sluice;
using namespace sluice::packet_test;

TEST_CASE("a SYN to a proxied VIP is answered by the LB with a cookie SYN-ACK and no flow") {
    // Property: a proxied VIP answers a SYN itself with one cookie SYN-ACK and creates no flow.
    // For both ways of writing syn_proxy = on: VIP→client, ack = ISN + 1, MSS 1460, WS 7,
    // SACK_PERM, TS echoing the client's TSval (our TSval carrying its WS and SACK_PERM); the
    // backends see nothing.
    resolve_neighbors();
    const uint16_t vips[] = {proxied_port, proxied_table_port};
    uint16_t cport = 45001;
    for (uint16_t vip : vips) {
        CAPTURE(vip);
        const uint32_t isn = 0x10203040, tsval = 0x00abcdef;
        const uint64_t cookies = count_of(&wc::syn_cookies_sent);
        const uint64_t created = count_of(&wc::flows_created);
        const uint32_t flows = flow_count();
        inject(client, client_segment(vip, cport, flag::syn, isn, 0, syn_options(tsval, 7)));
        run_passes();
        CHECK(sent(servers).empty());
        auto out = sent(client);
        REQUIRE(out.size() == 1);
        const bytes& f = out[0];
        CHECK(std::memcmp(&f[0], client_mac, 6) == 0);
        CHECK(std::memcmp(&f[6], port_mac(client), 6) == 0);
        segment s = decode(f);
        CHECK(s.ip.src == a4(198, 18, 0, 10));
        CHECK(s.ip.dst == a4(198, 18, 0, 2));
        CHECK(s.ip.sport == vip);
        CHECK(s.ip.dport == cport);
        CHECK(s.flags == (flag::syn | flag::ack));
        CHECK(s.ack == isn + 1);
        CHECK(s.payload.empty());
        CHECK(s.options.well_formed);
        CHECK(s.options.mss == 1460);
        CHECK(s.options.wscale == 7);
        CHECK(s.options.sack_perm);
        REQUIRE(s.options.timestamps);
        CHECK(s.options.tsecr == tsval);
        CHECK((s.options.tsval & 0x0f) == 7);  // syn_cookie.hpp: the client's WS in bits 0..3
        CHECK((s.options.tsval & 0x10) != 0);  // and SACK_PERM in bit 4
        CHECK(count_of(&wc::syn_cookies_sent) == cookies + 1);
        CHECK(count_of(&wc::flows_created) == created);
        CHECK(flow_count() == flows);
        ++cport;
    }
}

TEST_CASE("a SYN without timestamps gets a SYN-ACK offering neither window scaling nor SACK") {
    // Property: without client timestamps the cookie SYN-ACK offers neither WS nor SACK_PERM.
    // There is nowhere to remember them: only the MSS option, even though the client offered both.
    resolve_neighbors();
    const uint32_t isn = 77;
    inject(client, client_segment(proxied_port, 45050, flag::syn, isn, 0,
                                  cat({opt_mss(1400), opt_nop(), opt_nop(), opt_sack_perm(),
                                       opt_nop(), opt_ws(7)})));
    run_passes();
    CHECK(sent(servers).empty());
    auto out = sent(client);
    REQUIRE(out.size() == 1);
    segment s = decode(out[0]);
    CHECK(s.flags == (flag::syn | flag::ack));
    CHECK(s.ack == isn + 1);
    CHECK(s.options.well_formed);
    CHECK(s.options.mss == 1460);
    CHECK(s.options.wscale == -1);
    CHECK_FALSE(s.options.sack_perm);
    CHECK_FALSE(s.options.timestamps);
}

TEST_CASE("ACKs whose cookie does not validate are dropped as bad_cookie without output") {
    // Property: an ACK whose cookie does not validate is a bad_cookie drop with no output.
    // Rows: a random ack number, a real cookie echoed from another client port, a real cookie with
    // a sequence number that is not ISN + 1; none creates a flow.
    resolve_neighbors();
    const uint32_t isn = 0x0badf00d;
    const cookie_answer real = handshake_syn(proxied_port, 45101, isn, 1000);
    struct row {
        const char* name;
        uint16_t client_port;
        uint32_t seq, ack;
    };
    const row rows[] = {
        {"random ack", 45100, 5001, 0x5eed1234},
        {"cookie of another client port", 45102, isn + 1, real.cookie + 1},
        {"sequence number not ISN + 1", 45101, isn + 1000, real.cookie + 1},
    };
    for (const row& r : rows) {
        CAPTURE(r.name);
        const uint64_t bad = drops(drop_reason::bad_cookie);
        const uint64_t accepted = count_of(&wc::syn_proxy_accepted);
        const uint32_t flows = flow_count();
        inject(client, client_segment(proxied_port, r.client_port, flag::ack, r.seq, r.ack,
                                      ts_options(1001, real.tsval)));
        run_passes();
        CHECK(sent(client).empty());
        CHECK(sent(servers).empty());
        CHECK(drops(drop_reason::bad_cookie) == bad + 1);
        CHECK(count_of(&wc::syn_proxy_accepted) == accepted);
        CHECK(flow_count() == flows);
    }
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, syn_proxy_config_text, "syn_proxy_cookie_test");
}

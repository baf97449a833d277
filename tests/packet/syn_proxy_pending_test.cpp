// Packet tests of proxied connections whose backend has not answered: RSTs, held data, timeout.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "packet/harness.hpp"
#include "packet/proxy_segments.hpp"
#include "packet/syn_proxy_config.hpp"

using namespace sluice;
using namespace sluice::packet_test;

TEST_CASE("a backend RST while the proxied handshake is pending resets the client") {
    // Property: a backend RST while the proxied handshake is pending resets the client.
    // One VIP→client RST|ACK with seq = cookie + 1 and ack = ISN + 1, nothing to the backend, the
    // flow gone (a late backend segment is a no_flow drop, the held ACK freed) and
    // syn_proxy_backend_failed counted.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45300;
    const uint32_t isn = 0x01000000;
    const uint32_t flows = flow_count();
    const uint64_t failed = count_of(&wc::syn_proxy_backend_failed);
    const cookie_answer ours = handshake_syn(proxied_port, cport, isn, 5);
    inject(client, client_segment(proxied_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(6, ours.tsval)));
    run_passes();
    CHECK(sent(client).empty());
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn bs = read_backend_syn(out[0]);
    CHECK(flow_count() == flows + 1);

    inject(servers, backend_segment(bs.b, proxied_port, bs.lport, flag::rst | flag::ack, 0,
                                    bs.s.seq + 1, {}));
    run_passes();
    CHECK(sent(servers).empty());
    out = sent(client);
    REQUIRE(out.size() == 1);
    CHECK(std::memcmp(&out[0][0], client_mac, 6) == 0);
    segment r = decode(out[0]);
    CHECK(r.ip.src == a4(198, 18, 0, 10));
    CHECK(r.ip.dst == a4(198, 18, 0, 2));
    CHECK(r.ip.sport == proxied_port);
    CHECK(r.ip.dport == cport);
    CHECK(r.flags == (flag::rst | flag::ack));
    CHECK(r.seq == ours.cookie + 1);
    CHECK(r.ack == isn + 1);
    CHECK(count_of(&wc::syn_proxy_backend_failed) == failed + 1);
    CHECK(flow_count() == flows);

    const uint64_t no_flow = drops(drop_reason::no_flow);
    inject(servers, backend_segment(bs.b, proxied_port, bs.lport, flag::syn | flag::ack, 9000,
                                    bs.s.seq + 1, ts_options(1, 6)));
    run_passes();
    CHECK(sent(client).empty());
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::no_flow) == no_flow + 1);
    CHECK(pool_free() == free_before);
}

TEST_CASE("a third client segment while the backend is pending is dropped and the SYN resent") {
    // Property: at most two client segments are held while the backend is pending.
    // The handshake ACK and the first data are held; a third is dropped as proxy_pending and makes
    // the LB send its backend SYN again (same local port, seq = our ISN); after the backend's
    // SYN-ACK only the held two go out, and the client's retransmission of the third is then
    // forwarded in the backend's numbers.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45400;
    const uint32_t isn = 424200;
    const cookie_answer ours = handshake_syn(proxied_port, cport, isn, 50);
    inject(client, client_segment(proxied_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(51, ours.tsval)));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn bs = read_backend_syn(out[0]);
    const bytes first = {'a', 'b', 'c'}, second = {'d', 'e'};
    const uint64_t pending = drops(drop_reason::proxy_pending);
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 1,
                                  ours.cookie + 1, ts_options(52, ours.tsval), first));
    run_passes();
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::proxy_pending) == pending);
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 4,
                                  ours.cookie + 1, ts_options(53, ours.tsval), second));
    run_passes();
    CHECK(sent(client).empty());
    CHECK(drops(drop_reason::proxy_pending) == pending + 1);
    out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn again = read_backend_syn(out[0]);
    CHECK(again.s.flags == flag::syn);
    CHECK(again.b == bs.b);
    CHECK(again.lport == bs.lport);
    CHECK(again.s.seq == bs.s.seq);

    const uint32_t backend_isn = 0x7ffffff0;
    inject(servers,
           backend_segment(
               bs.b, proxied_port, bs.lport, flag::syn | flag::ack, backend_isn, bs.s.seq + 1,
               cat({opt_mss(1460), opt_sack_perm(), opt_ts(9999, 51), opt_nop(), opt_ws(7)})));
    run_passes();
    out = sent(servers);
    REQUIRE(out.size() == 2);
    CHECK(decode(out[0]).payload.empty());
    CHECK(decode(out[1]).payload == first);
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 4,
                                  ours.cookie + 1, ts_options(54, ours.tsval), second));
    run_passes();
    out = sent(servers);
    REQUIRE(out.size() == 1);
    segment d = decode(out[0]);
    CHECK(d.seq == bs.s.seq + 4);
    CHECK(d.ack == backend_isn + 1);
    CHECK(d.payload == second);
    CHECK(d.options.tsecr == 9999);
    CHECK(pool_free() == free_before);
}

TEST_CASE("a proxied connection whose backend never answers is reset at the embryonic timeout") {
    // Property: a backend that never answers makes the client get an RST at embryonic_timeout.
    // embryonic_timeout = 250ms: a VIP→client RST|ACK with seq = cookie + 1 and ack = ISN + 1
    // within a few ticks, syn_proxy_backend_failed counted, the flow gone, held segments freed.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45500;
    const uint32_t isn = 31337;
    const uint32_t flows = flow_count();
    const uint64_t failed = count_of(&wc::syn_proxy_backend_failed);
    const cookie_answer ours = handshake_syn(proxied_table_port, cport, isn, 7);
    inject(client, client_segment(proxied_table_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(8, ours.tsval)));
    inject(client, client_segment(proxied_table_port, cport, flag::psh | flag::ack, isn + 1,
                                  ours.cookie + 1, ts_options(9, ours.tsval), {'x'}));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    CHECK(read_backend_syn(out[0]).s.ip.dport == proxied_table_port);
    CHECK(flow_count() == flows + 1);
    // Flows age in 125 ms ticks: wait up to 3 s of real time for the timeout.
    std::vector<bytes> to_client;
    for (int i = 0; i < 300 && to_client.empty(); ++i) {
        usleep(10000);
        run_passes();
        to_client = sent(client);
    }
    REQUIRE(to_client.size() == 1);
    segment r = decode(to_client[0]);
    CHECK(r.ip.src == a4(198, 18, 0, 10));
    CHECK(r.ip.sport == proxied_table_port);
    CHECK(r.ip.dport == cport);
    CHECK(r.flags == (flag::rst | flag::ack));
    CHECK(r.seq == ours.cookie + 1);
    CHECK(r.ack == isn + 1);
    CHECK(count_of(&wc::syn_proxy_backend_failed) == failed + 1);
    CHECK(flow_count() == flows);
    sent(servers);
    CHECK(pool_free() == free_before);
}

TEST_CASE("a client RST while the proxied handshake is pending resets the backend acceptably") {
    // Property: a client RST while the backend is pending sends the backend an RST it accepts.
    // The backend may be in SYN-RECEIVED with an ISN the LB has not seen: seq = our ISN + 1 and
    // no ACK flag (an RST|ACK whose ack is not the backend's ISN + 1 is an unacceptable ACK there,
    // RFC 9293 section 3.10.7.4, and Linux drops it). The flow ends, the held ACK is freed, the
    // client gets nothing.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45600;
    const uint32_t isn = 0x600d600d;
    const uint32_t flows = flow_count();
    const cookie_answer ours = handshake_syn(proxied_port, cport, isn, 70);
    inject(client, client_segment(proxied_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(71, ours.tsval)));
    run_passes();
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn bs = read_backend_syn(out[0]);

    inject(client, client_segment(proxied_port, cport, flag::rst, isn + 1, 0, {}));
    run_passes();
    CHECK(sent(client).empty());
    out = sent(servers);
    REQUIRE(out.size() == 1);
    segment r = decode(out[0]);
    CHECK(r.ip.src == a4(198, 18, 1, 1));
    CHECK(r.ip.dst == bs.s.ip.dst);
    CHECK(r.ip.sport == bs.lport);
    CHECK(r.ip.dport == proxied_port);
    CHECK(r.seq == bs.s.seq + 1);
    INFO("ack field ", r.ack, ", our cookie + 1 ", ours.cookie + 1);
    CHECK(r.flags == flag::rst);
    CHECK(flow_count() == flows);
    CHECK(pool_free() == free_before);
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, syn_proxy_config_text, "syn_proxy_pending_test");
}

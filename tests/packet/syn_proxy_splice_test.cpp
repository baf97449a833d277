// Packet tests of spliced SYN-proxied connections: translation both ways, and their reset.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "packet/harness.hpp"
#include "packet/proxy_segments.hpp"
#include "packet/syn_proxy_config.hpp"

using namespace sluice;
using namespace sluice::packet_test;

TEST_CASE("a proxied connection is spliced to a backend and translated both ways") {
    // Property: a cookie ACK is spliced to a backend and every later segment is translated.
    // The backend SYN carries our ISN and the client's options; client data is held until the
    // backend's SYN-ACK, which is consumed; the held ACK and data then reach the backend in its
    // numbers (ack = backend ISN + 1, TSecr = backend TSval); backend→client: seq - delta, TSval
    // onto our clock, window rescaled from WS 5 to WS 7; client→backend SACK edges + delta. No
    // held mbuf is lost.
    resolve_neighbors();
    const unsigned free_before = pool_free();
    const uint16_t cport = 45200;
    const uint32_t isn = 0xfffffff0;  // the client's numbers wrap during the exchange
    const uint64_t accepted = count_of(&wc::syn_proxy_accepted);
    const uint64_t spliced = count_of(&wc::syn_proxy_spliced);
    const uint64_t pending_drops = drops(drop_reason::proxy_pending);
    const uint32_t flows = flow_count();
    const cookie_answer ours = handshake_syn(proxied_port, cport, isn, 111111);

    // The handshake's ACK: the flow exists and the LB opens the backend connection.
    inject(client, client_segment(proxied_port, cport, flag::ack, isn + 1, ours.cookie + 1,
                                  ts_options(111112, ours.tsval)));
    run_passes();
    CHECK(sent(client).empty());
    auto out = sent(servers);
    REQUIRE(out.size() == 1);
    const backend_syn bs = read_backend_syn(out[0]);
    CHECK(std::memcmp(&out[0][0], backend_mac[bs.b], 6) == 0);
    CHECK(std::memcmp(&out[0][6], port_mac(servers), 6) == 0);
    CHECK(bs.s.ip.src == a4(198, 18, 1, 1));
    CHECK(bs.s.ip.dport == 80);
    CHECK(bs.lport >= 1024);
    CHECK(bs.s.flags == flag::syn);
    // Our own ISN and TSval clock towards the backend (RFC 6528; checked in
    // syn_proxy_bounds_test): client data reaches it shifted by both.
    const uint32_t shift = bs.s.seq - isn;
    const uint32_t ts_shift = bs.s.options.tsval - 111112;
    CHECK(bs.s.payload.empty());
    CHECK(bs.s.options.well_formed);
    CHECK(bs.s.options.mss == 1460);
    CHECK(bs.s.options.wscale == 7);
    CHECK(bs.s.options.sack_perm);
    REQUIRE(bs.s.options.timestamps);
    CHECK(bs.s.options.tsecr == 0);
    CHECK(count_of(&wc::syn_proxy_accepted) == accepted + 1);
    CHECK(flow_count() == flows + 1);

    // Client data before the backend answered: held, nothing leaves, nothing is dropped.
    const bytes request = {'G', 'E', 'T', ' ', '/'};
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 1,
                                  ours.cookie + 1, ts_options(111113, ours.tsval), request));
    run_passes();
    CHECK(sent(client).empty());
    CHECK(sent(servers).empty());
    CHECK(drops(drop_reason::proxy_pending) == pending_drops);

    // The backend's SYN-ACK (its own ISN, WS 5, TS): consumed; the held ACK and data go out.
    const uint32_t backend_isn = 5000000, backend_ts = 777777;
    inject(servers,
           backend_segment(bs.b, proxied_port, bs.lport, flag::syn | flag::ack, backend_isn,
                           isn + 1 + shift,
                           cat({opt_mss(1460), opt_sack_perm(),
                                opt_ts(backend_ts, 111112 + ts_shift), opt_nop(), opt_ws(5)})));
    run_passes();
    CHECK(sent(client).empty());
    out = sent(servers);
    REQUIRE(out.size() == 2);
    for (const bytes& f : out) {
        segment s = decode(f);
        CHECK(std::memcmp(&f[0], backend_mac[bs.b], 6) == 0);
        CHECK(s.ip.src == a4(198, 18, 1, 1));
        CHECK(s.ip.dst == bs.s.ip.dst);
        CHECK(s.ip.sport == bs.lport);
        CHECK(s.ip.dport == 80);
        CHECK(s.seq == isn + 1 + shift);
        CHECK(s.ack == backend_isn + 1);
        REQUIRE(s.options.timestamps);
        CHECK(s.options.tsecr == backend_ts);
    }
    const segment held_ack = decode(out[0]), held_data = decode(out[1]);
    CHECK(held_ack.flags == flag::ack);
    CHECK(held_ack.payload.empty());
    CHECK(held_ack.options.tsval == 111112 + ts_shift);
    CHECK(held_data.flags == (flag::psh | flag::ack));
    CHECK(held_data.payload == request);
    CHECK(held_data.options.tsval == 111113 + ts_shift);
    CHECK(count_of(&wc::syn_proxy_spliced) == spliced + 1);

    // The backend's response: in the client's numbers, on our TSval clock, window rescaled.
    const bytes response = {'H', 'T', 'T', 'P', '/', '1', '.', '0', ' ', '2', '0', '0'};
    const uint32_t backend_ts2 = backend_ts + 40;
    inject(servers, backend_segment(bs.b, proxied_port, bs.lport, flag::psh | flag::ack,
                                    backend_isn + 1, isn + 1 + shift + uint32_t(request.size()),
                                    ts_options(backend_ts2, 111113 + ts_shift), response, 100));
    run_passes();
    CHECK(sent(servers).empty());
    out = sent(client);
    REQUIRE(out.size() == 1);
    segment r = decode(out[0]);
    CHECK(std::memcmp(&out[0][0], client_mac, 6) == 0);
    CHECK(r.ip.src == a4(198, 18, 0, 10));
    CHECK(r.ip.dst == a4(198, 18, 0, 2));
    CHECK(r.ip.sport == proxied_port);
    CHECK(r.ip.dport == cport);
    CHECK(r.flags == (flag::psh | flag::ack));
    CHECK(r.seq == ours.cookie + 1);
    CHECK(r.ack == isn + 1 + uint32_t(request.size()));
    CHECK(r.window == (100 << 5 >> 7));
    REQUIRE(r.options.timestamps);
    CHECK(r.options.tsval == backend_ts2 + (ours.tsval - backend_ts));
    CHECK(r.options.tsecr == 111113);
    CHECK(r.payload == response);

    // A client ACK with a SACK block (edges in the client's terms): + delta towards the backend.
    const uint32_t delta = backend_isn - ours.cookie;
    const uint32_t client_next = isn + 1 + uint32_t(request.size());
    inject(client, client_segment(proxied_port, cport, flag::ack, client_next, ours.cookie + 1,
                                  cat({ts_options(111114, r.options.tsval), opt_nop(), opt_nop(),
                                       opt_sack({ours.cookie + 1 + 20, ours.cookie + 1 + 40})})));
    run_passes();
    CHECK(sent(client).empty());
    out = sent(servers);
    REQUIRE(out.size() == 1);
    segment a = decode(out[0]);
    CHECK(a.ip.sport == bs.lport);
    CHECK(a.flags == flag::ack);
    CHECK(a.seq == client_next + shift);
    CHECK(a.ack == ours.cookie + 1 + delta);
    CHECK(a.ack == backend_isn + 1);
    CHECK(a.options.well_formed);
    CHECK(a.options.sack_edges == std::vector<uint32_t>{backend_isn + 21, backend_isn + 41});
    REQUIRE(a.options.timestamps);
    CHECK(a.options.tsval == 111114 + ts_shift);
    CHECK(a.options.tsecr == backend_ts2);
    CHECK(pool_free() == free_before);
}

TEST_CASE("resetting the backend of a spliced connection sends each side an RST in its numbers") {
    // Property: resetting a spliced flow's backend sends each side an RST in its own numbers.
    // After data both ways: the client's RST|ACK has seq = cookie + 1 + response bytes, the
    // backend's ack = backend ISN + 1 + response bytes, each exactly what its receiver expects
    // next; the flow is gone.
    resolve_neighbors();
    const uint16_t cport = 45700;
    const uint32_t isn = 1u << 31;
    const spliced_connection c =
        splice(proxied_port, cport, isn, 0xfffffff8);  // the backend's numbers wrap
    const bytes request(10, 'q'), response(30, 'r');
    inject(client, client_segment(proxied_port, cport, flag::psh | flag::ack, isn + 1,
                                  c.ours.cookie + 1, ts_options(1002, c.ours.tsval), request));
    inject(servers, backend_segment(c.bs.b, proxied_port, c.bs.lport, flag::psh | flag::ack,
                                    c.backend_isn + 1, c.bs.s.seq + 11,
                                    ts_options(c.backend_ts + 1, 1002), response));
    run_passes();
    REQUIRE(sent(servers).size() == 1);
    REQUIRE(sent(client).size() == 1);

    const uint32_t id = h.rt->current()->vips[0].backends[c.bs.b].id;
    const uint32_t flows = flow_count();
    h.rt->reset_flows({id}, model::reset_cause::disabled);
    run_passes();
    // Earlier cases may have left flows on this backend: they are reset too; pick ours.
    std::vector<segment> to_client, to_server;
    for (auto& f : sent(client))
        if (view(f).dport == cport) to_client.push_back(decode(f));
    for (auto& f : sent(servers))
        if (view(f).sport == c.bs.lport) to_server.push_back(decode(f));
    REQUIRE(to_client.size() == 1);
    REQUIRE(to_server.size() == 1);
    CHECK(to_client[0].flags == (flag::rst | flag::ack));
    CHECK(to_client[0].ip.sport == proxied_port);
    CHECK(to_client[0].seq == c.ours.cookie + 1 + 30);
    CHECK(to_client[0].ack == isn + 11);
    CHECK(to_server[0].flags == (flag::rst | flag::ack));
    CHECK(to_server[0].ip.dst == c.bs.s.ip.dst);
    CHECK(to_server[0].seq == c.bs.s.seq + 11);
    CHECK(to_server[0].ack == c.backend_isn + 1 + 30);
    CHECK(flow_count() < flows);
    uint32_t left = 0;
    h.rt->worker_at(0).flows().for_each_in(
        0, 1u << 20, [&](flow::flow_entry& e) { left += e.backend_id == id; });
    CHECK(left == 0);
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, syn_proxy_config_text, "syn_proxy_splice_test");
}

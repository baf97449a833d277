// Unit tests for src/dataplane/admission (no EAL): refusals by reason (half-open, source, VIP
// new-connection bucket, backends full, no backend) with their reset decision and counters;
// scheduling through admission (round robin, weights 0 skipped, max_connections); tuple
// exhaustion leading to an early-drop candidate or to a refusal.
#include "dataplane/admission.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "flow/tcp_track.hpp"
#include "packet/wire.hpp"

using namespace sluice;
using dataplane::admission;
using dataplane::admission_verdict;
using dataplane::conn_counts;

namespace {

constexpr uint64_t tsc_hz = 1'000'000'000;

flow::flow_key client_key(uint32_t src, uint16_t src_port, uint8_t protocol = 6) {
    flow::flow_key k;
    std::memset(&k, 0, sizeof k);
    const ip_address a = ip_address::v4(src);
    std::memcpy(k.src, a.bytes.data(), 4);
    const ip_address vip = ip_address::v4(0xc6120001);  // 198.18.0.1
    std::memcpy(k.dst, vip.bytes.data(), 4);
    k.src_port = src_port;
    k.dst_port = 80;
    k.protocol = protocol;
    k.family = 4;
    return k;
}

model::backend_entry backend(uint32_t id, uint32_t max_connections = 0) {
    model::backend_entry b;
    b.address = ip_address::v4(0xc6130000 + id);  // 198.19.0.x
    b.port = 8080;
    b.id = id;
    b.max_connections = max_connections;
    return b;
}

// A VIP with `n` backends of weight 1, round robin, and a guard for one worker.
model::vip_entry make_vip(unsigned n) {
    model::vip_entry v;
    v.id = 0;
    v.protocol = 6;
    for (unsigned i = 0; i < n; ++i) {
        v.backends.push_back(backend(i));
        v.weights.push_back(1);
    }
    v.protect.guard = std::make_shared<model::vip_guard>();
    v.protect.guard->workers.push_back(std::make_unique<model::guard_worker>());
    return v;
}

model::snapshot snapshot_of(const model::vip_entry& v) {
    model::snapshot s;
    s.vips.push_back(v);
    return s;
}

struct counts {
    conn_counts mine;
    const conn_counts* all[1] = {&mine};
};

uint64_t refused(const model::vip_entry& v, model::refusal r) {
    return v.protect.guard->workers[0]->refused[size_t(r)].load();
}

}  // namespace

TEST_CASE("round robin through admission visits every backend with weight, skipping weight 0") {
    counts c;
    admission a(0, c.all);
    model::vip_entry v = make_vip(3);
    v.weights[1] = 0;
    a.sync(snapshot_of(v));
    std::vector<uint32_t> picks;
    for (unsigned i = 0; i < 4; ++i) {
        const admission_verdict r = a.admit(v, client_key(0xc6100001, uint16_t(1000 + i)), 0);
        REQUIRE(r.refused == drop_reason::none);
        picks.push_back(r.backend);
    }
    CHECK(picks[0] != picks[1]);
    CHECK(picks[0] == picks[2]);
    CHECK(picks[1] == picks[3]);
    for (uint32_t p : picks) CHECK(p != 1);
}

TEST_CASE("no backend with weight refuses as no_backend, with an RST only for all_down reset") {
    counts c;
    admission a(0, c.all);
    model::vip_entry v = make_vip(2);
    v.weights = {0, 0};
    a.sync(snapshot_of(v));
    admission_verdict r = a.admit(v, client_key(0xc6100001, 1000), 0);
    CHECK(r.refused == drop_reason::no_backend);
    CHECK(r.backend == sched::no_backend);
    CHECK_FALSE(r.reset);
    v.reset_when_no_backend = true;
    CHECK(a.admit(v, client_key(0xc6100001, 1000), 0).reset);
    // UDP is never answered with an RST.
    CHECK_FALSE(a.admit(v, client_key(0xc6100001, 1000, 17), 0).reset);
}

TEST_CASE("backends at max_connections refuse as backends_full; a free one is still picked") {
    counts c;
    admission a(0, c.all);
    model::vip_entry v = make_vip(2);
    v.backends[0].max_connections = 1;
    v.backends[1].max_connections = 1;
    v.limited = true;
    a.sync(snapshot_of(v));
    c.mine.add(0, true, 1);  // backend 0 holds one established connection
    for (unsigned i = 0; i < 3; ++i) {
        const admission_verdict r = a.admit(v, client_key(0xc6100001, uint16_t(1000 + i)), 0);
        REQUIRE(r.refused == drop_reason::none);
        CHECK(r.backend == 1);
    }
    c.mine.add(1, false, 1);  // and backend 1 one in another state
    const admission_verdict r = a.admit(v, client_key(0xc6100001, 2000), 0);
    CHECK(r.refused == drop_reason::backends_full);
    CHECK_FALSE(r.reset);
}

TEST_CASE("the VIP's half-open limit refuses, counted as half_open, RST with action reset") {
    counts c;
    admission a(0, c.all);
    model::vip_entry v = make_vip(2);
    v.protect.limits_connections = true;
    v.protect.max_half_open = 2;
    a.sync(snapshot_of(v));
    c.mine.add_half_open(0, 1);
    CHECK(a.admit(v, client_key(0xc6100001, 1000), 0).refused == drop_reason::none);
    c.mine.add_half_open(1, 1);
    admission_verdict r = a.admit(v, client_key(0xc6100001, 1001), 0);
    CHECK(r.refused == drop_reason::limit_connections);
    CHECK_FALSE(r.reset);
    CHECK(refused(v, model::refusal::half_open) == 1);
    v.protect.action = config::protect_action::reset;
    r = a.admit(v, client_key(0xc6100001, 1002), 0);
    CHECK(r.refused == drop_reason::limit_connections);
    CHECK(r.reset);
    CHECK(refused(v, model::refusal::half_open) == 2);
}

TEST_CASE("the VIP's new-connection bucket refuses beyond its burst, counted as vip_connections") {
    counts c;
    admission a(0, c.all);
    model::vip_entry v = make_vip(1);
    v.protect.limits_connections = true;
    v.protect.new_connections = protect::bucket_params::per_second(10, 2, tsc_hz);
    a.sync(snapshot_of(v));
    const uint64_t now = 5 * tsc_hz;
    CHECK(a.admit(v, client_key(0xc6100001, 1000), now).refused == drop_reason::none);
    CHECK(a.admit(v, client_key(0xc6100002, 1000), now).refused == drop_reason::none);
    CHECK(a.admit(v, client_key(0xc6100003, 1000), now).refused == drop_reason::limit_connections);
    CHECK(refused(v, model::refusal::vip_connections) == 1);
    // A tenth of a second later one token is back.
    CHECK(a.admit(v, client_key(0xc6100003, 1000), now + tsc_hz / 10).refused == drop_reason::none);
}

TEST_CASE("the per-source bucket refuses one client, not the next, counted as source_connections") {
    counts c;
    admission a(0, c.all);
    model::vip_entry v = make_vip(1);
    v.protect.limits_connections = true;
    v.protect.source_new_connections = protect::bucket_params::per_second(1, 1, tsc_hz);
    v.protect.guard->workers[0]->sources.emplace(64, v.protect.source_new_connections, 7);
    a.sync(snapshot_of(v));
    const uint64_t now = 5 * tsc_hz;
    CHECK(a.admit(v, client_key(0xc6100001, 1000), now).refused == drop_reason::none);
    CHECK(a.admit(v, client_key(0xc6100001, 1001), now).refused == drop_reason::limit_connections);
    CHECK(refused(v, model::refusal::source_connections) == 1);
    CHECK(a.admit(v, client_key(0xc6100002, 1000), now).refused == drop_reason::none);
}

TEST_CASE("tuple exhaustion: early drop of a candidate gives a tuple, else local_port_exhausted") {
    flow::tuple_pool pool(1, 2000, 1, 1, 100, 1);  // one tuple
    model::backend_entry be = backend(0);
    flow::endpoint_table endpoints;
    flow::endpoint_identity who;
    who.protocol = 6;
    who.tuple_group = be.tuple_group;
    endpoints.set(7, who, 0);
    flow::local_tuple first{}, t{};
    unsigned asked = 0;
    auto never = [&](auto&&) {
        ++asked;
        return false;
    };
    REQUIRE(admission::acquire_tuple(&pool, endpoints, be, address_family::ipv4, 0, first, never) ==
            drop_reason::none);
    CHECK(asked == 0);
    CHECK(admission::acquire_tuple(&pool, endpoints, be, address_family::ipv4, 0, t, never) ==
          drop_reason::local_port_exhausted);
    CHECK(asked == 1);

    // The early drop sees a half-open flow of the same group, whose eviction releases its
    // tuple clean: the second try gets it.
    flow::flow_entry victim{};
    victim.backend_id = 7;
    victim.state = flow::tcp_state::syn_sent;
    victim.port_backend = be.egress_port & 0x0f;
    auto evict = [&](auto&& pred) {
        if (!pred(victim)) return false;
        pool.release(be.tuple_group, first, 0, flow::backend_forgets_tuple(victim, true));
        return true;
    };
    CHECK(admission::acquire_tuple(&pool, endpoints, be, address_family::ipv4, 0, t, evict) ==
          drop_reason::none);
    CHECK(t.port == first.port);

    // No pool for the family, or a backend of the other family: no_local_address.
    CHECK(admission::acquire_tuple(nullptr, endpoints, be, address_family::ipv4, 0, t, never) ==
          drop_reason::no_local_address);
    CHECK(admission::acquire_tuple(&pool, endpoints, be, address_family::ipv6, 0, t, never) ==
          drop_reason::no_local_address);
}

TEST_CASE("early-drop candidates for a tuple: half-open flows of the backend's group only") {
    model::backend_entry be = backend(0);
    be.tuple_group = 2;
    // The flow's protocol and tuple group are its backend id's endpoint row.
    flow::flow_endpoint ep;
    ep.protocol = 6;
    ep.tuple_group = 2;
    flow::flow_entry e{};
    e.state = flow::tcp_state::syn_sent;
    CHECK(admission::frees_tuple_of(e, ep, be));
    e.state = flow::tcp_state::syn_recv;  // unproxied: the RST frees it
    CHECK(admission::frees_tuple_of(e, ep, be));
    e.flags |= flow::flow_flag::proxied;  // proxied and answered: the backend keeps state
    CHECK_FALSE(admission::frees_tuple_of(e, ep, be));
    e.flags = 0;
    e.state = flow::tcp_state::established;  // never evicted
    CHECK_FALSE(admission::frees_tuple_of(e, ep, be));
    e.state = flow::tcp_state::syn_sent;
    ep.tuple_group = 1;  // another group's tuple is no use
    CHECK_FALSE(admission::frees_tuple_of(e, ep, be));
    ep.tuple_group = 2;
    e.port_backend = 1;  // nor another port's
    CHECK_FALSE(admission::frees_tuple_of(e, ep, be));
}

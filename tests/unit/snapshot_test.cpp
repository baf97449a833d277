// Unit tests for control::build_snapshot and health: how health checking and slow start turn
// into the effective weights workers schedule with, and what all_down does.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "config_text.hpp"
#include "control/snapshot_builder.hpp"

using namespace sluice;

namespace {

// A VIP with three backends of weight 4 and the given [vip.health] keys.
config::config three_backends(std::initializer_list<std::string_view> health) {
    std::string text =
        test::with_base({"[[vip]]", "name = 'web'", "address = '198.18.0.10'", "port = 80",
                         "protocol = 'tcp'", "scheduler = 'wrr'", "[vip.health]", "type = 'tcp'"}) +
        test::lines(health) +
        test::lines({"[[vip.backend]]", "address = '198.18.1.11'", "weight = 4", "[[vip.backend]]",
                     "address = '198.18.1.12'", "weight = 4", "[[vip.backend]]",
                     "address = '198.18.1.13'", "weight = 4"});
    return test::loaded(text);
}

struct built {
    route::neighbor_table neighbors{64};
    control::backend_registry registry;
    std::unique_ptr<model::snapshot> snap;
    // `health` by backend position (0..2); ids are assigned in order by a fresh registry.
    built(const config::config& cfg, std::map<uint32_t, control::backend_health> health) {
        std::vector<model::port_info> ports(cfg.ports.size(), model::port_info{0, {}});
        auto lookup = [&](uint32_t id, const config::vip_config&) {
            auto it = health.find(id);
            return it == health.end() ? control::backend_health{} : it->second;
        };
        snap = control::build_snapshot(
            cfg, {ports, neighbors, registry, 8, 1, nullptr, nullptr, lookup});
    }
    const model::vip_entry& vip() const { return snap->vips.at(0); }
};

}  // namespace

TEST_CASE("a backend health checks call down gets weight 0; the others keep theirs") {
    // Property: health down means no new flows (weight 0), independent of admin state.
    built b(three_backends({}), {{1, {false, 1.0}}});
    CHECK(b.vip().weights == std::vector<uint32_t>{4, 0, 4});
    CHECK(b.vip().backends[1].health_up == false);
    CHECK(!b.vip().reset_when_no_backend);
}

TEST_CASE("slow start scales the weight by the ramp, never to 0") {
    // Property: effective weight = round(weight x ramp), at least 1 while the backend is up.
    built b(three_backends({"slow_start = '10s'"}), {{0, {true, 0.5}}, {1, {true, 0.01}}});
    CHECK(b.vip().weights == std::vector<uint32_t>{2, 1, 4});
}

TEST_CASE("all_down decides what a VIP with every backend down does") {
    // Property: drop leaves weights 0 and no reset; reset also sets reset_when_no_backend;
    // use-all ignores health (fail open) while every backend is down.
    const std::map<uint32_t, control::backend_health> all_down = {
        {0, {false, 1.0}}, {1, {false, 1.0}}, {2, {false, 1.0}}};
    built drop(three_backends({"all_down = 'drop'"}), all_down);
    CHECK(drop.vip().weights == std::vector<uint32_t>{0, 0, 0});
    CHECK(!drop.vip().reset_when_no_backend);
    built reset(three_backends({"all_down = 'reset'"}), all_down);
    CHECK(reset.vip().weights == std::vector<uint32_t>{0, 0, 0});
    CHECK(reset.vip().reset_when_no_backend);
    built use_all(three_backends({"all_down = 'use-all'"}), all_down);
    CHECK(use_all.vip().weights == std::vector<uint32_t>{4, 4, 4});
    built one_up(three_backends({"all_down = 'use-all'"}), {{0, {false, 1.0}}, {1, {false, 1.0}}});
    CHECK(one_up.vip().weights == std::vector<uint32_t>{0, 0, 4});
}

TEST_CASE("passive detection gives the VIP a connect timeout in ticks") {
    // Property: connect_timeout_ticks = passive_connect_timeout x ticks per second, 0 when off.
    built off(three_backends({}), {});
    CHECK(off.vip().connect_timeout_ticks == 0);
    built on(three_backends({"passive_failures = 3", "passive_connect_timeout = '2s'"}), {});
    CHECK(on.vip().connect_timeout_ticks == 16);  // 8 ticks per second
}

// A VIP "web" with one backend and `extra` lines in the VIP table (after the backend).
config::config protected_vip(std::initializer_list<std::string_view> extra) {
    std::string text =
        test::with_base({"[[vip]]", "name = 'web'", "address = '198.18.0.10'", "port = 80",
                         "protocol = 'tcp'", "[[vip.backend]]", "address = '198.18.1.11'"}) +
        test::lines(extra);
    return test::loaded(text);
}

struct protected_build {
    route::neighbor_table neighbors{64};
    control::backend_registry registry;
    std::vector<model::port_info> ports;
    std::unique_ptr<model::snapshot> build(const config::config& cfg,
                                           const model::snapshot* previous, unsigned workers) {
        ports.assign(cfg.ports.size(), model::port_info{0, {}});
        return control::build_snapshot(cfg, {ports,
                                             neighbors,
                                             registry,
                                             8,
                                             1,
                                             previous,
                                             nullptr,
                                             {},
                                             control::guard_setup{workers, 1000}});
    }
};

TEST_CASE("a VIP without limits or rules has no guard; limits and rules get one per worker") {
    // Property: protection state exists only where configured, one worker state per worker.
    protected_build b;
    auto plain = b.build(protected_vip({}), nullptr, 2);
    CHECK(!plain->vips[0].protect.guard);
    CHECK(!plain->vips[0].protect.limits_connections);
    auto limited = b.build(protected_vip({"[vip.limits]", "source_new_connections_per_second = 10",
                                          "source_table_size = 128"}),
                           nullptr, 2);
    const auto& p = limited->vips[0].protect;
    REQUIRE(p.guard);
    CHECK(p.limits_connections);
    CHECK(p.guard->workers.size() == 2);
    CHECK(p.guard->workers[1]->sources.has_value());
    CHECK(p.guard->workers[1]->sources->capacity() == 128);
}

TEST_CASE("each worker enforces its share of a VIP rate: rate/N, burst/N") {
    // Property: with 2 workers and a 1000 Hz clock, 100/s burst 10 becomes 50/s burst 5 each.
    protected_build b;
    auto s = b.build(protected_vip({"[vip.limits]", "new_connections_per_second = 100",
                                    "new_connections_burst = 10"}),
                     nullptr, 2);
    const auto& p = s->vips[0].protect;
    protect::bucket_state st;
    unsigned passed = 0;
    for (int i = 0; i < 100; ++i) passed += protect::take(st, p.new_connections, 0);
    CHECK(passed == 5);
    CHECK(protect::take(st, p.new_connections, 20));  // one token per 20 ms per worker
}

TEST_CASE("a reload keeps the guard when rules and table size stay, replaces it otherwise") {
    // Property: bucket and source state survive a rate change, not a rule or table change.
    protected_build b;
    auto first = b.build(protected_vip({"[vip.limits]", "source_new_connections_per_second = 10",
                                        "[[vip.rule]]", "pattern = 'GET /admin'"}),
                         nullptr, 1);
    auto rate_changed =
        b.build(protected_vip({"[vip.limits]", "source_new_connections_per_second = 20",
                               "[[vip.rule]]", "pattern = 'GET /admin'"}),
                first.get(), 1);
    CHECK(rate_changed->vips[0].protect.guard == first->vips[0].protect.guard);
    CHECK(!(rate_changed->vips[0].protect.source_new_connections ==
            first->vips[0].protect.source_new_connections));
    auto rule_changed =
        b.build(protected_vip({"[vip.limits]", "source_new_connections_per_second = 20",
                               "[[vip.rule]]", "pattern = 'GET /private'"}),
                rate_changed.get(), 1);
    CHECK(rule_changed->vips[0].protect.guard != rate_changed->vips[0].protect.guard);
}

TEST_CASE("rules are compiled into the guard and match with a worker's scratch") {
    // Property: the snapshot's rule set finds the configured pattern in a payload.
    protected_build b;
    auto s = b.build(protected_vip({"[[vip.rule]]", "pattern = 'GET /admin'", "action = 'reset'"}),
                     nullptr, 1);
    auto& guard = *s->vips[0].protect.guard;
    const std::string hit = "GET /admin HTTP/1.1\r\n", miss = "GET / HTTP/1.1\r\n";
    auto r = guard.rules.match(guard.workers[0]->scratch,
                               reinterpret_cast<const uint8_t*>(hit.data()), hit.size());
    CHECK(r.status == protect::match_status::matched);
    CHECK(guard.rule_config[r.rule].action == config::protect_action::reset);
    CHECK(guard.rules
              .match(guard.workers[0]->scratch, reinterpret_cast<const uint8_t*>(miss.data()),
                     miss.size())
              .status == protect::match_status::no_match);
}

TEST_CASE("half-open limits shorten the SYN timeout to the embryonic timeout") {
    // Property: embryonic_ticks = embryonic_timeout x ticks/s when a half-open limit is set.
    protected_build b;
    auto s = b.build(protected_vip({"[vip.syn_proxy]", "mode = 'off'", "max_half_open = 100",
                                    "embryonic_timeout = '2s'"}),
                     nullptr, 1);
    CHECK(s->vips[0].protect.embryonic_ticks == 16);
    CHECK(s->vips[0].protect.max_half_open == 100);
    CHECK(s->vips[0].protect.limits_connections);
}

TEST_CASE("a proxied VIP offers its configured MSS, else its backends' port MTU - 40") {
    // Property: syn_proxy_mss = [vip.syn_proxy] mss, or the servers port's MTU - 40 (IPv4).
    auto mss_of = [](std::initializer_list<std::string_view> proxy, uint16_t servers_mtu) {
        config::config cfg = test::loaded(
            test::with_vip(proxy) + test::lines({"[[vip.backend]]", "address = '198.18.1.11'"}));
        std::vector<model::port_info> ports(cfg.ports.size(), model::port_info{0, {}});
        ports.at(1).mtu = servers_mtu;
        route::neighbor_table neighbors{64};
        control::backend_registry registry;
        auto snap = control::build_snapshot(cfg, {ports, neighbors, registry, 8, 1, nullptr});
        return snap->vips.at(0).protect.syn_proxy_mss;
    };
    CHECK(mss_of({"syn_proxy = 'on'"}, 1500) == 1460);
    CHECK(mss_of({"syn_proxy = 'on'"}, 9000) == 8960);
    CHECK(mss_of({"syn_proxy = 'on'"}, 1280) == 1240);
    CHECK(mss_of({"[vip.syn_proxy]", "mode = 'on'", "mss = 1400"}, 9000) == 1400);
}

namespace {

// One VIP per entry of `ports`: v<p> on 198.18.0.10:8000+p, one backend each.
config::config vips_named(std::initializer_list<int> ports) {
    std::string text = test::with_base({});
    for (int p : ports)
        text += test::lines({"[[vip]]", "name = 'v" + std::to_string(p) + "'",
                             "address = '198.18.0.10'", "port = " + std::to_string(8000 + p),
                             "protocol = 'tcp'", "[[vip.backend]]", "address = '198.18.1.11'"});
    return test::loaded(text);
}

uint16_t id_of(const model::snapshot& s, int port) {
    const uint8_t dst[4] = {198, 18, 0, 10};
    return s.find_vip(dst, uint8_t(address_family::ipv4), uint16_t(8000 + port), 6);
}

}  // namespace

TEST_CASE(
    "VIP ids survive reloads that remove, reorder and add VIPs; removed ids are not reused "
    "early") {
    // Property: a VIP keeps its id while configured; a new VIP gets a never-used id; a removed
    // id resolves to no VIP.
    protected_build b;
    auto first = b.build(vips_named({1, 2, 3}), nullptr, 1);
    const uint16_t v1 = id_of(*first, 1), v2 = id_of(*first, 2), v3 = id_of(*first, 3);
    CHECK(std::set<uint16_t>{v1, v2, v3}.size() == 3);
    CHECK(first->vip(v2).name == "v2");
    b.registry.retain_vips(first->vip_ids());

    auto second = b.build(vips_named({3, 4, 2}), first.get(), 1);  // v1 gone, order changed
    b.registry.retain_vips(second->vip_ids());
    CHECK(id_of(*second, 2) == v2);
    CHECK(id_of(*second, 3) == v3);
    const uint16_t v4 = id_of(*second, 4);
    CHECK(std::set<uint16_t>{v1, v2, v3, v4}.size() == 4);
    CHECK(second->vip_by_id(v1) == nullptr);
    CHECK(second->vip_by_id(v3)->name == "v3");
    CHECK(id_of(*second, 1) == model::no_vip_id);

    auto third = b.build(vips_named({1, 2, 3, 4}), second.get(), 1);  // v1 back: a fresh id
    CHECK(id_of(*third, 1) != v1);
    CHECK(id_of(*third, 4) == v4);
}

TEST_CASE("has_vip_address knows each VIP's address, whatever port, and no other address") {
    built b(three_backends({}), {});
    const uint8_t vip[4] = {198, 18, 0, 10}, backend[4] = {198, 18, 1, 11};
    uint8_t vip_as_v6[16] = {198, 18, 0, 10};
    CHECK(b.snap->has_vip_address(vip, 4));
    CHECK_FALSE(b.snap->has_vip_address(backend, 4));
    CHECK_FALSE(b.snap->has_vip_address(vip_as_v6, 6));
}

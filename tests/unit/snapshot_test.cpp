// Unit tests for control::snapshot::build and health: how health checking and slow start turn
// into the effective weights workers schedule with, and what all_down does.
#include "control/snapshot.hpp"

#include <doctest/doctest.h>

#include <map>
#include <set>

#include "config_text.hpp"

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
    std::unique_ptr<control::snapshot> snap;
    // `health` by backend position (0..2); ids are assigned in order by a fresh registry.
    built(const config::config& cfg, std::map<uint32_t, control::backend_health> health) {
        std::vector<control::port_info> ports(cfg.ports.size(), control::port_info{0, {}});
        snap = control::snapshot::build(cfg, ports, neighbors, registry, 8, 1, nullptr, {},
                                        [&](uint32_t id, const config::vip_config&) {
                                            auto it = health.find(id);
                                            return it == health.end() ? control::backend_health{}
                                                                      : it->second;
                                        });
    }
    const control::vip_entry& vip() const { return snap->vips.at(0); }
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

TEST_CASE("protections the data path does not enforce yet are refused, not ignored") {
    // Property: a VIP with rate limits, payload rules or a SYN proxy cannot be started or
    // reloaded until the workers enforce them (the build throws, naming the VIP).
    for (auto extra : {std::string_view("[vip.limits]\nnew_connections_per_second = 10"),
                       std::string_view("[[vip.rule]]\npattern = 'GET /admin'"),
                       std::string_view("syn_proxy = 'on'")}) {
        CAPTURE(extra);
        std::string text = test::with_base({"[[vip]]", "name = 'web'", "address = '198.18.0.10'",
                                            "port = 80", "protocol = 'tcp'"});
        if (extra.starts_with("syn_proxy")) {
            text += std::string(extra) + "\n";
            text += test::lines({"[[vip.backend]]", "address = '198.18.1.11'"});
        } else {
            text += test::lines({"[[vip.backend]]", "address = '198.18.1.11'"});
            text += std::string(extra) + "\n";
        }
        config::config cfg = test::loaded(text);
        route::neighbor_table neighbors{64};
        control::backend_registry registry;
        std::vector<control::port_info> ports(cfg.ports.size(), control::port_info{0, {}});
        CHECK_THROWS_WITH_AS(
            control::snapshot::build(cfg, ports, neighbors, registry, 8, 1, nullptr, {}),
            doctest::Contains("vip web: "), std::runtime_error);
    }
}

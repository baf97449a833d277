// Unit tests for control::build_status without EAL: the status page's VIPs and backends as the
// control plane and a fake data plane (tests/unit/control_fakes.hpp) report them — operator
// state (draining with flows left, drained), health from the published snapshot, weights.
#include "control/status_builder.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "config_text.hpp"
#include "control/api_requests.hpp"
#include "control_fakes.hpp"

using namespace sluice;

namespace {

struct served {
    config::config cfg = test::loaded(test::with_base(
        {"[[vip]]", "name = 'web'", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
         "scheduler = 'wrr'", "[[vip.backend]]", "address = '198.18.1.11'", "weight = 4",
         "[[vip.backend]]", "address = '198.18.1.12'", "weight = 4", "[[vip.backend]]",
         "address = '198.18.1.13'", "weight = 2"}));
    test::fake_dataplane dp{cfg};
    test::scripted_health* health = nullptr;
    std::unique_ptr<control::control_plane> plane;

    served() {
        auto h = std::make_unique<test::scripted_health>();
        health = h.get();
        plane = std::make_unique<control::control_plane>(cfg, dp, std::move(h));
        plane->start(0);
    }
    uint32_t id(size_t backend) const { return dp.published->vips[0].backends[backend].id; }
    void set_admin(size_t backend, model::backend_admin a) {
        const auto& v = plane->configuration().vips[0];
        plane->set_admin(control::api_requests::identity(v, v.backends[backend]), a);
        REQUIRE(plane->reload(plane->configuration(), 0));
    }
};

}  // namespace

TEST_CASE("a VIP's address, protocol, scheduler and its backends as configured") {
    served s;
    const metrics::status_view v = control::build_status(*s.plane, s.dp, test::second_ns);
    CHECK(v.generation == 1);
    CHECK(v.workers == 1);
    CHECK(v.flow_table_capacity == s.cfg.flows.capacity);
    REQUIRE(v.vips.size() == 1);
    const metrics::status_vip& web = v.vips[0];
    CHECK(web.name == "web");
    CHECK(web.address == "198.18.0.10");
    CHECK(web.port == 80);
    CHECK(web.protocol == "tcp");
    CHECK(web.scheduler == "wrr");
    CHECK(web.syn_proxy == "off");
    REQUIRE(web.backends.size() == 3);
    CHECK(web.backends[0].backend == "198.18.1.11:80");
    CHECK(web.backends[0].state == "up");
    CHECK(web.backends[0].health == "unchecked");
    CHECK(web.backends[0].weight == 4);
    CHECK(web.backends[2].configured_weight == 2);
    CHECK(metrics::display_state(web.backends[0]) == "up");
    CHECK(web.drops.empty());
    s.dp.vip_drops = {{"no_backend", 4}};
    CHECK(control::build_status(*s.plane, s.dp, test::second_ns).vips[0].drops == s.dp.vip_drops);
}

TEST_CASE("draining with flows left, drained without, and a down backend each show as such") {
    // Property: the operator's state and the health verdict reach the view: draining while the
    // backend has flows, drained when none is left, down when the snapshot says so.
    served s;
    s.dp.flows[s.id(0)] = 3;
    s.set_admin(0, model::backend_admin::draining);
    s.set_admin(1, model::backend_admin::draining);
    s.health->down.insert(s.id(2));
    s.health->next_poll = {true, {}};
    s.plane->poll(test::second_ns);
    const metrics::status_view v = control::build_status(*s.plane, s.dp, 2 * test::second_ns);
    const auto& b = v.vips[0].backends;
    CHECK(b[0].state == "draining");
    CHECK(b[0].inactive == 3);
    CHECK(b[0].weight == 0);
    CHECK(b[0].configured_weight == 4);
    CHECK(metrics::display_state(b[0]) == "draining");
    CHECK(b[1].state == "drained");
    CHECK(metrics::display_state(b[1]) == "drained");
    CHECK(b[2].state == "up");
    CHECK(b[2].health == "down");
    CHECK(metrics::display_state(b[2]) == "down");
}

// Unit tests for control::control_plane without EAL: reloads accepted and refused, drain
// deadlines, finished removals, health transitions and operator state across reloads, observed
// through a fake data plane (dataplane_sink) and scripted health checks (health_watch).
#include "control/control_plane.hpp"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config_text.hpp"
#include "control_fakes.hpp"

using namespace sluice;
using test::fake_dataplane;
using test::scripted_health;
using test::second_ns;

namespace {

// VIP "web" 198.18.0.10:80/tcp (wrr) with backends .11 and .12 of weight 4.
config::config two_backends() {
    return test::loaded(test::with_base(
        {"[[vip]]", "name = 'web'", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
         "scheduler = 'wrr'", "[[vip.backend]]", "address = '198.18.1.11'", "weight = 4",
         "[[vip.backend]]", "address = '198.18.1.12'", "weight = 4"}));
}

struct started {
    config::config cfg = two_backends();
    fake_dataplane dp{cfg};
    scripted_health* health = nullptr;
    std::unique_ptr<control::control_plane> cp;

    started() {
        auto h = std::make_unique<scripted_health>();
        health = h.get();
        cp = std::make_unique<control::control_plane>(cfg, dp, std::move(h));
        cp->start(0);
    }
    // Backend `b` of the VIP as the operator names it.
    control::backend_identity who(size_t b) const {
        const auto& v = cp->configuration().vips[0];
        return {v.address, v.port, uint8_t(v.protocol), v.backends[b].address, v.backends[b].port};
    }
    const model::vip_entry& vip() const { return dp.published->vips.at(0); }
    uint32_t id(size_t b) const { return vip().backends.at(b).id; }
    void reload(const config::config& next, uint64_t now_ns = 0) {
        auto r = cp->reload(next, now_ns);
        REQUIRE_MESSAGE(r.ok(), r.message());
    }
};

}  // namespace

TEST_CASE("a reload is published as the next generation; a refused one leaves everything as is") {
    // Property: accepted reloads publish generation+1; a restart-only change or a snapshot that
    // cannot be built is refused with a message, and configuration and snapshot stay.
    started s;
    CHECK(s.cp->generation() == 1);
    CHECK(s.dp.events == std::vector<std::string>{"publish 1"});

    config::config heavier = s.cp->configuration();
    heavier.vips[0].backends[0].weight = 9;
    s.reload(heavier);
    CHECK(s.cp->generation() == 2);
    CHECK(s.vip().weights == std::vector<uint32_t>{9, 4});

    config::config restart = s.cp->configuration();
    restart.dataplane.burst += 1;
    const result<> refused = s.cp->reload(restart, 0);
    REQUIRE(!refused.ok());
    CHECK(refused.message() == "[dataplane] changed: needs a restart");

    config::config unroutable = s.cp->configuration();
    unroutable.vips[0].backends[1].address = *ip_address::parse("203.0.113.7");
    unroutable.vips[0].backends[1].weight = 1;
    const result<> unbuilt = s.cp->reload(unroutable, 0);
    CHECK(!unbuilt.ok());
    CHECK(!unbuilt.message().empty());

    CHECK(s.cp->generation() == 2);
    CHECK(s.dp.published->generation == 2);
    CHECK(s.dp.events.size() == 2);
    CHECK(s.cp->configuration().vips[0].backends[0].weight == 9);
    CHECK(s.cp->configuration().vips[0].backends[1].address == *ip_address::parse("198.18.1.12"));
}

TEST_CASE("a drain deadline resets the flows still open when it passes, and enable cancels it") {
    // Property: reset_flows(ids, drain_timeout) once, at the deadline and not before; a backend
    // enabled again has no deadline; no open flows means no reset.
    started s;
    s.cp->set_admin(s.who(0), model::backend_admin::draining);
    s.reload(s.cp->configuration());
    CHECK(s.vip().weights == std::vector<uint32_t>{0, 4});
    s.dp.flows[s.id(0)] = 3;
    s.cp->set_drain_deadline(s.who(0), 10 * second_ns, 5 * second_ns);
    s.cp->poll(14 * second_ns);
    CHECK(s.dp.resets.empty());
    CHECK(s.cp->drain_deadline_in(s.who(0), 14 * second_ns) == second_ns);
    s.cp->poll(15 * second_ns);
    REQUIRE(s.dp.resets.size() == 1);
    CHECK(s.dp.resets[0].ids == std::vector<uint32_t>{s.id(0)});
    CHECK(s.dp.resets[0].why == model::reset_cause::drain_timeout);
    CHECK(!s.cp->drain_deadline_in(s.who(0), 15 * second_ns));
    s.cp->poll(30 * second_ns);
    CHECK(s.dp.resets.size() == 1);

    s.cp->set_drain_deadline(s.who(0), 40 * second_ns, second_ns);
    s.cp->set_admin(s.who(0), model::backend_admin::up);
    CHECK(!s.cp->drain_deadline_in(s.who(0), 40 * second_ns));
    s.cp->poll(50 * second_ns);
    CHECK(s.dp.resets.size() == 1);

    s.cp->set_admin(s.who(1), model::backend_admin::draining);
    s.cp->set_drain_deadline(s.who(1), 60 * second_ns, 0);
    s.cp->poll(60 * second_ns);  // backend 1 has no open flow
    CHECK(s.dp.resets.size() == 1);
}

TEST_CASE("a backend being removed leaves the configuration once its last flow is gone") {
    // Property: removal waits for open flows; then the backend is gone from configuration and
    // snapshot, and its admin state with it.
    started s;
    s.cp->set_admin(s.who(1), model::backend_admin::removing);
    s.reload(s.cp->configuration());
    const auto removed = s.who(1);
    s.dp.flows[s.id(1)] = 1;
    s.cp->poll(2 * second_ns);
    CHECK(s.cp->configuration().vips[0].backends.size() == 2);
    s.dp.flows[s.id(1)] = 0;
    s.cp->poll(4 * second_ns);
    CHECK(s.cp->configuration().vips[0].backends.size() == 1);
    CHECK(s.vip().backends.size() == 1);
    CHECK(s.vip().backends[0].address == *ip_address::parse("198.18.1.11"));
    CHECK(s.cp->admin_of(removed) == model::backend_admin::up);
}

TEST_CASE("a health transition publishes the backend down before its flows are reset") {
    // Property: a poll reporting a transition publishes a snapshot built with the new health
    // (weight 0, health_up false), then resets the reported ids with backend_down.
    started s;
    const uint32_t failed = s.id(1);
    s.health->down.insert(failed);
    s.health->next_poll = {true, {failed}};
    s.cp->poll(second_ns);
    CHECK(s.cp->generation() == 2);
    CHECK(s.vip().weights == std::vector<uint32_t>{4, 0});
    CHECK(!s.vip().backends[1].health_up);
    CHECK(s.dp.events == std::vector<std::string>{"publish 1", "publish 2", "reset"});
    REQUIRE(s.dp.resets.size() == 1);
    CHECK(s.dp.resets[0].ids == std::vector<uint32_t>{failed});
    CHECK(s.dp.resets[0].why == model::reset_cause::backend_down);
    s.cp->poll(2 * second_ns);  // nothing new: nothing published
    CHECK(s.cp->generation() == 2);
}

TEST_CASE("operator state survives reloads of the configuration") {
    // Property: a disabled backend stays disabled (weight 0) through reloads that change other
    // things, and keeps its stable id.
    started s;
    const uint32_t id0 = s.id(0);
    s.cp->set_admin(s.who(0), model::backend_admin::disabled);
    s.reload(s.cp->configuration());
    config::config next = two_backends();
    next.vips[0].backends[1].weight = 7;
    s.reload(next);
    CHECK(s.cp->admin_of(s.who(0)) == model::backend_admin::disabled);
    CHECK(s.vip().weights == std::vector<uint32_t>{0, 7});
    CHECK(s.vip().backends[0].admin == model::backend_admin::disabled);
    CHECK(s.id(0) == id0);
}

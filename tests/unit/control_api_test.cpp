// Unit tests for control::control_api without EAL: requests answered through a control plane
// over a fake data plane (tests/unit/control_fakes.hpp); refusals change nothing.
#include "control/control_api.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "config_text.hpp"
#include "control_fakes.hpp"

using namespace sluice;
using nlohmann::json;

namespace {

struct served {
    config::config cfg = test::loaded(test::with_base(
        {"[[vip]]", "name = 'web'", "address = '198.18.0.10'", "port = 80", "protocol = 'tcp'",
         "scheduler = 'wrr'", "[[vip.backend]]", "address = '198.18.1.11'", "weight = 4",
         "[[vip.backend]]", "address = '198.18.1.12'", "weight = 4"}));
    test::fake_dataplane dp{cfg};
    control::control_plane plane{cfg, dp, std::make_unique<test::scripted_health>()};
    control::control_api api{plane, dp, "/nonexistent/sluice-test.toml"};

    served() { plane.start(0); }
    json ask(const json& request) { return json::parse(api.handle(request.dump())); }
};

}  // namespace

TEST_CASE("set_weight publishes the new weight and answers the backend") {
    // Property: an accepted change is one publication and the answer shows the new state.
    served s;
    json r =
        s.ask({{"cmd", "set_weight"}, {"vip", "web"}, {"backend", "198.18.1.12"}, {"weight", 9}});
    REQUIRE(r["ok"] == true);
    CHECK(r["result"]["weight"] == 9);
    CHECK(r["result"]["configured_weight"] == 9);
    CHECK(s.dp.published->vips[0].weights == std::vector<uint32_t>{4, 9});
    CHECK(s.plane.generation() == 2);
}

TEST_CASE("a refused command answers the reason and changes nothing") {
    // Property: errors are values (ok = false, error = message); nothing is published.
    served s;
    json unknown =
        s.ask({{"cmd", "set_weight"}, {"vip", "nope"}, {"backend", "198.18.1.12"}, {"weight", 9}});
    CHECK(unknown["ok"] == false);
    CHECK(unknown["error"] == "unknown VIP 'nope'");
    json unroutable = s.ask({{"cmd", "add_backend"}, {"vip", "web"}, {"backend", "203.0.113.7"}});
    CHECK(unroutable["ok"] == false);
    CHECK(!unroutable["error"].get<std::string>().empty());
    json misplaced =
        s.ask({{"cmd", "enable"}, {"vip", "web"}, {"backend", "198.18.1.11"}, {"timeout", 5}});
    CHECK(misplaced["error"] == "'timeout' only applies to drain");
    json reload = s.ask({{"cmd", "reload"}});
    CHECK(reload["ok"] == false);
    CHECK(s.plane.reloads_failed() == 1);
    CHECK(s.plane.generation() == 1);
    CHECK(s.dp.events.size() == 1);
    CHECK(s.plane.configuration().vips[0].backends.size() == 2);
}

TEST_CASE("drain --timeout sets a deadline and disable --reset resets the backend's flows") {
    // Property: the API's options reach the control plane (deadline) and the data plane (reset).
    served s;
    json drained =
        s.ask({{"cmd", "drain"}, {"vip", "web"}, {"backend", "198.18.1.11"}, {"timeout", 30}});
    REQUIRE(drained["ok"] == true);
    CHECK(drained["result"]["state"] == "drained");  // no open flow
    CHECK(drained["result"]["drain_deadline_in"].get<double>() > 29);
    json disabled =
        s.ask({{"cmd", "disable"}, {"vip", "web"}, {"backend", "198.18.1.12"}, {"reset", true}});
    REQUIRE(disabled["ok"] == true);
    REQUIRE(s.dp.resets.size() == 1);
    CHECK(s.dp.resets[0].why == model::reset_cause::disabled);
    CHECK(s.dp.published->vips[0].weights == std::vector<uint32_t>{0, 0});
}

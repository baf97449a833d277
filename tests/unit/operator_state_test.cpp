// Unit tests of the operator's state kept across restarts and reloads: its JSON form
// (control/operator_state.hpp), capture and apply over a configuration (control/state_merge.hpp),
// the atomic file (control/state_file.hpp) and the keeper that ties them to a control plane and
// the control API (control/state_keeper.hpp), over a fake data plane.
#include "control/operator_state.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "config_text.hpp"
#include "control/control_api.hpp"
#include "control/state_file.hpp"
#include "control/state_keeper.hpp"
#include "control/state_merge.hpp"
#include "control_fakes.hpp"

using namespace sluice;
using control::backend_state;
using control::operator_state;
using model::backend_admin;
using nlohmann::json;

namespace {

// Two VIPs; `web` has three backends. `order` lists its backends' last octets in file order.
std::string two_vips(const std::string& order = "11 12 13", bool with_dns = true) {
    std::string text = test::with_base({"[[vip]]", "name = 'web'", "address = '198.18.0.10'",
                                        "port = 80", "protocol = 'tcp'", "scheduler = 'wrr'"});
    std::istringstream octets(order);
    for (std::string o; octets >> o;)
        text += "[[vip.backend]]\naddress = '198.18.1." + o + "'\nweight = 2\n";
    if (with_dns)
        text +=
            "[[vip]]\nname = 'dns'\naddress = '198.18.0.53'\nport = 53\nprotocol = 'udp'\n"
            "[[vip.backend]]\naddress = '198.18.1.21'\n";
    return text;
}

const config::backend_config* backend(const config::config& c, const std::string& vip,
                                      const std::string& addr) {
    for (const auto& v : c.vips)
        if (v.name == vip)
            for (const auto& b : v.backends)
                if (b.address.to_string() == addr) return &b;
    return nullptr;
}

// A state with web: .12 draining (deadline), .13 weight 7, .14 added weight 3, .11 removed;
// web's source limit 50/100.
operator_state sample_state() {
    auto addr = [](const char* a) { return *ip_address::parse(a); };
    control::vip_state web;
    web.address = addr("198.18.0.10");
    web.port = 80;
    web.name = "web";
    web.limits.source_new_connections = config::rate_limit_config{50, 100};
    backend_state drained;
    drained.address = addr("198.18.1.12");
    drained.port = 80;
    drained.admin = backend_admin::draining;
    drained.drain_deadline_ms = 1'900'000'000'250;
    backend_state weighted;
    weighted.address = addr("198.18.1.13");
    weighted.port = 80;
    weighted.weight = 7;
    backend_state added;
    added.address = addr("198.18.1.14");
    added.port = 80;
    added.added = true;
    added.weight = 3;
    backend_state removed;
    removed.address = addr("198.18.1.11");
    removed.port = 80;
    removed.admin = backend_admin::removing;
    web.backends = {drained, weighted, added, removed};
    return {{web}};
}

std::string temp_dir() {
    char tmpl[] = "/tmp/sluice-state-test-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    return tmpl;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("the state's JSON form reads back as the same state") {
    // Property: serialise then parse is the identity (admin, deadline, weight, added, removed,
    // limits), and the text carries version 1.
    operator_state s = sample_state();
    std::string text = control::state_to_text(s, 1'800'000'000'000);
    CHECK(json::parse(text)["version"] == 1);
    CHECK(json::parse(text)["written"] == "2027-01-15T08:00:00.000Z");
    auto back = control::state_from_text(text);
    REQUIRE(back.ok());
    CHECK(*back == s);
}

TEST_CASE("a malformed state file is refused as a whole, naming what is wrong") {
    // Property: syntax errors name line and column; wrong versions, unknown keys, bad values and
    // duplicates name their place; nothing of such a file is used.
    auto problem = [](const std::string& text) {
        auto r = control::state_from_text(text);
        return r ? std::string("accepted") : r.message();
    };
    CHECK(problem("{\"version\": 1, \"vips\": [").find("not valid JSON: parse error at line 1") ==
          0);
    CHECK(problem("{\"vips\": []}") == "version: missing (this sluiced writes version 1)");
    CHECK(problem("{\"version\": 2}") == "version: 2 is not a version this sluiced reads (1)");
    CHECK(problem("{\"version\": 1, \"vip\": []}") == "vip: unknown key");
    const std::string vip = R"({"address": "198.18.0.10", "port": 80, "protocol": "tcp", )";
    CHECK(problem(R"({"version": 1, "vips": [)" + vip +
                  R"("backends": [{"address": "198.18.1.12", "port": 80, "weight": 70000}]}]})") ==
          "vips[0].backends[0].weight: must be an integer from 0 to 65535, got 70000");
    CHECK(problem(R"({"version": 1, "vips": [)" + vip +
                  R"("backends": [{"address": "198.18.1.12", "port": 80, "admin": "gone"}]}]})") ==
          "vips[0].backends[0].admin: 'gone' is not draining, disabled or removing");
    CHECK(problem(R"({"version": 1, "vips": [)" + vip + R"("backends": []}, )" + vip +
                  R"("backends": []}]})") == "vips[1]: 198.18.0.10:80/tcp is listed twice");
    CHECK(problem(R"({"version": 1, "vips": [{"address": "198.18.0.10", "port": -1, )"
                  R"("protocol": "tcp"}]})") ==
          "vips[0].port: must be an integer from 1 to 65535, got -1");
    CHECK(problem(R"({"version": 1, "vips": [{"address": "198.18.0.300", "port": 80, )"
                  R"("protocol": "tcp"}]})") ==
          "vips[0].address: '198.18.0.300' is not an IP address");
    CHECK(problem(R"({"version": 1, "vips": [)" + vip +
                  R"("limits": {"packets": {"per_second": 0, "burst": 5}}}]})") ==
          "vips[0].limits.packets.burst: must be 0 exactly when per_second is 0 (unlimited), "
          "got 5");
}

TEST_CASE("apply lays the state over a reordered file by identity") {
    // Property: the same state gives the same result whatever the order of VIPs and backends in
    // the file: weights, limits, additions, removals and admin states land on the right ones.
    operator_state s = sample_state();
    for (const std::string order : {"11 12 13", "13 11 12"}) {
        CAPTURE(order);
        config::config file = test::loaded(two_vips(order));
        if (order != "11 12 13") std::swap(file.vips[0], file.vips[1]);  // dns first
        control::applied_state a = control::apply(s, file, nullptr);
        CHECK(a.dropped.empty());
        CHECK(backend(a.cfg, "web", "198.18.1.11") == nullptr);  // removed
        REQUIRE(backend(a.cfg, "web", "198.18.1.13") != nullptr);
        CHECK(backend(a.cfg, "web", "198.18.1.13")->weight == 7);
        CHECK(backend(a.cfg, "web", "198.18.1.12")->weight == 2);  // the file's
        REQUIRE(backend(a.cfg, "web", "198.18.1.14") != nullptr);
        CHECK(backend(a.cfg, "web", "198.18.1.14")->weight == 3);
        for (const auto& v : a.cfg.vips)
            if (v.name == "web") CHECK(v.limits.source_new_connections.per_second == 50);
        REQUIRE(a.admin.size() == 1);
        CHECK(a.admin[0].who.backend.to_string() == "198.18.1.12");
        CHECK(a.admin[0].admin == backend_admin::draining);
        CHECK(a.admin[0].deadline_ms == 1'900'000'000'250);
        CHECK(a.kept == s);
    }
}

TEST_CASE("entries that no longer match the file are dropped with a reason") {
    // Property: a vanished backend, a vanished VIP and an added backend no route reaches leave
    // the state, each with one log line; the rest still applies.
    operator_state s = sample_state();
    control::vip_state gone;
    gone.address = *ip_address::parse("198.18.0.99");
    gone.port = 443;
    gone.name = "old";
    gone.limits.packets = config::rate_limit_config{10, 10};
    s.vips.push_back(gone);
    backend_state far;
    far.address = *ip_address::parse("203.0.113.5");
    far.port = 80;
    far.added = true;
    far.weight = 1;
    s.vips[0].backends.push_back(far);
    config::config file = test::loaded(two_vips("11 13", false));  // .12 vanished
    control::applied_state a = control::apply(s, file, nullptr);
    REQUIRE(a.dropped.size() == 3);
    CHECK(a.dropped[0] ==
          "vip web backend 198.18.1.12:80 (draining): no longer in the configuration; its state "
          "is dropped");
    CHECK(a.dropped[1] ==
          "vip web backend 203.0.113.5:80 (added, weight 1): no route of the configuration "
          "reaches it any more; not added");
    CHECK(a.dropped[2] ==
          "vip 198.18.0.99:443/tcp (old) is no longer in the configuration: its state is dropped");
    CHECK(a.admin.empty());
    CHECK(backend(a.cfg, "web", "198.18.1.13")->weight == 7);
    REQUIRE(a.kept.vips.size() == 1);
    CHECK(a.kept.vips[0].backends.size() == 3);  // .13 weight, .14 added, .11 removed
}

TEST_CASE("capture says how the running configuration differs from the file") {
    // Property: capture(file, apply(state, file)) gives the state back (with the admin states
    // the control plane reports), and a weight set back to the file's value leaves no entry.
    operator_state s = sample_state();
    config::config file = test::loaded(two_vips());
    control::applied_state a = control::apply(s, file, nullptr);
    control::admin_source admin{
        [&](const control::backend_identity& who) {
            return who.backend.to_string() == "198.18.1.12" ? backend_admin::draining
                                                            : backend_admin::up;
        },
        [](const control::backend_identity&) { return std::optional<int64_t>(1'900'000'000'250); }};
    operator_state captured = control::capture(file, a.cfg, admin);
    REQUIRE(captured.vips.size() == 1);
    // Capture lists running backends first, then the removed ones.
    CHECK(captured.vips[0].backends.size() == 4);
    operator_state expect = s;
    std::sort(
        expect.vips[0].backends.begin(), expect.vips[0].backends.end(),
        [](const auto& x, const auto& y) { return x.address.to_string() < y.address.to_string(); });
    std::sort(
        captured.vips[0].backends.begin(), captured.vips[0].backends.end(),
        [](const auto& x, const auto& y) { return x.address.to_string() < y.address.to_string(); });
    CHECK(captured == expect);
    for (auto& v : a.cfg.vips)
        for (auto& b : v.backends)
            if (b.address.to_string() == "198.18.1.13") b.weight = 2;
    captured = control::capture(file, a.cfg, admin);
    for (const auto& b : captured.vips[0].backends) CHECK(b.address.to_string() != "198.18.1.13");
}

TEST_CASE("the state file is replaced atomically with mode 0600") {
    // Property: a write leaves exactly the new content at the path, mode 0600, no temporary
    // file; a missing file reads as "none yet"; a directory is refused with a reason.
    const std::string dir = temp_dir();
    const std::string path = dir + "/state.json";
    auto none = control::read_state_file(path);
    REQUIRE(none.ok());
    CHECK(!*none);
    REQUIRE(control::write_state_file(path, "first\n").ok());
    REQUIRE(control::write_state_file(path, "second\n").ok());
    CHECK(read_all(path) == "second\n");
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(st.st_uid == geteuid());
    const std::string tmp = path + ".tmp." + std::to_string(getpid());
    CHECK(access(tmp.c_str(), F_OK) != 0);
    auto dir_read = control::read_state_file(dir);
    REQUIRE(!dir_read.ok());
    CHECK(dir_read.message() == "cannot read: a directory, not a regular file");
    CHECK(!control::write_state_file(dir + "/no/such/dir/state.json", "x").ok());
    std::remove(path.c_str());
    rmdir(dir.c_str());
}

namespace {

// A daemon's control side over a fake data plane, with a state file: `restart()` builds a new
// one from the same config file and state file, as a restart of sluiced does.
struct daemon_side {
    std::string state_path;
    config::config file;
    control::state_keeper keeper;
    config::config running;
    test::fake_dataplane dp;
    control::control_plane plane;
    control::control_api api;

    daemon_side(const std::string& path, const std::string& text)
        : state_path(path),
          file(with_state(test::loaded(text), path)),
          keeper(path),
          running(keeper.start(file)),
          dp(running),
          plane(running, dp, std::make_unique<test::scripted_health>()),
          api(plane, dp, "/nonexistent/sluice-test.toml", &keeper) {
        keeper.restore_admin(plane, 0, control::wall_clock_ms());
        plane.start(0);
    }
    static config::config with_state(config::config c, const std::string& path) {
        c.control.state_file = path;
        return c;
    }
    json ask(const json& request) { return json::parse(api.handle(request.dump())); }
    json row(const std::string& addr) {
        json rows = ask({{"cmd", "show_backends"}, {"vip", "web"}})["result"];
        for (const auto& r : rows)
            if (r["backend"] == addr + ":80") return r;
        return nullptr;
    }
};

}  // namespace

TEST_CASE("changes made through the control API survive a restart and a reload") {
    // Property: after drain and set_weight the file holds them; a new daemon on the same files
    // starts with the backend draining and the weight kept; a reload of the file keeps both.
    const std::string dir = temp_dir();
    const std::string path = dir + "/state.json";
    {
        daemon_side d(path, two_vips());
        REQUIRE(d.ask({{"cmd", "drain"}, {"vip", "web"}, {"backend", "198.18.1.12"}})["ok"] ==
                true);
        REQUIRE(d.ask({{"cmd", "set_weight"},
                       {"vip", "web"},
                       {"backend", "198.18.1.13"},
                       {"weight", 9}})["ok"] == true);
        json shown = d.ask({{"cmd", "show_state"}});
        REQUIRE(shown["ok"] == true);
        CHECK(shown["result"]["file"] == path);
        CHECK(json::parse(read_all(path))["vips"] == shown["result"]["state"]["vips"]);
    }
    daemon_side again(path, two_vips("13 12 11"));
    CHECK(again.row("198.18.1.12")["state"] == "drained");
    CHECK(again.row("198.18.1.13")["weight"] == 9);
    CHECK(again.row("198.18.1.11")["weight"] == 2);
    auto reloaded = again.keeper.reload(again.plane, again.file, 0, control::wall_clock_ms());
    REQUIRE(reloaded.ok());
    CHECK(again.row("198.18.1.12")["state"] == "drained");
    CHECK(again.row("198.18.1.13")["weight"] == 9);
    REQUIRE(again.ask({{"cmd", "enable"}, {"vip", "web"}, {"backend", "198.18.1.12"}})["ok"] ==
            true);
    CHECK(json::parse(read_all(path))["vips"][0]["backends"].size() == 1);  // .13's weight
    std::remove(path.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("a malformed state file is logged, not used, and kept until the next change") {
    // Property: the daemon starts from the file alone, show_state reports the problem, a reload
    // does not overwrite the file, the next operator change does; a show_state with an argument
    // is refused and changes nothing.
    const std::string dir = temp_dir();
    const std::string path = dir + "/state.json";
    { std::ofstream(path) << "{\"version\": 1, \"vips\": [ oops"; }
    daemon_side d(path, two_vips());
    CHECK(d.row("198.18.1.12")["state"] == "up");
    json shown = d.ask({{"cmd", "show_state"}})["result"];
    CHECK(shown["problem"].get<std::string>().find("not valid JSON") == 0);
    REQUIRE(d.keeper.reload(d.plane, d.file, 0, control::wall_clock_ms()).ok());
    CHECK(read_all(path) == "{\"version\": 1, \"vips\": [ oops");
    json refused = d.ask({{"cmd", "show_state"}, {"vip", "web"}});
    CHECK(refused["ok"] == false);
    CHECK(refused["error"] == "show_state takes no arguments, got 'vip'");
    CHECK(read_all(path) == "{\"version\": 1, \"vips\": [ oops");
    REQUIRE(d.ask({{"cmd", "disable"}, {"vip", "web"}, {"backend", "198.18.1.11"}})["ok"] == true);
    auto now = control::state_from_text(read_all(path));
    REQUIRE(now.ok());
    CHECK(now->vips[0].backends[0].admin == backend_admin::disabled);
    CHECK(!d.ask({{"cmd", "show_state"}})["result"].contains("problem"));
    std::remove(path.c_str());
    rmdir(dir.c_str());
}

TEST_CASE("without a state file a reload applies the file as written") {
    // Property: with state_file off, show_state says so (file null), and a weight set through
    // the API is undone by the next reload, as before state files existed.
    config::config file = test::loaded(two_vips());
    control::state_keeper off("");
    test::fake_dataplane dp{file};
    control::control_plane plane{off.start(file), dp, std::make_unique<test::scripted_health>()};
    control::control_api api{plane, dp, "/nonexistent/sluice-test.toml", &off};
    plane.start(0);
    auto ask = [&](const json& r) { return json::parse(api.handle(r.dump())); };
    json shown = ask({{"cmd", "show_state"}});
    REQUIRE(shown["ok"] == true);
    CHECK(shown["result"]["file"].is_null());
    REQUIRE(ask({{"cmd", "set_weight"},
                 {"vip", "web"},
                 {"backend", "198.18.1.13"},
                 {"weight", 9}})["ok"] == true);
    CHECK(backend(plane.configuration(), "web", "198.18.1.13")->weight == 9);
    REQUIRE(off.reload(plane, file, 0, control::wall_clock_ms()).ok());
    CHECK(backend(plane.configuration(), "web", "198.18.1.13")->weight == 2);
}

TEST_CASE("a removed backend stays out across reloads and restarts, after its flows end") {
    // Property: remove_backend with flows left keeps it as removing through a reload; once the
    // flows are gone it leaves, a reload of the file (which still lists it) does not bring it
    // back, and neither does a restart.
    const std::string dir = temp_dir();
    const std::string path = dir + "/state.json";
    {
        daemon_side d(path, two_vips());
        uint32_t id = d.dp.published->vips[0].backends[0].id;  // 198.18.1.11
        d.dp.flows[id] = 3;
        REQUIRE(
            d.ask({{"cmd", "remove_backend"}, {"vip", "web"}, {"backend", "198.18.1.11"}})["ok"] ==
            true);
        REQUIRE(d.keeper.reload(d.plane, d.file, 0, control::wall_clock_ms()).ok());
        CHECK(d.row("198.18.1.11")["state"] == "removing");
        d.dp.flows[id] = 0;
        d.plane.poll(2 * test::second_ns);
        CHECK(d.row("198.18.1.11").is_null());
        REQUIRE(
            d.keeper.reload(d.plane, d.file, 3 * test::second_ns, control::wall_clock_ms()).ok());
        CHECK(d.row("198.18.1.11").is_null());
    }
    daemon_side again(path, two_vips());
    CHECK(again.row("198.18.1.11").is_null());
    CHECK(again.row("198.18.1.12")["state"] == "up");
    std::remove(path.c_str());
    rmdir(dir.c_str());
}

// Unit tests for perf/loadgen/options: defaults, every kind of value (modes, numbers, addresses,
// the search's settings), the errors an operator sees, and the ranges derived for the
// connection table (client addresses covering the flows).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "loadgen/options.hpp"

using namespace sluice::loadgen;

namespace {

std::string parse(std::vector<const char*> args, options& o) {
    args.insert(args.begin(), "--");
    return parse_options(int(args.size()), args.data(), 1, o);
}

}  // namespace

TEST_CASE("options: defaults") {
    options o;
    CHECK(parse({}, o) == "");
    CHECK(o.mode == run_mode::established);
    CHECK(o.flows == 1000);
    CHECK(o.backend_port == o.vip_port);
    CHECK(o.search.max_rate_pps == 1e6);
    CHECK(scenario_name(o) == "established_1k");
}

TEST_CASE("options: values of each kind") {
    options o;
    CHECK(parse({"--mode", "udp", "--flows", "1000000", "--vip", "198.18.0.20", "--vip-port",
                 "9000", "--max-rate", "2e6", "--trial", "0.5", "--max-trials", "12", "--json",
                 "/tmp/x.json", "--quiet"},
                o) == "");
    CHECK(o.mode == run_mode::udp);
    CHECK(o.flows == 1000000);
    CHECK(o.vip.to_string() == "198.18.0.20");
    CHECK(o.backend_port == 9000);
    CHECK(o.search.max_rate_pps == 2e6);
    CHECK(o.search.trial_duration_s == 0.5);
    CHECK(o.search.max_trials == 12);
    CHECK(o.json_path == "/tmp/x.json");
    CHECK(o.quiet);
    CHECK(scenario_name(o) == "udp_1M");
}

TEST_CASE("options: errors name the option") {
    options o;
    CHECK(parse({"--mode", "tcp"}, o) == "--mode: bad value 'tcp'");
    CHECK(parse({"--flows"}, o) == "--flows needs a value");
    CHECK(parse({"--flows", "0"}, o) == "--flows: bad value '0'");
    CHECK(parse({"--payload", "8"}, o) == "--payload: bad value '8'");  // the stamp needs 16
    CHECK(parse({"--vip", "2001:2::10"}, o) == "--vip: bad value '2001:2::10'");  // IPv4 only
    CHECK(parse({"--rate", "1e6x"}, o) == "--rate: bad value '1e6x'");
    CHECK(parse({"--bogus", "1"}, o) == "unknown option '--bogus'");
    CHECK(parse({"--help"}, o) == "help");
    options f;
    CHECK(parse({"--mode", "syn-flood"}, f) == "syn-flood mode needs --syn-flood-rate");
    options g;
    CHECK(parse({"--mode", "syn-flood", "--syn-flood-rate", "1000"}, g) == "");
    CHECK(flood_range(g).count == 250);
    options h;  // the spoofed sources must not be clients: their answers would look like theirs
    CHECK(
        parse({"--mode", "syn-flood", "--syn-flood-rate", "1000", "--flood-sources", "198.19.0.1"},
              h) == "the spoofed sources overlap the clients");
    options k;  // a source range that covers the whole client range overlaps too
    CHECK(parse({"--mode", "syn-flood", "--syn-flood-rate", "1000", "--flood-sources",
                 "198.18.255.1", "--flood-source-count", "1000"},
                k) == "the spoofed sources overlap the clients");
    options s;
    CHECK_FALSE(parse({"--max-rate", "10", "--min-rate", "100"}, s).empty());  // search config
    options r;
    CHECK(parse({"--max-rate", "10", "--min-rate", "100", "--rate", "5"}, r) == "");  // no search
}

TEST_CASE("options: client addresses cover the flows; scenario names") {
    options o;
    REQUIRE(parse({"--flows", "1000000", "--client-ports", "60000"}, o) == "");
    const address_range c = client_range(o);
    CHECK(c.count == 17);  // ceil(1e6 / 60000)
    CHECK(uint64_t(c.count) * client_port_range(o).count >= o.flows);
    CHECK(backend_range(o).count == 4);
    CHECK(local_range(o).count == 16);
    CHECK(flows_label(1000) == "1k");
    CHECK(flows_label(1500) == "1500");
    CHECK(flows_label(2000000) == "2M");
    options n;
    REQUIRE(parse({"--scenario", "mine", "--mode", "cps"}, n) == "");
    CHECK(scenario_name(n) == "mine");
    options p;
    CHECK(parse({"--client-ports", "64512"}, p) == "");
    CHECK(parse({"--client-ports", "64513"}, p) == "--client-ports: bad value '64513'");
}

TEST_CASE("options: --soak, --soak-of-ndr and --per-second; a soak without --rate searches first") {
    options o;
    CHECK(o.soak_s == 0);
    CHECK(o.soak_ndr_fraction == 0.5);  // documented default: half the NDR
    CHECK(parse({"--soak", "600", "--soak-of-ndr", "0.8", "--per-second", "/tmp/s.jsonl"}, o) ==
          "");
    CHECK(o.soak_s == 600);
    CHECK(o.soak_ndr_fraction == 0.8);
    CHECK(o.per_second_path == "/tmp/s.jsonl");
    options r;
    CHECK(parse({"--soak", "5", "--rate", "20000"}, r) == "");
    CHECK(r.rate_pps == 20000);
    options bad;
    CHECK(parse({"--soak", "0"}, bad) == "--soak: bad value '0'");
    CHECK(parse({"--soak-of-ndr", "1.5"}, bad) == "--soak-of-ndr: bad value '1.5'");
    CHECK(parse({"--per-second", ""}, bad) == "--per-second: bad value ''");
}

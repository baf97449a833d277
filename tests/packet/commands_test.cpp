// Packet tests of the control → worker command rings through the real runtime and worker: a
// flow listing is answered from a later control pass once the worker has copied its flows (the
// control thread never waits for it), a second listing meanwhile is refused at once, a listing
// the worker does not serve in time fails without leaking its commands, and a reset command's
// sweep hands the command back.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "packet/harness.hpp"

using namespace sluice;
using namespace sluice::packet_test;

namespace {

constexpr const char* config_text = R"(
[dataplane]
worker_cpus = [0]
mbufs = 4095
mbuf_cache = 32
rx_descriptors = 256
tx_descriptors = 256
ring_size = 256

[[port]]
name = "client"
device = "net_ring_client"
addresses = ["198.18.0.1/24"]

[[port]]
name = "servers"
device = "net_ring_servers"
addresses = ["198.18.1.1/24"]

[flows]
capacity = 4096

[[vip]]
name = "echo"
address = "198.18.0.10"
port = 9000
protocol = "udp"
  [[vip.backend]]
  address = "198.18.1.11"
)";

struct listing_result {
    std::string error;
    std::vector<dataplane::worker_requests::listed_flow> flows;
    bool truncated = false;
};

dataplane::worker_requests::flows_listed into(std::optional<listing_result>& r) {
    return [&r](const sluice::result<dataplane::worker_requests::flow_list>& listed) {
        if (listed)
            r = listing_result{"", listed->flows, listed->truncated};
        else
            r = listing_result{listed.message(), {}, false};
    };
}

// One UDP datagram from client port `cport` to the VIP: creates a flow.
void open_udp_flow(uint16_t cport) {
    frame_spec s;
    s.protocol = 17;
    s.dst = v4(198, 18, 0, 10);
    s.src_port = cport;
    s.dst_port = 9000;
    s.payload.assign(8, 'u');
    inject(client, from_client(s));
    run_passes();
    transmitted(servers);
}

}  // namespace

TEST_CASE("a flow listing is answered after the worker's pass, never by a waiting control pass") {
    // Property: list_flows returns at once; control passes alone do not answer it; once the
    // worker ran, the next control pass answers with the worker's flows.
    resolve_neighbors();
    open_udp_flow(41000);
    std::optional<listing_result> r;
    h.rt->requests().list_flows({}, 10, into(r));
    h.rt->control_poll();
    h.rt->control_poll();
    CHECK(!r.has_value());
    CHECK(h.rt->requests().outstanding() == 1);
    h.rt->worker_at(0).poll_once();
    h.rt->control_poll();
    REQUIRE(r.has_value());
    CHECK(r->error.empty());
    REQUIRE(r->flows.size() == 1);
    CHECK(r->flows[0].client.src_port == 41000);
    CHECK(r->flows[0].worker == 0);
    CHECK(!r->truncated);
    CHECK(h.rt->requests().outstanding() == 0);
}

TEST_CASE("a second listing while one runs is refused at once; the first still completes") {
    // Property: only one listing runs at a time; the refusal names the reason and the running
    // listing is not disturbed.
    std::optional<listing_result> first, second;
    h.rt->requests().list_flows({}, 10, into(first));
    h.rt->requests().list_flows({}, 10, into(second));
    REQUIRE(second.has_value());
    CHECK(second->error.find("still running") != std::string::npos);
    CHECK(!first.has_value());
    run_passes();
    REQUIRE(first.has_value());
    CHECK(first->error.empty());
}

TEST_CASE("a listing the workers do not serve in time fails; its late part is freed") {
    // Property: past max_wait_ms the caller gets an error from a control pass; the worker's
    // late completion is taken and freed (ASan checks the leak), and a new listing works.
    std::optional<listing_result> r;
    h.rt->requests().list_flows({}, 10, into(r), 0);
    h.rt->control_poll();
    REQUIRE(r.has_value());
    CHECK(r->error.find("did not answer") != std::string::npos);
    CHECK(h.rt->requests().outstanding() == 1);  // still with the worker
    run_passes();
    CHECK(h.rt->requests().outstanding() == 0);
    std::optional<listing_result> again;
    h.rt->requests().list_flows({}, 10, into(again));
    run_passes();
    REQUIRE(again.has_value());
    CHECK(again->error.empty());
    CHECK(again->flows.size() == 1);
}

TEST_CASE("a listing's limit truncates and says so") {
    // Property: with more matching flows than the limit, exactly `limit` come back, flagged.
    open_udp_flow(41001);
    open_udp_flow(41002);
    std::optional<listing_result> r;
    h.rt->requests().list_flows({}, 2, into(r));
    run_passes();
    REQUIRE(r.has_value());
    CHECK(r->flows.size() == 2);
    CHECK(r->truncated);
}

TEST_CASE("a reset command sweeps the backend's flows and is handed back") {
    // Property: reset_flows removes every flow of the backend id on the worker (UDP: no RST),
    // counts them under the cause and leaves no command outstanding.
    const uint32_t id = h.rt->current()->vips[0].backends[0].id;
    const auto& c = h.rt->worker_at(0).counters;
    const uint64_t before = dataplane::read(c.flows_reset_disabled);
    const uint32_t flows = h.rt->worker_at(0).flows().size();
    REQUIRE(flows == 3);
    h.rt->reset_flows({id}, model::reset_cause::disabled);
    CHECK(h.rt->requests().outstanding() == 1);
    run_passes();
    CHECK(dataplane::read(c.flows_reset_disabled) == before + flows);
    CHECK(h.rt->worker_at(0).flows().size() == 0);
    CHECK(h.rt->requests().outstanding() == 0);
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, config_text, "commands_test");
}

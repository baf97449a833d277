#pragma once
// Fakes of the control plane's neighbours for unit tests without EAL: a data plane that records
// publications and resets and reports the flow counts a test sets (dataplane_sink and the API's
// dataplane_view), and health checks whose verdicts and transitions the test scripts.
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "control/dataplane_sink.hpp"
#include "control/dataplane_view.hpp"
#include "control/health_watch.hpp"

namespace test {

using namespace sluice;

constexpr uint64_t second_ns = 1'000'000'000;

// Records what the control plane asks of the data plane; flow counts are set by the test.
struct fake_dataplane final : control::dataplane_sink, control::dataplane_view {
    route::neighbor_table neighbors{64};
    std::vector<model::port_info> ports;
    std::unique_ptr<model::snapshot> published;
    std::vector<std::unique_ptr<model::snapshot>> retired;
    std::map<uint32_t, uint64_t> flows;  // open flows by backend id
    struct reset {
        std::vector<uint32_t> ids;
        model::reset_cause why;
    };
    std::vector<reset> resets;
    std::vector<std::string> events;  // "publish N" and "reset", in order

    explicit fake_dataplane(const config::config& cfg)
        : ports(cfg.ports.size(), model::port_info{0, {}}) {}

    build_resources resources() override { return {ports, neighbors, 8, {}}; }
    const model::snapshot* current() const override { return published.get(); }
    void publish(std::unique_ptr<model::snapshot> next, const config::config&) override {
        events.push_back("publish " + std::to_string(next->generation));
        if (published) retired.push_back(std::move(published));
        published = std::move(next);
    }
    void reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why) override {
        events.push_back("reset");
        resets.push_back({ids, why});
    }
    uint64_t open_flows(uint32_t id) const override {
        auto it = flows.find(id);
        return it == flows.end() ? 0 : it->second;
    }
    control::connect_outcomes connects(uint32_t) const override { return {}; }
    bool ids_quiescent() const override { return true; }

    // dataplane_view: counters are zero but for open flows (inactive); no flow is listed.
    connections connections_of(uint32_t id) const override { return {0, open_flows(id), 0}; }
    backend_values traffic(uint32_t) const override { return {}; }
    double connection_rate(uint32_t) const override { return 0; }
    // One port named as the config's first, link up, NIC settings at their defaults.
    std::vector<control::port_status> port_statuses() const override {
        control::port_status p;
        p.name = "test";
        p.link = "up, 10 Gbps, full-duplex";
        p.nic.driver = "fake";
        return {p};
    }
    control::dataplane_facts facts() const override { return {"DPDK test", 0, 1024, 0, 4096, 1}; }
    const model::snapshot& current_snapshot() const override { return *published; }
    unsigned worker_count() const override { return 1; }
    std::vector<std::pair<std::string, uint64_t>> totals() const override { return {}; }
    std::vector<metrics::worker_metrics> workers() const override { return {}; }
    std::vector<metrics::local_tuple_metrics> local_tuples() const override { return {}; }
    metrics::protect_metrics protection_of(const model::vip_entry&) const override { return {}; }
    std::vector<std::pair<std::string, uint64_t>> vip_drops_of(
        const model::vip_entry&) const override {
        return vip_drops;
    }
    std::vector<std::pair<std::string, uint64_t>> vip_drops;  // what every VIP reports
    void list_flows(const std::vector<uint32_t>&, uint32_t, flows_listed done) override {
        done(flow_list{});
    }
    void collect_commands() override {}
};

// Health checks whose verdicts and transitions the test sets.
struct scripted_health final : control::health_watch {
    std::set<uint32_t> down;
    actions next_poll;  // what the next poll() reports, once
    void set_targets(const config::config&, const model::snapshot&, uint64_t) override {}
    control::backend_health lookup(uint32_t id, const config::vip_config&,
                                   uint64_t) const override {
        return {!down.contains(id), 1.0};
    }
    actions poll(uint64_t, const connect_reader&) override { return std::exchange(next_poll, {}); }
    std::optional<health::target_status> status(uint32_t) const override { return std::nullopt; }
};

}  // namespace test

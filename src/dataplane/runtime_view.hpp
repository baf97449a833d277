#pragma once
// The control API's view of the running data plane (control/dataplane_view.hpp) over a runtime.
// Control thread only; the runtime must outlive it.
#include "control/dataplane_view.hpp"
#include "dataplane/runtime.hpp"

namespace sluice::dataplane {

class runtime_view final : public control::dataplane_view {
public:
    explicit runtime_view(runtime& rt) : rt_(rt) {}

    connections connections_of(uint32_t id) const override;
    backend_values traffic(uint32_t id) const override { return rt_.readings().traffic(id); }
    double connection_rate(uint32_t id) const override {
        return rt_.readings().connection_rate(id);
    }
    const model::snapshot& current_snapshot() const override { return *rt_.current(); }
    unsigned worker_count() const override { return rt_.worker_count(); }
    std::vector<std::pair<std::string, uint64_t>> totals() const override {
        return rt_.readings().stats();
    }
    std::vector<metrics::worker_metrics> workers() const override;
    std::vector<metrics::local_tuple_metrics> local_tuples() const override {
        return rt_.readings().local_tuples();
    }
    std::vector<std::pair<std::string, uint64_t>> vip_drops_of(
        const model::vip_entry& vip) const override {
        return rt_.readings().vip_drops_of(vip);
    }
    metrics::protect_metrics protection_of(const model::vip_entry& vip) const override {
        return rt_.readings().protection_of(vip);
    }
    std::vector<control::port_status> port_statuses() const override;
    control::dataplane_facts facts() const override;
    void list_flows(const std::vector<uint32_t>& ids, uint32_t limit, flows_listed done) override;
    void collect_commands() override { rt_.requests().collect(); }
    void reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why) override {
        rt_.reset_flows(ids, why);
    }

private:
    runtime& rt_;
};

}  // namespace sluice::dataplane

#include "dataplane/runtime_view.hpp"

#include <string>
#include <utility>

namespace sluice::dataplane {

control::dataplane_view::connections runtime_view::connections_of(uint32_t id) const {
    const conn_totals t = rt_.readings().connections(id);
    return {t.active, t.inactive, t.half_open};
}

std::vector<metrics::worker_metrics> runtime_view::workers() const {
    return rt_.readings().workers();
}

void runtime_view::list_flows(const std::vector<uint32_t>& ids, uint32_t limit, flows_listed done) {
    rt_.requests().list_flows(ids, limit, std::move(done));
}

}  // namespace sluice::dataplane

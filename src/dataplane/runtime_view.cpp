#include "dataplane/runtime_view.hpp"

#include <string>
#include <utility>

#include "sluice/drop_reason.hpp"

namespace sluice::dataplane {

control::dataplane_view::connections runtime_view::connections_of(uint32_t id) const {
    const conn_totals t = rt_.connections(id);
    return {t.active, t.inactive, t.half_open};
}

std::vector<metrics::worker_metrics> runtime_view::workers() const {
    std::vector<metrics::worker_metrics> out;
    for (unsigned w = 0; w < rt_.worker_count(); ++w) {
        const worker_counters& c = rt_.worker_stats(w);
        metrics::worker_metrics m;
        m.worker = w;
        m.counters = c.values();
        for (unsigned r = 0; r < drop_reason_count; ++r)
            m.drops.emplace_back(std::string(drop_reason_name(drop_reason(r))), read(c.drops[r]));
        out.push_back(std::move(m));
    }
    return out;
}

void runtime_view::list_flows(const std::vector<uint32_t>& ids, uint32_t limit, flows_listed done) {
    rt_.list_flows(ids, limit, std::move(done));
}

}  // namespace sluice::dataplane

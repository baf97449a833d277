// Per-second rates of the status page (status_rates.hpp). Control thread only.
#include "metrics/status_rates.hpp"

#include <string_view>
#include <utility>

namespace sluice::metrics {

namespace {

// A backend's counter key: the VIP name is length-prefixed, so no name can run into the next.
std::string backend_key(char what, const status_vip& vip, const status_backend& b) {
    return std::string(1, what) + std::to_string(vip.name.size()) + ":" + vip.name + b.backend;
}

std::string drop_key(const std::string& reason) {
    return "drop/" + reason;
}

std::map<std::string, uint64_t> counters_of(const status_view& v) {
    std::map<std::string, uint64_t> out;
    for (const status_vip& vip : v.vips) {
        for (const status_backend& b : vip.backends) {
            const backend_values& t = b.traffic;
            out[backend_key('c', vip, b)] = t[backend_counter::connections_total];
            out[backend_key('p', vip, b)] =
                t[backend_counter::packets_to_backend] + t[backend_counter::packets_from_backend];
            out[backend_key('b', vip, b)] =
                t[backend_counter::bytes_to_backend] + t[backend_counter::bytes_from_backend];
        }
    }
    for (const status_drop& d : v.drops) out[drop_key(d.reason)] = d.count;
    out["rx_packets"] = v.totals[worker_counter::rx_packets];
    out["tx_packets"] = v.totals[worker_counter::tx_packets];
    out["rx_bytes"] = v.totals[worker_counter::rx_bytes];
    out["tx_bytes"] = v.totals[worker_counter::tx_bytes];
    out["flows_created"] = v.totals[worker_counter::flows_created];
    return out;
}

// a + b, absent when either is.
std::optional<double> plus(std::optional<double> a, std::optional<double> b) {
    if (!a || !b) return std::nullopt;
    return *a + *b;
}

}  // namespace

std::optional<double> status_rates::rate(const std::string& key) const {
    if (!have_earlier_) return std::nullopt;
    const auto now = latest_.find(key);
    if (now == latest_.end()) return std::nullopt;
    uint64_t before = 0;  // a drop reason that was not listed yet had counted nothing
    if (const auto then = earlier_.find(key); then != earlier_.end()) {
        before = then->second;
    } else if (!std::string_view(key).starts_with("drop/")) {
        return std::nullopt;  // a backend that was not there: no reference
    }
    if (now->second < before) return std::nullopt;  // counters restarted (backend re-added)
    return double(now->second - before) * 1e9 / double(latest_ns_ - earlier_ns_);
}

void status_rates::apply(status_view& v, uint64_t now_ns) {
    if (!have_latest_ || now_ns - latest_ns_ >= min_ns_) {
        // After a long pause (nobody watching) the old sample would average the rates over
        // the whole pause: start afresh instead, rates come back one interval later.
        have_earlier_ = have_latest_ && now_ns - latest_ns_ <= 10 * min_ns_;
        earlier_ = std::exchange(latest_, counters_of(v));
        earlier_ns_ = std::exchange(latest_ns_, now_ns);
        have_latest_ = true;
    }
    for (status_vip& vip : v.vips) {
        status_rates_of sum{0.0, 0.0, 0.0};
        if (!have_earlier_) sum = {};
        for (status_backend& b : vip.backends) {
            b.rates.connections = rate(backend_key('c', vip, b));
            b.rates.packets = rate(backend_key('p', vip, b));
            b.rates.bytes = rate(backend_key('b', vip, b));
            sum.connections = plus(sum.connections, b.rates.connections);
            sum.packets = plus(sum.packets, b.rates.packets);
            sum.bytes = plus(sum.bytes, b.rates.bytes);
        }
        vip.rates = sum;
    }
    for (status_drop& d : v.drops) d.per_second = rate(drop_key(d.reason));
    v.rx_packets_per_second = rate("rx_packets");
    v.tx_packets_per_second = rate("tx_packets");
    v.rx_bytes_per_second = rate("rx_bytes");
    v.tx_bytes_per_second = rate("tx_bytes");
    v.flows_per_second = rate("flows_created");
    v.rate_interval_s = have_earlier_
                            ? std::optional<double>(double(latest_ns_ - earlier_ns_) / 1e9)
                            : std::nullopt;
}

}  // namespace sluice::metrics

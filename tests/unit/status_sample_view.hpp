#pragma once
// A status_view with one backend in each display state, and names that need escaping, shared
// by the status page and status JSON tests.
#include "metrics/status_view.hpp"

namespace sluice::metrics::testing {

inline status_backend sample_backend(std::string name, std::string state, std::string health) {
    status_backend b;
    b.backend = std::move(name);
    b.state = std::move(state);
    b.health = std::move(health);
    b.weight = b.state == "up" ? 2 : 0;
    b.configured_weight = 2;
    b.active = 3;
    b.inactive = 1;
    b.traffic[backend_counter::connections_total] = 40;
    b.traffic[backend_counter::packets_to_backend] = 100;
    b.traffic[backend_counter::packets_from_backend] = 90;
    b.traffic[backend_counter::bytes_to_backend] = 10000;
    b.traffic[backend_counter::bytes_from_backend] = 90000;
    return b;
}

inline status_view sample_status() {
    status_view v;
    v.version = "0.1.0";
    v.uptime_s = 3725;
    v.generation = 4;
    v.workers = 2;
    v.flows_active = 10;
    v.flow_table_capacity = 131072;
    v.totals[worker_counter::rx_packets] = 1000;
    v.totals[worker_counter::flows_created] = 50;
    v.drops.push_back({"no_backend", 4, std::nullopt});
    status_vip web;
    web.name = "web<script>alert('x')</script>&";
    web.address = "198.18.0.10";
    web.port = 80;
    web.protocol = "tcp";
    web.scheduler = "wrr";
    web.syn_proxy = "auto";
    web.syn_proxy_engaged = 1;
    web.refused.emplace_back("source_connections", 7);
    web.drops.emplace_back("no_flow", 12);
    web.backends.push_back(sample_backend("198.18.1.11:80", "up", "up"));
    web.backends.push_back(sample_backend("198.18.1.12:80", "up", "down"));
    web.backends.back().last_result = "refused";
    web.backends.back().last_detail = "connection <refused>";
    web.backends.back().last_check_ago_s = 0.4;
    web.backends.push_back(sample_backend("198.18.1.13:80", "draining", "up"));
    web.backends.back().drain_reset_in_s = 41.2;
    web.backends.push_back(sample_backend("198.18.1.14:80", "drained", "down"));
    web.backends.push_back(sample_backend("198.18.1.15:80", "disabled", "unchecked"));
    v.vips.push_back(web);
    status_vip dns;
    dns.name = "dns6";
    dns.address = "2001:2::10";
    dns.port = 53;
    dns.protocol = "udp";
    dns.scheduler = "maglev";
    dns.backends.push_back(sample_backend("[2001:2:0:1::11]:53", "removing", "unchecked"));
    v.vips.push_back(dns);
    return v;
}

}  // namespace sluice::metrics::testing

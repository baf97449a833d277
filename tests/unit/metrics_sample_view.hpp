#pragma once
// A representative metrics_view shared by the formatter tests and metrics_sample (the input of
// `promtool check metrics`): two VIPs, three backends in different states, two workers, label
// values that need escaping, a worker whose drop list is incomplete and one with a reason this
// build does not know.
#include "metrics/metrics_view.hpp"
#include "sluice/drop_reason.hpp"

namespace sluice::metrics::testing {

inline metrics_view sample_view() {
    metrics_view v;

    backend_metrics web1;
    web1.vip = "web";
    web1.backend = "10.0.0.1:80";
    web1.state = "up";
    web1.up = true;
    web1.weight = 3;
    web1.active = 12;
    web1.inactive = 2;
    web1.traffic[backend_counter::connections_total] = 1000;
    web1.traffic[backend_counter::packets_to_backend] = 5000;
    web1.traffic[backend_counter::packets_from_backend] = 4000;
    web1.traffic[backend_counter::bytes_to_backend] = 700000;
    web1.traffic[backend_counter::bytes_from_backend] = 9000000;
    v.backends.push_back(web1);

    backend_metrics web2;
    web2.vip = "web";
    web2.backend = "10.0.0.2:80";
    web2.state = "draining";
    web2.up = false;
    web2.weight = 0;
    web2.active = 1;
    web2.traffic[backend_counter::connections_total] = 17;
    v.backends.push_back(web2);

    backend_metrics odd;
    odd.vip = "say \"hi\"\\path\nnext";  // quote, backslash and newline all need escaping
    odd.backend = "[2001:db8::7]:443";
    odd.state = "disabled";
    odd.up = false;
    odd.weight = 5;
    odd.health = "down";
    odd.checks = {{"ok", 10},        {"refused", 0},   {"timeout", 3},
                  {"bad_status", 0}, {"malformed", 0}, {"error", 0}};
    odd.state_changes = 2;
    v.backends.push_back(odd);

    worker_metrics w0;
    w0.worker = 0;
    w0.counters[worker_counter::rx_packets] = 10;
    w0.counters[worker_counter::tx_packets] = 9;
    w0.counters[worker_counter::rx_bytes] = 1500;
    w0.counters[worker_counter::tx_bytes] = 1400;
    w0.counters[worker_counter::flows_active] = 4;
    w0.counters[worker_counter::flows_created] = 40;
    w0.counters[worker_counter::flows_expired] = 36;
    w0.counters[worker_counter::flows_reset_drain_timeout] = 3;
    w0.counters[worker_counter::flows_reset_disabled] = 5;
    w0.counters[worker_counter::flows_reset_backend_down] = 7;
    w0.counters[worker_counter::resets_sent] = 30;
    for (unsigned r = 0; r < drop_reason_count; ++r) {
        w0.drops.emplace_back(std::string(drop_reason_name(drop_reason(r))), r);
    }
    v.workers.push_back(w0);

    worker_metrics w1;
    w1.worker = 1;
    w1.counters[worker_counter::rx_packets] =
        18446744073709551615ull;  // the largest counter value prints exactly
    w1.drops.emplace_back("no_vip", 7);
    w1.drops.emplace_back("from_a_newer_build", 2);
    v.workers.push_back(w1);

    v.control[control_counter::arp_requests_answered] = 6;
    v.control[control_counter::kernel_budget_exhausted] = 2;
    port_metrics client;
    client.port = "client";
    client.counters[port_counter::rx_packets] = 100;
    client.counters[port_counter::rx_missed] = 3;
    client.counters[port_counter::link_up] = 1;
    client.counters[port_counter::link_speed_mbps] = 10000;
    v.ports.push_back(client);
    port_metrics servers;
    servers.port = "servers";
    v.ports.push_back(servers);

    v.vip_drops.push_back({"web", "no_flow", 12});
    v.vip_drops.push_back({"web", "limit_connections", 3});
    v.local_tuples.push_back({"servers", "198.18.1.128", 3, 130045});
    v.local_tuples.push_back({"servers", "2001:db8:1::80", 0, 130048});

    v.flow_table_capacity = 1 << 20;
    v.mbufs_in_use = 1234;
    v.mbufs_total = 8191;
    v.config_generation = 3;
    v.reloads_total = 2;
    v.reload_failures_total = 1;
    return v;
}

}  // namespace sluice::metrics::testing

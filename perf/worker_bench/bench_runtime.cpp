// The benchmark's only calls into src/ (see bench_runtime.hpp). Benchmark thread only.
#include "bench_runtime.hpp"

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include <cstring>
#include <stdexcept>
#include <utility>

#include "addresses.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "dataplane/runtime.hpp"
#include "flow/flow_table.hpp"
#include "protect/syn_cookie.hpp"
#include "sluice/config.hpp"

namespace sluice::worker_bench {

parsed_config::parsed_config(const std::string& toml)
    : config_(std::make_unique<config::config>(config::load_string(toml, "worker_bench.toml"))) {
    config_->dataplane.kernel_interfaces = false;  // no TAP interfaces: the caller's namespace
}
parsed_config::~parsed_config() = default;
parsed_config::parsed_config(parsed_config&&) noexcept = default;

bench_runtime::bench_runtime(const parsed_config& cfg)
    : runtime_(std::make_unique<dataplane::runtime>(cfg.get())) {
    runtime_->start();
    worker_ = &runtime_->worker_at(0);
    inline_workers_ = runtime_->worker_count();
}
bench_runtime::~bench_runtime() {
    if (others_running_) stop_others();
}

unsigned bench_runtime::workers() const {
    return runtime_->worker_count();
}

void bench_runtime::launch_others() {
    // Not runtime::launch_workers: worker 0 stays on the main lcore, polled between the
    // feeder's bursts, so N workers need N lcores (a 2-vCPU machine runs N = 2).
    const unsigned n = runtime_->worker_count();
    if (n < 2) return;
    if (rte_lcore_count() < n) throw std::runtime_error("fewer lcores than workers");
    unsigned lcore = rte_get_main_lcore();
    for (unsigned w = 1; w < n; ++w) {
        lcore = rte_get_next_lcore(lcore, 1, 0);
        if (rte_eal_remote_launch(dataplane::worker::lcore_main, &runtime_->worker_at(w), lcore))
            throw std::runtime_error("cannot launch worker " + std::to_string(w));
    }
    inline_workers_ = 1;
    others_running_ = true;
}

void bench_runtime::stop_others() {
    if (!others_running_) return;
    // The stop command goes to worker 0 as well: it only ends lcore_main's loop, which worker 0
    // (polled inline) never runs. Its completion is collected by control_poll or at shutdown.
    runtime_->requests().send_stop();
    rte_eal_mp_wait_lcore();
    others_running_ = false;
    inline_workers_ = runtime_->worker_count();
}

port_facts bench_runtime::port(unsigned index) const {
    const auto& p = runtime_->current()->ports[index];
    port_facts f{};
    std::memcpy(f.mac, p.mac.data(), 6);
    f.dpdk_port = p.dpdk_port;
    return f;
}

vip_protection_facts bench_runtime::tcp_vip_protection() const {
    const model::vip_protection& p = runtime_->current()->vips[0].protect;
    return {p.guard != nullptr, p.packets.unlimited(), p.syn_proxy == config::syn_proxy_mode::on};
}

unsigned bench_runtime::poll_once() {
    if (inline_workers_ == 1) return worker_->poll_once();
    unsigned n = 0;
    for (unsigned w = 0; w < inline_workers_; ++w) n += runtime_->worker_at(w).poll_once();
    return n;
}
void bench_runtime::control_poll() {
    runtime_->control_poll();
}
bool bench_runtime::neighbors_ready() const {
    return runtime_->neighbors_ready();
}
std::string bench_runtime::unresolved_neighbors() const {
    return runtime_->unresolved_neighbors();
}
result<> bench_runtime::reload(const parsed_config& next) {
    return runtime_->control().reload(next.get(), monotonic_ns());
}

worker_counts bench_runtime::counts() const {
    worker_counts n;
    for (unsigned w = 0; w < runtime_->worker_count(); ++w) {
        const auto& c = runtime_->worker_at(w).counters;
        for (const auto& d : c.drops) n.drops += dataplane::read(d);
        n.flows_created += dataplane::read(c.flows_created);
        n.syn_cookies_sent += dataplane::read(c.syn_cookies_sent);
        n.resets_sent += dataplane::read(c.resets_sent);
        n.flows_early_dropped += dataplane::read(c.flows_early_dropped);
    }
    return n;
}

size_t bench_runtime::flows_in_table() const {
    size_t n = 0;
    for (unsigned w = 0; w < runtime_->worker_count(); ++w)
        n += runtime_->worker_at(w).flows().size();
    return n;
}

uint64_t bench_runtime::active_flows(size_t vip) const {
    uint64_t n = 0;
    for (const auto& b : runtime_->current()->vips[vip].backends)
        n += runtime_->readings().connections(b.id).active;
    return n;
}

namespace {

// One table entry into the counts by TCP state.
void count_state(flow_states& n, const flow::flow_table& table, const flow::flow_entry& e) {
    if (!table.is_tcp(e)) {
        ++n.not_tcp;
        return;
    }
    switch (e.state) {
        case flow::tcp_state::syn_sent:
            ++n.syn_sent;
            break;
        case flow::tcp_state::syn_recv:
            ++n.syn_recv;
            break;
        case flow::tcp_state::established:
            ++n.established;
            break;
        case flow::tcp_state::fin_wait:
            ++n.fin_wait;
            break;
        case flow::tcp_state::time_wait:
            ++n.time_wait;
            break;
        default:
            ++n.close;
            break;
    }
}

}  // namespace

flow_states bench_runtime::states() const {
    flow_states n;
    for (unsigned w = 0; w < runtime_->worker_count(); ++w) {
        flow::flow_table& table = runtime_->worker_at(w).flows();
        table.for_each_in(0, table.capacity(),
                          [&](const flow::flow_entry& e) { count_state(n, table, e); });
    }
    return n;
}

cookie_verdict bench_runtime::check_cookie(uint32_t client, uint16_t client_port,
                                           uint32_t client_isn, uint32_t syn_ack_seq,
                                           uint32_t syn_ack_tsval) const {
    // What the client's ACK would carry must pass the proxy's own check: the cookie for this
    // tuple and ISN, and the client's options in the TSval.
    flow::flow_key key;
    std::memset(&key, 0, sizeof key);
    for (int i = 0; i < 4; ++i) key.src[i] = uint8_t(client >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) key.dst[i] = uint8_t(vip_address >> (24 - 8 * i));
    key.src_port = client_port;
    key.dst_port = tcp_vip_port;
    key.protocol = 6;
    key.family = 4;
    const uint32_t period =
        uint32_t(rte_rdtsc() / rte_get_tsc_hz() / protect::cookie_period_seconds);
    cookie_verdict v;
    auto mss_index = protect::check_syn_cookie(*worker_->setup().cookie_secret, key, client_isn + 1,
                                               syn_ack_seq + 1, period);
    if (!mss_index) return v;
    v.valid = true;
    v.mss = protect::cookie_mss_v4[*mss_index & 3];
    const packet::syn_options echoed = protect::decode_cookie_tsecr(syn_ack_tsval);
    v.wscale = echoed.wscale;
    v.sack_ok = echoed.sack_ok;
    return v;
}

uint64_t flow_table_bytes(uint32_t capacity) {
    return flow::flow_table::required_bytes(capacity);
}
size_t flow_entry_bytes() {
    return sizeof(flow::flow_entry);
}
uint16_t mbuf_private_bytes() {
    return dataplane::mbuf_priv_size;
}
void quiet_runtime_logs() {
    log::set_min_level(log::level::warn);
}

}  // namespace sluice::worker_bench

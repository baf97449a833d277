#include "dataplane/runtime.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <time.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "config/describe.hpp"
#include "control/health_checks.hpp"
#include "dataplane/dpdk_error.hpp"

namespace sluice::dataplane {

namespace {

constexpr uint32_t neighbor_capacity = 4096;

}  // namespace

runtime::runtime(config::config cfg) : cfg_(std::move(cfg)) {}

runtime::~runtime() {
    shutdown();
}

rte_mempool* runtime::pool_for(int socket) {
    if (socket < 0) socket = int(rte_socket_id());
    for (const auto& [at, pool] : socket_pools_)
        if (at == socket) return pool;
    const auto& dp = cfg_.dataplane;
    // The first pool keeps the name it always had; another socket's carries its number.
    const std::string name =
        socket_pools_.empty() ? "sluice_pkts" : "sluice_pkts_" + std::to_string(socket);
    rte_mempool* pool =
        rte_pktmbuf_pool_create(name.c_str(), dp.mbufs, dp.mbuf_cache, mbuf_priv_size,
                                mbuf_buffer_size(cfg_.ports), socket);
    if (!pool)
        throw std::runtime_error("cannot create the packet pool of " + std::to_string(dp.mbufs) +
                                 " mbufs on NUMA socket " + std::to_string(socket) + ": " +
                                 rte_strerror(rte_errno) +
                                 " (lower dataplane.mbufs or give EAL more memory: -m, "
                                 "--socket-mem)");
    socket_pools_.emplace_back(socket, pool);
    if (socket_pools_.size() > 1)
        SLUICE_LOG_INFO("mbuf pool %s: %u mbufs on NUMA socket %d", name.c_str(), dp.mbufs, socket);
    return pool;
}

void runtime::create_pool() {
    const auto& dp = cfg_.dataplane;
    pool_ = pool_for(int(rte_socket_id()));
    // Egress fragmentation's indirect mbufs (no data room: they point into the packet being
    // cut), a quarter of the packet pool.
    indirect_pool_ =
        rte_pktmbuf_pool_create("sluice_indirect", std::max<uint32_t>(4095, dp.mbufs / 4),
                                dp.mbuf_cache, 0, 0, int(rte_socket_id()));
    if (!indirect_pool_)
        throw std::runtime_error(std::string("cannot create the indirect mbuf pool: ") +
                                 rte_strerror(rte_errno));
}

void runtime::start() {
    const auto& dp = cfg_.dataplane;
    const unsigned n_workers = unsigned(dp.worker_cpus.size());
    if (n_workers > max_workers) throw std::runtime_error("too many workers");
    if (cfg_.ports.size() > max_ports)
        throw std::runtime_error("at most " + std::to_string(max_ports) + " ports");
    create_pool();
    configure_ports();
    if (cfg_.dataplane.kernel_interfaces) kernel_.open(cfg_, ports_, pool_);
    exception_.set_kernel_sink(
        [this](uint16_t port, rte_mbuf* m) { return kernel_.deliver(port, m); });

    neighbors_ = std::make_unique<route::neighbor_table>(neighbor_capacity);
    resolver_ = std::make_unique<route::neighbor_resolver>(*neighbors_, cfg_.neighbor);
    control_ = std::make_unique<control::control_plane>(
        cfg_, *this, std::make_unique<control::health_checks>(cfg_));
    if (before_first_snapshot_) before_first_snapshot_(*control_);
    control_->start(monotonic_ns());  // publishes the first snapshot before any worker exists

    size_t qsbr_size = rte_rcu_qsbr_get_memsize(n_workers);
    qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("sluice_qsbr", qsbr_size, RTE_CACHE_LINE_SIZE));
    if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, n_workers) != 0)
        throw std::runtime_error("cannot set up RCU state");

    const uint64_t tsc_hz = rte_get_tsc_hz();
    const auto plan =
        local_port_plan::make(cfg_.flows.local_port_min, cfg_.flows.local_port_max, n_workers);
    steer_replies(plan);
    tuple_pools_.resize(n_workers);
    unsigned lcore = 0;
    for (unsigned w = 0; w < n_workers; ++w) {
        lcore = rte_get_next_lcore(lcore, 1, 0);
        // Packet tests run workers inline on the main lcore: no worker lcore exists then.
        const int socket =
            lcore < RTE_MAX_LCORE ? int(rte_lcore_to_socket_id(lcore)) : SOCKET_ID_ANY;
        create_flow_table(w, socket);
        create_tuple_pools(w, plan);
        setups_.push_back(make_setup(w, plan, tsc_hz, pool_for(socket)));
        rte_rcu_qsbr_thread_register(qsbr_, w);
        conns_.push_back(std::make_unique<conn_counts>());
        conn_views_.push_back(conns_.back().get());
    }
    for (unsigned w = 0; w < n_workers; ++w) {
        workers_.push_back(std::make_unique<worker>(setups_[w], flow_tables_[w].get(), &snapshot_,
                                                    neighbors_.get(), qsbr_, conns_[w].get(),
                                                    conn_views_));
        for (size_t p = 0; p < cfg_.ports.size(); ++p)
            for (unsigned f = 0; f < 2; ++f)
                workers_[w]->tuples[p][f] = tuple_pools_[w][p][f].get();
    }
    create_rings();
    ensure_proxy_state(*snapshot_.load());
    started_ = true;
    SLUICE_LOG_INFO("%u worker(s), %u flows each (%zu MiB), local ports %u-%u, %zu VIP(s)",
                    n_workers, cfg_.flows.capacity,
                    flow::flow_table::required_bytes(cfg_.flows.capacity) >> 20,
                    cfg_.flows.local_port_min, cfg_.flows.local_port_max, cfg_.vips.size());
}

void runtime::create_flow_table(unsigned w, int socket) {
    size_t bytes = flow::flow_table::required_bytes(cfg_.flows.capacity);
    void* mem = rte_malloc_socket("sluice_flows", bytes, RTE_CACHE_LINE_SIZE, socket);
    if (!mem)
        throw std::runtime_error("cannot allocate the flow table of worker " + std::to_string(w) +
                                 " (" + std::to_string(bytes >> 20) + " MiB for " +
                                 std::to_string(cfg_.flows.capacity) +
                                 " flows; lower flows.capacity or give EAL more memory)");
    flow_memory_.push_back(mem);
    flow_tables_.push_back(
        std::make_unique<flow::flow_table>(mem, cfg_.flows.capacity, 0, &endpoints_));
}

worker_setup runtime::make_setup(unsigned w, const local_port_plan& plan, uint64_t tsc_hz,
                                 rte_mempool* pool) const {
    const auto& dp = cfg_.dataplane;
    const unsigned n = unsigned(dp.worker_cpus.size());
    worker_setup s;
    s.index = w;
    s.count = n;
    s.queue = uint16_t(w);
    for (size_t i = 0; i < ports_.size(); ++i) {
        const auto& p = ports_[i];
        s.vlans[i] = {p.vlan, p.vlan_tx_offload};
        s.dpdk_ports.push_back(p.dpdk_port);
        auto d = std::find_if(s.rx_devices.begin(), s.rx_devices.end(),
                              [&](const rx_device& x) { return x.dpdk_port == p.dpdk_port; });
        if (d == s.rx_devices.end()) {
            d = s.rx_devices.insert(d, rx_device{p.dpdk_port});
            // [[port]] queues below the worker count: the workers past it have no RX queue
            // here (RSS spreads over the others; their flows come through the handoff rings).
            d->polled = p.rx_queues == 0 || w < p.rx_queues;
        }
        d->vids[d->n_ports] = p.vlan;
        d->ports[d->n_ports++] = uint8_t(i);
        d->tagged |= p.vlan != 0;
        s.device_of_port[i] = uint8_t(d - s.rx_devices.begin());
    }
    s.ports = plan;
    s.burst = dp.burst;
    s.idle = dp.idle;
    s.tsc_hz = tsc_hz;
    s.pool = pool;  // of the worker lcore's NUMA socket
    s.cookie_secret = &cookie_secret_;
    // Every rate is the whole LB's: each worker enforces its share (token_bucket.hpp, split).
    s.kernel_rate = protect::bucket_params::per_second(dp.kernel_packets_per_second,
                                                       dp.kernel_packets_burst, tsc_hz, n);
    s.echo_rate =
        protect::bucket_params::per_second(dp.icmp_echo_per_second, dp.icmp_echo_burst, tsc_hz, n);
    s.echo_enabled = dp.icmp_echo_per_second > 0;
    s.error_rate = protect::bucket_params::per_second(dp.icmp_errors_per_second,
                                                      dp.icmp_errors_burst, tsc_hz, n);
    s.errors_enabled = dp.icmp_errors_per_second > 0;
    s.fragment_max_datagrams = dp.fragment_max_datagrams;
    s.fragment_timeout_tsc = tsc_hz * dp.fragment_timeout_ms / 1000;
    s.indirect_pool = indirect_pool_;
    s.proxy_max_held =
        dp.syn_proxy_max_held ? dp.syn_proxy_max_held : std::max<uint32_t>(16, dp.mbufs / 4 / n);
    return s;
}

void runtime::create_rings() {
    const unsigned n = unsigned(workers_.size());
    auto make_ring = [&](const std::string& name) {
        rte_ring* r = rte_ring_create(name.c_str(), cfg_.dataplane.ring_size, int(rte_socket_id()),
                                      RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!r) throw dpdk_error("cannot create ring " + name, rte_errno);
        rings_.push_back(r);
        return r;
    };
    for (unsigned a = 0; a < n; ++a) {
        for (unsigned b = 0; b < n; ++b) {
            if (a == b) continue;
            rte_ring* r = make_ring("handoff_" + std::to_string(a) + "_" + std::to_string(b));
            workers_[a]->handoff_out[b] = r;
            workers_[b]->handoff_in[a] = r;
        }
        workers_[a]->to_control = make_ring("to_ctl_" + std::to_string(a));
        workers_[a]->from_control = make_ring("from_ctl_" + std::to_string(a));
        workers_[a]->to_kernel = make_ring("to_kernel_" + std::to_string(a));
        exception_.add_worker(workers_[a]->to_control, workers_[a]->to_kernel);
        requests_.add_worker(a);
    }
}

void runtime::create_tuple_pools(unsigned w, const local_port_plan& plan) {
    // The full-NAT source addresses per egress port and family (ports change only with a
    // restart), and this worker's tuples over them and its slice of the local ports.
    const uint32_t reuse_ticks = cfg_.flows.reuse_after * ticks_per_second;
    std::random_device seed;  // a fresh start point per run: see flow::tuple_pool
    for (size_t p = 0; p < cfg_.ports.size(); ++p) {
        for (address_family fam : {address_family::ipv4, address_family::ipv6}) {
            const auto sources = cfg_.ports[p].full_nat_sources(fam);
            if (sources.empty()) continue;
            const uint8_t family = fam == address_family::ipv4 ? 4 : 6;
            for (size_t k = 0; k < sources.size(); ++k)
                flow_tables_[w]->set_local_address(uint8_t(p), family, unsigned(k),
                                                   sources[k].bytes.data());
            tuple_pools_[w][p][family == 6] = std::make_unique<flow::tuple_pool>(
                unsigned(sources.size()), plan.first(w), plan.per_worker, cfg_.flows.tuple_groups,
                reuse_ticks, seed());
        }
    }
}

void runtime::pin_next_hops(const model::snapshot& s,
                            const std::vector<config::route_config>& routes) {
    const uint64_t now = monotonic_ns();
    for (const auto& v : s.vips)
        for (const auto& b : v.backends) resolver_->pin(b.neighbor_slot, now);
    for (const auto& r : routes) {
        auto hop = s.routes.lookup(r.via);
        if (!hop) continue;
        uint32_t slot = neighbors_->find_or_add(hop->port, hop->address);
        if (slot != route::no_neighbor) resolver_->pin(slot, now);
    }
}

control::dataplane_sink::build_resources runtime::resources() {
    return {ports_, *neighbors_, ticks_per_second, guard_setup()};
}

// Control thread, before `s` is published: flows name their VIP and backend by backend id.
void runtime::describe_endpoints(const model::snapshot& s) {
    auto family = [](const ip_address& a) -> uint8_t {
        return a.family == address_family::ipv6 ? 6 : 4;
    };
    for (const model::vip_entry& vip : s.vips)
        for (const model::backend_entry& b : vip.backends) {
            if (b.id >= model::max_backends) continue;
            flow::endpoint_identity who;
            std::memcpy(who.vip, vip.address.bytes.data(), 16);
            std::memcpy(who.backend, b.address.bytes.data(), 16);
            who.vip_port = vip.port;
            who.backend_port = b.port;
            who.protocol = vip.protocol;
            who.vip_family = family(vip.address);
            who.backend_family = family(b.address);
            who.tuple_group = b.tuple_group;
            endpoints_.set(b.id, who, vip.id);
        }
}

void runtime::publish(std::unique_ptr<model::snapshot> next, const config::config& cfg) {
    pin_next_hops(*next, cfg.routes);
    describe_endpoints(*next);
    if (started_) ensure_proxy_state(*next);  // start() gives the first snapshot its own
    const model::snapshot* old = snapshot_.exchange(next.release(), std::memory_order_acq_rel);
    // Workers may still read `old` until each has passed a quiescent point.
    if (old) retired_.push_back({old, rte_rcu_qsbr_start(qsbr_)});
}

uint64_t runtime::open_flows(uint32_t id) const {
    const conn_totals t = readings_.connections(id);
    return uint64_t(t.active) + t.inactive;
}

control::connect_outcomes runtime::connects(uint32_t id) const {
    control::connect_outcomes out;
    for (const conn_counts* w : conn_views_) {
        out.ok += w->at(id).connects_ok.load(std::memory_order_relaxed);
        out.failed += w->at(id).connects_failed.load(std::memory_order_relaxed);
    }
    return out;
}

bool runtime::ids_quiescent() const {
    return retired_.empty() && requests_.outstanding() == 0;
}

control::guard_setup runtime::guard_setup() const {
    return {unsigned(cfg_.dataplane.worker_cpus.size()), rte_get_tsc_hz()};
}

void runtime::watch_syn_proxy(uint64_t now_ns) {
    if (now_ns - last_proxy_check_ns_ < 250000000ull) return;
    last_proxy_check_ns_ = now_ns;
    for (const auto& vip : snapshot_.load()->vips) {
        if (vip.protect.syn_proxy != config::syn_proxy_mode::automatic) continue;
        unsigned engaged = 0;
        for (const auto& w : vip.protect.guard->workers)
            engaged += w->proxy_engaged.load(std::memory_order_relaxed);
        unsigned& last = proxy_engaged_[vip.name];
        if (engaged == last) continue;
        if (engaged > 0 && last == 0)
            SLUICE_LOG_WARN(
                "vip %s: SYN proxy engaged (SYN rate or half-open flows above the "
                "thresholds) on %u of %zu workers",
                vip.name.c_str(), engaged, vip.protect.guard->workers.size());
        else if (engaged == 0)
            SLUICE_LOG_WARN("vip %s: SYN proxy released (below half the thresholds)",
                            vip.name.c_str());
        last = engaged;
    }
}

void runtime::reset_flows(const std::vector<uint32_t>& ids, model::reset_cause why) {
    requests_.reset_flows(ids, why, snapshot_.load()->generation);
}

void runtime::free_held_segments() {
    // Client segments the SYN proxy held for backend handshakes still pending: the workers have
    // stopped, so their proxy state is this thread's now, and the mbufs go back to their pool.
    for (size_t w = 0; w < proxy_memory_.size() && w < flow_tables_.size(); ++w) {
        auto* table = static_cast<proxy_state*>(proxy_memory_[w]);
        for (uint32_t i = 0; i < flow_tables_[w]->capacity(); ++i) {
            for (unsigned k = 0; k < table[i].held_count; ++k) rte_pktmbuf_free(table[i].held[k]);
            table[i].held_count = 0;
        }
    }
}

void runtime::ensure_proxy_state(const model::snapshot& s) {
    if (!s.uses_syn_proxy() || !proxy_memory_.empty()) return;
    // Once, the first time a VIP proxies: one proxy_state per flow-table entry per worker, sent
    // past the backlog before the snapshot that needs it is published: a worker takes its
    // commands right after loading a snapshot, so it has the table before its first packet.
    for (unsigned w = 0; w < workers_.size(); ++w) {
        const size_t bytes = sizeof(proxy_state) * workers_[w]->flows().capacity();
        void* mem = rte_zmalloc("sluice_proxy", bytes, RTE_CACHE_LINE_SIZE);
        if (!mem) throw std::runtime_error("cannot allocate SYN proxy state");
        proxy_memory_.push_back(mem);
        requests_.attach_proxy_state(w, static_cast<proxy_state*>(mem));
    }
    SLUICE_LOG_INFO(
        "syn proxy: state for %u flows per worker (%zu bytes each), at most %u "
        "held client segments per worker",
        workers_.empty() ? 0 : workers_[0]->flows().capacity(), sizeof(proxy_state),
        workers_.empty() ? 0 : workers_[0]->setup().proxy_max_held);
}

void runtime::stop_workers() {
    if (launched_) {
        requests_.send_stop();
        rte_eal_mp_wait_lcore();
    }
    launched_ = false;
    requests_.abandon();  // whatever the workers still worked on comes back now and is freed
}

void runtime::launch_workers() {
    if (rte_lcore_count() < workers_.size() + 1)
        throw std::runtime_error("fewer lcores than workers");
    unsigned lcore = 0;
    for (auto& w : workers_) {
        lcore = rte_get_next_lcore(lcore, 1, 0);
        int rc = rte_eal_remote_launch(worker::lcore_main, w.get(), lcore);
        if (rc != 0) throw dpdk_error("cannot launch worker on lcore " + std::to_string(lcore), rc);
    }
    launched_ = true;
}

void runtime::control_poll() {
    const uint64_t now = monotonic_ns();
    // Neighbour work first, then the kernel's frames, each within its budget (exception_path.hpp).
    last_exception_ = exception_.poll([this, now](rte_mbuf* m) { handle_neighbor_frame(m, now); });
    kernel_.poll([this](uint16_t port, rte_mbuf* m) {
        bump(ctl_.kernel_sent);
        transmit(port, m);
    });
    resolver_->tick(
        now, [this](uint32_t slot) { send_neighbor_request(slot); },
        [this](uint32_t slot, route::neighbor_resolver::status from,
               route::neighbor_resolver::status to) {
            if (to == route::neighbor_resolver::status::failed)
                bump(ctl_.neighbor_resolve_failures);
            SLUICE_LOG_WARN("neighbor %s on port %s: %s -> %s",
                            neighbors_->address(slot).to_string().c_str(),
                            cfg_.ports[neighbors_->port(slot)].name.c_str(),
                            route::neighbor_status_name(from), route::neighbor_status_name(to));
        });
    reclaim_snapshots(false);
    requests_.collect();
    control_->poll(now);  // drain deadlines, health, finished removals, id reuse
    readings_.sample_rates(now);
    links_.poll(now);
    watch_syn_proxy(now);
}

void runtime::transmit(uint16_t port_index, rte_mbuf* m) {
    // The control thread owns no TX queue: worker 0 sends its frames with its own.
    meta_of(m).kind = meta_kind::control_tx;
    meta_of(m).out_port = uint8_t(port_index);
    if (rte_ring_enqueue(workers_[0]->from_control, m) != 0) {
        bump(ctl_.control_tx_dropped);
        rte_pktmbuf_free(m);
    }
}

void runtime::reclaim_snapshots(bool wait) {
    for (size_t i = 0; i < retired_.size();) {
        if (rte_rcu_qsbr_check(qsbr_, retired_[i].token, wait) == 1) {
            delete retired_[i].snap;
            retired_[i] = retired_.back();
            retired_.pop_back();
        } else {
            ++i;
        }
    }
}

std::string runtime::unresolved_neighbors() const {
    std::string out;
    for (uint32_t i = 0; i < neighbors_->capacity(); ++i) {
        if (!neighbors_->used(i)) continue;
        if (resolver_->state(i) == route::neighbor_resolver::status::reachable) continue;
        if (!out.empty()) out += ", ";
        out += neighbors_->address(i).to_string();
    }
    return out;
}

void runtime::shutdown() {
    if (!started_) return;
    started_ = false;
    stop_workers();
    requests_.clear();
    links_.stop();  // no link interrupt may arrive for a closed device
    steering_.remove_all();
    for (size_t i = 0; i < ports_.size(); ++i) {
        if (shares_device(i)) continue;  // closed with its device's first port
        rte_eth_dev_stop(ports_[i].dpdk_port);
        rte_eth_dev_close(ports_[i].dpdk_port);
    }
    rte_mbuf* m;
    for (rte_ring* r : rings_) {
        while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
        rte_ring_free(r);
    }
    rings_.clear();
    free_held_segments();
    exception_.clear();
    workers_.clear();
    flow_tables_.clear();
    for (void* mem : flow_memory_) rte_free(mem);
    flow_memory_.clear();
    for (void* mem : proxy_memory_) rte_free(mem);
    proxy_memory_.clear();
    reclaim_snapshots(true);
    delete snapshot_.exchange(nullptr);
    rte_free(qsbr_);
    qsbr_ = nullptr;
    kernel_.close();
    rte_mempool_free(indirect_pool_);
    indirect_pool_ = nullptr;
    for (const auto& [socket, pool] : socket_pools_) rte_mempool_free(pool);
    socket_pools_.clear();
    pool_ = nullptr;
}

}  // namespace sluice::dataplane

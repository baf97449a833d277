// EAL, rings, pool and the per-scenario runtime of the harness (see harness.hpp). Benchmark
// thread only.
#include "harness.hpp"

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_memory.h>
#include <sched.h>

#include <cstdio>
#include <cstring>

namespace sluice::worker_bench {

namespace {

// The page size of the memory `p` lies in (0: not EAL memory).
uint64_t page_bytes_of(const void* p) {
    const rte_memseg_list* msl = rte_mem_virt2memseg_list(p);
    return msl ? msl->page_sz : 0;
}

// EAL's --lcores list: lcore i on the i-th CPU of this process's affinity mask (a scaling
// row's worker i runs on lcore i; worker 0 and the feeder share lcore 0).
std::string lcore_list(unsigned lcores) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<unsigned> cpus;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        for (unsigned c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &set)) cpus.push_back(c);
    if (cpus.empty()) cpus.push_back(0);
    std::string list;
    for (unsigned i = 0; i < lcores; ++i)
        list += (i ? "," : "") + std::to_string(i) + "@" + std::to_string(cpus[i % cpus.size()]);
    return list;
}

}  // namespace

bool start_eal(harness& h, const eal_memory& mem, unsigned lcores) {
    std::vector<std::string> eal = {"worker_bench",
                                    "-m",
                                    std::to_string(mem.mb),
                                    "--no-shconf",
                                    "--no-pci",
                                    "--lcores",
                                    lcore_list(lcores),
                                    "--file-prefix=sluice-worker-bench",
                                    "--log-level=*:error",
                                    "--no-telemetry"};
    if (!mem.huge) {
        eal.push_back("--no-huge");
    } else {
        // Unlinked once mapped: a crashed run leaves no files holding pages in the mount.
        eal.push_back("--huge-unlink");
        if (!mem.huge_dir.empty()) eal.insert(eal.end(), {"--huge-dir", mem.huge_dir});
    }
    std::vector<char*> eal_argv;
    for (auto& a : eal) eal_argv.push_back(a.data());
    if (rte_eal_init(int(eal_argv.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "worker_bench: EAL init failed (-m %llu%s)\n",
                     static_cast<unsigned long long>(mem.mb),
                     mem.huge ? ", hugepages" : ", --no-huge");
        return false;
    }
    h.tsc_hz = rte_get_tsc_hz();
    // Queue q's rings: the feeder (main lcore) enqueues RX, worker q dequeues; worker q
    // enqueues TX, the main lcore dequeues. SP/SC either way.
    bool rings = true;
    for (int p = 0; p < 2; ++p)
        for (unsigned q = 0; q < max_bench_workers; ++q) {
            const std::string n = (p ? "servers" : "client") + std::to_string(q);
            h.rx[p][q] = rte_ring_create(("bench_rx_" + n).c_str(), 4096, SOCKET_ID_ANY,
                                         RING_F_SP_ENQ | RING_F_SC_DEQ);
            // Room for every mbuf of the pool: a remote worker's TX never fails while the
            // main lcore is descheduled (a NIC's wire does not back up either).
            h.tx[p][q] = rte_ring_create(("bench_tx_" + n).c_str(), 32768, SOCKET_ID_ANY,
                                         RING_F_SP_ENQ | RING_F_SC_DEQ);
            rings = rings && h.rx[p][q] && h.tx[p][q];
        }
    // More frames in flight with several workers (each queue's ring fills): a larger pool.
    const unsigned frames = lcores > 1 ? 16383 : 8191;
    h.pool = rte_pktmbuf_pool_create("bench_frames", frames, 256, mbuf_private_bytes(),
                                     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (!rings || !h.pool) {
        std::fprintf(stderr, "worker_bench: cannot create rings or the mbuf pool\n");
        return false;
    }
    h.page_bytes = page_bytes_of(h.pool);
    return true;
}

void stop_eal(harness& h) {
    rte_mempool_free(h.pool);
    for (int p = 0; p < 2; ++p)
        for (unsigned q = 0; q < max_bench_workers; ++q) {
            rte_ring_free(h.rx[p][q]);
            rte_ring_free(h.tx[p][q]);
        }
    rte_eal_cleanup();
}

namespace {

// @CAPACITY@, @VIP@ and @BACKENDS@ are filled in per scenario, @ROUTES@ with extra [[route]]s,
// @TCP_VIP@ with extra keys and tables of the tcp VIP, @SERVERS_KEYS@ with extra keys of the
// servers [[port]] and @CLIENT_V6@ / @SERVERS_V6@ with the ports' IPv6 addresses (when needed).
constexpr const char* config_template = R"([dataplane]
worker_cpus = [@WORKER_CPUS@]
idle = "spin"
mbufs = 2047
mbuf_cache = 64
rx_descriptors = 256
tx_descriptors = 256
ring_size = 1024
burst = 32
kernel_interfaces = false

[[port]]
name = "client"
device = "net_ring_client"
addresses = ["198.18.0.1/24"@CLIENT_V6@]

[[port]]
name = "servers"
device = "net_ring_servers"
addresses = ["198.18.16.1/20"@SERVERS_V6@]
@SERVERS_KEYS@
[[route]]
prefix = "198.19.0.0/16"
via = "198.18.0.2"
@ROUTES@
[flows]
capacity = @CAPACITY@
tuple_groups = 256

[[vip]]
name = "tcp"
address = "@VIP@"
port = 80
protocol = "tcp"
backend = [@BACKENDS@]
@TCP_VIP@
[[vip]]
name = "udp"
address = "@VIP@"
port = 53
protocol = "udp"
backend = [@BACKENDS@]
)";

std::string text_of(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
           std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}
// All eight groups, uncompressed: any parser reads it.
std::string text_of(const ip6& a) {
    std::string t;
    char group[8];
    for (int i = 0; i < 16; i += 2) {
        std::snprintf(group, sizeof group, "%s%x", i ? ":" : "", unsigned(get16(&a[i])));
        t += group;
    }
    return t;
}

std::string backend_list(bool v6) {
    std::string backends;
    for (uint32_t b = 0; b < backend_count; ++b)
        backends += std::string(b ? ", " : "") + "{ address = \"" +
                    (v6 ? text_of(backend_address6(b)) : text_of(backend_address(b))) + "\" }";
    return backends;
}

}  // namespace

std::string config_text(const scenario_row& row, uint32_t capacity, uint64_t packet_limit) {
    // The bench places the workers itself (bench_runtime: worker i on lcore i); the runtime only
    // counts worker_cpus.
    std::string cpus = "0";
    for (unsigned w = 1; w < row.workers; ++w) cpus += ", " + std::to_string(w);
    std::string routes, tcp_vip;
    if (row.syn_proxy) {
        routes = "\n[[route]]\nprefix = \"198.19.128.0/17\"\nvia = \"198.18.0.3\"\n";
        tcp_vip = "syn_proxy = \"on\"\n";
    }
    const bool v6_clients = client_v6(row.family), v6_backends = backend_v6(row.family);
    if (v6_clients) routes += std::string("\n[[route]]\n") + clients_route6;
    if (packet_limit)
        tcp_vip += "[vip.limits]\npackets_per_second = " + std::to_string(packet_limit) + "\n";
    std::string text = config_template;
    auto fill = [&text](const std::string& key, const std::string& value) {
        for (size_t p; (p = text.find(key)) != std::string::npos;)
            text.replace(p, key.size(), value);
    };
    fill("@WORKER_CPUS@", cpus);
    fill("@CAPACITY@", std::to_string(capacity));
    fill("@ROUTES@", routes);
    fill("@TCP_VIP@", tcp_vip);
    fill("@SERVERS_KEYS@", row.local_addresses == 16 ? pool16_keys : "");
    fill("@CLIENT_V6@", v6_clients ? std::string(", \"") + client_port6 + "\"" : "");
    fill("@SERVERS_V6@", v6_backends ? std::string(", \"") + server_port6 + "\"" : "");
    fill("@VIP@", v6_clients ? text_of(vip_address6) : text_of(vip_address));
    fill("@BACKENDS@", backend_list(v6_backends));
    return text;
}

namespace {

// Answers one of the runtime's ARP requests (backends, the gateways) on the port it came from.
void answer_arp(harness& h, uint8_t port, rte_mbuf* m) {
    uint8_t* f = rte_pktmbuf_mtod(m, uint8_t*);
    if (m->data_len < 42 || get16(f + 12) != 0x0806 || get16(f + 20) != 1) return;
    rte_mbuf* r = rte_pktmbuf_alloc(h.pool);
    if (!r) return;
    uint8_t* a = rte_pktmbuf_mtod(r, uint8_t*);
    std::memset(a, 0, frame_len);
    const uint32_t target = get32(f + 38);
    uint8_t mac[6];
    mac_of(target, mac);
    std::memcpy(a, f + 22, 6);  // to the asker
    std::memcpy(a + 6, mac, 6);
    std::memcpy(a + 12, f + 12, 8);  // ethertype, hardware/protocol types and sizes
    put16(a + 20, 2);
    std::memcpy(a + 22, mac, 6);
    put32(a + 28, target);
    std::memcpy(a + 32, f + 22, 10);  // asker's MAC and address
    r->data_len = frame_len;
    r->pkt_len = frame_len;
    if (rte_ring_sp_enqueue(h.rx[port][0], r) != 0) rte_pktmbuf_free(r);
}

// Answers one of the runtime's IPv6 neighbour solicitations (backends, the gateway) on the port
// it came from (the LB's duplicate address detection, from ::, gets none).
void answer_ns(harness& h, uint8_t port, rte_mbuf* m) {
    const uint8_t* f = rte_pktmbuf_mtod(m, const uint8_t*);
    const l3_view v = view_of(f, m->data_len);
    if (!v.v6 || v.protocol != 58 || v.l4_len < 24 || f[v.l4] != 135) return;
    static constexpr uint8_t unspecified[16] = {};
    if (std::memcmp(v.src, unspecified, 16) == 0) return;
    rte_mbuf* r = rte_pktmbuf_alloc(h.pool);
    if (!r) return;
    const uint8_t* target = f + v.l4 + 8;
    uint8_t mac[6];
    mac_of6(target, mac);
    const uint16_t len = neighbor_advert(rte_pktmbuf_mtod(r, uint8_t*), target, mac, v.src, f + 6);
    r->data_len = len;
    r->pkt_len = len;
    if (rte_ring_sp_enqueue(h.rx[port][0], r) != 0) rte_pktmbuf_free(r);
}

// Answers the runtime's ARP requests and neighbour solicitations until all neighbours are
// resolved.
void resolve_neighbors(harness& h) {
    auto answer = [&h](uint8_t port, rte_mbuf* m) {
        answer_arp(h, port, m);
        answer_ns(h, port, m);
    };
    for (int round = 0; round < 2000 && !h.rt->neighbors_ready(); ++round) {
        h.rt->control_poll();
        h.rt->poll_once();
        collect(h, answer);
        h.rt->poll_once();
    }
    h.rt->control_poll();
    if (!h.rt->neighbors_ready())
        throw std::runtime_error("neighbours not resolved: " + h.rt->unresolved_neighbors());
    pump(h, [](uint8_t, rte_mbuf*) {});
}

}  // namespace

void start_runtime(harness& h, const parsed_config& cfg, unsigned queues) {
    // A runtime closes its ports at shutdown (which releases a ring port), so each scenario
    // attaches fresh ports to the same rings.
    const char* names[2] = {"client", "servers"};
    h.queues = queues;
    for (int p = 0; p < 2; ++p)
        if (rte_eth_from_rings(names[p], h.rx[p], queues, h.tx[p], queues, rte_socket_id()) < 0)
            throw std::runtime_error(std::string("cannot create ring port ") + names[p]);
    h.rt = std::make_unique<bench_runtime>(cfg);
    for (unsigned p = 0; p < 2; ++p) {
        const port_facts f = h.rt->port(p);
        std::memcpy(h.macs.port[p], f.mac, 6);
        h.dpdk_port[p] = f.dpdk_port;
    }
    mac_of(gateway_address, h.macs.gateway);
    mac_of(attack_gateway_address, h.macs.attack_gateway);
    mac_of6(gateway_address6.data(), h.macs.gateway6);
    resolve_neighbors(h);
}

void stop_runtime(harness& h) {
    h.rt.reset();
    // The runtime closed (released) the ports; the vdevs rte_eth_from_rings made stay registered
    // under their names until removed.
    rte_vdev_uninit("net_ring_client");
    rte_vdev_uninit("net_ring_servers");
    collect(h, [](uint8_t, rte_mbuf*) {});
    rte_mbuf* m;
    for (int p = 0; p < 2; ++p)
        for (unsigned q = 0; q < max_bench_workers; ++q)
            while (rte_ring_sc_dequeue(h.rx[p][q], reinterpret_cast<void**>(&m)) == 0)
                rte_pktmbuf_free(m);
    h.queues = 1;
}

}  // namespace sluice::worker_bench

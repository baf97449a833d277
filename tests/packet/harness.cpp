// Shared harness of the packet tests (see harness.hpp).
#include "packet/harness.hpp"

#include <doctest/doctest.h>
#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace sluice::packet_test {

harness h;

const uint8_t backend_mac[3][6] = {
    {0x02, 0xbe, 0, 0, 0, 0x11}, {0x02, 0xbe, 0, 0, 0, 0x12}, {0x02, 0xbe, 0, 0, 0, 0x13}};
const uint8_t client_mac[6] = {0x02, 0xc1, 0, 0, 0, 0x02};

const uint8_t* port_mac(uint16_t p) {
    return h.rt->current()->ports[p].mac.data();
}

void set_macs(bytes& f, const uint8_t* dst, const uint8_t* src) {
    std::memcpy(f.data(), dst, 6);
    std::memcpy(f.data() + 6, src, 6);
}

void inject(uint16_t port, const bytes& frame, unsigned queue) {
    REQUIRE(queue < h.workers);
    rte_mbuf* m = rte_pktmbuf_alloc(h.pool);
    REQUIRE(m != nullptr);
    char* d = rte_pktmbuf_append(m, uint16_t(frame.size()));
    REQUIRE(d != nullptr);
    std::memcpy(d, frame.data(), frame.size());
    REQUIRE(rte_ring_enqueue(h.rx[port][queue], m) == 0);
}

void run_passes() {
    const auto poll_workers = [] {
        for (unsigned w = 0; w < h.workers; ++w) h.rt->worker_at(w).poll_once();
    };
    for (int i = 0; i < 4; ++i) {
        poll_workers();
        h.rt->control_poll();
    }
    poll_workers();
}

std::vector<bytes> transmitted(uint16_t port, unsigned queue) {
    std::vector<bytes> out;
    rte_mbuf* m;
    while (rte_ring_dequeue(h.tx[port][queue], reinterpret_cast<void**>(&m)) == 0) {
        bytes frame;  // every segment: fragments the LB builds are chained mbufs
        for (const rte_mbuf* seg = m; seg; seg = seg->next) {
            const uint8_t* d = rte_pktmbuf_mtod(seg, const uint8_t*);
            frame.insert(frame.end(), d, d + seg->data_len);
        }
        out.push_back(std::move(frame));
        rte_pktmbuf_free(m);
    }
    return out;
}

std::vector<bytes> transmitted(uint16_t port) {
    std::vector<bytes> out;
    for (unsigned q = 0; q < h.workers; ++q) {
        auto more = transmitted(port, q);
        out.insert(out.end(), more.begin(), more.end());
    }
    return out;
}

uint64_t drops(drop_reason r) {
    return dataplane::read(h.rt->worker_at(0).counters.drops[unsigned(r)]);
}

bytes arp_frame(uint16_t op, const uint8_t* sender_mac, std::array<uint8_t, 16> sender_ip,
                const uint8_t* dst_mac, std::array<uint8_t, 16> target_ip) {
    bytes f = test::build_arp();
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    set_macs(f, dst_mac ? dst_mac : broadcast, sender_mac);
    test::put16(f, 20, op);
    std::memcpy(&f[22], sender_mac, 6);
    std::memcpy(&f[28], sender_ip.data(), 4);
    std::memcpy(&f[32], op == 2 ? dst_mac : broadcast, 6);
    if (op == 1) std::memset(&f[32], 0, 6);
    std::memcpy(&f[38], target_ip.data(), 4);
    return f;
}

bytes ndp_frame(uint8_t type, uint8_t flags, const uint8_t* src_mac, const uint8_t* dst_mac,
                std::array<uint8_t, 16> src_ip, std::array<uint8_t, 16> dst_ip,
                std::array<uint8_t, 16> target, bool link_option) {
    const uint16_t icmp_len = link_option ? 32 : 24;
    bytes f(14 + 40 + icmp_len, 0);
    set_macs(f, dst_mac, src_mac);
    test::put16(f, 12, 0x86dd);
    f[14] = 0x60;
    test::put16(f, 18, icmp_len);
    f[20] = 58;
    f[21] = 255;
    std::memcpy(&f[22], src_ip.data(), 16);
    std::memcpy(&f[38], dst_ip.data(), 16);
    f[54] = type;
    f[58] = flags;
    std::memcpy(&f[62], target.data(), 16);
    if (link_option) {
        f[78] = type == 135 ? 1 : 2;  // source / target link-layer address option
        f[79] = 1;
        std::memcpy(&f[80], src_mac, 6);
    }
    const uint32_t pseudo = test::pseudo_sum(address_family::ipv6, &f[22], &f[38], 58, icmp_len);
    test::put16(f, 56, test::ones_checksum(&f[54], icmp_len, pseudo));
    return f;
}

std::array<uint8_t, 16> solicited_node(std::array<uint8_t, 16> target) {
    std::array<uint8_t, 16> a = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
    std::memcpy(&a[13], &target[13], 3);
    return a;
}

bytes from_client(frame_spec s) {
    s.src = v4(198, 18, 0, 2);
    bytes f = test::build_frame(s);
    set_macs(f, port_mac(client), client_mac);
    return f;
}

void resolve_neighbors() {
    if (!h.rt->neighbors_ready()) {
        h.rt->control_poll();
        h.rt->worker_at(0).poll_once();
        for (int b = 0; b < 3; ++b)
            inject(servers, arp_frame(2, backend_mac[b], v4(198, 18, 1, uint8_t(11 + b)),
                                      port_mac(servers), v4(198, 18, 1, 1)));
        inject(client, arp_frame(1, client_mac, v4(198, 18, 0, 2), nullptr, v4(198, 18, 0, 1)));
        // The same over IPv6 (ignored by configurations without IPv6 addresses): advertisements
        // of 2001:2:0:1::11 + b, and a solicitation from the client 2001:2::2 for 2001:2::1.
        std::array<uint8_t, 16> lb6 = v6(0x1), lb_servers6 = lb6;
        lb_servers6[7] = 1;
        for (int b = 0; b < 3; ++b) {
            std::array<uint8_t, 16> backend = lb_servers6;
            backend[15] = uint8_t(0x11 + b);
            inject(servers, ndp_frame(136, 0x60, backend_mac[b], port_mac(servers), backend,
                                      lb_servers6, backend));
        }
        static const uint8_t group_mac[6] = {0x33, 0x33, 0xff, 0, 0, 0x01};
        inject(client, ndp_frame(135, 0, client_mac, group_mac, v6(0x2), solicited_node(lb6), lb6));
        run_passes();
        REQUIRE(h.rt->neighbors_ready());
    }
    transmitted(client);
    transmitted(servers);
}

bool ipv4_checksum_ok(const bytes& f) {
    size_t ihl = size_t(f[14] & 0x0f) * 4;
    return test::ones_sum(&f[14], ihl) == 0xffff;
}

bool l4_checksum_ok(const bytes& f) {
    size_t ihl = size_t(f[14] & 0x0f) * 4;
    size_t l4 = 14 + ihl;
    uint16_t total = test::get16(f, 16);
    uint32_t l4_len = uint32_t(total - ihl);
    uint8_t proto = f[23];
    if (proto == 17 && test::get16(f, l4 + 6) == 0) return true;
    uint32_t pseudo = test::pseudo_sum(address_family::ipv4, &f[26], &f[30], proto, l4_len);
    return test::ones_sum(&f[l4], l4_len, pseudo) == 0xffff;
}

ipv4_view view(const bytes& f) {
    ipv4_view v;
    std::memcpy(v.src.data(), &f[26], 4);
    std::memcpy(v.dst.data(), &f[30], 4);
    size_t l4 = 14 + size_t(f[14] & 0x0f) * 4;
    v.sport = test::get16(f, l4);
    v.dport = test::get16(f, l4 + 2);
    v.ttl = f[22];
    return v;
}

std::array<uint8_t, 4> a4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return {a, b, c, d};
}

config::config load_test_config(const std::string& text, const std::string& name) {
    config::config cfg = config::load_string(text, name);
    // No exception interfaces: this test runs in the caller's network namespace.
    cfg.dataplane.kernel_interfaces = false;
    return cfg;
}

namespace {

bool init_eal(const std::string& program) {
    std::vector<std::string> eal = {program,
                                    "--no-huge",
                                    "-m",
                                    "256",
                                    "--no-shconf",
                                    "--no-pci",
                                    "-l",
                                    "0",
                                    "--file-prefix=sluice-" + program,
                                    "--log-level=*:warning",
                                    "--no-telemetry"};
    std::vector<char*> eal_argv;
    for (auto& a : eal) eal_argv.push_back(a.data());
    if (rte_eal_init(int(eal_argv.size()), eal_argv.data()) < 0) {
        fprintf(stderr, "EAL init failed\n");
        return false;
    }
    return true;
}

const char* const port_names[2] = {"client", "servers"};

// The RX and TX rings of both ports' first `queues` queues.
bool create_rings(unsigned queues) {
    for (int p = 0; p < 2; ++p) {
        for (unsigned q = 0; q < queues; ++q) {
            std::string n = std::string(port_names[p]) + "_" + std::to_string(q);
            h.rx[p][q] = rte_ring_create(("rx_" + n).c_str(), 1024, 0, 0);
            h.tx[p][q] = rte_ring_create(("tx_" + n).c_str(), 1024, 0, 0);
            if (!h.rx[p][q] || !h.tx[p][q]) {
                fprintf(stderr, "cannot create the rings of port %s\n", port_names[p]);
                return false;
            }
        }
    }
    return true;
}

// rte_eth_from_rings names the port "net_ring_" + name, which is what the configs refer to.
bool create_ports(unsigned queues) {
    for (int p = 0; p < 2; ++p) {
        int id = rte_eth_from_rings(port_names[p], h.rx[p], queues, h.tx[p], queues, 0);
        if (id < 0) {
            fprintf(stderr, "cannot create ring port %s\n", port_names[p]);
            return false;
        }
        h.dpdk_port[p] = uint16_t(id);
    }
    return true;
}

bool create_frame_pool(unsigned mbufs) {
    h.pool = rte_pktmbuf_pool_create("test_frames", mbufs, 0, dataplane::mbuf_priv_size,
                                     RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    return h.pool != nullptr;
}

std::unique_ptr<dataplane::runtime> fresh_runtime;

}  // namespace

bool init_process(const char* name) {
    h.workers = max_test_workers;
    // More frames than a TX ring holds (1023), for the cases that fill one.
    return init_eal(name) && create_rings(max_test_workers) && create_frame_pool(4095);
}

void start_runtime(const std::string& config_text, const std::string& name) {
    REQUIRE(h.rt == nullptr);
    config::config cfg = load_test_config(config_text, name);
    h.workers = unsigned(cfg.dataplane.worker_cpus.size());
    REQUIRE(h.workers >= 1);
    REQUIRE(h.workers <= max_test_workers);
    REQUIRE(create_ports(h.workers));
    fresh_runtime = std::make_unique<dataplane::runtime>(std::move(cfg));
    fresh_runtime->start();
    h.rt = fresh_runtime.get();
}

void stop_runtime() {
    // Frames left on the rings may come from the runtime's pool, which shutdown frees.
    rte_mbuf* m;
    for (int p = 0; p < 2; ++p)
        for (unsigned q = 0; q < max_test_workers; ++q)
            for (rte_ring* r : {h.rx[p][q], h.tx[p][q]})
                while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
    h.rt = nullptr;
    fresh_runtime.reset();  // ~runtime: shutdown(), which closes (releases) both ports
    for (int p = 0; p < 2; ++p) {
        const std::string vdev = std::string("net_ring_") + port_names[p];
        rte_vdev_uninit(vdev.c_str());
        uint16_t id;
        // CHECK, not REQUIRE: this also runs while a failed case unwinds.
        CHECK_MESSAGE(rte_eth_dev_get_port_by_name(vdev.c_str(), &id) != 0,
                      vdev << " still exists after the runtime's shutdown");
    }
}

unsigned frames_in_use() {
    return rte_mempool_in_use_count(h.pool);
}

int run(int argc, char** argv, const char* config_text, const char* name) {
    const std::string program = name;
    if (!init_eal(program)) return 1;
    config::config cfg = load_test_config(config_text, program + ".toml");
    h.workers = unsigned(cfg.dataplane.worker_cpus.size());
    if (h.workers > max_test_workers) {
        fprintf(stderr, "at most %u workers in a packet test\n", max_test_workers);
        return 1;
    }
    if (!create_rings(h.workers) || !create_ports(h.workers) || !create_frame_pool(1023)) return 1;
    int rc;
    {
        dataplane::runtime rt(cfg);
        rt.start();
        h.rt = &rt;
        doctest::Context ctx(argc, argv);
        rc = ctx.run();
        h.rt = nullptr;
    }
    rte_eal_cleanup();
    return rc;
}

}  // namespace sluice::packet_test

// EAL, ring ports and a runtime per input for the fuzz targets (see fuzz_runtime.hpp). Mirrors
// tests/packet/harness.cpp without doctest: a fuzz target reports failures by aborting.
#include "fuzz/fuzz_runtime.hpp"

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/log.hpp"
#include "sluice/config.hpp"
#include "unit/frame_builder.hpp"

namespace sluice::fuzz {

namespace {

const char* const port_names[2] = {"client", "servers"};

struct process_state {
    rte_ring* rx[2][max_workers] = {};
    rte_ring* tx[2][max_workers] = {};
    rte_mempool* pool = nullptr;
    unsigned pool_generation = 0;
    unsigned workers = 1;
    std::unique_ptr<dataplane::runtime> runtime;
};
process_state state;

[[noreturn]] void fail(const char* what) {
    fprintf(stderr, "fuzz setup: %s\n", what);
    std::exit(1);
}

void create_frame_pool() {
    // Names must be unique while an old pool exists; a new one per renewal.
    const std::string name = "fuzz_frames_" + std::to_string(state.pool_generation++);
    // More frames than an input may inject (frame_path caps them), fewer than a ring holds.
    state.pool = rte_pktmbuf_pool_create(name.c_str(), 1023, 0, dataplane::mbuf_priv_size,
                                         RTE_MBUF_DEFAULT_BUF_SIZE, 0);
    if (!state.pool) fail("cannot create the frame pool");
}

void free_ring_contents() {
    rte_mbuf* m;
    for (int p = 0; p < 2; ++p)
        for (unsigned q = 0; q < max_workers; ++q)
            for (rte_ring* r : {state.rx[p][q], state.tx[p][q]})
                while (rte_ring_dequeue(r, reinterpret_cast<void**>(&m)) == 0) rte_pktmbuf_free(m);
}

test::bytes arp_frame(uint16_t op, const uint8_t* sender_mac, std::array<uint8_t, 16> sender_ip,
                      const uint8_t* dst_mac, std::array<uint8_t, 16> target_ip) {
    static const uint8_t broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    test::bytes f = test::build_arp();
    std::memcpy(f.data(), dst_mac ? dst_mac : broadcast, 6);
    std::memcpy(f.data() + 6, sender_mac, 6);
    test::put16(f, 20, op);
    std::memcpy(&f[22], sender_mac, 6);
    std::memcpy(&f[28], sender_ip.data(), 4);
    if (op == 1)
        std::memset(&f[32], 0, 6);
    else
        std::memcpy(&f[32], dst_mac, 6);
    std::memcpy(&f[38], target_ip.data(), 4);
    return f;
}

}  // namespace

std::string fuzz_config(unsigned workers, bool syn_proxy) {
    // Small pools and tables: a runtime is started for every input.
    std::string s = std::string("[dataplane]\nworker_cpus = ") + (workers == 2 ? "[0, 1]" : "[0]") +
                    "\nmbufs = 1023\nmbuf_cache = 0\nrx_descriptors = 256\n"
                    "tx_descriptors = 256\nring_size = 256\n";
    s += R"(
[[port]]
name = "client"
device = "net_ring_client"
addresses = ["198.18.0.1/24"]

[[port]]
name = "servers"
device = "net_ring_servers"
addresses = ["198.18.1.1/24"]

[flows]
capacity = 1024
)";
    s += std::string("\n[[vip]]\nname = \"http\"\naddress = \"198.18.0.10\"\nport = 80\n") +
         "protocol = \"tcp\"\nsyn_proxy = \"" + (syn_proxy ? "on" : "off") + "\"\n";
    for (int b = 11; b <= 13; ++b)
        s += "  [[vip.backend]]\n  address = \"198.18.1." + std::to_string(b) + "\"\n";
    s += "\n[[vip]]\nname = \"dns\"\naddress = \"198.18.0.10\"\nport = 9000\n"
         "protocol = \"udp\"\nscheduler = \"maglev\"\n";
    for (int b = 11; b <= 13; ++b)
        s += "  [[vip.backend]]\n  address = \"198.18.1." + std::to_string(b) + "\"\n";
    return s;
}

void init_process(const char* program) {
    // A runtime per input logs its ports and neighbours each time: only problems, unless asked.
    const bool verbose = std::getenv("SLUICE_FUZZ_VERBOSE") != nullptr;
    log::set_min_level(verbose ? log::level::info : log::level::error);
    std::vector<std::string> eal = {program,
                                    "--no-huge",
                                    "-m",
                                    "512",
                                    "--no-shconf",
                                    "--no-pci",
                                    "-l",
                                    "0",
                                    std::string("--file-prefix=sluice-") + program,
                                    "--log-level=*:error",
                                    "--no-telemetry"};
    std::vector<char*> argv;
    for (auto& a : eal) argv.push_back(a.data());
    if (rte_eal_init(int(argv.size()), argv.data()) < 0) fail("EAL init failed");
    for (int p = 0; p < 2; ++p) {
        for (unsigned q = 0; q < max_workers; ++q) {
            const std::string n = std::string(port_names[p]) + "_" + std::to_string(q);
            state.rx[p][q] = rte_ring_create(("rx_" + n).c_str(), 1024, 0, 0);
            state.tx[p][q] = rte_ring_create(("tx_" + n).c_str(), 1024, 0, 0);
            if (!state.rx[p][q] || !state.tx[p][q]) fail("cannot create the ports' rings");
        }
    }
    create_frame_pool();
}

dataplane::runtime& start_runtime(const std::string& config_text) {
    config::config cfg = config::load_string(config_text, "fuzz.toml");
    cfg.dataplane.kernel_interfaces = false;  // no TAP devices: the fuzzer's own namespace
    state.workers = unsigned(cfg.dataplane.worker_cpus.size());
    for (int p = 0; p < 2; ++p)
        if (rte_eth_from_rings(port_names[p], state.rx[p], state.workers, state.tx[p],
                               state.workers, 0) < 0)
            fail("cannot create a ring port");
    state.runtime = std::make_unique<dataplane::runtime>(std::move(cfg));
    state.runtime->start();
    return *state.runtime;
}

void quiesce_workers() {
    free_ring_contents();
    for (unsigned w = 0; w < state.workers; ++w) state.runtime->worker_at(w).poll_once();
    free_ring_contents();
}

void stop_runtime() {
    free_ring_contents();
    state.runtime.reset();  // ~runtime: shutdown(), which closes (releases) both ports
    for (int p = 0; p < 2; ++p) rte_vdev_uninit((std::string("net_ring_") + port_names[p]).c_str());
}

dataplane::runtime& rt() {
    return *state.runtime;
}

unsigned workers() {
    return state.workers;
}

bool inject(uint16_t port, const uint8_t* frame, size_t len, unsigned queue) {
    if (len > RTE_MBUF_DEFAULT_DATAROOM) return false;
    rte_mbuf* m = rte_pktmbuf_alloc(state.pool);
    if (!m) return false;
    char* d = rte_pktmbuf_append(m, uint16_t(len));
    if (!d && len > 0) {
        rte_pktmbuf_free(m);
        return false;
    }
    if (len > 0) std::memcpy(d, frame, len);
    if (rte_ring_enqueue(state.rx[port][queue % state.workers], m) != 0) {
        rte_pktmbuf_free(m);
        return false;
    }
    return true;
}

void run_passes(unsigned rounds) {
    for (unsigned i = 0; i < rounds; ++i) {
        for (unsigned w = 0; w < state.workers; ++w) state.runtime->worker_at(w).poll_once();
        state.runtime->control_poll();
    }
}

std::vector<std::vector<uint8_t>> transmitted(uint16_t port) {
    std::vector<std::vector<uint8_t>> out;
    rte_mbuf* m;
    for (unsigned q = 0; q < state.workers; ++q) {
        while (rte_ring_dequeue(state.tx[port][q], reinterpret_cast<void**>(&m)) == 0) {
            const uint8_t* d = rte_pktmbuf_mtod(m, const uint8_t*);
            out.emplace_back(d, d + rte_pktmbuf_data_len(m));
            rte_pktmbuf_free(m);
        }
    }
    return out;
}

const uint8_t* port_mac(uint16_t port) {
    return state.runtime->current()->ports[port].mac.data();
}

void resolve_neighbors() {
    static const uint8_t client_mac[6] = {0x02, 0xc1, 0, 0, 0, 0x02};
    run_passes(1);
    for (uint8_t b = 0; b < 3; ++b) {
        const uint8_t mac[6] = {0x02, 0xbe, 0, 0, 0, uint8_t(0x11 + b)};
        const test::bytes f = arp_frame(2, mac, test::v4(198, 18, 1, uint8_t(11 + b)),
                                        port_mac(servers), test::v4(198, 18, 1, 1));
        inject(servers, f.data(), f.size());
    }
    const test::bytes f =
        arp_frame(1, client_mac, test::v4(198, 18, 0, 2), nullptr, test::v4(198, 18, 0, 1));
    inject(client, f.data(), f.size());
    run_passes(4);
    if (!state.runtime->neighbors_ready()) fail("the backends' neighbors did not resolve");
    transmitted(client);
    transmitted(servers);
}

unsigned frames_in_use() {
    return rte_mempool_in_use_count(state.pool);
}

}  // namespace sluice::fuzz

// sluice-loadgen's ports (ports.hpp has the threads).
#include "ports.hpp"

#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace sluice::loadgen {

namespace {

constexpr uint16_t ring_descriptors = 1024;

[[noreturn]] void fail(const std::string& what, int rc) {
    throw std::runtime_error(what + ": " + rte_strerror(rc < 0 ? -rc : rc));
}

}  // namespace

rte_mempool* create_packet_pool(unsigned mbufs) {
    rte_mempool* pool = rte_pktmbuf_pool_create("loadgen_pool", mbufs, 256, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, int(rte_socket_id()));
    if (!pool) fail("packet pool of " + std::to_string(mbufs) + " mbufs", rte_errno);
    return pool;
}

uint16_t find_port(const std::string& name, uint16_t fallback) {
    uint16_t id = fallback;
    if (!name.empty() && rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0)
        throw std::runtime_error("no DPDK port named '" + name + "'");
    if (!rte_eth_dev_is_valid_port(id))
        throw std::runtime_error("no DPDK port " + std::to_string(id) +
                                 " (give two ports, e.g. --vdev net_memif0,... --vdev "
                                 "net_memif1,...)");
    return id;
}

mac_address start_port(uint16_t port, rte_mempool* pool) {
    rte_eth_conf conf{};
    const std::string what = "port " + std::to_string(port);
    int rc = rte_eth_dev_configure(port, 1, 1, &conf);
    if (rc < 0) fail(what + " configure", rc);
    uint16_t rx = ring_descriptors, tx = ring_descriptors;
    rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx, &tx);
    if (rc < 0) fail(what + " descriptors", rc);
    const int socket = rte_eth_dev_socket_id(port);
    const unsigned node = socket < 0 ? rte_socket_id() : unsigned(socket);
    rc = rte_eth_rx_queue_setup(port, 0, rx, node, nullptr, pool);
    if (rc < 0) fail(what + " RX queue", rc);
    rc = rte_eth_tx_queue_setup(port, 0, tx, node, nullptr);
    if (rc < 0) fail(what + " TX queue", rc);
    rc = rte_eth_dev_start(port);
    if (rc < 0) fail(what + " start", rc);
    rte_eth_promiscuous_enable(port);  // not every driver has it; the MAC is ours anyway
    rte_ether_addr mac{};
    rc = rte_eth_macaddr_get(port, &mac);
    if (rc < 0) fail(what + " MAC address", rc);
    mac_address out{};
    for (unsigned i = 0; i < 6; ++i) out[i] = mac.addr_bytes[i];
    return out;
}

bool wait_link(uint16_t port, double seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    do {
        rte_eth_link link{};
        if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status == RTE_ETH_LINK_UP)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < until);
    return false;
}

unsigned tx_buffer::flush() {
    if (count_ == 0) return 0;
    const uint16_t sent = rte_eth_tx_burst(port_, 0, bufs_.data(), uint16_t(count_));
    const unsigned refused = count_ - sent;
    if (refused) rte_pktmbuf_free_bulk(bufs_.data() + sent, refused);
    refused_ += refused;
    count_ = 0;
    return refused;
}

uint8_t* frame_room(rte_mempool* pool, uint32_t len, rte_mbuf*& out) {
    out = rte_pktmbuf_alloc(pool);
    if (!out) return nullptr;
    auto* data = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(out, uint16_t(len)));
    if (!data) {
        rte_pktmbuf_free(out);
        out = nullptr;
    }
    return data;
}

}  // namespace sluice::loadgen

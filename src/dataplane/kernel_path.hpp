#pragma once
// The exception path to the LB host's own kernel: one TAP interface per data port, created with
// DPDK's net_tap in the data plane's network namespace, named "sl-<port name>", carrying the
// port's MAC and addresses (and routes through it for [[route]] next hops on that port). What the
// data plane does not balance but the host should see (ICMP to an LB address, TCP/UDP to an LB
// address on a port above the full-NAT range — replies to health probes — and ARP replies) is
// written to the TAP; what the kernel sends on a TAP leaves through that data port unchanged.
// So health probes are ordinary kernel sockets, and ping of an LB address is answered by the
// kernel. Control thread only.
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "model/snapshot.hpp"
#include "sluice/config.hpp"

namespace sluice::dataplane {

class kernel_path {
public:
    kernel_path() = default;
    kernel_path(const kernel_path&) = delete;
    kernel_path& operator=(const kernel_path&) = delete;
    ~kernel_path() { close(); }

    // Creates, configures and starts one TAP per data port and gives each the port's addresses
    // and routes. Must run in the data plane's network namespace. Throws std::runtime_error.
    void open(const config::config& cfg, std::span<const model::port_info> ports,
              rte_mempool* pool);
    bool is_open() const { return !taps_.empty(); }

    // Hands a frame that arrived on data port `port` to the kernel. Takes the mbuf; false when
    // it had to be dropped (no TAP, or its queue is full).
    bool deliver(uint16_t port, rte_mbuf* m);
    // Frames the kernel sent: calls send(port, mbuf) for each, with the data port it leaves
    // through. Returns how many.
    template <class Send>
    unsigned poll(Send&& send);

    void close();

private:
    struct tap {
        std::string ifname;
        uint16_t dpdk_port;
    };
    std::vector<tap> taps_;
    unsigned receive(size_t i, rte_mbuf** pkts, unsigned max);
};

template <class Send>
unsigned kernel_path::poll(Send&& send) {
    unsigned total = 0;
    rte_mbuf* pkts[32];
    for (size_t i = 0; i < taps_.size(); ++i) {
        unsigned n = receive(i, pkts, 32);
        for (unsigned k = 0; k < n; ++k) send(uint16_t(i), pkts[k]);
        total += n;
    }
    return total;
}

}  // namespace sluice::dataplane

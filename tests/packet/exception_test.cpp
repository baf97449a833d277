// Packet tests of the bounded exception path: frames for the host kernel and ARP go from the real
// worker through its two to-control rings to the control thread, whose kernel writer is replaced
// by a counting (optionally slow) sink. They show the per-pass budgets, ARP first while the
// kernel ring is full, and the workers' kernel rate limit with its counter. The ports, runtime
// and helpers are the shared harness (harness.hpp).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <rte_cycles.h>

#include <cstring>
#include <vector>

#include "common/clock.hpp"
#include "dataplane/exception_path.hpp"
#include "packet/harness.hpp"

using namespace sluice;
using namespace sluice::packet_test;
using test::bytes;
using test::frame_spec;
using test::v4;

namespace {

// 2000 kernel frames/s with a burst of 300; exception rings of 256 slots (255 usable).
constexpr const char* config_text = R"(
[dataplane]
worker_cpus = [0]
mbufs = 4095
mbuf_cache = 32
rx_descriptors = 256
tx_descriptors = 256
ring_size = 256
kernel_packets_per_second = 2000
kernel_packets_burst = 300

[[port]]
name = "client"
device = "net_ring_client"
addresses = ["198.18.0.1/24"]

[[port]]
name = "servers"
device = "net_ring_servers"
addresses = ["198.18.1.1/24"]

[flows]
capacity = 4096

[[vip]]
name = "http"
address = "198.18.0.10"
port = 80
protocol = "tcp"
  [[vip.backend]]
  address = "198.18.1.11"
  [[vip.backend]]
  address = "198.18.1.12"
  [[vip.backend]]
  address = "198.18.1.13"
)";

constexpr uint64_t rate = 2000, burst = 300;
constexpr unsigned ring_slots = 255;

// Stands in for the TAP writer: counts, optionally busy-waits per frame like a slow kernel.
struct kernel_sink {
    unsigned delay_us = 0;
    uint64_t frames = 0;
    std::vector<uint16_t> ports;
} sink;

void install_sink() {
    h.rt->set_kernel_sink([](uint16_t port, rte_mbuf* m) {
        if (sink.delay_us) rte_delay_us_block(sink.delay_us);
        ++sink.frames;
        sink.ports.push_back(port);
        rte_pktmbuf_free(m);
        return true;
    });
}

bytes echo_request() {
    frame_spec s;
    s.protocol = 1;
    s.dst = v4(198, 18, 0, 1);
    return from_client(s);
}

// A health probe's answer: backend 198.18.1.11 to the LB's kernel socket 198.18.1.1:61000.
bytes probe_answer() {
    frame_spec s;
    s.src = v4(198, 18, 1, 11);
    s.dst = v4(198, 18, 1, 1);
    s.src_port = 80;
    s.dst_port = 61000;
    s.tcp_flags = 0x12;  // SYN|ACK
    bytes f = test::build_frame(s);
    set_macs(f, port_mac(servers), backend_mac[0]);
    return f;
}

// Runs the worker until it has taken everything off both RX rings.
void run_worker() {
    for (int i = 0; i < 64 && (rte_ring_count(h.rx[client][0]) || rte_ring_count(h.rx[servers][0]));
         ++i)
        h.rt->worker_at(0).poll_once();
    h.rt->worker_at(0).poll_once();
}

rte_ring* kernel_ring() {
    return h.rt->worker_at(0).to_kernel;
}

uint64_t ctl(const dataplane::counter& c) {
    return dataplane::read(c);
}

// Empties the kernel ring through the sink and lets both buckets fill up again.
void settle() {
    sink.delay_us = 0;
    for (int i = 0; i < 64 && rte_ring_count(kernel_ring()); ++i) h.rt->control_poll();
    REQUIRE(rte_ring_count(kernel_ring()) == 0);
    transmitted(client);
    transmitted(servers);
    rte_delay_us_sleep(unsigned(2 * burst * 1000000 / rate));
}

void inject_echoes(unsigned n) {
    for (unsigned i = 0; i < n; ++i) inject(client, echo_request());
    run_worker();
}

}  // namespace

TEST_CASE("a control pass writes at most kernel_pass_budget frames; the rest wait in the ring") {
    // Property: 150 queued kernel frames take three passes (64, 64, 22) and none is lost.
    resolve_neighbors();
    install_sink();
    settle();
    const uint64_t limited = drops(drop_reason::kernel_rate_limited);
    const uint64_t exhausted = ctl(h.rt->readings().control().kernel_budget_exhausted);
    inject_echoes(150);
    CHECK(drops(drop_reason::kernel_rate_limited) == limited);
    REQUIRE(rte_ring_count(kernel_ring()) == 150);
    const uint64_t before = sink.frames;
    const unsigned budget = dataplane::kernel_pass_budget.frames;
    h.rt->control_poll();
    CHECK(sink.frames - before == budget);
    CHECK(rte_ring_count(kernel_ring()) == 150 - budget);
    CHECK(h.rt->last_exception_pass().kernel_left);
    h.rt->control_poll();
    CHECK(sink.frames - before == 2 * budget);
    h.rt->control_poll();
    CHECK(sink.frames - before == 150);
    CHECK(!h.rt->last_exception_pass().kernel_left);
    CHECK(ctl(h.rt->readings().control().kernel_budget_exhausted) == exhausted + 2);
    CHECK(sink.ports.back() == client);
}

TEST_CASE("with a slow kernel a control pass stops writing after its time budget") {
    // Property: at 50 us or more per write a pass ends after ~1 ms (at most one 8-frame chunk
    // over), before the 64-frame budget or the 150 frames waiting.
    resolve_neighbors();
    install_sink();
    settle();
    inject_echoes(150);
    REQUIRE(rte_ring_count(kernel_ring()) == 150);
    sink.delay_us = 50;
    const uint64_t before = sink.frames;
    const uint64_t t0 = monotonic_ns();
    h.rt->control_poll();
    const uint64_t took = monotonic_ns() - t0;
    const uint64_t written = sink.frames - before;
    MESSAGE("slow sink: ", written, " frames in ", took / 1000, " us");
    // Each write takes at least 50 us (more when the host preempts us): the pass stops at the
    // first 8-frame chunk boundary after 1 ms, before its 64-frame budget (3.2 ms of writes).
    const uint64_t max_frames = dataplane::kernel_pass_budget.time_ns / 50000 + 8;
    CHECK(written >= 8);
    CHECK(written <= max_frames);
    CHECK(written < dataplane::kernel_pass_budget.frames);
    CHECK(took >= dataplane::kernel_pass_budget.time_ns);
    CHECK(took < 50000000);
    CHECK(rte_ring_count(kernel_ring()) == 150 - written);
    settle();
}

TEST_CASE("ARP is answered in the first pass even when the kernel ring is full") {
    // Property: with the kernel ring full (its overflow counted as kernel_ring_full, not
    // exception_ring_full), an ARP request for the LB is answered by the next control pass.
    resolve_neighbors();
    install_sink();
    settle();
    const uint64_t ring_full = drops(drop_reason::kernel_ring_full);
    const uint64_t arp_ring_full = drops(drop_reason::exception_ring_full);
    const uint64_t limited = drops(drop_reason::kernel_rate_limited);
    inject_echoes(burst);
    REQUIRE(rte_ring_count(kernel_ring()) == ring_slots);
    CHECK(drops(drop_reason::kernel_ring_full) - ring_full +
              (drops(drop_reason::kernel_rate_limited) - limited) ==
          burst - ring_slots);
    CHECK(drops(drop_reason::kernel_ring_full) > ring_full);

    const uint64_t answered = ctl(h.rt->readings().control().arp_requests_answered);
    inject(client, arp_frame(1, client_mac, v4(198, 18, 0, 2), nullptr, v4(198, 18, 0, 1)));
    h.rt->worker_at(0).poll_once();
    CHECK(drops(drop_reason::exception_ring_full) == arp_ring_full);
    const uint64_t before = sink.frames;
    h.rt->control_poll();
    CHECK(ctl(h.rt->readings().control().arp_requests_answered) == answered + 1);
    CHECK(h.rt->last_exception_pass().neighbor_frames == 1);
    CHECK(sink.frames - before == dataplane::kernel_pass_budget.frames);
    h.rt->worker_at(0).poll_once();
    bool reply = false;
    for (const auto& f : transmitted(client))
        reply |= test::get16(f, 12) == 0x0806 && test::get16(f, 20) == 2;
    CHECK(reply);
    settle();
}

TEST_CASE("kernel-bound frames over kernel_packets_per_second are dropped in the worker") {
    // Property: of 800 echo requests sent back to back, the kernel gets the burst (300) plus
    // what the rate refilled meanwhile; the rest are counted as kernel_rate_limited.
    resolve_neighbors();
    install_sink();
    settle();
    const uint64_t limited = drops(drop_reason::kernel_rate_limited);
    const uint64_t ring_full = drops(drop_reason::kernel_ring_full);
    const uint64_t before = sink.frames;
    const uint64_t t0 = monotonic_ns();
    for (int batch = 0; batch < 8; ++batch) {
        inject_echoes(100);
        h.rt->control_poll();
        h.rt->control_poll();
    }
    const double elapsed_s = double(monotonic_ns() - t0) / 1e9;
    for (int i = 0; i < 8; ++i) h.rt->control_poll();
    const uint64_t passed = sink.frames - before;
    const uint64_t dropped = drops(drop_reason::kernel_rate_limited) - limited;
    MESSAGE("800 offered in ", elapsed_s * 1000, " ms: ", passed, " to the kernel, ", dropped,
            " rate-limited");
    CHECK(drops(drop_reason::kernel_ring_full) == ring_full);
    CHECK(passed + dropped == 800);
    CHECK(passed >= burst);
    CHECK(double(passed) <= double(burst) + elapsed_s * double(rate) + 2);
    CHECK(dropped > 0);
    settle();
}

TEST_CASE("health-probe answers have their own kernel bucket: an ICMP flood does not starve them") {
    // Property: with the ICMP bucket empty, 50 TCP answers to a kernel socket all pass while
    // the echo requests arriving with them are still limited.
    resolve_neighbors();
    install_sink();
    settle();
    for (int batch = 0; batch < 4; ++batch) {
        inject_echoes(100);
        h.rt->control_poll();
        h.rt->control_poll();
    }
    const uint64_t limited = drops(drop_reason::kernel_rate_limited);
    CHECK(limited > 0);
    // Echo requests and probe answers arrive together (the worker takes a burst of each port per
    // poll): the echoes are still limited, the answers all pass.
    const uint64_t before = sink.frames;
    sink.ports.clear();
    for (int i = 0; i < 100; ++i) inject(client, echo_request());
    for (int i = 0; i < 50; ++i) inject(servers, probe_answer());
    run_worker();
    h.rt->control_poll();
    h.rt->control_poll();
    const uint64_t echoes_limited = drops(drop_reason::kernel_rate_limited) - limited;
    MESSAGE("echo requests limited: ", echoes_limited, " of 100");
    CHECK(echoes_limited >= 50);  // ~100; a preempted test thread lets a few refill
    unsigned answers = 0;
    for (uint16_t p : sink.ports) answers += p == servers;
    CHECK(answers == 50);
    CHECK(sink.frames - before == 50 + (100 - echoes_limited));
    settle();
}

int main(int argc, char** argv) {
    return packet_test::run(argc, argv, config_text, "exception_test");
}

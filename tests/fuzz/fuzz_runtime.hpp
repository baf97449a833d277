#pragma once
// Shared by the fuzz targets that need a running data plane (frame_path.cpp,
// control_request.cpp): EAL with --no-huge once per process, two DPDK ring ports "client" and
// "servers" (net_ring, as in the packet tests: tests/packet/harness.hpp), a fresh runtime per
// fuzz input, and a frame pool of the fuzzer's own for the frames it injects. Workers run inline
// on the fuzzer's thread (no worker lcore is launched); everything here is that thread's only.
#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/runtime.hpp"

namespace sluice::fuzz {

// Snapshot port indices: the order of the [[port]] tables in fuzz_config().
enum port_index : uint16_t { client = 0, servers = 1 };
inline constexpr unsigned max_workers = 2;

// The packet tests' addresses: LB 198.18.0.1 (client side) and 198.18.1.1 (server side), VIP
// 198.18.0.10 (TCP 80, UDP 9000), backends 198.18.1.11 .. .13, the client 198.18.0.2.
// `workers` 1 or 2; `syn_proxy` puts the TCP VIP behind the SYN proxy ("on").
std::string fuzz_config(unsigned workers, bool syn_proxy);

// EAL (--no-huge, one lcore, no PCI, no telemetry), the RX/TX rings of both ports and the frame
// pool; `program` names the EAL file prefix. Sluice logs errors only (SLUICE_FUZZ_VERBOSE set in
// the environment: everything, and frame_path prints the runtime's counters after each input).
// Exits the process with a message on failure (a fuzz target cannot run without it). Call once,
// from LLVMFuzzerInitialize.
void init_process(const char* program);

// Creates the two ring ports with as many queues as the configuration's workers and a runtime
// from `config_text` (exception interfaces off), started. Throws what runtime::start throws.
dataplane::runtime& start_runtime(const std::string& config_text);
// Frees what is left on every RX/TX ring and polls every worker once, so each reports
// quiescence on the current snapshot. Needed before stop_runtime after anything that published a
// snapshot (a weight change, a reload): workers driven inline never go RCU-offline as the
// daemon's lcores do when they stop, so the shutdown would wait for them forever.
void quiesce_workers();
// Frees what is left on every RX/TX ring, shuts the runtime down, deletes it and removes the
// ring ports so the next start_runtime can create them again. After quiesce_workers.
void stop_runtime();
dataplane::runtime& rt();
unsigned workers();

// A copy of `frame` on the RX ring of `port` that worker `queue` polls; false (nothing injected)
// when the frame pool or the ring is full, or the frame is larger than an mbuf's data room.
bool inject(uint16_t port, const uint8_t* frame, size_t len, unsigned queue = 0);
// Every worker (one poll each) and then the control thread, `rounds` times.
void run_passes(unsigned rounds = 2);
// Takes everything transmitted on `port` (every queue) off its TX rings; returns the frames in
// order, worker 0's queue first.
std::vector<std::vector<uint8_t>> transmitted(uint16_t port);
// Answers the start-up ARP requests of the three backends and makes the LB learn the client's
// MAC, then discards what was transmitted. After start_runtime.
void resolve_neighbors();
// The MAC of snapshot port `port` (the ring PMD's 00:00:00:00:00:00).
const uint8_t* port_mac(uint16_t port);

// The fuzzer's frame pool and its mbufs in use (every frame it injected and nobody freed).
unsigned frames_in_use();

}  // namespace sluice::fuzz

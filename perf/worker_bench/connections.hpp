// tcp_cps: whole TCP connections through the worker, counted as CSIT counts connections per
// second. Each connection is 7 packets (frames.hpp's segment table); the scenario measures them as
// 7 single passes of the measured loop, one per packet over all connections, because every
// packet after the SYN names the local port the worker chose for it (learnt from the SYNs'
// pass). Benchmark thread only.
#pragma once

#include <cstdint>

#include "result.hpp"
#include "traffic.hpp"

namespace sluice::worker_bench {

constexpr unsigned connection_packets = 7;
// The connection's packet of pass `i` (0 to 6): "SYN", "SYN-ACK", …, "ACK".
const char* connection_packet_name(unsigned i);

// Opens and closes sc.packets connections (a multiple of the burst) of `fs` (its flows: the
// connections' local ports and backends are learnt here), one pass per packet. r.m sums the
// passes, r.passes has each. Checks (r.error): each pass forwarded every packet to the other
// port, the SYNs' pass taught every local port, and at the end all the connections' flows are
// in TIME_WAIT and none counts as active.
void measure_connections(harness& h, const scenario& sc, flow_set& fs, result& r);

}  // namespace sluice::worker_bench

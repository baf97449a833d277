#pragma once
// sluice-loadgen's command line (after EAL's own arguments and "--"): which mode, how many flows,
// the addresses it plays on both sides, the rate search's settings, the output. Pure code, so
// the parsing and the derived address ranges are unit-tested without DPDK.
//
// Threads: parsed once on the main thread before anything starts; read-only afterwards.
#include <cstdint>
#include <string>
#include <vector>

#include "frames.hpp"
#include "rate_search.hpp"

namespace sluice::loadgen {

enum class run_mode : uint8_t { established, cps, udp, syn_flood };
const char* mode_name(run_mode mode);
// cps and syn-flood run whole connections at the paced rate (syn-flood adds spoofed SYNs).
inline bool runs_connections(run_mode m) {
    return m == run_mode::cps || m == run_mode::syn_flood;
}

struct options {
    run_mode mode = run_mode::established;
    std::string scenario;   // name in the report; default "<mode>_<flows>"
    uint32_t flows = 1000;  // established / udp: concurrent flows; cps: table slots
    uint16_t payload = 16;  // request, response and datagram payload (>= 16: the stamp)
    // Addresses (IPv4 in this version). The clients sit behind `gateway` on the client segment
    // (sluiced routes their prefix via it); the backends are on the server segment.
    ip_address client_first = *ip_address::parse("198.19.0.1");
    uint16_t client_port_first = 1024;
    uint32_t client_ports = 60000;  // ports per client address; addresses = ceil(flows / ports)
    ip_address gateway = *ip_address::parse("198.18.0.2");
    ip_address lb_client_address = *ip_address::parse("198.18.0.1");
    ip_address vip = *ip_address::parse("198.18.0.10");
    uint16_t vip_port = 80;
    ip_address backend_first = *ip_address::parse("198.18.1.11");
    uint32_t backends = 4;
    uint16_t backend_port = 0;  // 0: the VIP's port
    ip_address lb_server_address = *ip_address::parse("198.18.1.1");
    ip_address local_first = *ip_address::parse("198.18.1.128");
    uint32_t locals = 16;
    // Ports: DPDK port names (e.g. net_memif0); empty: ports 0 (clients) and 1 (servers).
    std::string client_port_name;
    std::string server_port_name;
    // Trials. A fixed rate (rate_pps > 0) runs one trial; otherwise the NDR/PDR search.
    double rate_pps = 0;
    double duration_s = 1;
    double grace_s = 0.1;        // drain after the offered period, still counted
    double setup_rate = 100000;  // connections per second while opening established flows
    double syn_flood_pps = 0;    // syn-flood mode: spoofed SYNs beside the cps load
    // Spoofed sources: addresses the clients' route also covers, outside the clients' range.
    ip_address flood_first = *ip_address::parse("198.19.250.1");
    uint32_t flood_sources = 250;
    unsigned sample_every = 1;  // stamp the send time in one packet of this many (latency)
    unsigned repeats = 1;       // whole searches (search_repeatedly)
    search_config search;
    // Soak (soak_s > 0): after the flows are open, one trial of soak_s seconds with per-second
    // reports, at rate_pps when given, else at soak_ndr_fraction of the NDR of a search run
    // first (the search's options apply to it).
    double soak_s = 0;
    double soak_ndr_fraction = 0.5;
    std::string per_second_path;  // "" : no per-second JSON lines (soak: still on stderr)
    std::string json_path;        // "" : no JSON
    bool quiet = false;
    // After the report, wait for SIGTERM or SIGINT before closing the ports: perf/hil.sh stops
    // sluiced first, so no process polls a memif port while its peer disconnects.
    bool hold = false;
};

// Parses argv[first..argc) into `out`; returns "" or the first problem (for the operator).
// --help is reported as the error "help".
std::string parse_options(int argc, const char* const* argv, int first, options& out);
std::string usage();

// Derived ranges: clients (addresses × ports covering `flows`), backends, local addresses.
address_range client_range(const options& o);
port_range client_port_range(const options& o);
address_range backend_range(const options& o);
address_range local_range(const options& o);
address_range flood_range(const options& o);

// The scenario's name: options.scenario, or "<mode>_<flows>" (1000 -> 1k, 1000000 -> 1M).
std::string scenario_name(const options& o);
std::string flows_label(uint32_t flows);

}  // namespace sluice::loadgen

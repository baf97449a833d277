#pragma once
// The generator's traffic engine: one object drives both ports (clients and servers) over one
// connection table, opens the flows, offers paced traffic in a trial, checks every frame that
// comes back and answers as the other end of each connection would.
//
//   established: client requests paced at rate / 2 over random established flows; the server
//                side answers each request at once (so the device sees rate, half each way);
//   udp:         client datagrams paced at rate / 2 over random flows, the server side echoes;
//   syn-flood:   cps, plus spoofed SYNs from addresses outside the clients' range paced at
//                `syn_flood_pps` beside it; the server side counts those that reach it and
//                does not answer them (their ISN's top byte is 0, which no connection's tag
//                has), the client side counts what the balancer sends to spoofed sources;
//   cps:         new connections paced at `rate` per second, each running the whole cps script
//                (every segment after the SYN is sent as soon as the previous one arrived). A
//                slot is reused only once its connection completed, failed (RST) or gave up
//                (1 s): late frames of a previous use never meet the next one.
//
// A trial offers for its duration, then drains for the grace period (still counted; the server
// stops answering after the first half of it, so answers do not leave the trial unreceived);
// then, uncounted, the connections that lost a segment are repaired (repair.hpp) so the next
// trial starts with every flow usable.
//
// Order: every stamped frame carries its sender's sequence number on its flow (flow_order.hpp);
// a matched frame numbered below the highest its side has received on that flow counts as
// reordered (and still as received, if its verdict is ok). Per-second reports (per_second.hpp),
// when a sink is set: the trial loop checks the clock once per pass and hands each complete
// second to the sink, from this lcore, one second after it ended.
//
// Threads: the engine belongs to the one lcore that runs the trials (the main lcore here);
// nothing in it is shared. engine.cpp holds the receive side, engine_send.cpp the sending side,
// trial_loop.cpp the trial and the setup phases.
#include <rte_mbuf.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connection_table.hpp"
#include "latency_histogram.hpp"
#include "neighbors.hpp"
#include "options.hpp"
#include "pacer.hpp"
#include "per_second.hpp"
#include "ports.hpp"
#include "rate_search.hpp"

namespace sluice::loadgen {

// Verdict and packet counters of one period (a trial, or the uncounted phases around them).
struct period_counts {
    uint64_t sent_client = 0;  // frames queued by each side
    uint64_t sent_server = 0;
    uint64_t paced = 0;            // of sent_client: the paced ones (not answers)
    uint64_t received_client = 0;  // frames that passed every check (TCP: segment ok)
    uint64_t received_server = 0;
    uint64_t refused = 0;            // frames the generator's own TX ring did not take
    uint64_t refused_client = 0;     // of them, on the client side (where the paced frames go)
    uint64_t no_mbuf = 0;            // frames not built: the pool was empty
    uint64_t opened = 0;             // cps: connections started
    uint64_t completed = 0;          // cps: connections that ran the whole script
    uint64_t resets = 0;             // cps: connections ended by an RST
    uint64_t repaired = 0;           // segments re-sent by repair
    uint64_t flood_sent = 0;         // syn-flood: spoofed SYNs sent (not in sent_client)
    uint64_t flood_at_backends = 0;  // of them, seen by the server side (not answered)
    uint64_t flood_answers = 0;      // frames to spoofed sources (SYN-ACK cookies, RSTs)
    uint64_t reordered = 0;          // stamped frames older than their flow's newest (any verdict)
    std::array<uint64_t, size_t(frame_verdict::count)> client_frames{};
    std::array<uint64_t, size_t(frame_verdict::count)> server_frames{};
    std::array<uint64_t, size_t(segment_verdict::count)> segments{};

    void add(const period_counts& o);
    // Frames or segments judged wrong: anything but ok and not_ip (ARP), duplicate segments.
    uint64_t validation_failures() const;
};

// One trial as reports print it.
struct trial_stats {
    double rate_pps = 0;
    double duration_s = 0;
    trial_counts counts;      // what the search saw
    double achieved_pps = 0;  // paced / duration, both directions (cps: connections/s)
    // The generator paced fewer than 98% of the frames (cps: connections) the rate asks for:
    // its CPU, or every flow waiting for its answer (established). The shortfall counts as lost.
    bool short_of_rate = false;
    period_counts detail;
    uint64_t latency_samples = 0;
    uint64_t latency_min_ns = 0, latency_p50_ns = 0, latency_p99_ns = 0, latency_p999_ns = 0,
             latency_max_ns = 0;
};

struct engine_ports {
    rte_mempool* pool = nullptr;
    uint16_t client = 0;
    uint16_t server = 1;
    mac_address client_mac{};
    mac_address server_mac{};
};

class engine {
public:
    engine(const options& o, const engine_ports& ports);

    // Asks the balancer's MAC on both sides (ARP) and answers its requests until both are known
    // or `seconds` pass; false on timeout.
    bool resolve(double seconds);
    // established / udp: opens every flow (handshakes, or one datagram each) at the setup
    // rate, repairing lost segments; returns how many flows are usable.
    uint32_t open_flows();
    // One trial at `rate_pps` for `duration_s`, then grace and repair.
    trial_stats run_trial(double rate_pps, double duration_s);
    // Polls and answers for `seconds`, nothing paced, nothing counted as a trial.
    void idle(double seconds);
    // Per-second reports of every later trial go to `sink` (called on this lcore, once a second,
    // from inside run_trial); an empty function turns them off.
    void report_seconds(std::function<void(const second_record&)> sink);

    // Everything counted so far, trials and the phases around them.
    period_counts totals() const;
    uint32_t usable_flows() const { return usable_; }

private:
    // engine.cpp: receiving.
    void poll(uint64_t now_tsc, bool answer);
    void on_client(const rte_mbuf* m, uint64_t now_ns);
    void on_server(const rte_mbuf* m, uint64_t now_ns, bool answer);
    void take_client_tcp(uint32_t index, const received_frame& f);
    void take_server_tcp(uint32_t index, const received_frame& f, uint64_t now_ns, bool answer);
    void sample_latency(const received_frame& f, uint64_t now_ns);
    void check_order(peer_side receiver, uint32_t index, const received_frame& f);
    void note_received(const received_frame& f);
    void note_completed(uint32_t index);
    // engine_send.cpp: sending.
    void send_tcp(peer_side side, uint32_t index, const segment& s, uint64_t now_ns);
    void send_udp(peer_side side, uint32_t index, uint64_t now_ns);
    void transmit(bool client, rte_mbuf* m, uint8_t* frame);
    bool send_due(peer_side side, uint32_t index, uint64_t now_ns);
    unsigned offer(unsigned n, uint64_t now_ns);
    bool offer_request(uint64_t now_ns);
    bool offer_connection(uint64_t now_ns);
    void send_flood_syn();
    bool is_flood_syn(const received_frame& f) const;
    bool slot_free(uint32_t index, uint64_t now_ns) const;
    uint32_t random_flow();
    uint64_t stamp_time(uint64_t now_ns);
    void flush();
    // trial_loop.cpp: phases.
    void run_for(double seconds, bool answer);
    void pace_trial(double paced_rate, uint64_t start, double duration_s);
    trial_stats trial_result(double rate_pps, double duration_s, double paced_rate) const;
    uint64_t trial_offered() const;
    void next_second(uint64_t now_ns);
    void end_seconds();
    unsigned repair(bool handshakes);
    unsigned repair_udp();
    void wait_for_slot(pacer& p);
    void settle_connections();
    void begin_period(period_counts& counts);
    uint64_t ns_of(uint64_t tsc) const { return uint64_t(double(tsc - tsc0_) * ns_per_tick_) + 1; }

    options opt_;
    engine_ports ports_;
    connection_table table_;
    arp_responder client_arp_;
    arp_responder server_arp_;
    tx_buffer client_tx_;
    tx_buffer server_tx_;
    std::unique_ptr<latency_histogram> latency_;
    period_counts trials_total_;
    period_counts other_;
    period_counts* cur_ = &other_;
    period_counts trial_;
    uint64_t tsc0_ = 0;
    double ns_per_tick_ = 0;
    uint64_t rng_ = 0x9e3779b97f4a7c15ull;
    uint64_t sample_counter_ = 0;
    uint32_t next_slot_ = 0;           // cps: where the search for a free slot starts
    std::vector<uint64_t> opened_ns_;  // cps: when each slot's connection started
    uint32_t usable_ = 0;
    std::function<void(const second_record&)> second_sink_;
    std::unique_ptr<second_series> seconds_;     // allocated when a sink is set
    second_series* counting_seconds_ = nullptr;  // seconds_ while a trial counts, else null
    unsigned trials_run_ = 0;
};

}  // namespace sluice::loadgen

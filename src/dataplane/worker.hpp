#pragma once
// A worker lcore: polls its RX queue on every port (the RX/classify stage), hands packets whose
// flow another worker owns to that worker's SP/SC ring, and runs the full-NAT path for the
// packets it owns against its own flow-table shard, transmitting on its own TX queue. Its
// methods are defined stage by stage in src/dataplane/stages/ (rx_classify, flow_path,
// new_flow, syn_proxy, payload_rules, tx, resets, housekeeping, commands); the SYN proxy's state
// is a syn_proxy (syn_proxy.hpp), new-flow admission an admission (admission.hpp).
// Everything in a worker is touched by its lcore only, except the counters (read by control and
// telemetry); control talks to it through its command ring (worker_command.hpp) and snapshots.
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

#include "dataplane/admission.hpp"
#include "dataplane/conn_counts.hpp"
#include "dataplane/counters.hpp"
#include "dataplane/fragments.hpp"
#include "dataplane/mbuf_meta.hpp"
#include "dataplane/syn_proxy.hpp"
#include "dataplane/ticks.hpp"
#include "dataplane/worker_command.hpp"
#include "flow/flow_table.hpp"
#include "flow/tcp_track.hpp"
#include "flow/tuple_pool.hpp"
#include "model/snapshot.hpp"
#include "packet/icmp_translate.hpp"
#include "packet/rewrite.hpp"
#include "packet/tcp_options.hpp"
#include "packet/tcp_reset.hpp"
#include "protect/syn_cookie.hpp"
#include "protect/token_bucket.hpp"
#include "route/neighbor_table.hpp"
#include "sluice/config.hpp"

namespace sluice::dataplane {

inline constexpr unsigned max_ports = 8;
inline constexpr unsigned max_workers = 64;
inline constexpr unsigned max_burst = 256;

// Which worker owns a full-NAT source port: worker w owns
// [min + w*per_worker, min + (w+1)*per_worker). Division by multiply (exact for 16-bit values).
struct local_port_plan {
    uint16_t min = 1024;
    uint32_t per_worker = 1;
    uint64_t magic = 0;  // ceil(2^32 / per_worker): 2^32 itself when per_worker is 1
    unsigned workers = 1;

    static local_port_plan make(uint16_t min, uint16_t max, unsigned workers);
    // Owning worker, or `workers` when the port is outside every worker's range.
    unsigned owner(uint16_t port) const {
        if (port < min) return workers;
        uint32_t q = uint32_t((uint64_t(port - min) * magic) >> 32);
        return q < workers ? q : workers;
    }
    uint16_t first(unsigned w) const { return uint16_t(min + w * per_worker); }
    // One past the last port any worker uses; ports from here up belong to the host's kernel.
    uint32_t end() const { return min + per_worker * workers; }
};

// A port's 802.1Q tag ([[port]] vlan) as the worker applies it (stages/vlan.cpp).
struct port_vlan {
    uint16_t id = 0;          // VID of every frame on the port; 0 = untagged (nothing to do)
    bool tx_offload = false;  // the NIC inserts mbuf::vlan_tci when asked (RTE_MBUF_F_TX_VLAN)
};

// One RX poll per DPDK device. A device that VLAN sub-ports share ([[port]]s with one device
// and distinct vlans) hands each frame to the port its VID names (stages/vlan.cpp); a device of
// one port hands every frame to it.
struct rx_device {
    uint16_t dpdk_port = 0;
    uint8_t n_ports = 0;
    bool tagged = false;  // some port of it has a vlan: frames are untagged first
    bool polled = true;   // this worker has an RX queue on it ([[port]] queues)
    std::array<uint16_t, max_ports> vids{};  // VID of its k-th port (0: the untagged one)
    std::array<uint8_t, max_ports> ports{};  // snapshot port index of its k-th port
};

struct worker_setup {
    unsigned index = 0;
    unsigned count = 1;
    uint16_t queue = 0;                               // RX and TX queue id on every port
    std::vector<uint16_t> dpdk_ports;                 // by snapshot port index (TX)
    std::vector<rx_device> rx_devices;                // distinct devices, first-port order (RX)
    std::array<uint8_t, max_ports> device_of_port{};  // index in rx_devices, by port index
    // [[port]] vlan by snapshot port index; id 0 on untagged ports.
    std::array<port_vlan, max_ports> vlans{};
    local_port_plan ports;
    uint16_t burst = 32;
    config::idle_policy idle = config::idle_policy::backoff;
    uint64_t tsc_hz = 0;
    rte_mempool* pool = nullptr;  // for frames the worker builds itself (resets, SYN proxy)
    const protect::syn_cookie_secret* cookie_secret = nullptr;  // shared, immutable
    // This worker's share of [dataplane] kernel_packets_per_second / _burst (TSC ticks).
    protect::bucket_params kernel_rate;
    // This worker's share of [dataplane] icmp_echo_per_second / _burst; off: VIPs do not answer
    // echo requests (unsupported_protocol, as any other ICMP to them).
    protect::bucket_params echo_rate;
    bool echo_enabled = true;
    // This worker's share of [dataplane] icmp_errors_per_second / _burst; off: no ICMP errors.
    protect::bucket_params error_rate;
    bool errors_enabled = true;
    // Client segments the SYN proxy may hold at once on this worker ([dataplane]
    // syn_proxy_max_held, by default a share of the mbuf pool): beyond it they are dropped
    // (proxy_held_limit) instead of draining the pool for every VIP.
    uint32_t proxy_max_held = 1024;
    // IP reassembly: [dataplane] fragment_max_datagrams (0 = off) and fragment_timeout_ms.
    uint32_t fragment_max_datagrams = 0;
    uint64_t fragment_timeout_tsc = 0;
    // Egress fragmentation: indirect mbufs pointing into the packet being cut (each fragment's
    // headers come from `pool`). Null: a packet over the MTU is answered as if it had DF.
    rte_mempool* indirect_pool = nullptr;
};

struct tx_buffer {
    uint16_t count = 0;
    rte_mbuf* pkts[max_burst * 2];
};

class alignas(64) worker {
public:
    worker(const worker_setup& setup, flow::flow_table* flows,
           const std::atomic<const model::snapshot*>* snapshot, route::neighbor_table* neighbors,
           rte_rcu_qsbr* qsbr, conn_counts* conns, std::span<const conn_counts* const> all_conns);

    // Wiring done by the runtime before launch.
    rte_ring* handoff_in[max_workers] = {};   // from worker i to this one (SP/SC)
    rte_ring* handoff_out[max_workers] = {};  // from this one to worker i (SP/SC)
    rte_ring* to_control = nullptr;           // ARP and resolution requests (SP/SC)
    rte_ring* to_kernel = nullptr;            // frames for the host kernel, rate-limited (SP/SC)
    rte_ring* from_control = nullptr;         // frames the control thread sends (SP/SC)
    rte_ring* commands = nullptr;             // worker_command* from control (SP/SC)
    rte_ring* completions = nullptr;          // the same commands handed back, done (SP/SC)
    // Commands control may have in flight per worker (sent, not handed back): bounds the
    // worker's own bookkeeping and sizes the rings (command_channel.hpp).
    static constexpr unsigned max_commands = 16;
    // Full-NAT source tuples by egress port and family (0 = IPv4, 1 = IPv6); null when the port
    // has no address of the family. Owned by the runtime.
    flow::tuple_pool* tuples[max_ports][2] = {};

    // lcore entry point: loops until a stop command.
    static int lcore_main(void* self);
    // One pass: RX every port, drain rings, forward, flush TX, housekeeping. Returns the number of
    // packets handled. Used by lcore_main and directly by the packet tests.
    unsigned poll_once();
    // Feeds a burst as if it had arrived on snapshot port `port_index`, with the snapshot current
    // now. Tests only: poll_once uses its pass's snapshot for every burst (receive).
    void receive_burst(uint16_t port_index, rte_mbuf** pkts, uint16_t n);
    void flush_tx();
    // Workers stopped (or never launched): hands every command still being worked on back on
    // the completion ring, so control can free it. Control thread, lcore not running.
    void hand_back_commands();

    worker_counters counters;
    vip_drop_counts vip_drops;  // drops of packets to a VIP, by VIP and reason
    // Client segments the SYN proxy holds now, for pending backend handshakes. Its own lcore, or
    // any thread once the workers stopped (the fuzz target's mbuf accounting).
    uint32_t proxy_held() const { return proxy_.held_total(); }
    const worker_setup& setup() const { return setup_; }
    flow::flow_table& flows() { return *flows_; }

private:
    void receive(const model::snapshot& s, const rx_device& d, rte_mbuf** pkts, uint16_t n);
    void classify(const model::snapshot& s, uint16_t port_index, rte_mbuf* m, rte_mbuf** own,
                  uint16_t& n_own);
    // classify's part for frames that are neither TCP nor UDP (ICMP, NDP, other protocols):
    // true when the frame goes on to worker `owner` (an ICMP error about a flow), false when it
    // was consumed.
    bool classify_other(const model::snapshot& s, rte_mbuf* m, const uint8_t* dst, uint8_t family,
                        unsigned& owner);
    // classify's part after the frame's own checks (parse, MACs, in_port): ARP, ICMP, VIP or
    // reply, owner. A reassembled datagram joins here.
    void classify_parsed(const model::snapshot& s, rte_mbuf* m, rte_mbuf** own, uint16_t& n_own);
    // IP fragments (stages/fragments.cpp). classify's part: a fragment of a TCP/UDP datagram to
    // a VIP or an LB address goes to the worker its source, destination and identification
    // hash to (every fragment of a datagram meets there); anything else is dropped (`why`).
    void take_fragment(const model::snapshot& s, rte_mbuf* m, drop_reason why, rte_mbuf** own,
                       uint16_t& n_own);
    // That worker's part: into the reassembly table; a completed datagram is parsed again and
    // classified like any frame (kept in `own` or handed to its flow's owner).
    void reassemble(const model::snapshot& s, rte_mbuf* m, rte_mbuf** own, uint16_t& n_own);
    // A packet over the egress MTU may be cut into fragments instead of refused: IPv4 without
    // DF, IPv6 UDP without extension headers (the LB is the source of a full-NAT packet), and
    // (`translated`) UDP of a NAT64/NAT46 flow.
    bool may_fragment(const uint8_t* frame, const packet::parsed_frame& p, bool translated) const;
    // Sends the rewritten frame `m` (larger than `out_port`'s MTU) as fragments; consumes it.
    // An IPv4 identification of this worker's own: worker i of n takes i, i + n, i + 2n... A
    // datagram the LB cuts or translates leaves from a local address or the VIP, which many
    // senders share: their own identifications could meet at the receiver's reassembly.
    uint16_t next_ipv4_id() { return uint16_t(ipv4_id_++ * setup_.count + setup_.index); }
    void send_fragments(const model::snapshot& s, uint16_t out_port, uint32_t neighbor,
                        rte_mbuf* m);
    // Keeps `m` for this worker's flow path or hands it to `owner`'s ring.
    void hand_to_owner(rte_mbuf* m, unsigned owner, rte_mbuf** own, uint16_t& n_own);
    // An ICMP error to a VIP or an LB address (stages/icmp_errors.cpp): the key of the flow it
    // quotes and that flow's owner (true); false when consumed (dropped, or the kernel's: an
    // error about a kernel socket's packet, or one it cannot read).
    bool classify_icmp_error(const model::snapshot& s, rte_mbuf* m, const uint8_t* dst,
                             uint8_t family, unsigned& owner);
    // The owner's part: the flow looked up, the error rewritten for the flow's other end and
    // sent there (icmp_no_flow when there is none).
    void forward_icmp_error(const model::snapshot& s, rte_mbuf* m);
    void process_owned(const model::snapshot& s, rte_mbuf** pkts, uint16_t n);
    void forward(const model::snapshot& s, rte_mbuf* m);
    // forward's parts (stages/flow_path.cpp): the VIP's packets-per-second limit (false: over
    // it, counted as refused), and the flow's rewrite for its other end — full-NAT or family
    // translation, the egress MTU — and the send (consumes the mbuf). Inlined into forward,
    // the only caller: the per-packet path keeps its one call.
    [[gnu::always_inline]] inline bool within_packet_limit(const model::vip_entry& vip);
    [[gnu::always_inline]] inline void rewrite_and_send(const model::snapshot& s,
                                                        flow::flow_entry& f, flow::direction dir,
                                                        rte_mbuf* m);
    // A packet without a flow (forward's miss): the SYN proxy's cookie stages, or a new flow
    // (create_flow). Null when the packet was consumed (dropped, answered, held, to control).
    flow::flow_entry* open_flow(const model::snapshot& s, rte_mbuf* m, bool pure_syn);
    // A pure SYN on a flow in TIME_WAIT/CLOSE: true when its sequence number starts a new
    // connection (the old flow is forgotten, flows_reused), false for syn_not_new.
    bool retire_finished(flow::flow_entry& f, flow::direction dir, const uint8_t* tcp_header);
    // An RST on a known flow (RFC 5961, flow::judge_rst on `raw`, the sender's own numbers):
    // false when out of window; inside it, the state machine does not see the RST flag.
    bool judge_reset(const flow::flow_entry& f, flow::direction dir, const flow::tcp_segment& raw,
                     uint8_t& state_flags);
    // A TCP segment's state transition, connection accounting and sequence tracking; returns
    // the flow's new timeout in ticks (0: leave the deadline). `seg` is the segment as it
    // leaves (after any SYN-proxy translation); `tcp_header` is read for SYN options only.
    uint32_t track_tcp(const model::snapshot& s, flow::flow_entry& f, flow::direction dir,
                       uint8_t state_flags, const uint8_t* tcp_header,
                       const flow::tcp_segment& seg);
    flow::flow_entry* create_flow(const model::snapshot& s, rte_mbuf* m, const flow::flow_key& key,
                                  drop_reason& why);
    // What create_flow decided for a flow it inserts (stages/new_flow.cpp).
    struct new_flow {
        const model::vip_entry& vip;
        const model::backend_entry& backend;
        const flow::flow_key& key;
        flow::local_tuple local;
        uint32_t client_neighbor;
        uint8_t client_port;
    };
    // Inserts the flow (early drop of a non-established flow when the table is full) and
    // counts it; null when the table stays full.
    flow::flow_entry* insert_flow(const model::snapshot& s, const new_flow& n);
    // The client's first payload against the VIP's [[vip.rule]]s (stages/payload_rules.cpp): a drop
    // reason when the packet must be dropped (rule_match: the flow is gone too), none to pass.
    // `raw_seq`: the segment's sequence number before any SYN-proxy translation.
    drop_reason inspect_payload(const model::snapshot& s, const model::vip_entry& vip,
                                flow::flow_entry& f, rte_mbuf* m, uint32_t raw_seq);
    model::guard_worker& guard_of(const model::vip_entry& vip) const {
        return *vip.protect.guard->workers[setup_.index];
    }
    // Connection accounting of a flow entering, leaving or changing state (IPVS semantics), and
    // the half-open count (SYN_SENT, SYN_RECV) that half-open limits use.
    // A flow's place in the counts, taken before it changes state or leaves.
    struct counted {
        uint16_t backend_id;
        bool active;
        bool half_open;
    };
    counted counted_as(const flow::flow_entry& f) const {
        const bool tcp = flows_->is_tcp(f);
        return {
            f.backend_id, tcp && f.state == flow::tcp_state::established,
            tcp && (f.state == flow::tcp_state::syn_sent || f.state == flow::tcp_state::syn_recv)};
    }
    void add_count(const counted& c, int32_t delta) {
        conns_->add(c.backend_id, c.active, delta);
        if (c.half_open) conns_->add_half_open(c.backend_id, delta);
    }
    void count_flow(const flow::flow_entry& f, int32_t delta) { add_count(counted_as(f), delta); }
    // Conntrack's early drop: evicts the flow closest to its deadline that `pred` accepts
    // (non-established ones only; bounded scan, at most one miss per tick recorded in
    // `miss_tick`); true when one went. stages/new_flow.cpp.
    template <class Pred>
    bool early_drop(const model::snapshot& s, uint32_t& miss_tick, Pred&& pred);
    // A flow leaving without a packet (timeout, eviction): tell whoever still waits on it,
    // uncount it, give its tuple back. The caller removes it from the table.
    void wind_down(const model::snapshot& s, flow::flow_entry& f);
    // Returns the flow's full-NAT tuple to its pool (resting unless the backend forgets it).
    void release_tuple(const flow::flow_entry& f);
    // The TX sink (stages/tx.hpp, inline per packet; every stage file includes it).
    inline void send(const model::snapshot& s, uint16_t port_index, uint32_t neighbor_slot,
                     rte_mbuf* m);
    inline void enqueue_tx(uint16_t port_index, rte_mbuf* m);
    // ARP and resolution requests to the control thread's neighbour ring; frames for the kernel
    // (meta_kind::to_kernel) through the kernel rate limit to its kernel ring.
    void to_control_ring(rte_mbuf* m);
    inline void drop(rte_mbuf* m, drop_reason r);
    // 802.1Q (stages/vlan.cpp): a received frame's tag removed and its VID mapped to the
    // device's port of that VID (false: none, dropped as wrong_vlan); the tag of a TX buffer's
    // frames inserted before the burst.
    bool untag(const rx_device& d, rte_mbuf* m, uint16_t& port_index);
    void tag_burst(uint16_t port_index, tx_buffer& b);
    // Lowers the MSS option of a SYN or SYN-ACK of `f` to its VIP's mss_clamp
    // (stages/mss_clamp.cpp).
    void clamp_mss(const model::snapshot& s, const flow::flow_entry& f, rte_mbuf* m);
    void housekeeping(const model::snapshot& s);
    // Command ring (stages/commands.cpp): takes what control sent (start of a pass), works on
    // the long commands a table slice per pass (housekeeping), hands finished ones back.
    void take_commands();
    void run_commands(const model::snapshot& s);
    void complete(worker_command* c);
    // Resets, a slice of the table per pass, the flows of the backends the reset commands name.
    void sweep_resets(const model::snapshot& s);
    // Copies, a slice of the table per pass, the flows the listing asks for.
    void serve_listing();
    void reset_flow(const model::snapshot& s, flow::flow_entry& f, model::reset_cause why);
    // Sends RST|ACK towards the receiver of direction `towards` of flow `f`.
    void send_reset(const model::snapshot& s, const flow::flow_entry& f, flow::direction towards);
    // Answers a SYN to a VIP with no backend up with RST (all_down = "reset").
    void refuse_with_reset(const model::snapshot& s, rte_mbuf* syn);
    void transmit_reset(const model::snapshot& s, const packet::tcp_reset_spec& r, uint16_t port,
                        uint32_t neighbor);
    void sync_snapshot(const model::snapshot& s);

    // The next hop towards `addr` (a client the LB answers itself: SYN-ACK, echo reply) from the
    // routes, or false with `m` consumed: dropped (no_route) or passed to the control thread as a
    // resolution request (neighbor_unresolved). stages/tx.cpp.
    bool hop_towards(const model::snapshot& s, rte_mbuf* m, const ip_address& addr, uint16_t& port,
                     uint32_t& neighbor);
    // The neighbour slot of next hop `addr` on `port`, or route::no_neighbor; remembers the last
    // one found (stages/tx.cpp).
    uint32_t neighbor_slot(uint16_t port, const ip_address& addr);
    // Why a frame from `src` may not open a flow or draw an answer (martian_source,
    // own_address_source), or none. Per new flow and per echo request; stages/flow_path.cpp.
    drop_reason refused_source(const model::snapshot& s, const uint8_t* src, uint8_t family) const;
    // A frame whose TTL would expire on forwarding (stages/icmp_echo.cpp): dropped
    // (ttl_exceeded) and, within icmp_errors_per_second, answered with ICMP time exceeded from
    // the LB address of the port it came in on. Consumes the packet.
    void expire(const model::snapshot& s, rte_mbuf* m);
    // A packet larger than its egress port's MTU (stages/icmp_echo.cpp): dropped
    // (frame_too_big) and, within icmp_errors_per_second, answered with fragmentation needed
    // (IPv4 with DF) or packet too big (IPv6) carrying `mtu`. IPv4 without DF is not fragmented
    // yet: dropped only. Consumes the packet.
    void too_big(const model::snapshot& s, rte_mbuf* m, uint16_t mtu);
    // A packet of a NAT64/NAT46 flow (flow_extra::translated) translated to the other family
    // with the full-NAT addresses and ports `t` (stages/nat64.cpp); false when it was consumed
    // (too big for `out_port` once translated: too_big with the sender's MTU; untranslatable).
    bool translate_family(const model::snapshot& s, rte_mbuf* m, const packet::nat_target& t,
                          uint16_t out_port);
    // Sends error `m` (read into `v`) about a NAT64 / NAT46 flow to the flow's end `n` names,
    // rebuilt in that end's family (RFC 7915 4.2 / 5.2) in a new frame; `m` is consumed. Errors
    // with no equivalent in the other family: untranslatable.
    void translate_icmp_error(const model::snapshot& s, rte_mbuf* m,
                              const packet::icmp_error_view& v, const packet::icmp_error_nat& n,
                              uint16_t out_port, uint32_t neighbor);
    // The ICMP / ICMPv6 error `type`/`code`/`rest` about `m`, from the LB address of the port
    // it came in on, rate-limited, counted in `sent`; frees `m` (its drop already counted).
    void send_icmp_error(const model::snapshot& s, rte_mbuf* m, uint8_t type, uint8_t code,
                         uint32_t rest, std::atomic<uint64_t>& sent);
    // An ICMP echo request to a VIP (stages/icmp_echo.cpp): answered in place, rate-limited;
    // consumes the packet.
    void answer_echo(const model::snapshot& s, rte_mbuf* m);

    // The worker's side of the SYN proxy (stages/syn_proxy.cpp; the proxy's state and logic are
    // proxy_, syn_proxy.hpp). Each consumes the packet. A client's SYN: cookie SYN-ACK.
    void answer_syn(const model::snapshot& s, rte_mbuf* m);
    // A client ACK without a flow: a valid cookie creates the flow, holds the ACK and opens the
    // backend connection; anything else is dropped (counted).
    void accept_cookie_ack(const model::snapshot& s, rte_mbuf* m);
    // A segment of a proxied flow whose backend handshake is pending.
    void proxy_pending(const model::snapshot& s, flow::flow_entry& f, flow::direction dir,
                       rte_mbuf* m);
    void send_backend_syn(const model::snapshot& s, const flow::flow_entry& f);
    // The client segments held for a flow just spliced, through forward().
    void replay_held(const model::snapshot& s, flow::flow_entry& f);
    // Removes a flow (accounting, held segments); its count goes last (flow_table::remove).
    void forget(flow::flow_entry& f) {
        flows_->remove(&f, [this](flow::flow_entry& e) {
            const counted c = counted_as(e);
            if (e.flags & flow::flow_flag::proxied) proxy_.release(e);
            release_tuple(e);
            add_count(c, -1);
        });
    }
    // A frame the worker sends on its own behalf (RSTs, the SYN proxy's SYN-ACKs and SYNs):
    // `build(data)` writes at most `max_length` bytes and returns how many. Null without an mbuf.
    template <class Build>
    rte_mbuf* build_frame(uint16_t max_length, Build&& build) {
        rte_mbuf* m = setup_.pool ? rte_pktmbuf_alloc(setup_.pool) : nullptr;
        auto* data = m ? reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, max_length)) : nullptr;
        if (!data) {
            if (m) rte_pktmbuf_free(m);
            return nullptr;
        }
        rte_pktmbuf_trim(m, uint16_t(max_length - build(data)));
        return m;
    }

    worker_setup setup_;
    flow::flow_table* flows_;
    const std::atomic<const model::snapshot*>* snapshot_;
    route::neighbor_table* neighbors_;
    // The last next hop neighbor_slot() found: per new flow it is nearly always the clients'
    // gateway. Neighbour slots are never freed or moved (route::neighbor_table), so a slot once
    // found stays that hop's. Worker thread only.
    struct {
        uint16_t port = 0xffff;
        ip_address address;
        uint32_t slot = route::no_neighbor;
    } last_hop_;
    rte_rcu_qsbr* qsbr_;
    tx_buffer tx_[max_ports];
    uint64_t tsc_start_;
    uint64_t tsc_per_tick_;
    uint32_t now_tick_ = 0;
    uint64_t now_tsc_ = 0;  // TSC at the start of the burst being processed (token buckets)
    uint64_t seen_generation_ = 0;
    // Identification of the IPv4 packets the worker builds (NAT64, RFC 7915 5.1) or cuts
    // (send_fragments): next_ipv4_id() interleaves the workers so none repeats another's.
    uint16_t ipv4_id_ = 0;
    conn_counts* conns_;                             // this worker's counts (written here only)
    std::span<const conn_counts* const> all_conns_;  // every worker's, for lc/wlc and limits
    // Limits, scheduler state by VIP id (reset for a snapshot's VIPs when a new snapshot
    // arrives), tuple early-drop candidates.
    admission admission_;
    reassembly reassembly_;      // IP fragments to VIPs and LB addresses (fragments.hpp)
    uint32_t ipv6_frag_id_ = 0;  // of the IPv6 datagrams this worker fragments (+ index << 24)
    static constexpr uint32_t sweep_slice = 8192;  // entries per poll: bounds the added latency
    // Commands being worked on: reset sweeps (all swept together, restarted when one arrives)
    // and one flow listing.
    worker_command* resets_[max_commands] = {};
    unsigned n_resets_ = 0;
    uint32_t reset_cursor_ = 0;
    worker_command* listing_ = nullptr;
    uint32_t listing_cursor_ = 0;
    bool stopping_ = false;  // a stop command came: lcore_main returns after this pass
    uint32_t early_drop_miss_tick_ = 0xffffffff;  // table full, nothing evictable this tick
    uint32_t tuple_miss_tick_ = 0xffffffff;       // tuple group full, nothing evictable
    // Kernel-bound frames: [0] ICMP and other protocols, [1] TCP answers to kernel sockets
    // (health probes), so an ICMP flood cannot starve the probes.
    protect::bucket_state kernel_buckets_[2];
    protect::bucket_state echo_bucket_;
    protect::bucket_state error_bucket_;
    syn_proxy proxy_;  // after counters and flows_, which it is given
};

}  // namespace sluice::dataplane

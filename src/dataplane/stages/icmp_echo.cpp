// ICMP and ICMPv6 the worker sends itself. Echo to a VIP: `ping VIP` (and `ping -6 VIP`) answered
// by the worker that received the request, in place (no new mbuf, no flow, no handoff), after the
// same source checks as a new flow and a per-worker token bucket ([dataplane] icmp_echo_per_second
// / _burst, split over the workers); LB addresses are the host kernel's (exception path). Time
// exceeded: a frame whose TTL would expire on forwarding is dropped and its sender told, from the
// LB address of the port it came in on (traceroute through the LB shows it), within
// icmp_errors_per_second; so is one larger than its egress port's MTU (fragmentation needed /
// packet too big: path MTU discovery through the LB). Worker lcore only.
#include "packet/icmp_echo.hpp"

#include <rte_mbuf.h>

#include <algorithm>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/icmp_error.hpp"
#include "packet/icmp_translate.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using model::snapshot;

void worker::answer_echo(const snapshot& s, rte_mbuf* m) {
    const mbuf_meta& meta = meta_of(m);
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    drop_reason bad = drop_reason::none;
    if (!packet::is_echo_request(frame, meta.parsed, bad))
        return drop(m, bad != drop_reason::none ? bad : drop_reason::unsupported_protocol);
    const ip_address sender = packet::frame_src(frame, meta.parsed);
    if (const drop_reason r = refused_source(s, sender.bytes.data(), uint8_t(sender.family));
        r != drop_reason::none)
        return drop(m, r);
    if (!protect::take(echo_bucket_, setup_.echo_rate, now_tsc_))
        return drop(m, drop_reason::icmp_rate_limited);
    uint16_t port;
    uint32_t neighbor;
    if (!hop_towards(s, m, sender, port, neighbor)) return;
    packet::make_echo_reply(frame, meta.parsed);
    bump(counters.icmp_echo_replies);
    send(s, port, neighbor, m);
}

void worker::expire(const snapshot& s, rte_mbuf* m) {
    counters.drop(drop_reason::ttl_exceeded);
    const bool v4 = meta_of(m).parsed.family == address_family::ipv4;
    send_icmp_error(s, m, v4 ? packet::icmp_time_exceeded : packet::icmp6_time_exceeded, 0, 0,
                    counters.icmp_time_exceeded_sent);
}

void worker::too_big(const snapshot& s, rte_mbuf* m, uint16_t mtu) {
    counters.drop(drop_reason::frame_too_big);
    const mbuf_meta& meta = meta_of(m);
    const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + meta.parsed.l3_offset;
    if (meta.parsed.family == address_family::ipv4) {
        // RFC 1191: fragmentation needed only when the sender forbade fragmenting; without DF
        // forward() fragments unless it has no indirect mbuf pool (worker_setup).
        if (!(packet::load_be16(ip + packet::ip4_frag) & 0x4000)) return rte_pktmbuf_free(m);
        return send_icmp_error(s, m, packet::icmp_dest_unreachable, packet::icmp_frag_needed, mtu,
                               counters.icmp_too_big_sent);
    }
    send_icmp_error(s, m, packet::icmp6_packet_too_big, 0, mtu, counters.icmp_too_big_sent);
}

void worker::send_icmp_error(const snapshot& s, rte_mbuf* m, uint8_t type, uint8_t code,
                             uint32_t rest, std::atomic<uint64_t>& sent) {
    const mbuf_meta& meta = meta_of(m);
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint8_t* ip = frame + meta.parsed.l3_offset;
    const ip_address sender = packet::frame_src(frame, meta.parsed);
    const ip_address* ours = s.source_address(meta.in_port, meta.parsed.family);
    // Never towards a source no client has (RFC 1812 4.3.2.7, RFC 4443 2.4 (e)).
    if (!setup_.errors_enabled || !ours ||
        refused_source(s, sender.bytes.data(), uint8_t(sender.family)) != drop_reason::none) {
        rte_pktmbuf_free(m);
        return;
    }
    if (!protect::take(error_bucket_, setup_.error_rate, now_tsc_)) {
        bump(counters.icmp_errors_limited);
        rte_pktmbuf_free(m);
        return;
    }
    const bool v4 = sender.is_v4();
    const packet::icmp_error_spec e{type, code, rest, ours->bytes.data()};
    const size_t max = v4 ? packet::icmp_error_max_len : packet::icmp6_error_max_len;
    rte_mbuf* out = build_frame(uint16_t(max), [&](uint8_t* data) {
        // A reassembled datagram's first segment holds only its first fragment's bytes.
        const uint16_t quotable = uint16_t(
            std::min<uint32_t>(meta.parsed.l3_length, m->data_len - meta.parsed.l3_offset));
        return v4 ? packet::build_icmp_error_v4(data, e, ip, quotable)
                  : packet::build_icmp_error_v6(data, e, ip, quotable);
    });
    rte_pktmbuf_free(m);
    if (!out) return counters.drop(drop_reason::no_mbuf);
    uint16_t port;
    uint32_t neighbor;
    if (!hop_towards(s, out, sender, port, neighbor)) return;
    bump(sent);
    send(s, port, neighbor, out);
}

}  // namespace sluice::dataplane

// Payload rules ([[vip.rule]]) on the first client payload of a flow. Worker lcore only.
#include <rte_ip.h>

#include <algorithm>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "flow/tcp_track.hpp"
#include "packet/checksum.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using flow::direction;
using flow::flow_entry;
using model::snapshot;

namespace {

// The TCP/UDP checksum of the frame verifies (or the NIC said so). Only first payloads of rule
// VIPs pay for it: a decoy with a bad checksum, which the backend would discard, must not count
// as the request that was scanned.
bool l4_checksum_ok(const rte_mbuf* m, const mbuf_meta& meta) {
    if ((m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_GOOD) return true;
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    const uint8_t* l3 = frame + meta.parsed.l3_offset;
    const uint8_t* l4 = frame + meta.parsed.l4_offset;
    const bool v4 = meta.parsed.family == address_family::ipv4;
    if (v4 && meta.parsed.protocol == packet::ipproto_udp &&
        packet::load_be16(l4 + packet::udp_csum) == 0)
        return true;       // IPv4 UDP without a checksum (IPv6 requires one: RFC 8200 §8.1)
    if (m->nb_segs > 1) {  // a reassembled datagram: its payload spans segments
        uint16_t raw = 0;
        if (rte_raw_cksum_mbuf(m, meta.parsed.l4_offset, meta.parsed.l4_length, &raw) != 0)
            return false;
        const uint64_t pseudo =
            packet::pseudo_header_sum(v4 ? 4 : 6, l3 + (v4 ? packet::ip4_src : packet::ip6_src),
                                      l3 + (v4 ? packet::ip4_dst : packet::ip6_dst),
                                      meta.parsed.protocol, meta.parsed.l4_length);
        return packet::checksum_fold(pseudo + raw) == 0xffff;
    }
    return packet::l4_checksum_verifies(v4 ? 4 : 6, l3 + (v4 ? packet::ip4_src : packet::ip6_src),
                                        l3 + (v4 ? packet::ip4_dst : packet::ip6_dst),
                                        meta.parsed.protocol, l4, meta.parsed.l4_length);
}

}  // namespace

drop_reason worker::inspect_payload(const snapshot& s, const model::vip_entry& vip, flow_entry& f,
                                    rte_mbuf* m, uint32_t raw_seq) {
    const mbuf_meta& meta = meta_of(m);
    const uint8_t* l4 = rte_pktmbuf_mtod(m, const uint8_t*) + meta.parsed.l4_offset;
    const bool tcp = meta.parsed.protocol == packet::ipproto_tcp;
    const uint32_t header = tcp ? uint32_t(l4[packet::tcp_off] >> 4) * 4 : 8;
    if (meta.parsed.l4_length <= header) return drop_reason::none;  // handshake, pure ACK
    if (!vip.protect.has_rules) {  // rules were removed by a reload
        f.flags |= flow::flow_flag::inspected;
        return drop_reason::none;
    }
    if (!l4_checksum_ok(m, meta)) return drop_reason::bad_l4_checksum;
    // For TCP only the in-order segment (what the backend will take next), without SYN, is the
    // first payload; data in a SYN is scanned but does not count. An earlier segment out of order
    // could be queued by the backend in front of what gets scanned: it waits (the client resends).
    bool first = true;
    const bool syn = tcp && (meta.parsed.tcp_flags & packet::tcp_flag::syn);
    if (tcp) {
        const bool known = f.extra & flow::flow_extra::ack_backend;
        const uint32_t expected = f.ack_seen[size_t(direction::from_backend)];
        // A SYN-proxied flow replays its held segments before the backend acknowledged any
        // (the proxy consumed its SYN-ACK): they are in order by construction.
        const bool replayed = !known && (f.flags & flow::flow_flag::proxied);
        if (!syn && !replayed && (!known || raw_seq != expected))
            return drop_reason::rule_out_of_order;
        first = !syn;
    }
    model::guard_worker& g = guard_of(vip);
    const model::vip_guard& guard = *vip.protect.guard;
    // A reassembled datagram is scanned as far as its first segment (its first fragment) goes.
    const uint32_t scanned = std::min<uint32_t>(meta.parsed.l4_length - header,
                                                m->data_len - meta.parsed.l4_offset - header);
    protect::rule_match r = guard.rules.match(g.scratch, l4 + header, scanned);
    if (r.status != protect::match_status::matched) {
        if (first) f.flags |= flow::flow_flag::inspected;
        return drop_reason::none;
    }
    bump(g.rule_matches[r.rule]);
    bump(g.refused[size_t(model::refusal::rule)]);
    if (tcp) {
        // The backend has a connection that will never see this request: reset it. "reset"
        // also tells the client; "drop" leaves the client to time out. The backend accepts only
        // an RST at its RCV.NXT, which is this in-order segment's seq: the highest client seq
        // seen can be beyond it (SYN data the backend did not take), and an RST there gets a
        // challenge ACK and leaves the connection open (RFC 5961).
        if (!syn && !(f.flags & flow::flow_flag::proxied))
            f.seq_next[size_t(direction::from_client)] = raw_seq;
        send_reset(s, f, direction::from_client);
        if (guard.rule_config[r.rule].action == config::protect_action::reset)
            send_reset(s, f, direction::from_backend);
    }
    forget(f);
    return drop_reason::rule_match;
}

}  // namespace sluice::dataplane

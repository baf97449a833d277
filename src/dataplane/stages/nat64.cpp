// NAT64 and NAT46 on the worker: a packet of a flow whose backend is of the other family than
// its client leaves translated (packet/nat64.hpp, RFC 7915) instead of rewritten in place. The
// frame's start moves by the header difference (mbuf headroom for IPv4 → IPv6). An ICMP error
// about such a flow is rebuilt in the other family (packet/icmp_family.hpp). Worker lcore only.
#include "packet/nat64.hpp"

#include <rte_mbuf.h>

#include <algorithm>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/icmp_family.hpp"

namespace sluice::dataplane {

using model::snapshot;

bool worker::translate_family(const snapshot& s, rte_mbuf* m, const packet::nat_target& t,
                              uint16_t out_port) {
    const packet::parsed_frame& p = meta_of(m).parsed;
    const int growth = packet::translation_growth(p);
    const uint16_t mtu = s.ports[out_port].mtu;
    if (packet::translated_l3_length(p) > mtu &&
        !may_fragment(rte_pktmbuf_mtod(m, const uint8_t*), p, true)) {
        // The sender learns the largest packet of its own family that still fits once
        // translated (RFC 7915 4.2 / 5.2 adjust the MTU by the header difference); an IPv6
        // sender is never told less than the IPv6 minimum.
        int sender_mtu = int(mtu) - growth;
        if (p.family == address_family::ipv6 && sender_mtu < 1280) sender_mtu = 1280;
        too_big(s, m, uint16_t(sender_mtu));
        return false;
    }
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const bool full_sum = packet::needs_full_udp_checksum(frame, p);
    if ((growth > 0 && rte_pktmbuf_headroom(m) < unsigned(growth)) ||
        (full_sum && m->nb_segs != 1)) {
        drop(m, drop_reason::untranslatable);
        return false;
    }
    const bool to_v6 = p.family == address_family::ipv4;
    const drop_reason r = to_v6 ? packet::translate_to_ipv6(frame, p, t, full_sum)
                                : packet::translate_to_ipv4(frame, p, t, next_ipv4_id());
    if (r != drop_reason::none) {
        drop(m, r);
        return false;
    }
    if (growth > 0)
        rte_pktmbuf_prepend(m, uint16_t(growth));
    else if (growth < 0)
        rte_pktmbuf_adj(m, uint16_t(-growth));
    // A short IPv4 frame's Ethernet padding would trail the IPv6 packet: cut it off.
    const uint32_t length = packet::ethernet_header_len + packet::translated_l3_length(p);
    if (m->pkt_len > length) rte_pktmbuf_trim(m, uint16_t(m->pkt_len - length));
    bump(to_v6 ? counters.translated_to_ipv6 : counters.translated_to_ipv4);
    return true;
}

void worker::translate_icmp_error(const snapshot& s, rte_mbuf* m, const packet::icmp_error_view& v,
                                  const packet::icmp_error_nat& n, uint16_t out_port,
                                  uint32_t neighbor) {
    const mbuf_meta& meta = meta_of(m);
    const bool to_v6 = meta.parsed.family == address_family::ipv4;
    // The MTU announced is no more than the LB's own ports carry, in the new family's terms:
    // the port towards the error's receiver, and the one the too-big packets leave on (the
    // error's arrival port) adjusted by the header difference.
    const int diff = int(packet::ipv6_header_len - packet::ipv4_min_header_len);
    const int in_mtu = s.ports[meta.in_port].mtu + (to_v6 ? diff : -diff);
    const uint16_t cap = uint16_t(std::min<int>(s.ports[out_port].mtu, in_mtu));
    drop_reason why = drop_reason::none;
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    rte_mbuf* out = build_frame(uint16_t(packet::icmp6_error_max_len), [&](uint8_t* data) {
        return packet::translate_icmp_error(data, frame, meta.parsed, v, n, cap, why);
    });
    if (why != drop_reason::none) {
        if (out) rte_pktmbuf_free(out);
        return drop(m, why);
    }
    rte_pktmbuf_free(m);
    if (!out) return counters.drop(drop_reason::no_mbuf);
    bump(counters.icmp_errors_translated);
    bump(to_v6 ? counters.translated_to_ipv6 : counters.translated_to_ipv4);
    send(s, out_port, neighbor, out);
}

}  // namespace sluice::dataplane

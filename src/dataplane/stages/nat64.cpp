// NAT64 and NAT46 on the worker: a packet of a flow whose backend is of the other family than
// its client leaves translated (packet/nat64.hpp, RFC 7915) instead of rewritten in place. The
// frame's start moves by the header difference (mbuf headroom for IPv4 → IPv6). Worker lcore
// only.
#include "packet/nat64.hpp"

#include <rte_mbuf.h>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"

namespace sluice::dataplane {

using model::snapshot;

bool worker::translate_family(const snapshot& s, rte_mbuf* m, const packet::nat_target& t,
                              uint16_t out_port) {
    const packet::parsed_frame& p = meta_of(m).parsed;
    const int growth = packet::translation_growth(p);
    const uint16_t mtu = s.ports[out_port].mtu;
    if (packet::translated_l3_length(p) > mtu) {
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
                                : packet::translate_to_ipv4(frame, p, t, ipv4_id_++);
    if (r != drop_reason::none) {
        drop(m, r);
        return false;
    }
    if (growth > 0)
        rte_pktmbuf_prepend(m, uint16_t(growth));
    else if (growth < 0)
        rte_pktmbuf_adj(m, uint16_t(-growth));
    bump(to_v6 ? counters.translated_to_ipv6 : counters.translated_to_ipv4);
    return true;
}

}  // namespace sluice::dataplane

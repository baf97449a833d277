// IP fragments, both ways. In: a fragment of a TCP/UDP datagram to a VIP or an LB address is
// reassembled (DPDK rte_ip_frag, reassembly in fragments.hpp) on the worker its (source,
// destination, identification) hash to — the receiving worker or, through the handoff ring,
// another — before any flow lookup; the datagram, a chained mbuf whose first segment holds the
// headers, then takes the path of any frame (classify_parsed: VIP or reply, owner, flow). Out:
// a packet larger than its egress port's MTU that may be fragmented (IPv4 without DF, IPv6 UDP,
// UDP of a translated flow) leaves as rte_ipv4/ipv6_fragment_packet cut it: each fragment a
// direct mbuf with its own headers and indirect ones pointing into the original. Worker lcore
// only.
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <cerrno>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/checksum.hpp"
#include "packet/fragment.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using model::snapshot;

namespace {

// Fragments of one packet at most: 65535 bytes at the smallest MTU a port reports (576).
constexpr uint16_t max_fragments = 128;

}  // namespace

void worker::take_fragment(const snapshot& s, rte_mbuf* m, drop_reason why, rte_mbuf** own,
                           uint16_t& n_own) {
    const uint8_t* frame = rte_pktmbuf_mtod(m, const uint8_t*);
    packet::fragment_view f;
    if (const drop_reason r = packet::read_fragment(frame, m->data_len, f); r != drop_reason::none)
        return drop(m, r);
    // Only datagrams a flow can follow: to a VIP (clients) or an LB address (backends' replies).
    const uint8_t* dst = frame + f.l3_offset + (f.family == 4 ? packet::ip4_dst : packet::ip6_dst);
    if (!s.has_vip_address(dst, f.family) && s.local_address_port(dst, f.family) < 0)
        return drop(m, why);
    bump(f.family == 4 ? counters.fragments_received_ipv4 : counters.fragments_received_ipv6);
    meta_of(m).kind = meta_kind::fragment;
    const unsigned owner = packet::fragment_owner(frame, f, setup_.count);
    if (owner == setup_.index) return reassemble(s, m, own, n_own);
    hand_to_owner(m, owner, own, n_own);
}

void worker::reassemble(const snapshot& s, rte_mbuf* m, rte_mbuf** own, uint16_t& n_own) {
    packet::fragment_view f;
    // Read again on this worker (take_fragment accepted it): the view does not travel in the
    // mbuf's metadata.
    if (const drop_reason r =
            packet::read_fragment(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, f);
        r != drop_reason::none)
        return drop(m, r);
    rte_mbuf* d = reassembly_.add(m, f, now_tsc_);
    if (!d) return;  // held, or dropped and counted
    mbuf_meta& meta = meta_of(d);
    const uint8_t* frame = rte_pktmbuf_mtod(d, const uint8_t*);
    const drop_reason r = packet::parse_frame(frame, d->data_len, d->pkt_len, meta.parsed);
    if (r != drop_reason::none) return drop(d, r);
    classify_parsed(s, d, own, n_own);
}

bool worker::may_fragment(const uint8_t* frame, const packet::parsed_frame& p,
                          bool translated) const {
    if (!setup_.indirect_pool) return false;
    if (p.protocol == packet::ipproto_udp &&
        (translated || (p.family == address_family::ipv6 &&
                        p.l4_offset == p.l3_offset + packet::ipv6_header_len)))
        return true;
    // RFC 1191: without DF the sender lets routers fragment; a TCP segment too.
    return !translated && p.family == address_family::ipv4 &&
           !(packet::load_be16(frame + p.l3_offset + packet::ip4_frag) & 0x4000);
}

void worker::send_fragments(const snapshot& s, uint16_t out_port, uint32_t neighbor, rte_mbuf* m) {
    const uint16_t mtu = s.ports[out_port].mtu;
    if (m->pkt_len <= mtu + packet::ethernet_header_len) {  // a reassembled datagram that fits
        if (rte_pktmbuf_linearize(m) != 0) return drop(m, drop_reason::multi_segment);
        return send(s, out_port, neighbor, m);
    }
    uint8_t* ip = rte_pktmbuf_mtod(m, uint8_t*) + packet::ethernet_header_len;
    const bool v4 = packet::load_be16(ip - packet::ethernet_header_len + packet::eth_type) ==
                    packet::ethertype_ipv4;
    // Same family, DF is clear (may_fragment); a NAT64 packet got DF from translate_to_ipv4,
    // but its IPv6 sender fragmented it (we reassembled it): RFC 7915 5.1.1 clears DF then.
    // The pieces carry an identification of the LB's (next_ipv4_id), not the sender's: they
    // leave from a local address or the VIP, shared by many senders whose own identifications
    // could collide in the receiver's reassembly (the header checksum is redone per piece).
    if (v4) {
        ip[packet::ip4_frag] &= uint8_t(~0x40);
        packet::store_be16(ip + packet::ip4_id, next_ipv4_id());
    }
    rte_pktmbuf_adj(m, packet::ethernet_header_len);
    rte_mbuf* out[max_fragments];
    const int32_t n =
        v4 ? rte_ipv4_fragment_packet(m, out, max_fragments, mtu, setup_.pool, setup_.indirect_pool)
           : rte_ipv6_fragment_packet(m, out, max_fragments, mtu, setup_.pool,
                                      setup_.indirect_pool);
    rte_pktmbuf_free(m);  // the fragments hold their own references to its data
    if (n <= 0)
        return counters.drop(n == -ENOMEM ? drop_reason::no_mbuf : drop_reason::frame_too_big);
    bump(counters.datagrams_fragmented);
    // IPv6: rte_ipv6_fragment_packet leaves the identification 0. Unique per worker (RFC 7739
    // asks only that it not repeat soon between the same addresses).
    const uint32_t id = (uint32_t(setup_.index) << 24) | (ipv6_frag_id_++ & 0xffffff);
    for (int32_t i = 0; i < n; ++i) {
        rte_mbuf* frag = out[i];
        uint8_t* hdr = rte_pktmbuf_mtod(frag, uint8_t*);
        if (v4) {
            packet::store_raw16(hdr + packet::ip4_csum, 0);
            packet::store_raw16(hdr + packet::ip4_csum,
                                packet::checksum_full(hdr, (hdr[0] & 0x0f) * 4u));
        } else {
            packet::store_be32(hdr + packet::ipv6_header_len + 4, id);
        }
        // One segment: not every PMD sends chained mbufs (af_xdp copies the first segment's
        // pointer for pkt_len bytes; NICs need the MULTI_SEGS offload). A piece fits the direct
        // mbuf's room unless the MTU is a jumbo one: then it leaves chained.
        (void)rte_pktmbuf_linearize(frag);
        auto* eth =
            reinterpret_cast<uint8_t*>(rte_pktmbuf_prepend(frag, packet::ethernet_header_len));
        packet::store_be16(eth + packet::eth_type,
                           v4 ? packet::ethertype_ipv4 : packet::ethertype_ipv6);
        bump(counters.fragments_sent);
        send(s, out_port, neighbor, frag);
    }
}

}  // namespace sluice::dataplane

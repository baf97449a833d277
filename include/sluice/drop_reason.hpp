#pragma once
// Why a packet was dropped. Every drop on the data path increments exactly one of these, per core;
// the names are the `reason` label of sluice_drops_total and the `drop_<name>` telemetry keys.
#include <array>
#include <cstdint>
#include <string_view>

namespace sluice {

#define SLUICE_DROP_REASONS(X)                                                                    \
    X(truncated_ethernet)      /* frame shorter than an Ethernet header */                        \
    X(unsupported_ethertype)   /* not IPv4, IPv6 or ARP (VLAN tags included) */                   \
    X(wrong_vlan)              /* tagged port: untagged frame, or tagged with another VID */      \
    X(not_our_mac)             /* unicast to a MAC that is not the port's */                      \
    X(own_frame)               /* our own transmission seen again on RX */                        \
    X(multi_segment)           /* chained mbuf; the data path handles one segment */              \
    X(truncated_ipv4)          /* fewer bytes than an IPv4 header */                              \
    X(bad_ipv4_version)        /* version field is not 4 */                                       \
    X(bad_ipv4_header_length)  /* IHL < 5 or header beyond the frame */                           \
    X(bad_ipv4_total_length)   /* total length < header or beyond the frame */                    \
    X(bad_ipv4_checksum)       /* header checksum does not verify */                              \
    X(ipv4_fragment)           /* fragment not reassembled: reassembly off, not TCP/UDP to us */  \
    X(truncated_ipv6)          /* fewer bytes than an IPv6 header */                              \
    X(bad_ipv6_payload_length) /* payload length beyond the frame */                              \
    X(bad_ipv6_version)        /* version field is not 6 */                                       \
    X(ipv6_extension_header)   /* ESP/AH/mobility, routing with segments left, >4 or malformed */ \
    X(ipv6_fragment)           /* as ipv4_fragment, or a fragment header behind other headers */  \
    X(bad_fragment)            /* overlap, duplicate, beyond 65535, first without L4 ports */     \
    X(fragment_table_full)     /* no reassembly entry free (fragment_max_datagrams) */            \
    X(fragment_timeout)        /* fragment of a datagram not complete in fragment_timeout_ms */   \
    X(truncated_tcp)           /* fewer bytes than a TCP header */                                \
    X(bad_tcp_data_offset)     /* data offset < 5 or beyond the segment */                        \
    X(truncated_udp)           /* fewer bytes than a UDP header */                                \
    X(bad_udp_length)          /* UDP length field inconsistent with the IP length */             \
    X(bad_tcp_flags)           /* flag set no TCP sends (SYN+FIN, SYN+RST, none, FIN w/o ACK) */  \
    X(ttl_exceeded)            /* TTL / hop limit would reach zero */                             \
    X(frame_too_big)           /* larger than the egress port's MTU (sender told unless no DF) */ \
    X(martian_source)          /* source 0/8, 127/8, multicast, 240/4, broadcast, ::, ::1 */      \
    X(own_address_source)      /* source is one of our VIPs or LB addresses (spoofed) */          \
    X(unsupported_protocol)    /* L4 protocol we do not balance (ICMP other than echo, …) */    \
    X(multicast_destination)   /* to a group (MLD, router solicitation, mDNS); none served */     \
    X(bad_icmp)                /* ICMP to a VIP shorter than its header or with a bad checksum */ \
    X(icmp_rate_limited)       /* echo request to a VIP over icmp_echo_per_second */              \
    X(icmp_no_flow)            /* ICMP error quoting a packet of no flow we have */               \
    X(bad_arp)                 /* ARP that is not Ethernet/IPv4 or is truncated */                \
    X(no_vip)                  /* destination is neither a VIP nor an LB address */               \
    X(local_unhandled)         /* to an LB address but not a reply of a full-NAT flow */          \
    X(no_flow)                 /* TCP segment without SYN and without a flow */                   \
    X(no_backend)              /* VIP has no backend that takes new flows */                      \
    X(backends_full)           /* every backend taking new flows is at max_connections */         \
    X(flow_table_full)         /* no room for a new flow; established flows kept */               \
    X(local_port_exhausted)    /* no local (address, port) free long enough (reuse_after) */      \
    X(no_local_address)        /* no LB address of the family on the egress port */               \
    X(no_route)                /* no route to the next hop */                                     \
    X(neighbor_unresolved)     /* next hop's MAC unknown (resolution requested) */                \
    X(ring_full)               /* handoff ring to the owning worker full */                       \
    X(exception_ring_full)     /* ring to the control thread full */                              \
    X(tx_full)                 /* NIC TX queue did not take the packet */                         \
    X(vlan_insert_failed)      /* no headroom or a shared mbuf: the port's tag cannot go in */    \
    X(limit_connections)       /* new connection over a [vip.limits] or half-open limit */        \
    X(limit_packets)           /* client packet over the VIP's packets/s limit */                 \
    X(rule_match)              /* first payload matched a [[vip.rule]] */                         \
    X(bad_cookie)              /* ACK without a flow whose SYN cookie does not validate */        \
    X(proxy_pending)           /* client segment while the backend handshake is pending */        \
    X(bad_tcp_options)         /* malformed TCP options in a proxied flow's segment */            \
    X(no_mbuf)                 /* no mbuf for a frame the LB builds (SYN proxy) */                \
    X(rst_out_of_window)       /* RST whose sequence number is outside the receiver's window */   \
    X(reply_wrong_port)        /* reply-direction packet not from the flow's backend-side port */ \
    X(syn_not_new)       /* SYN on a TIME_WAIT/CLOSE flow that is no plausible new connection */  \
    X(bad_l4_checksum)   /* TCP/UDP checksum does not verify (checked where it matters) */        \
    X(proxy_held_limit)  /* SYN proxy: global cap on held client segments reached */              \
    X(untranslatable)    /* NAT64/46: no headroom, chained zero-sum UDP, no ICMP equivalent */    \
    X(rule_out_of_order) /* payload ahead of the first in-order one, under [[vip.rule]]s */       \
    /* exception path */                                                                          \
    X(kernel_rate_limited) /* to the host kernel over kernel_packets_per_second */                \
    X(kernel_ring_full)    /* ring of kernel-bound frames to the control thread full */

enum class drop_reason : uint8_t {
#define SLUICE_X(name) name,
    SLUICE_DROP_REASONS(SLUICE_X)
#undef SLUICE_X
        count,
    none = 0xff,
};

inline constexpr unsigned drop_reason_count = unsigned(drop_reason::count);

constexpr std::string_view drop_reason_name(drop_reason r) {
    switch (r) {
#define SLUICE_X(name)      \
    case drop_reason::name: \
        return #name;
        SLUICE_DROP_REASONS(SLUICE_X)
#undef SLUICE_X
        default:
            return "none";
    }
}

// The reasons also counted per VIP (sluice_vip_drops_total): those a packet meets after its VIP
// is known (a client packet classified as to a VIP) and that say something about the VIP — its
// backends, limits, rules, table room, an attack on it. Malformed frames, drops before the VIP
// lookup and transmit-side drops are counted per worker only.
inline constexpr drop_reason vip_drop_reasons[] = {
    drop_reason::bad_tcp_flags,     drop_reason::no_flow,
    drop_reason::no_backend,        drop_reason::backends_full,
    drop_reason::flow_table_full,   drop_reason::local_port_exhausted,
    drop_reason::no_local_address,  drop_reason::no_route,
    drop_reason::ring_full,         drop_reason::limit_connections,
    drop_reason::limit_packets,     drop_reason::rule_match,
    drop_reason::rule_out_of_order, drop_reason::bad_cookie,
    drop_reason::proxy_pending,     drop_reason::bad_tcp_options,
    drop_reason::proxy_held_limit,  drop_reason::rst_out_of_window,
    drop_reason::syn_not_new,       drop_reason::bad_l4_checksum,
    drop_reason::martian_source,    drop_reason::own_address_source,
    drop_reason::untranslatable,
};
inline constexpr unsigned vip_drop_reason_count = unsigned(std::size(vip_drop_reasons));
inline constexpr uint8_t no_vip_drop_slot = 0xff;

// A reason's column in the per-VIP counters, or no_vip_drop_slot.
inline constexpr std::array<uint8_t, drop_reason_count> vip_drop_slots = [] {
    std::array<uint8_t, drop_reason_count> slots{};
    slots.fill(no_vip_drop_slot);
    for (unsigned k = 0; k < vip_drop_reason_count; ++k)
        slots[unsigned(vip_drop_reasons[k])] = uint8_t(k);
    return slots;
}();

}  // namespace sluice

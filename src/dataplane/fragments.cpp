// One worker's IP reassembly table (fragments.hpp). rte_ip_frag frees what it refuses to a death
// row without saying why; the death row is emptied after every call, so what one call put there
// tells: nothing (held), this fragment alone (no entry free: table full), this fragment with
// others (an erroneous set: overlap, duplicate, hole — all of the datagram's fragments go),
// others only (an expired datagram freed to make room or on its key's return).
#define ALLOW_EXPERIMENTAL_API 1  // rte_ip_frag_table_del_expired_entries (DPDK 22.11)

#include "dataplane/fragments.hpp"

#include <rte_ip.h>

#include <stdexcept>
#include <string>

#include "packet/checksum.hpp"

namespace sluice::dataplane {

namespace {

// Entries per bucket; twice max_datagrams entries in all, so that two hash candidates of
// 8 entries rarely both fill before the table does.
constexpr uint32_t bucket_entries = 8;

}  // namespace

reassembly::reassembly(uint32_t max_datagrams, uint64_t timeout_tsc, worker_counters* counters)
    : counters_(counters) {
    if (max_datagrams == 0) return;
    const uint32_t buckets = (max_datagrams * 2 + bucket_entries - 1) / bucket_entries;
    table_ = rte_ip_frag_table_create(buckets, bucket_entries, max_datagrams, timeout_tsc,
                                      SOCKET_ID_ANY);
    if (!table_)
        throw std::runtime_error("cannot allocate the reassembly table for " +
                                 std::to_string(max_datagrams) +
                                 " datagrams (lower dataplane.fragment_max_datagrams or give EAL "
                                 "more memory)");
}

reassembly::~reassembly() {
    rte_ip_frag_free_death_row(&death_row_, 0);
    if (table_) rte_ip_frag_table_destroy(table_);
}

rte_mbuf* reassembly::add(rte_mbuf* m, const packet::fragment_view& f, uint64_t now) {
    m->l2_len = f.l3_offset;
    m->l3_len = f.header_len;
    auto* ip = rte_pktmbuf_mtod_offset(m, uint8_t*, f.l3_offset);
    rte_mbuf* out;
    if (f.family == 4) {
        out = rte_ipv4_frag_reassemble_packet(table_, &death_row_, m, now,
                                              reinterpret_cast<rte_ipv4_hdr*>(ip));
    } else {
        out = rte_ipv6_frag_reassemble_packet(
            table_, &death_row_, m, now, reinterpret_cast<rte_ipv6_hdr*>(ip),
            reinterpret_cast<rte_ipv6_fragment_ext*>(ip + sizeof(rte_ipv6_hdr)));
    }
    settle(out ? nullptr : m);
    if (!out) return nullptr;
    // rte_ip_frag leaves the IPv4 header checksum to a TX offload; the parser verifies it, and
    // the TX path of a NIC without that offload would send it as 0.
    out->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_IPV4);
    if (f.family == 4) {
        uint8_t* hdr = rte_pktmbuf_mtod_offset(out, uint8_t*, f.l3_offset);
        packet::store_raw16(hdr + packet::ip4_csum, 0);
        packet::store_raw16(hdr + packet::ip4_csum,
                            packet::checksum_full(hdr, (hdr[0] & 0x0f) * 4u));
    }
    bump(counters_->datagrams_reassembled);
    return out;
}

void reassembly::expire(uint64_t now) {
    if (!table_) return;
    rte_ip_frag_table_del_expired_entries(table_, &death_row_, now);
    settle(nullptr);
}

void reassembly::settle(const rte_mbuf* m) {
    const uint32_t n = death_row_.cnt;
    if (n == 0) return;
    bool mine = false;
    for (uint32_t i = 0; i < n; ++i) mine |= death_row_.row[i] == m;
    const drop_reason why = !mine    ? drop_reason::fragment_timeout
                            : n == 1 ? drop_reason::fragment_table_full
                                     : drop_reason::bad_fragment;
    bump(counters_->drops[unsigned(why)], n);
    rte_ip_frag_free_death_row(&death_row_, 0);
}

}  // namespace sluice::dataplane

// [[vip]] mss_clamp: the MSS option of a SYN or SYN-ACK of the VIP's flows lowered to the clamp,
// in either direction, before the full-NAT rewrite (both update the TCP checksum incrementally,
// so their order does not matter). Tunnels and overlays between a client and the backends carry
// less than either end's MTU says; the endpoints then never build a segment the path drops.
// Only segments with SYN come here (flow_path.cpp), so established traffic pays one flag test.
// Worker lcore only.
#include <rte_mbuf.h>

#include "dataplane/worker.hpp"
#include "packet/tcp_options.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

void worker::clamp_mss(const model::snapshot& s, const flow::flow_entry& f, rte_mbuf* m) {
    const model::vip_entry* vip = s.vip_by_id(flows_->vip_id(f));
    if (!vip || !vip->mss_clamp) return;
    const mbuf_meta& meta = meta_of(m);
    uint8_t* tcp = rte_pktmbuf_mtod(m, uint8_t*) + meta.parsed.l4_offset;
    const unsigned header_len = unsigned(tcp[packet::tcp_off] >> 4) * 4;  // parse checked it
    if (packet::clamp_mss(tcp, header_len, vip->mss_clamp)) bump(counters.mss_clamped);
}

}  // namespace sluice::dataplane

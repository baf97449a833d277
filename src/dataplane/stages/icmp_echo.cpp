// ICMP echo to a VIP: `ping VIP` answered by the worker that received the request, in place (no
// new mbuf, no flow, no handoff), after the same source checks as a new flow and a per-worker
// token bucket ([dataplane] icmp_echo_per_second / _burst, split over the workers). LB
// addresses are the host kernel's (exception path). Worker lcore only.
#include "packet/icmp_echo.hpp"

#include <rte_mbuf.h>

#include "dataplane/stages/tx.hpp"
#include "dataplane/worker.hpp"
#include "packet/wire.hpp"

namespace sluice::dataplane {

using model::snapshot;

void worker::answer_echo(const snapshot& s, rte_mbuf* m) {
    const mbuf_meta& meta = meta_of(m);
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    drop_reason bad = drop_reason::none;
    if (!packet::is_echo_request(frame, meta.parsed, bad))
        return drop(m, bad != drop_reason::none ? bad : drop_reason::unsupported_protocol);
    const uint8_t* src = frame + meta.parsed.l3_offset + packet::ip4_src;
    if (const drop_reason r = refused_source(s, src, 4); r != drop_reason::none) return drop(m, r);
    if (!protect::take(echo_bucket_, setup_.echo_rate, now_tsc_))
        return drop(m, drop_reason::icmp_rate_limited);
    uint16_t port;
    uint32_t neighbor;
    if (!hop_towards(s, m, ip_address::v4_from_network(src), port, neighbor)) return;
    packet::make_echo_reply(frame, meta.parsed);
    bump(counters.icmp_echo_replies);
    send(s, port, neighbor, m);
}

}  // namespace sluice::dataplane

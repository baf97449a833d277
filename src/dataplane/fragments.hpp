#pragma once
// One worker's IP reassembly (DPDK rte_ip_frag): a table of at most `max_datagrams` incomplete
// datagrams, each waiting at most `timeout_tsc`, and the death row its refused and expired
// fragments go through, emptied after every call so each call's refusals can be told apart and
// counted (rte_ip_frag reports none). Built and destroyed by the control thread before the
// worker runs and after it stopped; everything else on the worker's lcore only.
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include <cstdint>

#include "dataplane/counters.hpp"
#include "packet/fragment.hpp"

namespace sluice::dataplane {

class reassembly {
public:
    // max_datagrams 0: disabled (enabled() false, no table). Throws when the table cannot be
    // allocated.
    reassembly(uint32_t max_datagrams, uint64_t timeout_tsc, worker_counters* counters);
    ~reassembly();  // frees the table and every fragment still waiting in it
    reassembly(const reassembly&) = delete;
    reassembly& operator=(const reassembly&) = delete;

    bool enabled() const { return table_ != nullptr; }
    // Adds fragment `m` (read_fragment accepted it as `f`) at TSC `now`: the whole datagram when
    // `m` completed it (a chained mbuf: the first fragment's headers, now those of the
    // datagram, IPv4 header checksum recomputed), else null (held, or dropped and counted:
    // bad_fragment, fragment_table_full, and fragment_timeout for an expired datagram's
    // fragments freed on the way).
    rte_mbuf* add(rte_mbuf* m, const packet::fragment_view& f, uint64_t now);
    // Frees the datagrams that waited longer than the timeout (fragment_timeout). Per poll pass:
    // a look at the oldest entry when none is due.
    void expire(uint64_t now);

private:
    // Counts what the last call put on the death row (`m`: that call's fragment, or null),
    // then frees it.
    void settle(const rte_mbuf* m);

    rte_ip_frag_tbl* table_ = nullptr;
    worker_counters* counters_;
    rte_ip_frag_death_row death_row_{};
};

}  // namespace sluice::dataplane

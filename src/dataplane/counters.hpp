#pragma once
// Per-core counters. Each struct is written by exactly one thread (its worker, or the control
// thread) and read by the control/telemetry threads when stats are requested; summing happens at
// read time. Relaxed atomics compile to plain loads and stores on x86 (no lock prefix), so a
// counter bump costs what a plain increment does, without a data race.
#include <atomic>
#include <cstdint>

#include "sluice/drop_reason.hpp"

namespace sluice::dataplane {

using counter = std::atomic<uint64_t>;

// Owner thread only.
inline void bump(counter& c, uint64_t n = 1) {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline uint64_t read(const counter& c) {
    return c.load(std::memory_order_relaxed);
}

#define SLUICE_WORKER_COUNTERS(X)                                                   \
    X(rx_packets) /* frames received from NIC queues */                             \
    X(rx_bytes)                                                                     \
    X(tx_packets) /* frames the NIC accepted */                                     \
    X(tx_bytes)                                                                     \
    X(handoff_sent) /* packets passed to another worker's ring */                   \
    X(handoff_received)                                                             \
    X(to_control) /* frames passed to the control thread (ARP) */                   \
    X(flows_created)                                                                \
    X(flows_expired)                                                                \
    X(flows_reused)              /* SYN on a closed flow's tuple replaced it */     \
    X(flows_reset_drain_timeout) /* still open at a drain deadline */               \
    X(flows_reset_disabled)      /* disable --reset */                              \
    X(flows_reset_backend_down)  /* backend failed, on_down=reset */                \
    X(resets_sent)               /* RST segments the LB built and sent */           \
    X(resets_unsent)             /* RST segments without an mbuf */                 \
    X(syn_cookies_sent)          /* SYN-ACKs with a cookie (SYN proxy) */           \
    X(syn_proxy_accepted)        /* valid cookie ACKs: flow created */              \
    X(syn_proxy_spliced)         /* backend answered: flow spliced */               \
    X(syn_proxy_backend_failed)  /* backend refused or did not answer */            \
    X(syn_proxy_syn_retransmits) /* SYNs to a backend re-sent on the timer */       \
    X(flows_early_dropped)       /* non-established flows evicted for a new one */  \
    X(rst_in_window)             /* in-window, inexact RSTs forwarded, flow kept */ \
    X(rst_accepted)              /* exact RSTs: flow moved to CLOSE */              \
    X(flows_active)              /* gauge, refreshed every loop */

struct alignas(64) worker_counters {
#define SLUICE_X(name) counter name{0};
    SLUICE_WORKER_COUNTERS(SLUICE_X)
#undef SLUICE_X
    counter drops[drop_reason_count]{};

    void drop(drop_reason r) {
        bump(drops[unsigned(r)]);
    }
};

#define SLUICE_CONTROL_COUNTERS(X)                                                        \
    X(arp_requests_answered)                                                              \
    X(arp_requests_sent)                                                                  \
    X(arp_replies_received)                                                               \
    X(arp_ignored)        /* ARP not for us and about no neighbour we track */            \
    X(neighbors_resolved) /* unresolved → resolved transitions */                       \
    X(neighbor_resolve_failures)                                                          \
    X(neighbor_requests)  /* resolution requests from workers */                          \
    X(control_tx_dropped) /* control frames that found no room or no mbuf */              \
    X(kernel_delivered)   /* frames handed to the host kernel (exception path) */         \
    X(kernel_dropped)     /* frames for the kernel dropped: no interface or queue full */ \
    X(kernel_sent)        /* frames the kernel sent out through the data ports */         \
    /* exception path: control passes that left frames for the next one */                \
    X(neighbor_budget_exhausted) /* ARP and resolution requests */                        \
    X(kernel_budget_exhausted)   /* frames for the kernel */

struct alignas(64) control_counters {
#define SLUICE_X(name) counter name{0};
    SLUICE_CONTROL_COUNTERS(SLUICE_X)
#undef SLUICE_X
};

}  // namespace sluice::dataplane

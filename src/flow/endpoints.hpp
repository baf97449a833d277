#pragma once
// What a backend id stands for, for the flows that name it: the VIP (address, port, protocol)
// and the backend endpoint (address, port) of control::backend_registry's identity, its tuple
// group and the VIP's id. A flow entry keeps only the backend id and its own client side, so an
// entry fits one cache line (Katran keeps a backend position per flow the same way); the rows
// of the backends in use stay in cache, shared by all their flows.
//
// Written by the control thread (runtime::publish) before a snapshot that hands the id to the
// workers is published; read by every worker. The identity of a row changes only when its id is
// recycled, which the registry does once no flow counts it and no snapshot can hand it out, so
// no worker reads a row while its identity is rewritten. Only `vip_id` may change under readers
// (a VIP removed and re-added keeps its backends' ids): it is atomic.
#include <atomic>
#include <cstdint>
#include <memory>

#include "model/ids.hpp"

namespace sluice::flow {

// What a backend id stands for: written by the control thread when the id is given out.
struct endpoint_identity {
    uint8_t vip[16] = {};      // IPv4 in the first 4 bytes, the rest zero
    uint8_t backend[16] = {};  // likewise
    uint16_t vip_port = 0;     // host order
    uint16_t backend_port = 0;
    uint8_t protocol = 0;
    uint8_t vip_family = 0;  // 4 or 6
    uint8_t backend_family = 0;
    uint8_t tuple_group = 0;
    bool operator==(const endpoint_identity&) const = default;
};

// A row: the identity and the VIP's id now.
struct alignas(64) flow_endpoint : endpoint_identity {
    std::atomic<uint16_t> vip_id{model::no_vip_id};
};
static_assert(sizeof(flow_endpoint) == 64);

class endpoint_table {
public:
    endpoint_table() : rows_(new flow_endpoint[model::max_backends]) {}
    // Per packet, any worker.
    const flow_endpoint& operator[](uint32_t id) const { return rows_[id % model::max_backends]; }

    // Control thread: gives id `id` this identity (a no-op when it already has it, so rows of
    // live ids are never written under their readers) and the VIP id.
    void set(uint32_t id, const endpoint_identity& who, uint16_t vip_id) {
        flow_endpoint& r = rows_[id % model::max_backends];
        endpoint_identity& mine = r;
        if (!(mine == who)) mine = who;
        r.vip_id.store(vip_id, std::memory_order_relaxed);
    }

private:
    std::unique_ptr<flow_endpoint[]> rows_;
};

}  // namespace sluice::flow

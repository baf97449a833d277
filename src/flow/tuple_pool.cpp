#include "flow/tuple_pool.hpp"

#include <sys/mman.h>

#include <bit>
#include <cstring>
#include <new>

namespace sluice::flow {

tuple_pool::tuple_pool(unsigned addresses, uint16_t first_port, uint32_t span, uint32_t groups,
                       uint32_t reuse_after_ticks, uint64_t seed)
    : addresses_(addresses ? addresses : 1),
      first_port_(first_port),
      span_(span),
      total_(addresses_ * span),
      mask_(std::bit_ceil(total_ < 2 ? 2u : total_) - 1),
      reuse_after_(reuse_after_ticks),
      groups_(groups ? groups : 1),
      in_use_(addresses_) {
    ring_bytes_ = (size_t(mask_) + 1) * sizeof(uint64_t);
    for (group& g : groups_) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;  // LCG step per group
        g.start = uint32_t((seed >> 32) % total_);
        // Reserved, not committed: pages are touched only as far as tuples circulate.
        void* p = mmap(nullptr, ring_bytes_, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        g.ring = static_cast<uint64_t*>(p);
    }
}

tuple_pool::~tuple_pool() {
    for (group& g : groups_)
        if (g.ring) munmap(g.ring, ring_bytes_);
}

bool tuple_pool::acquire(uint32_t gi, uint32_t now_tick, local_tuple& out) {
    group& g = groups_[gi];
    if (g.fresh < total_) {
        const uint32_t id = g.start + g.fresh++;
        out = tuple_at(id < total_ ? id : id - total_);
    } else {
        if (g.head == g.tail) return false;
        const uint64_t slot = g.ring[g.head & mask_];
        // The ring is in release order (clean releases go to the front, ready at once), so the
        // head is the tuple that has rested longest.
        if (int32_t(now_tick - uint32_t(slot)) < 0) return false;
        ++g.head;
        out = tuple_at(uint32_t(slot >> 32));
    }
    count(out.address, +1);
    return true;
}

void tuple_pool::release(uint32_t gi, local_tuple t, uint32_t now_tick, bool clean) {
    group& g = groups_[gi];
    const uint64_t id = id_of(t);
    if (clean) {
        g.ring[--g.head & mask_] = id << 32 | now_tick;
    } else {
        g.ring[g.tail++ & mask_] = id << 32 | uint32_t(now_tick + reuse_after_);
    }
    count(t.address, -1);
}

}  // namespace sluice::flow

#pragma once
// Packet order of one flow, both directions: each side numbers the stamped frames it sends on
// the flow (1, 2, 3, ... in the payload stamp, frames.hpp) and the receiving side keeps the
// highest number it has seen. A frame whose number is lower than that arrived after a frame sent
// later on the same flow: it is counted as *reordered* (it still counts as received: it was not
// lost). An equal number is a copy, not a reordering. Frames without a number (seq 0: SYNs and
// other payload-less segments, short payloads) are not judged.
//
// Numbers are 24 bits (the stamp's field) and wrap: after 2^24 - 1 comes 1 again (0 means "not
// numbered"), and "lower" is judged in serial-number arithmetic (RFC 1982): a number up to 2^23
// behind the highest is older, up to 2^23 ahead is newer. A flow would need 8 million frames in
// flight for that to misjudge.
//
// Threads: kept by the connection table beside each connection (connection_table.hpp), so owned
// by the one generator lcore that sends and receives the flow's frames.
#include <array>
#include <cstdint>

#include "frames.hpp"
#include "tcp_peer.hpp"

namespace sluice::loadgen {

struct flow_order {
    std::array<uint32_t, 2> last_sent{};  // by sending side (peer_side): 0 before the first
    std::array<uint32_t, 2> highest{};    // by receiving side: highest received, 0: none yet

    // The number `sender` stamps on its next frame of this flow.
    uint32_t next(peer_side sender) {
        uint32_t& n = last_sent[size_t(sender)];
        n = n == stamp_seq_mask ? 1 : n + 1;
        return n;
    }

    // A frame numbered `seq` arrived at `receiver`. True when it is reordered: older than the
    // highest number this side has received on the flow; otherwise it may become the highest.
    bool arrived(peer_side receiver, uint32_t seq) {
        uint32_t& h = highest[size_t(receiver)];
        if (seq == 0) return false;
        const uint32_t ahead = (seq - h) & stamp_seq_mask;
        if (h == 0 || (ahead != 0 && ahead < half_space)) {
            h = seq;
            return false;
        }
        return ahead != 0;
    }

    static constexpr uint32_t half_space = (stamp_seq_mask + 1) / 2;
};

}  // namespace sluice::loadgen

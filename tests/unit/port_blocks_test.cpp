// Unit tests for model::cover_port_range (src/model/port_blocks.hpp), the (value, mask) blocks
// the reply-steering rules match: every port of the range is in exactly one block, no port
// outside it is in any, and the blocks are as few as the range's binary structure allows.
#include "model/port_blocks.hpp"

#include <doctest/doctest.h>

#include <vector>

using sluice::model::cover_port_range;
using sluice::model::port_block;

namespace {

bool in(const port_block& b, uint32_t port) {
    return (port & b.mask) == b.value;
}

// Each port 0..65535 is covered once when inside [first, last], never outside it.
void check_exact(uint32_t first, uint32_t last) {
    const auto blocks = cover_port_range(first, last);
    for (uint32_t p = 0; p <= 0xffff; ++p) {
        unsigned hits = 0;
        for (const auto& b : blocks) hits += in(b, p);
        const bool inside = p >= first && p <= last;
        if (hits != (inside ? 1u : 0u)) {
            FAIL_CHECK("port ", p, " covered ", hits, " times by [", first, ", ", last, "]");
            return;
        }
    }
}

}  // namespace

TEST_CASE("an aligned power-of-two range is one block") {
    CHECK(cover_port_range(1024, 2047) == std::vector<port_block>{{1024, 0xfc00}});
    CHECK(cover_port_range(32768, 65535) == std::vector<port_block>{{32768, 0x8000}});
    CHECK(cover_port_range(0, 65535) == std::vector<port_block>{{0, 0}});
    CHECK(cover_port_range(5000, 5000) == std::vector<port_block>{{5000, 0xffff}});
}

TEST_CASE("the workers' ranges of the default plan are covered exactly, in few blocks") {
    // local ports 1024..65535 over 2, 3 and 4 workers (dataplane::local_port_plan).
    for (uint32_t workers : {2u, 3u, 4u}) {
        const uint32_t per = (65535 - 1024 + 1) / workers;
        for (uint32_t w = 0; w < workers; ++w) {
            const uint32_t first = 1024 + w * per;
            check_exact(first, first + per - 1);
            CHECK(cover_port_range(first, first + per - 1).size() <= 30);
        }
    }
}

TEST_CASE("odd ranges are covered exactly; an empty range has no block") {
    check_exact(1, 65534);
    check_exact(1025, 1030);
    check_exact(60000, 70000);  // clipped at 65535
    CHECK(cover_port_range(10, 9).empty());
    CHECK(cover_port_range(1025, 1030).size() == 4);  // 1025, 1026-1027, 1028-1029, 1030
}

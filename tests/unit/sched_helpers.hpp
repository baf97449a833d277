#pragma once
// Helper of the scheduler unit tests: the eligibility predicate that accepts every backend.
#include <cstdint>

namespace test {

inline constexpr auto always = [](uint32_t) { return true; };

}  // namespace test

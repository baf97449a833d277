#pragma once
// The rules for vip.maglev_table_size, shared by the parser (range, prime) and the validator
// (entries per backend). Primality is the Maglev module's own test, so both agree.
#include <cstdint>

#include "sched/maglev.hpp"

namespace sluice::config::detail {

inline constexpr uint64_t min_maglev_table_size = 7;
inline constexpr uint64_t max_maglev_table_size = 16777213;  // the largest prime below 2^24
// Maglev spreads a backend's share over its table entries; with fewer than this many entries per
// backend the shares come out visibly uneven.
inline constexpr uint64_t maglev_entries_per_backend = 10;

using sched::is_prime;

// The smallest prime >= n.
constexpr uint64_t prime_at_least(uint64_t n) {
    while (!is_prime(n)) ++n;
    return n;
}

static_assert(is_prime(65537) && !is_prime(65536) && prime_at_least(65536) == 65537);
static_assert(is_prime(max_maglev_table_size) && prime_at_least(16777200) == max_maglev_table_size);
static_assert(prime_at_least(0) == 2 && prime_at_least(8) == 11);

}  // namespace sluice::config::detail

#pragma once
// Helpers of the health unit tests: doctest names for http_verdict and result_kind, a millisecond
// in nanoseconds, the default expected statuses, and an address from its text.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "health/http_check.hpp"
#include "health/probe_engine.hpp"
#include "sluice/config.hpp"
#include "sluice/ip_address.hpp"

namespace doctest {
template <>
struct StringMaker<sluice::health::http_verdict> {
    static String convert(sluice::health::http_verdict v) {
        const char* names[] = {"need_more", "ok", "unexpected_status", "malformed"};
        return names[size_t(v)];
    }
};
template <>
struct StringMaker<sluice::health::result_kind> {
    static String convert(sluice::health::result_kind k) {
        return sluice::health::result_kind_name(k);
    }
};
}  // namespace doctest

namespace test {

constexpr uint64_t ms = 1'000'000;
inline const std::vector<sluice::config::http_status_range> default_expect{{200, 399}};

inline sluice::ip_address addr(const char* text) {
    return *sluice::ip_address::parse(text);
}

}  // namespace test

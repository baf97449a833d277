// Log-linear latency histogram (see latency_histogram.hpp for the error bound and the threads).
#include "latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::loadgen {

// Block 0 holds values 0 .. 127 one per bucket; block k >= 1 holds [2^(k+6), 2^(k+7)) in 128
// buckets of width 2^(k-1). The index is then the value's top 8 significant bits, offset by its
// block: (k << 7) + (value >> (k - 1)) - 128.
size_t latency_histogram::bucket_of(uint64_t value) {
    if (value < sub_buckets) return size_t(value);
    const unsigned top_bit = 63 - unsigned(std::countl_zero(value));
    const unsigned shift = top_bit - sub_bucket_bits;  // block k = shift + 1
    return size_t((uint64_t(shift + 1) << sub_bucket_bits) + (value >> shift) - sub_buckets);
}

uint64_t latency_histogram::bucket_lowest(size_t bucket) {
    const uint64_t block = bucket >> sub_bucket_bits;
    if (block == 0) return bucket;
    const uint64_t sub = bucket & (sub_buckets - 1);
    return (sub_buckets + sub) << (block - 1);
}

uint64_t latency_histogram::bucket_highest(size_t bucket) {
    const uint64_t block = bucket >> sub_bucket_bits;
    if (block == 0) return bucket;
    // The last bucket ends at 2^64 - 1: lowest + width - 1 does not overflow.
    return bucket_lowest(bucket) + ((uint64_t(1) << (block - 1)) - 1);
}

void latency_histogram::record(uint64_t nanoseconds, uint64_t times) {
    if (times == 0) return;  // keeps min/max of an empty histogram untouched
    counts_[bucket_of(nanoseconds)] += times;
    count_ += times;
    min_ = std::min(min_, nanoseconds);
    max_ = std::max(max_, nanoseconds);
}

void latency_histogram::merge(const latency_histogram& other) {
    for (size_t i = 0; i < bucket_count; ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void latency_histogram::reset() {
    counts_.fill(0);
    count_ = 0;
    min_ = UINT64_MAX;
    max_ = 0;
}

uint64_t latency_histogram::percentile(double p) const {
    if (count_ == 0) return 0;
    const double clamped = std::isnan(p) ? 100.0 : std::clamp(p, 0.0, 100.0);
    // Nearest rank; the product is exact enough for counts below 2^52.
    uint64_t rank = uint64_t(std::ceil(clamped / 100.0 * double(count_)));
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < bucket_count; ++i) {
        seen += counts_[i];
        // The sample of that rank lies in bucket i, so it is >= bucket_lowest(i) and <= max_:
        // reporting the bucket's top (capped) errs upwards by less than one bucket width.
        if (seen >= rank) return std::min(bucket_highest(i), max_);
    }
    return max_;  // not reached: the counts sum to count_
}

}  // namespace sluice::loadgen

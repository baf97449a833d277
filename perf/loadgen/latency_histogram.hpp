#pragma once
// A log-linear histogram of latencies in nanoseconds, after HdrHistogram: values below 128 have
// a bucket each, every power-of-two range above is split into 128 equal buckets. Any percentile
// read from it is at most 1/128 (0.79%) above the exact value of that rank and never below it.
// Memory is fixed inside the object (7424 counters, 58 KiB): recording never allocates, so a
// worker can record from its loop.
//
// Threads: one owner records (an lcore of the generator samples its timestamped packets); the
// control thread merges the owners' histograms and reads percentiles once the trial is over.
// No member is safe to call while another thread records into the same object.
#include <array>
#include <cstddef>
#include <cstdint>

namespace sluice::loadgen {

class latency_histogram {
public:
    // 2^sub_bucket_bits buckets per power of two; sets the relative error (1 / 2^bits).
    static constexpr unsigned sub_bucket_bits = 7;
    static constexpr uint64_t sub_buckets = uint64_t(1) << sub_bucket_bits;
    // Values 0 .. 2^bits - 1 exactly, then one block per power of two up to 2^63 .. 2^64 - 1.
    static constexpr size_t bucket_count = (64 - sub_bucket_bits + 1) * sub_buckets;
    // Upper bound of (reported - exact) / exact for any percentile.
    static constexpr double max_relative_error = 1.0 / double(sub_buckets);

    // Owner only. Constant time, no allocation, no branch on the value's size beyond one compare.
    void record(uint64_t nanoseconds) { record(nanoseconds, 1); }
    void record(uint64_t nanoseconds, uint64_t times);

    // Control thread, with both histograms quiet: adds `other`'s samples to this one.
    void merge(const latency_histogram& other);
    void reset();

    uint64_t count() const { return count_; }
    // Exact smallest and largest recorded values; 0 when empty.
    uint64_t min() const { return count_ ? min_ : 0; }
    uint64_t max() const { return max_; }

    // The value at rank ceil(p / 100 * count) (nearest rank; p clamped to [0, 100], rank >= 1):
    // the highest value of that sample's bucket, capped at max(). 0 when empty.
    uint64_t percentile(double p) const;

    // Bucket arithmetic, public for tests and for exporting the buckets.
    static size_t bucket_of(uint64_t value);
    static uint64_t bucket_lowest(size_t bucket);
    static uint64_t bucket_highest(size_t bucket);
    uint64_t bucket_count_at(size_t bucket) const { return counts_[bucket]; }

private:
    std::array<uint64_t, bucket_count> counts_{};
    uint64_t count_ = 0;
    uint64_t min_ = UINT64_MAX;
    uint64_t max_ = 0;
};

}  // namespace sluice::loadgen

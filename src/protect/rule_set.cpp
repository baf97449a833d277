#include "protect/rule_set.hpp"

#include <hs.h>

#include <algorithm>
#include <utility>

namespace sluice::protect {

namespace {

// `.` matches any byte (payloads are binary, lines mean nothing); one report per rule and scan is
// all the verdict needs.
constexpr unsigned rule_flags = HS_FLAG_DOTALL | HS_FLAG_SINGLEMATCH;

std::string take_message(hs_compile_error_t* error) {
    std::string message = error && error->message ? error->message : "unknown Hyperscan error";
    hs_free_compile_error(error);
    return message;
}

std::string hs_status(hs_error_t status) {
    switch (status) {
        case HS_NOMEM:
            return "out of memory";
        case HS_INVALID:
            return "invalid parameter";
        case HS_ARCH_ERROR:
            return "this CPU lacks SSSE3, which Hyperscan needs";
        case HS_BAD_ALIGN:
            return "misaligned memory";
        case HS_BAD_ALLOC:
            return "the allocator returned misaligned memory";
        default:
            return "Hyperscan error " + std::to_string(status);
    }
}

// Keeps the lowest id reported; returning non-zero stops the scan (rule 0 cannot be beaten).
int on_match(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* context) {
    auto* best = static_cast<unsigned*>(context);
    if (id < *best) *best = id;
    return *best == 0 ? 1 : 0;
}

}  // namespace

std::string rule_error::to_string() const {
    if (!rule) return message;
    return "rule[" + std::to_string(*rule) + "] '" + pattern + "': " + message;
}

rule_set::compiled rule_set::compile(std::span<const std::string> patterns,
                                     uint32_t inspect_bytes) {
    compiled out;
    out.rules.inspect_bytes_ = std::clamp<uint32_t>(inspect_bytes, 1, max_inspect_bytes);
    if (patterns.empty()) return out;
    if (hs_error_t platform = hs_valid_platform(); platform != HS_SUCCESS) {
        out.errors.push_back({std::nullopt, "", hs_status(platform)});
        return out;
    }

    // Hyperscan reads C strings: a NUL inside a pattern would silently cut it short.
    for (size_t i = 0; i < patterns.size(); ++i) {
        if (patterns[i].find('\0') != std::string::npos)
            out.errors.push_back(
                {i, patterns[i], "contains a NUL character (write \\x00 to match a zero byte)"});
    }
    if (!out.errors.empty()) return out;

    std::vector<const char*> expressions;
    std::vector<unsigned> flags(patterns.size(), rule_flags);
    std::vector<unsigned> ids;
    for (size_t i = 0; i < patterns.size(); ++i) {
        expressions.push_back(patterns[i].c_str());
        ids.push_back(unsigned(i));
    }
    hs_database_t* database = nullptr;
    hs_compile_error_t* error = nullptr;
    if (hs_compile_multi(expressions.data(), flags.data(), ids.data(), unsigned(patterns.size()),
                         HS_MODE_BLOCK, nullptr, &database, &error) == HS_SUCCESS) {
        out.rules.database_ = database;
        out.rules.rules_ = patterns.size();
        return out;
    }
    int failed = error ? error->expression : -1;
    std::string message = take_message(error);
    if (failed < 0) {
        out.errors.push_back({std::nullopt, "", message});
        return out;
    }
    // hs_compile_multi names only the first bad expression: compile each alone to name them all.
    for (size_t i = 0; i < patterns.size(); ++i) {
        hs_database_t* single = nullptr;
        hs_compile_error_t* single_error = nullptr;
        if (hs_compile(patterns[i].c_str(), rule_flags, HS_MODE_BLOCK, nullptr, &single,
                       &single_error) == HS_SUCCESS) {
            hs_free_database(single);
            continue;
        }
        out.errors.push_back({i, patterns[i], take_message(single_error)});
    }
    // Fails only together with the others (e.g. resources): name the one Hyperscan named.
    if (out.errors.empty()) out.errors.push_back({size_t(failed), patterns[failed], message});
    return out;
}

rule_set::rule_set(rule_set&& other) noexcept
    : database_(std::exchange(other.database_, nullptr)),
      rules_(std::exchange(other.rules_, 0)),
      inspect_bytes_(other.inspect_bytes_) {}

rule_set& rule_set::operator=(rule_set&& other) noexcept {
    if (this != &other) {
        hs_free_database(database_);
        database_ = std::exchange(other.database_, nullptr);
        rules_ = std::exchange(other.rules_, 0);
        inspect_bytes_ = other.inspect_bytes_;
    }
    return *this;
}

rule_set::~rule_set() {
    hs_free_database(database_);
}

size_t rule_set::database_bytes() const {
    size_t bytes = 0;
    if (database_ && hs_database_size(database_, &bytes) != HS_SUCCESS) return 0;
    return bytes;
}

rule_match rule_set::match(rule_scratch& scratch, const uint8_t* payload, size_t length) const {
    // No pattern matches an empty payload (compile refuses those), so there is nothing to scan.
    if (!database_ || length == 0) return {};
    unsigned best = no_rule;
    const auto scanned = unsigned(std::min<size_t>(length, inspect_bytes_));
    hs_error_t status = hs_scan(database_, reinterpret_cast<const char*>(payload), scanned, 0,
                                scratch.scratch_, on_match, &best);
    if (status != HS_SUCCESS && status != HS_SCAN_TERMINATED)
        return {match_status::scan_error, no_rule};
    if (best == no_rule) return {};
    return {match_status::matched, best};
}

rule_scratch::rule_scratch(rule_scratch&& other) noexcept
    : scratch_(std::exchange(other.scratch_, nullptr)) {}

rule_scratch& rule_scratch::operator=(rule_scratch&& other) noexcept {
    if (this != &other) {
        hs_free_scratch(scratch_);
        scratch_ = std::exchange(other.scratch_, nullptr);
    }
    return *this;
}

rule_scratch::~rule_scratch() {
    hs_free_scratch(scratch_);
}

bool rule_scratch::fit(const rule_set& rules, std::string& error) {
    if (!rules.database_) return true;
    hs_error_t status = hs_alloc_scratch(rules.database_, &scratch_);
    if (status == HS_SUCCESS) return true;
    error = "cannot allocate Hyperscan scratch: " + hs_status(status);
    return false;
}

std::optional<rule_scratch> rule_scratch::clone(std::string& error) const {
    rule_scratch copy;
    if (!scratch_) return copy;
    hs_error_t status = hs_clone_scratch(scratch_, &copy.scratch_);
    if (status == HS_SUCCESS) return copy;
    error = "cannot clone Hyperscan scratch: " + hs_status(status);
    return std::nullopt;
}

}  // namespace sluice::protect

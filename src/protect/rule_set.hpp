#pragma once
// A VIP's payload rules ([[vip.rule]]) compiled into one Hyperscan block-mode database, with
// expression id = the rule's index. The database is immutable after compile() and shared by every
// worker; each worker scans with its own scratch space (rule_scratch), cloned from a prototype
// with hs_clone_scratch, since a scratch may serve one scan at a time.
//
// Semantics (docs/config.md, "Attack protection"): a rule's pattern is a regular expression in
// Hyperscan's PCRE subset, matched against raw bytes with `.` matching any byte (HS_FLAG_DOTALL);
// `^` is the start of the payload. Only the first `inspect_bytes` bytes are scanned. When several
// rules match, the verdict is the lowest-numbered one (file order is priority order), so a scan
// that has seen rule 0 stops at once. A pattern that can match the empty payload is an error
// (it would match every packet).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

struct hs_database;  // <hs.h>: hs_database_t
struct hs_scratch;   // <hs.h>: hs_scratch_t

namespace sluice::protect {

// Why a rule list does not compile. `rule` is the index of the offending rule, or empty when
// the list as a whole failed (e.g. the database would be too large).
struct rule_error {
    std::optional<size_t> rule;
    std::string pattern;            // the rule's pattern, when `rule` is set
    std::string message;            // Hyperscan's (or ours, for a pattern Hyperscan cannot take)
    std::string to_string() const;  // "rule[2] 'GET (/admin': Missing close parenthesis …"
};

inline constexpr uint32_t no_rule = UINT32_MAX;

enum class match_status : uint8_t { no_match, matched, scan_error };

struct rule_match {
    match_status status = match_status::no_match;
    uint32_t rule = no_rule;  // index of the matched rule when status == matched
};

class rule_scratch;

class rule_set {
public:
    static constexpr uint32_t max_inspect_bytes = 65535;
    struct compiled;

    // Compiles `patterns` (ids = indexes), scanning at most `inspect_bytes` (1..65535) of each
    // payload. Reports every rule that does not compile, not just the first. An empty list
    // compiles to a set that never matches (and needs no scratch). Control thread.
    static compiled compile(std::span<const std::string> patterns, uint32_t inspect_bytes);

    rule_set() = default;  // no rules: never matches
    rule_set(rule_set&& other) noexcept;
    rule_set& operator=(rule_set&& other) noexcept;
    rule_set(const rule_set&) = delete;
    rule_set& operator=(const rule_set&) = delete;
    ~rule_set();

    // The lowest-numbered rule matching within the first inspect_bytes() of the payload.
    // `scratch` must have been fitted to this set (rule_scratch::fit, or cloned from a scratch
    // that was); otherwise the scan fails with scan_error. Any thread, each with its own scratch;
    // per packet: no allocation.
    rule_match match(rule_scratch& scratch, const uint8_t* payload, size_t length) const;

    size_t size() const { return rules_; }
    bool empty() const { return rules_ == 0; }
    uint32_t inspect_bytes() const { return inspect_bytes_; }
    // Bytes of the compiled database (0 when empty). Control thread.
    size_t database_bytes() const;

private:
    friend class rule_scratch;
    hs_database* database_ = nullptr;
    size_t rules_ = 0;
    uint32_t inspect_bytes_ = 256;
};

// Result of rule_set::compile: the set when `errors` is empty.
struct rule_set::compiled {
    rule_set rules;
    std::vector<rule_error> errors;
    bool ok() const { return errors.empty(); }
};

// Hyperscan scratch space: one per worker. Build a prototype on the control thread, fit() it to
// every rule set a snapshot holds, then clone() it once per worker; a worker keeps its clone
// until a snapshot with other rule sets arrives with new clones.
class rule_scratch {
public:
    rule_scratch() = default;  // fits no database (empty rule sets need none)
    rule_scratch(rule_scratch&& other) noexcept;
    rule_scratch& operator=(rule_scratch&& other) noexcept;
    rule_scratch(const rule_scratch&) = delete;
    rule_scratch& operator=(const rule_scratch&) = delete;
    ~rule_scratch();

    // Grows this scratch so it can also scan `rules` (hs_alloc_scratch). False when Hyperscan
    // refuses (out of memory), with the reason in `error`. Control thread.
    bool fit(const rule_set& rules, std::string& error);
    // A copy of this scratch for another thread (hs_clone_scratch): nullopt with the reason in
    // `error` on failure. Control thread.
    std::optional<rule_scratch> clone(std::string& error) const;
    bool allocated() const { return scratch_ != nullptr; }

private:
    friend class rule_set;
    hs_scratch* scratch_ = nullptr;
};

}  // namespace sluice::protect

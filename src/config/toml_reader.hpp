#pragma once
// Typed, position-aware reads from a parsed TOML document. Knows TOML types, value ranges and
// which keys the schema asked for; reports every problem to a diagnostics sink and carries on, so
// one run finds all mistakes. Knows nothing about Sluice's schema. Control thread / startup only.
#include <toml++/toml.h>

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostics.hpp"

namespace sluice::config::detail {

enum class presence { optional, required };

// "a string", "an integer", ... for messages.
std::string_view type_name(toml::node_type type);

// One element of a TOML array, with where it came from ("port[0].addresses[1]").
struct element {
    const toml::node* node;
    origin where;
};

// A TOML array: where it is, and its elements.
struct array_value {
    origin where;
    std::vector<element> elements;
};

// Reads of a single value; each returns false (after reporting) when the value is unusable.
bool read_integer(const toml::node& node, const origin& where, int64_t min, int64_t max,
                  int64_t& out, diagnostics& diag);
bool read_string(const toml::node& node, const origin& where, std::string& out, diagnostics& diag);

struct table_array;

// Reads the keys of one TOML table. Every accessor marks its key as known to the schema;
// report_unknown_keys() then names the rest. Accessors return the value's origin when the key was
// present and its value valid, std::nullopt when absent or invalid (already reported); `out` is
// written only on success, so it keeps its default otherwise.
class table_reader {
public:
    // `label` names the table in unknown-key messages: "[dataplane]" or "vip[1].backend[0]".
    table_reader(const toml::table& table, origin where, std::string label, diagnostics& diag);

    const origin& where() const { return where_; }
    diagnostics& diag() const { return *diag_; }
    bool has(std::string_view key) const { return table_->contains(key); }

    // The raw value under key, marked known; reports a missing required key.
    const toml::node* find(std::string_view key, presence p);
    // Marks key known; where the key itself (not its value) is written, if present. For problems
    // with the key being there at all, which point at the key as unknown keys do.
    std::optional<origin> key_origin(std::string_view key);

    template <std::integral T>
    std::optional<origin> integer(std::string_view key, int64_t min, int64_t max, T& out,
                                  presence p = presence::optional) {
        int64_t value = 0;
        auto where = integer_value(key, min, max, value, p);
        if (where) out = static_cast<T>(value);  // in range: the caller's bounds fit T
        return where;
    }
    std::optional<origin> string(std::string_view key, std::string& out,
                                 presence p = presence::optional);
    std::optional<origin> boolean(std::string_view key, bool& out, presence p = presence::optional);
    // A string that must be one of `options`; `out` receives the index of the match.
    std::optional<origin> choice(std::string_view key,
                                 std::initializer_list<std::string_view> options, size_t& out,
                                 presence p = presence::optional);
    // Any array; the caller checks the elements.
    std::optional<array_value> array(std::string_view key, presence p = presence::optional);
    // A sub-table ([name.key] or key = { … }).
    std::optional<table_reader> table(std::string_view key, presence p = presence::optional);
    // An array of tables ([[name.key]] or key = [{ … }]); elements that are not tables are
    // reported and skipped, so indexes in messages stay those of the file.
    std::optional<table_array> tables(std::string_view key, presence p = presence::optional);

    // Call once after all reads.
    void report_unknown_keys() const;

private:
    std::optional<origin> integer_value(std::string_view key, int64_t min, int64_t max,
                                        int64_t& out, presence p);
    origin origin_of(std::string_view key, const toml::node& node) const;

    const toml::table* table_;
    origin where_;
    std::string label_;
    diagnostics* diag_;
    std::vector<std::string> known_;
};

// An array of tables: where it is, how many elements it has, and a reader per table element.
struct table_array {
    origin where;
    size_t size = 0;
    std::vector<table_reader> tables;
};

}  // namespace sluice::config::detail

#include "config/toml_reader.hpp"

#include <algorithm>

namespace sluice::config::detail {

std::string_view type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

namespace {

bool expect_type(const toml::node& node, toml::node_type type, const origin& where,
                 diagnostics& diag) {
    if (node.type() == type) return true;
    diag.report(where, "expected " + std::string(type_name(type)) + ", got " +
                           std::string(type_name(node.type())));
    return false;
}

// "vip[0].backend" -> "vip.backend": the table header an operator would write.
std::string schema_path(std::string_view path) {
    std::string out;
    bool in_index = false;
    for (char c : path) {
        if (c == '[') in_index = true;
        if (!in_index) out += c;
        if (c == ']') in_index = false;
    }
    return out;
}

}  // namespace

bool read_integer(const toml::node& node, const origin& where, int64_t min, int64_t max,
                  int64_t& out, diagnostics& diag) {
    if (!expect_type(node, toml::node_type::integer, where, diag)) return false;
    int64_t value = node.as_integer()->get();
    if (value < min || value > max) {
        diag.report(where, "must be between " + std::to_string(min) + " and " +
                               std::to_string(max) + ", got " + std::to_string(value));
        return false;
    }
    out = value;
    return true;
}

bool read_string(const toml::node& node, const origin& where, std::string& out, diagnostics& diag) {
    if (!expect_type(node, toml::node_type::string, where, diag)) return false;
    out = node.as_string()->get();
    return true;
}

table_reader::table_reader(const toml::table& table, origin where, std::string label,
                           diagnostics& diag)
    : table_(&table), where_(std::move(where)), label_(std::move(label)), diag_(&diag) {}

origin table_reader::origin_of(std::string_view key, const toml::node& node) const {
    auto o = where_.child(key);
    o.at = node.source().begin;
    return o;
}

const toml::node* table_reader::find(std::string_view key, presence p) {
    known_.emplace_back(key);
    const toml::node* node = table_->get(key);
    if (!node && p == presence::required)
        diag_->report(where_, "missing required key '" + std::string(key) + "'");
    return node;
}

std::optional<origin> table_reader::key_origin(std::string_view key) {
    known_.emplace_back(key);
    auto it = table_->find(key);
    if (it == table_->end()) return std::nullopt;
    auto o = where_.child(key);
    o.at = it->first.source().begin;
    return o;
}

std::optional<origin> table_reader::integer_value(std::string_view key, int64_t min, int64_t max,
                                                  int64_t& out, presence p) {
    const toml::node* node = find(key, p);
    if (!node) return std::nullopt;
    auto where = origin_of(key, *node);
    if (!read_integer(*node, where, min, max, out, *diag_)) return std::nullopt;
    return where;
}

std::optional<origin> table_reader::string(std::string_view key, std::string& out, presence p) {
    const toml::node* node = find(key, p);
    if (!node) return std::nullopt;
    auto where = origin_of(key, *node);
    if (!read_string(*node, where, out, *diag_)) return std::nullopt;
    return where;
}

std::optional<origin> table_reader::boolean(std::string_view key, bool& out, presence p) {
    const toml::node* node = find(key, p);
    if (!node) return std::nullopt;
    auto where = origin_of(key, *node);
    if (!expect_type(*node, toml::node_type::boolean, where, *diag_)) return std::nullopt;
    out = node->as_boolean()->get();
    return where;
}

std::optional<origin> table_reader::choice(std::string_view key,
                                           std::initializer_list<std::string_view> options,
                                           size_t& out, presence p) {
    std::string value;
    auto where = string(key, value, p);
    if (!where) return std::nullopt;
    auto match = std::find(options.begin(), options.end(), value);
    if (match != options.end()) {
        out = size_t(match - options.begin());
        return where;
    }
    std::string expected;
    size_t i = 0;
    for (auto option : options) {
        if (i > 0) expected += (i + 1 == options.size()) ? " or " : ", ";
        expected += "\"" + std::string(option) + "\"";
        ++i;
    }
    diag_->report(*where, "must be " + expected + ", got \"" + value + "\"");
    return std::nullopt;
}

std::optional<array_value> table_reader::array(std::string_view key, presence p) {
    const toml::node* node = find(key, p);
    if (!node) return std::nullopt;
    array_value out{origin_of(key, *node), {}};
    if (!expect_type(*node, toml::node_type::array, out.where, *diag_)) return std::nullopt;
    const auto& arr = *node->as_array();
    for (size_t i = 0; i < arr.size(); ++i)
        out.elements.push_back(element{&arr[i], out.where.element(i, arr[i].source().begin)});
    return out;
}

std::optional<table_reader> table_reader::table(std::string_view key, presence p) {
    const toml::node* node = find(key, p);
    if (!node) return std::nullopt;
    auto where = origin_of(key, *node);
    if (!expect_type(*node, toml::node_type::table, where, *diag_)) return std::nullopt;
    return table_reader(*node->as_table(), where, "[" + where.path + "]", *diag_);
}

std::optional<table_array> table_reader::tables(std::string_view key, presence p) {
    const toml::node* node = find(key, p);
    if (!node) return std::nullopt;
    table_array out{origin_of(key, *node), 0, {}};
    if (!node->is_array()) {
        diag_->report(out.where, "expected an array of tables ([[" + schema_path(out.where.path) +
                                     "]]), got " + std::string(type_name(node->type())));
        return std::nullopt;
    }
    const auto& arr = *node->as_array();
    out.size = arr.size();
    for (size_t i = 0; i < arr.size(); ++i) {
        auto item = out.where.element(i, arr[i].source().begin);
        if (!expect_type(arr[i], toml::node_type::table, item, *diag_)) continue;
        out.tables.emplace_back(*arr[i].as_table(), item, item.path, *diag_);
    }
    return out;
}

void table_reader::report_unknown_keys() const {
    for (const auto& [key, value] : *table_) {
        if (std::find(known_.begin(), known_.end(), key.str()) != known_.end()) continue;
        if (!where_.path.empty()) {
            diag_->report(key.source().begin,
                          "unknown key '" + std::string(key.str()) + "' in " + label_);
            continue;
        }
        std::string expected;
        for (const auto& k : known_) expected += (expected.empty() ? "" : ", ") + k;
        diag_->report(key.source().begin, "unknown top-level key '" + std::string(key.str()) +
                                              "' (expected one of: " + expected + ")");
    }
}

}  // namespace sluice::config::detail

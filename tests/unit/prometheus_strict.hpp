#pragma once
// Helpers of the metrics unit tests: a strict reader of the Prometheus 0.0.4 text format (the
// subset format_prometheus may emit) that records every violation, and lookups of its samples.
#include <algorithm>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace test {

using labels = std::vector<std::pair<std::string, std::string>>;

struct sample {
    std::string name;
    labels label_set;  // values unescaped
    std::string value;
};

struct exposition {
    std::map<std::string, int> help_count;
    std::map<std::string, int> type_count;
    std::map<std::string, std::string> type;
    std::vector<sample> samples;
    std::vector<std::string> errors;  // "line N: what"
};

// Hand-written rather than std::regex: GCC 12's <regex> trips -Wmaybe-uninitialized under
// sanitizers, and these are a few lines each.
inline bool is_alpha_(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
inline bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// [a-zA-Z_:][a-zA-Z0-9_:]*
inline bool is_name(std::string_view s) {
    if (s.empty() || is_digit(s[0])) return false;
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return is_alpha_(c) || is_digit(c) || c == ':'; });
}

// [a-zA-Z_][a-zA-Z0-9_]*
inline bool is_label_name(std::string_view s) {
    if (s.empty() || is_digit(s[0])) return false;
    return std::all_of(s.begin(), s.end(), [](char c) { return is_alpha_(c) || is_digit(c); });
}

// [-+]?(D+(.D*)?|.D+)([eE][-+]?D+)? | [-+]?Inf | NaN
inline bool is_value(std::string_view s) {
    if (s == "NaN") return true;
    size_t i = 0;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (s.substr(i) == "Inf") return true;
    auto digits = [&] {
        const size_t from = i;
        while (i < s.size() && is_digit(s[i])) ++i;
        return i - from;
    };
    size_t mantissa = digits();
    if (i < s.size() && s[i] == '.') {
        ++i;
        mantissa += digits();
    }
    if (mantissa == 0) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
        if (digits() == 0) return false;
    }
    return i == s.size();
}

// Help text: any character but a raw newline; backslash only as \\ or \n.
inline bool valid_help(std::string_view help) {
    for (size_t i = 0; i < help.size(); ++i) {
        if (help[i] != '\\') continue;
        if (i + 1 == help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n')) return false;
        ++i;
    }
    return true;
}

// Parses `{a="x",b="y"}` starting at pos (at '{'); advances pos past '}'. Empty string = ok.
inline std::string parse_labels(std::string_view line, size_t& pos, labels& out) {
    ++pos;  // '{'
    std::set<std::string> seen;
    for (;;) {
        size_t eq = line.find('=', pos);
        if (eq == std::string_view::npos) return "label without '='";
        const std::string name(line.substr(pos, eq - pos));
        if (!is_label_name(name)) return "bad label name '" + name + "'";
        if (name.starts_with("__")) return "reserved label name '" + name + "'";
        if (!seen.insert(name).second) return "duplicate label '" + name + "'";
        pos = eq + 1;
        if (pos >= line.size() || line[pos] != '"') return "label value not quoted";
        ++pos;
        std::string value;
        for (;;) {
            if (pos >= line.size()) return "unterminated label value";
            const char c = line[pos++];
            if (c == '"') break;
            if (c == '\\') {
                if (pos >= line.size()) return "dangling backslash";
                const char e = line[pos++];
                if (e == '\\') {
                    value += '\\';
                } else if (e == '"') {
                    value += '"';
                } else if (e == 'n') {
                    value += '\n';
                } else {
                    return std::string("bad escape \\") + e;
                }
            } else {
                value += c;
            }
        }
        out.emplace_back(name, value);
        if (pos >= line.size()) return "labels not closed";
        if (line[pos] == '}') {
            ++pos;
            return "";
        }
        if (line[pos] != ',') return "expected ',' or '}' after a label";
        ++pos;  // no trailing comma: the next label must follow
    }
}

inline exposition parse_strict(const std::string& text) {
    exposition e;
    if (text.empty() || text.back() != '\n') e.errors.push_back("text does not end in a newline");
    std::string family;  // the family whose samples may follow (its TYPE line came last)
    std::set<std::string> closed_families;
    std::set<std::string> series;
    size_t start = 0;
    for (int number = 1; start < text.size(); ++number) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        auto fail = [&](const std::string& what) {
            e.errors.push_back("line " + std::to_string(number) + ": " + what + ": " + line);
        };
        if (line.empty()) {
            fail("empty line");
            continue;
        }
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            const std::string rest = line.substr(7);
            const size_t sp = rest.find(' ');
            const std::string name = rest.substr(0, sp);
            const std::string arg = sp == std::string::npos ? "" : rest.substr(sp + 1);
            if (!is_name(name)) fail("bad metric name");
            if (closed_families.contains(name)) fail("family appears twice");
            if (line[2] == 'H') {
                ++e.help_count[name];
                if (sp == std::string::npos || arg.empty()) fail("empty help");
                if (!valid_help(arg)) fail("bad escape in help");
                if (e.type_count.contains(name)) fail("HELP after TYPE");
            } else {
                ++e.type_count[name];
                e.type[name] = arg;
                if (arg != "counter" && arg != "gauge") fail("type not counter or gauge");
                if (!e.help_count.contains(name)) fail("TYPE without HELP before it");
                if (!family.empty() && family != name) closed_families.insert(family);
                family = name;
            }
            continue;
        }
        if (line[0] == '#') {
            fail("unexpected comment");
            continue;
        }
        sample s;
        size_t pos = 0;
        while (pos < line.size() && line[pos] != '{' && line[pos] != ' ') ++pos;
        s.name = line.substr(0, pos);
        if (!is_name(s.name)) fail("bad metric name");
        if (pos < line.size() && line[pos] == '{') {
            const std::string err = parse_labels(line, pos, s.label_set);
            if (!err.empty()) {
                fail(err);
                continue;
            }
        }
        if (pos >= line.size() || line[pos] != ' ') {
            fail("no space before the value");
            continue;
        }
        s.value = line.substr(pos + 1);
        if (!is_value(s.value)) fail("bad value '" + s.value + "'");
        if (s.name != family) fail("sample outside its family's block (after its TYPE)");
        labels key = s.label_set;
        std::sort(key.begin(), key.end());
        std::string id = s.name;
        for (const auto& [k, v] : key) id += "\x01" + k + "\x02" + v;
        if (!series.insert(id).second) fail("duplicate series");
        e.samples.push_back(std::move(s));
    }
    return e;
}

// The value of the one sample with exactly these labels (any order), or "" if absent.
inline std::string value_of(const exposition& e, const std::string& name, labels wanted) {
    std::sort(wanted.begin(), wanted.end());
    std::string found;
    int matches = 0;
    for (const sample& s : e.samples) {
        labels have = s.label_set;
        std::sort(have.begin(), have.end());
        if (s.name == name && have == wanted) {
            found = s.value;
            ++matches;
        }
    }
    return matches == 1 ? found : "";
}

inline size_t count_of(const exposition& e, const std::string& name) {
    return size_t(std::count_if(e.samples.begin(), e.samples.end(),
                                [&](const sample& s) { return s.name == name; }));
}

}  // namespace test

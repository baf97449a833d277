#include "config/diagnostics.hpp"

#include <algorithm>

namespace sluice::config::detail {

origin origin::child(std::string_view key) const {
    return {path.empty() ? std::string(key) : path + "." + std::string(key), at};
}

origin origin::element(size_t index, toml::source_position element_at) const {
    return {path + "[" + std::to_string(index) + "]", element_at};
}

void diagnostics::report(toml::source_position at, std::string message) {
    errors_.push_back(error{file_, at.line, at.column, std::move(message)});
}

void diagnostics::report(const origin& where, std::string_view message) {
    report(where.at, where.path + ": " + std::string(message));
}

std::vector<error> diagnostics::sorted() const {
    auto out = errors_;
    std::stable_sort(out.begin(), out.end(), [](const error& a, const error& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    return out;
}

}  // namespace sluice::config::detail

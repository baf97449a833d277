#pragma once
// Collects every problem found while loading one config file, so the operator sees all of them at
// once instead of fixing one per run. Control thread / startup only.
#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "sluice/config.hpp"

namespace sluice::config::detail {

// Where a value sits in the file and how messages name it, e.g. "vip[0].backend[1].address".
struct origin {
    std::string path;
    toml::source_position at;

    origin child(std::string_view key) const;  // "vip[0]" + "port" -> "vip[0].port"
    origin element(size_t index, toml::source_position element_at) const;  // "vip" -> "vip[2]"
};

class diagnostics {
public:
    explicit diagnostics(std::string file) : file_(std::move(file)) {}

    // A problem at a position; line 0 means the file as a whole.
    void report(toml::source_position at, std::string message);
    // "PATH: message" at the origin's position.
    void report(const origin& where, std::string_view message);

    bool empty() const { return errors_.empty(); }
    const std::string& file() const { return file_; }
    // Errors ordered by line, then column; file-wide ones (line 0) first.
    std::vector<error> sorted() const;

private:
    std::string file_;
    std::vector<error> errors_;
};

}  // namespace sluice::config::detail

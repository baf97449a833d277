// Unit tests for the [log] table: level reads each of the four names, defaults to info, and a bad
// value or key is an error at its line and column, like every other key.
#include <doctest/doctest.h>

#include <string>

#include "config_text.hpp"
#include "sluice/config.hpp"

using namespace test;
using sluice::config::log_level;

TEST_CASE("[log] level takes debug, info, warn and error; absent it is info") {
    // Property: each name loads as its level, and a file without [log] gets info.
    CHECK(loaded(with_base({})).logging.level == log_level::info);
    const std::pair<const char*, log_level> names[] = {{"debug", log_level::debug},
                                                       {"info", log_level::info},
                                                       {"warn", log_level::warn},
                                                       {"error", log_level::error}};
    for (const auto& [name, level] : names) {
        CAPTURE(name);
        const std::string level_line = std::string("level = \"") + name + "\"";
        CHECK(loaded(with_base({"[log]", level_line})).logging.level == level);
    }
}

TEST_CASE("a bad [log] level is reported at its line and column with the expected names") {
    // Property: an unknown name, a near miss and a wrong type are each one error at the value
    // (line 12, column 9), and the message lists the four accepted names.
    CHECK(problem(with_base({"[log]", "level = \"verbose\""})) ==
          "t.toml:12:9: log.level: must be \"debug\", \"info\", \"warn\" or \"error\", got "
          "\"verbose\"");
    CHECK(problem(with_base({"[log]", "level = \"WARN\""})).find("t.toml:12:9: log.level:") == 0);
    CHECK(problem(with_base({"[log]", "level = 3"})) ==
          "t.toml:12:9: log.level: expected a string, got an integer");
}

TEST_CASE("an unknown key in [log] is an error at the key") {
    // Property: a misspelt key is not silently ignored; the error points at the key itself.
    CHECK(problem(with_base({"[log]", "levle = \"debug\""})) ==
          "t.toml:12:1: unknown key 'levle' in [log]");
}

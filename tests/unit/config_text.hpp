#pragma once
// Helpers of the config unit tests: build a document line by line, load it, and read back the
// problems the loader reports ("FILE:LINE:COLUMN: message").
#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/config.hpp"

namespace test {

// Joins lines with '\n', so line N of the document is the N-th string.
inline std::string lines(std::initializer_list<std::string_view> text) {
    std::string out;
    for (auto line : text) out += std::string(line) + "\n";
    return out;
}

// Two ports (198.18.0.1/24 "client", 198.18.1.1/24 "servers") in 8 lines.
inline constexpr std::string_view ports_block =
    "[[port]]\n"
    "name = \"client\"\n"
    "device = \"net_af_packet0,iface=lbc0\"\n"
    "addresses = [\"198.18.0.1/24\"]\n"
    "[[port]]\n"
    "name = \"servers\"\n"
    "device = \"net_af_packet1,iface=lbs0\"\n"
    "addresses = [\"198.18.1.1/24\"]\n";

// A valid config (lines 1-10: one worker, the two ports) followed by `extra` from line 11.
inline std::string with_base(std::initializer_list<std::string_view> extra) {
    return "[dataplane]\nworker_cpus = [1]\n" + std::string(ports_block) + lines(extra);
}

// [dataplane] on line 1 with `body` from line 2, then the two ports.
inline std::string with_dataplane(std::initializer_list<std::string_view> body) {
    return "[dataplane]\n" + lines(body) + std::string(ports_block);
}

// The base, a VIP 198.18.0.10:80/PROTOCOL on lines 11-14, then `extra` from line 15.
inline std::string with_vip(std::initializer_list<std::string_view> extra,
                            std::string_view protocol = "tcp") {
    return with_base({"[[vip]]", "address = '198.18.0.10'", "port = 80",
                      "protocol = '" + std::string(protocol) + "'"}) +
           lines(extra);
}

inline std::string joined(const std::vector<sluice::config::error>& errors) {
    std::string out;
    for (const auto& e : errors) out += e.to_string() + "\n";
    return out;
}

// Every problem load_string reports; empty when the text loads.
inline std::vector<sluice::config::error> problems(const std::string& text) {
    try {
        (void)sluice::config::load_string(text, "t.toml");
    } catch (const sluice::config::config_error& e) {
        return e.errors();
    }
    return {};
}

// The one problem's "FILE:LINE:COLUMN: message"; fails unless there is exactly one.
inline std::string problem(const std::string& text) {
    auto all = problems(text);
    REQUIRE_MESSAGE(all.size() == 1, "expected one problem, got:\n" << joined(all));
    return all[0].to_string();
}

// Loads, failing the test with every reported problem if that throws.
inline sluice::config::config loaded(const std::string& text) {
    auto all = problems(text);
    REQUIRE_MESSAGE(all.empty(), joined(all));
    return sluice::config::load_string(text, "t.toml");
}

}  // namespace test

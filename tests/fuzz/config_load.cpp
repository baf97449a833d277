// Fuzz target: the configuration loader (TOML text -> parsed, validated sluice::config) never
// crashes on any text: it returns a model or throws config_error listing the problems, each with
// a message; any other exception escaping is a failure. The VIPs and backends of a model it
// accepts can be named in messages (the labels the control API and logs print).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "config/describe.hpp"
#include "sluice/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    sluice::config::config cfg;
    try {
        cfg = sluice::config::load_string(text, "fuzz.toml");
    } catch (const sluice::config::config_error& e) {
        if (e.errors().empty()) {
            fprintf(stderr, "config_load: config_error without a single error\n");
            abort();
        }
        for (const auto& err : e.errors())
            if (err.to_string().empty()) abort();
        return 0;
    }
    for (const auto& v : cfg.vips) {
        if (sluice::config::detail::vip_label(v.address, v.port, v.protocol).empty()) abort();
        for (const auto& b : v.backends)
            if (sluice::config::detail::endpoint(b.address, b.port).empty()) abort();
    }
    return 0;
}

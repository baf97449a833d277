// Entry points: read, parse, validate, and either return the model or throw every problem.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "config/diagnostics.hpp"
#include "config/origins.hpp"
#include "config/parse.hpp"
#include "config/validate.hpp"
#include "sluice/config.hpp"

namespace sluice::config {

namespace {

// The whole file, or the errno that stopped the read.
std::optional<std::string> read_all(const std::string& path, int& error_number) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error_number = errno;
        return std::nullopt;
    }
    std::string text;
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            error_number = errno;
            ::close(fd);
            return std::nullopt;
        }
        text.append(buffer, size_t(n));
    }
    ::close(fd);
    return text;
}

}  // namespace

config load_file(const std::string& path) {
    int error_number = 0;
    auto text = read_all(path, error_number);
    if (!text)
        throw config_error(
            {error{path, 0, 0, "cannot read: " + std::generic_category().message(error_number)}});
    return load_string(*text, path);
}

config load_string(const std::string& text, const std::string& name) {
    detail::diagnostics diag(name);
    toml::table root;
    try {
        root = toml::parse(text, std::string_view(name));
    } catch (const toml::parse_error& e) {
        diag.report(e.source().begin, std::string(e.description()));
        throw config_error(diag.sorted());
    }

    config cfg;
    cfg.source_file = name;
    detail::origins where;
    detail::parse_document(root, cfg, where, diag);
    detail::validate(cfg, where, diag);
    if (!diag.empty()) throw config_error(diag.sorted());
    return cfg;
}

}  // namespace sluice::config

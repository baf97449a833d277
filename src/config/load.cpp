// Entry points: read, parse, validate, and either return the model or throw every problem.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "config/diagnostics.hpp"
#include "config/origins.hpp"
#include "config/parse.hpp"
#include "config/validate.hpp"
#include "sluice/config.hpp"

namespace sluice::config {

namespace {

const char* file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

std::string limit_text() {
    return std::to_string(max_config_bytes >> 20) + " MiB";
}

// The whole file, or why it is not read. O_NONBLOCK: opening a FIFO must not wait for a writer.
std::string read_config_file(const std::string& path) {
    const auto refuse = [&](const std::string& why) {
        throw config_error({error{path, 0, 0, why}});
    };
    const auto errno_text = [](int e) { return std::generic_category().message(e); };
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) refuse("cannot read: " + errno_text(errno));
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) refuse("cannot read: " + errno_text(errno));
    if (!S_ISREG(st.st_mode))
        refuse(std::string("cannot read: ") + file_kind(st.st_mode) + ", not a regular file");
    if (uint64_t(st.st_size) > max_config_bytes)
        refuse("cannot read: " + std::to_string(st.st_size) + " bytes, over the " + limit_text() +
               " limit");
    std::string text;
    text.reserve(size_t(st.st_size));
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            refuse("cannot read: " + errno_text(errno));
        }
        text.append(buffer, size_t(n));
        if (text.size() > max_config_bytes)  // grew while being read
            refuse("cannot read: over the " + limit_text() + " limit");
    }
    return text;
}

}  // namespace

config load_file(const std::string& path) {
    return load_string(read_config_file(path), path);
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

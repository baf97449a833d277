#include "control/state_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace sluice::control {

namespace {

std::string errno_text(int e) {
    return std::generic_category().message(e);
}

struct fd_closer {
    int fd;
    ~fd_closer() {
        if (fd >= 0) ::close(fd);
    }
};

// The directory part of an absolute path ("/var/lib/sluice/state.json" -> "/var/lib/sluice").
std::string directory_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

result<> write_all(int fd, std::string_view content) {
    while (!content.empty()) {
        ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("write: " + errno_text(errno));
        content.remove_prefix(size_t(n));
    }
    return {};
}

// Writes the temporary file completely and durably; the caller renames it.
result<> write_temporary(const std::string& tmp, std::string_view content) {
    // O_EXCL|O_NOFOLLOW: never write through a link someone planted under the temporary name.
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return fail("cannot create " + tmp + ": " + errno_text(errno));
    fd_closer guard{fd};
    if (::fchmod(fd, 0600) != 0) return fail("chmod " + tmp + ": " + errno_text(errno));
    if (auto w = write_all(fd, content); !w) return fail(tmp + ": " + w.message());
    if (::fsync(fd) != 0) return fail("fsync " + tmp + ": " + errno_text(errno));
    guard.fd = -1;
    if (::close(fd) != 0) return fail("close " + tmp + ": " + errno_text(errno));
    return {};
}

}  // namespace

result<std::optional<std::string>> read_state_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT) return std::optional<std::string>{};
        return fail("cannot read: " + errno_text(errno));
    }
    fd_closer guard{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail("cannot read: " + errno_text(errno));
    if (S_ISDIR(st.st_mode)) return fail("cannot read: a directory, not a regular file");
    if (!S_ISREG(st.st_mode)) return fail("cannot read: not a regular file");
    if (uint64_t(st.st_size) > max_state_file_bytes)
        return fail("cannot read: " + std::to_string(st.st_size) + " bytes, over the 16 MiB limit");
    std::string text;
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("cannot read: " + errno_text(errno));
        text.append(buffer, size_t(n));
        if (text.size() > max_state_file_bytes) return fail("cannot read: over the 16 MiB limit");
    }
    return std::optional<std::string>{std::move(text)};
}

result<> write_state_file(const std::string& path, std::string_view content) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    ::unlink(tmp.c_str());  // left over from a crash of this pid's predecessor
    if (auto written = write_temporary(tmp, content); !written) {
        ::unlink(tmp.c_str());
        return written;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        return fail("rename " + tmp + " to " + path + ": " + errno_text(e));
    }
    // The rename is durable only once the directory is.
    const std::string dir = directory_of(path);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return fail("cannot open directory " + dir + ": " + errno_text(errno));
    fd_closer guard{dfd};
    if (::fsync(dfd) != 0) return fail("fsync " + dir + ": " + errno_text(errno));
    return {};
}

}  // namespace sluice::control

#include "dataplane/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace sluice::dataplane {

netns_switch::netns_switch(const std::string& name) {
    if (name.empty()) return;
    original_fd_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_fd_ < 0)
        throw std::runtime_error(std::string("cannot open own network namespace: ") +
                                 strerror(errno));
    std::string path = "/run/netns/" + name;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        close(original_fd_);
        original_fd_ = -1;
        throw std::runtime_error("cannot open network namespace " + path + ": " + strerror(e) +
                                 " (is the lab up? scripts/lab.sh up)");
    }
    int rc = setns(fd, CLONE_NEWNET);
    int e = errno;
    close(fd);
    if (rc != 0) {
        close(original_fd_);
        original_fd_ = -1;
        throw std::runtime_error("cannot enter network namespace " + name + ": " + strerror(e));
    }
}

void netns_switch::restore() {
    if (original_fd_ < 0) return;
    setns(original_fd_, CLONE_NEWNET);
    close(original_fd_);
    original_fd_ = -1;
}

netns_switch::~netns_switch() {
    restore();
}

}  // namespace sluice::dataplane

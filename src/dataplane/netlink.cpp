#include "dataplane/netlink.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sluice::dataplane::netlink {

namespace {

// One request: header, the family-specific message, then attributes (each 4-byte aligned).
class request {
public:
    request(uint16_t type, const void* body, size_t body_len) {
        auto* h = header();
        h->nlmsg_type = type;
        h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
        h->nlmsg_seq = 1;
        std::memcpy(buf_ + NLMSG_HDRLEN, body, body_len);
        h->nlmsg_len = uint32_t(NLMSG_HDRLEN + NLMSG_ALIGN(body_len));
    }
    void attribute(uint16_t type, const void* data, size_t len) {
        auto* h = header();
        auto* a = reinterpret_cast<rtattr*>(buf_ + NLMSG_ALIGN(h->nlmsg_len));
        a->rta_type = type;
        a->rta_len = uint16_t(RTA_LENGTH(len));
        std::memcpy(RTA_DATA(a), data, len);
        h->nlmsg_len = uint32_t(NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len));
    }
    // Sends and waits for the kernel's acknowledgement.
    std::string send() {
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0) return std::string("netlink socket: ") + strerror(errno);
        sockaddr_nl kernel{};
        kernel.nl_family = AF_NETLINK;
        std::string error;
        if (sendto(fd, buf_, header()->nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                   sizeof kernel) < 0) {
            error = std::string("netlink send: ") + strerror(errno);
        } else {
            alignas(nlmsghdr) char reply[4096];
            ssize_t n = recv(fd, reply, sizeof reply, 0);
            if (n < 0) {
                error = std::string("netlink receive: ") + strerror(errno);
            } else {
                auto* r = reinterpret_cast<nlmsghdr*>(reply);
                if (NLMSG_OK(r, size_t(n)) && r->nlmsg_type == NLMSG_ERROR) {
                    int code = -static_cast<nlmsgerr*>(NLMSG_DATA(r))->error;
                    if (code != 0 && code != EEXIST) error = strerror(code);
                }
            }
        }
        close(fd);
        return error;
    }

private:
    nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_); }
    alignas(nlmsghdr) char buf_[512] = {};
};

unsigned char family_of(const ip_address& a) {
    return a.is_v4() ? AF_INET : AF_INET6;
}
size_t length_of(const ip_address& a) {
    return a.is_v4() ? 4 : 16;
}

}  // namespace

std::string add_address(const std::string& ifname, const ip_prefix& prefix) {
    unsigned index = if_nametoindex(ifname.c_str());
    if (index == 0) return "no interface " + ifname;
    ifaddrmsg m{};
    m.ifa_family = family_of(prefix.address);
    m.ifa_prefixlen = prefix.length;
    m.ifa_scope = RT_SCOPE_UNIVERSE;
    m.ifa_index = index;
    // Ours by configuration: no duplicate address detection (the address would stay tentative).
    if (!prefix.address.is_v4()) m.ifa_flags = IFA_F_NODAD;
    request r(RTM_NEWADDR, &m, sizeof m);
    r.attribute(IFA_LOCAL, prefix.address.bytes.data(), length_of(prefix.address));
    r.attribute(IFA_ADDRESS, prefix.address.bytes.data(), length_of(prefix.address));
    std::string e = r.send();
    return e.empty() ? e : "add address " + prefix.to_string() + " to " + ifname + ": " + e;
}

std::string add_route(const std::string& ifname, const ip_prefix& destination,
                      const ip_address& via) {
    unsigned index = if_nametoindex(ifname.c_str());
    if (index == 0) return "no interface " + ifname;
    rtmsg m{};
    m.rtm_family = family_of(destination.address);
    m.rtm_dst_len = destination.length;
    m.rtm_table = RT_TABLE_MAIN;
    m.rtm_protocol = RTPROT_STATIC;
    m.rtm_scope = RT_SCOPE_UNIVERSE;
    m.rtm_type = RTN_UNICAST;
    request r(RTM_NEWROUTE, &m, sizeof m);
    if (destination.length > 0)
        r.attribute(RTA_DST, destination.address.bytes.data(), length_of(destination.address));
    r.attribute(RTA_GATEWAY, via.bytes.data(), length_of(via));
    uint32_t oif = index;
    r.attribute(RTA_OIF, &oif, sizeof oif);
    std::string e = r.send();
    return e.empty() ? e
                     : "add route " + destination.to_string() + " via " + via.to_string() +
                           " dev " + ifname + ": " + e;
}

}  // namespace sluice::dataplane::netlink

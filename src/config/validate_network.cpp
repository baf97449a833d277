// Cross-checks of [[port]], [[route]] and [flows]: unique names, devices and addresses,
// non-overlapping subnets, connected next hops, enough local ports for every worker.
#include <map>
#include <vector>

#include "config/describe.hpp"
#include "config/prefix_math.hpp"
#include "config/validate.hpp"

namespace sluice::config::detail {

namespace {

// Ports sharing a DPDK device are VLAN sub-ports of it (docs/config.md "VLANs"): the same
// device string, and a VID of their own (at most one untagged) so each frame names one port.
void check_shared_device(const config& cfg, const origins& where, size_t i, size_t earlier,
                         diagnostics& diag) {
    const auto& port = cfg.ports[i];
    const auto& first = cfg.ports[earlier];
    const origin& at = *where.ports[i].device;
    const origin& first_at = *where.ports[earlier].device;
    const std::string other = first_at.path + " " + defined_at(first_at);
    if (!port.is_pci() && port.device != first.device) {
        diag.report(at, "'" + port.device + "' is the same DPDK device (" + port.dpdk_name() +
                            ") as " + other + " but with other arguments ('" + first.device +
                            "'); sub-ports of one device repeat its device string exactly");
    } else if (port.vlan == first.vlan) {
        const std::string which =
            port.vlan ? "both have vlan " + std::to_string(port.vlan) : "both are untagged";
        diag.report(at, "'" + port.device + "' is the same DPDK device (" + port.dpdk_name() +
                            ") as " + other + " and " + which +
                            ": ports sharing a device are told apart by vlan, so each needs a "
                            "vlan of its own (at most one untagged)");
    }
}

void check_port_identity(const config& cfg, const origins& where, diagnostics& diag) {
    std::map<std::string, size_t> names;
    std::map<std::string, std::vector<size_t>> devices;
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        const auto& port = cfg.ports[i];
        const auto& at = where.ports[i];
        if (at.name) {
            auto [it, fresh] = names.emplace(port.name, i);
            if (!fresh)
                diag.report(*at.name, "duplicate of " + where.ports[it->second].name->path + " '" +
                                          port.name + "' " +
                                          defined_at(*where.ports[it->second].name));
        }
        if (!at.device) continue;
        auto& sharing = devices[port.dpdk_name()];
        for (size_t earlier : sharing) check_shared_device(cfg, where, i, earlier, diag);
        sharing.push_back(i);
        if (port.is_pci() && where.no_pci)  // EAL would not scan the PCI bus at all
            diag.report(*at.device, "PCI device " + port.dpdk_name() +
                                        " cannot be used while dataplane.eal_args contains "
                                        "'--no-pci' (line " +
                                        std::to_string(where.no_pci->at.line) + ")");
    }
}

// IPv6 needs links of at least 1280 bytes (RFC 8200 5): a smaller port MTU cannot carry it.
void check_port_mtu(const config& cfg, const origins& where, diagnostics& diag) {
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        const auto& port = cfg.ports[i];
        if (!where.ports[i].mtu || port.mtu >= 1280) continue;
        for (const ip_prefix& p : port.addresses) {
            if (!p.address.is_v4()) {
                diag.report(*where.ports[i].mtu,
                            "mtu " + std::to_string(port.mtu) + " is below 1280, the smallest " +
                                "IPv6 link MTU, and the port has IPv6 address " + p.to_string());
                break;
            }
        }
    }
}

// A device setting of [[port]] i that an earlier sub-port of the same device set otherwise:
// sub-ports share the device's queues and offloads, so they cannot differ.
template <class T>
void check_same_setting(const config& cfg, const origins& where, size_t i, T port_config::*field,
                        std::optional<origin> port_origins::*at, diagnostics& diag) {
    const auto& port = cfg.ports[i];
    if (!(where.ports[i].*at)) return;
    for (size_t k = 0; k < i; ++k) {
        const auto& other = cfg.ports[k];
        if (other.dpdk_name() != port.dpdk_name() || !(where.ports[k].*at)) continue;
        if (other.*field == port.*field) continue;
        diag.report(*(where.ports[i].*at), "differs from " + (where.ports[k].*at)->path + " (" +
                                               defined_at(*(where.ports[k].*at)) +
                                               ") on the same device (" + port.dpdk_name() +
                                               "): sub-ports share the device's NIC settings");
        return;
    }
}

// The NIC settings (docs/config.md "NIC settings"): at most one RX queue per worker (a queue
// nobody polls would lose its share of the traffic), the same values on every sub-port.
void check_port_nic(const config& cfg, const origins& where, diagnostics& diag) {
    const size_t workers = cfg.dataplane.worker_cpus.size();
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        const auto& port = cfg.ports[i];
        const auto& at = where.ports[i];
        if (at.queues && where.workers_known && port.queues > workers)
            diag.report(*at.queues, std::to_string(port.queues) + " RX queues but " +
                                        std::to_string(workers) +
                                        " worker(s) to poll them: at most one queue per worker");
        // A virtual device's queue pairs each receive their share of the frames (the kernel
        // fans them out over net_af_packet's sockets, net_tap's queues), whether or not an RX
        // queue is set up on them: only a NIC's RSS spreads over the configured queues alone.
        else if (at.queues && where.workers_known && port.queues < workers && !port.is_pci())
            diag.report(*at.queues,
                        std::to_string(port.queues) + " RX queues for " + std::to_string(workers) +
                            " workers needs a PCI NIC whose RSS spreads over the configured queues "
                            "only; a virtual device's queue pairs each get their share of the "
                            "frames, so it needs one per worker");
        check_same_setting(cfg, where, i, &port_config::queues, &port_origins::queues, diag);
        check_same_setting(cfg, where, i, &port_config::rx_descriptors,
                           &port_origins::rx_descriptors, diag);
        check_same_setting(cfg, where, i, &port_config::tx_descriptors,
                           &port_origins::tx_descriptors, diag);
        check_same_setting(cfg, where, i, &port_config::rss, &port_origins::rss, diag);
        check_same_setting(cfg, where, i, &port_config::rx_checksum_offload,
                           &port_origins::rx_checksum_offload, diag);
        check_same_setting(cfg, where, i, &port_config::flow_steering, &port_origins::flow_steering,
                           diag);
    }
}

// Every address once; each port's connected subnets disjoint from every other port's, so a
// destination names exactly one egress port.
void check_port_addresses(const config& cfg, const origins& where, diagnostics& diag) {
    struct entry {
        size_t port;
        const ip_prefix* prefix;
        const origin* at;
    };
    std::vector<entry> seen;
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        for (size_t k = 0; k < cfg.ports[i].addresses.size(); ++k) {
            entry current{i, &cfg.ports[i].addresses[k], &where.ports[i].addresses[k]};
            for (const auto& earlier : seen) {
                if (earlier.prefix->address == current.prefix->address) {
                    diag.report(*current.at, current.prefix->address.to_string() + " is already " +
                                                 earlier.at->path + " " + defined_at(*earlier.at));
                    break;
                }
                if (earlier.port != current.port && overlaps(*earlier.prefix, *current.prefix)) {
                    diag.report(*current.at, "subnet " + network_of(*current.prefix).to_string() +
                                                 " overlaps " + earlier.at->path + " (" +
                                                 network_of(*earlier.prefix).to_string() + ") " +
                                                 defined_at(*earlier.at));
                    break;
                }
            }
            seen.push_back(current);
        }
    }
}

// A local (full-NAT source) address lies in one of its port's own subnets, so backends reach it
// on that segment (sluiced answers ARP for it), and is no port address and no duplicate.
void check_local_addresses(const config& cfg, const origins& where, diagnostics& diag) {
    std::map<std::string, const origin*> seen;
    for (size_t i = 0; i < cfg.ports.size(); ++i) {
        const port_config& port = cfg.ports[i];
        for (size_t k = 0; k < port.local_addresses.size(); ++k) {
            const ip_address& a = port.local_addresses[k];
            const origin& at = where.ports[i].local_addresses[k];
            bool inside = false, own = false, edge = false;
            for (const ip_prefix& p : port.addresses) {
                inside |= p.contains(a);
                own |= p.address == a;
                // A backend takes an IPv4 subnet's network or broadcast address as a martian
                // source and drops what comes from it (only /31 and /32 have neither).
                if (a.is_v4() && p.address.is_v4() && p.length <= 30 && p.contains(a)) {
                    const ip_address net = network_of(p).address;
                    edge |= a == net || a == nth_address(net, (size_t(1) << (32 - p.length)) - 1);
                }
            }
            auto [it, fresh] = seen.emplace(a.to_string(), &at);
            if (!fresh) {
                diag.report(at, a.to_string() + " is listed twice (also " + it->second->path + " " +
                                    defined_at(*it->second) + ")");
            } else if (own) {
                diag.report(at, a.to_string() +
                                    " is the port's own address; list other "
                                    "addresses of the subnet");
            } else if (edge) {
                diag.report(at, a.to_string() +
                                    " is the network or broadcast address of the port's subnet; "
                                    "backends would drop its packets");
            } else if (!inside) {
                diag.report(at, a.to_string() + " is not inside any of port '" + port.name +
                                    "''s subnets (backends must reach it on that segment)");
            }
        }
    }
}

void check_routes(const config& cfg, const origins& where, diagnostics& diag) {
    std::map<std::string, size_t> prefixes;
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
        const auto& route = cfg.routes[i];
        const auto& at = where.routes[i];
        if (at.prefix) {
            auto [it, fresh] = prefixes.emplace(route.prefix.to_string(), i);
            if (!fresh)
                diag.report(at.table, "duplicate of " + where.routes[it->second].table.path + " (" +
                                          route.prefix.to_string() + ") " +
                                          defined_at(where.routes[it->second].table));
        }
        if (!at.via) continue;
        if (at.prefix && route.via.family != route.prefix.address.family) {
            diag.report(*at.via, route.via.to_string() + " is " +
                                     std::string(family_name(route.via)) + " but prefix " +
                                     route.prefix.to_string() + " is " +
                                     std::string(family_name(route.prefix.address)));
        } else if (!is_connected(cfg, route.via)) {
            diag.report(*at.via, route.via.to_string() +
                                     " is not inside any port's subnet (a next hop must be "
                                     "directly connected)");
        }
    }
}

// Each worker owns a disjoint slice of the full-NAT source ports; a worker without one could
// never open a flow.
void check_local_ports(const config& cfg, const origins& where, diagnostics& diag) {
    if (!where.local_ports_known) return;
    const auto& flows = cfg.flows;
    if (where.local_port_max && flows.local_port_max <= flows.local_port_min) {
        diag.report(*where.local_port_max, "must be greater than local_port_min (" +
                                               std::to_string(flows.local_port_min) + "), got " +
                                               std::to_string(flows.local_port_max));
        return;
    }
    if (where.local_port_min && flows.local_port_max <= flows.local_port_min) {
        diag.report(*where.local_port_min, "must be less than local_port_max (" +
                                               std::to_string(flows.local_port_max) + "), got " +
                                               std::to_string(flows.local_port_min));
        return;
    }
    auto ports = size_t(flows.local_port_max) - flows.local_port_min + 1;
    auto workers = cfg.dataplane.worker_cpus.size();
    const auto& at = where.local_port_max ? where.local_port_max : where.local_port_min;
    if (!where.workers_known || !at || ports >= workers) return;
    diag.report(*at, "the range " + std::to_string(flows.local_port_min) + ".." +
                         std::to_string(flows.local_port_max) + " has " + std::to_string(ports) +
                         " local ports, fewer than the " + std::to_string(workers) +
                         " workers (each needs at least one)");
}

}  // namespace

void validate_network(const config& cfg, const origins& where, diagnostics& diag) {
    check_port_identity(cfg, where, diag);
    check_port_mtu(cfg, where, diag);
    check_port_nic(cfg, where, diag);
    check_port_addresses(cfg, where, diag);
    check_local_addresses(cfg, where, diag);
    check_routes(cfg, where, diag);
    check_local_ports(cfg, where, diag);
}

}  // namespace sluice::config::detail

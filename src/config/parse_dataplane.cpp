// [dataplane]: EAL arguments, lcore placement and pool/queue sizes.
#include <algorithm>
#include <array>

#include "config/parse.hpp"

namespace sluice::config::detail {

namespace {

constexpr int64_t max_cpu = 1023;
constexpr size_t max_workers = 64;

struct forbidden_eal_arg {
    std::string_view option;  // "-l" also matches "-l1-3"; "--vdev" also "--vdev=net_tap0"
    std::string_view reason;
};

constexpr std::string_view lcores_reason =
    "sluiced builds the lcore list from control_cpu and worker_cpus";
constexpr std::string_view devices_reason =
    "sluiced builds the device list from the [[port]] tables";

constexpr std::array<forbidden_eal_arg, 9> forbidden_eal_args{{
    {"-l", lcores_reason},
    {"--lcores", lcores_reason},
    {"-c", lcores_reason},
    {"--main-lcore", lcores_reason},
    {"-a", devices_reason},
    {"--allow", devices_reason},
    {"-b", devices_reason},
    {"--block", devices_reason},
    {"--vdev", devices_reason},
}};

bool matches_option(std::string_view arg, std::string_view option) {
    if (option.starts_with("--"))
        return arg == option || (arg.starts_with(option) && arg[option.size()] == '=');
    return !arg.starts_with("--") && arg.starts_with(option);  // short options take attached values
}

void check_eal_arg(const std::string& arg, const origin& where, diagnostics& diag) {
    for (const auto& forbidden : forbidden_eal_args) {
        if (!matches_option(arg, forbidden.option)) continue;
        diag.report(where, "'" + arg + "' is not allowed: " + std::string(forbidden.reason));
        return;
    }
}

void parse_eal_args(table_reader& dataplane, std::vector<std::string>& out, origins& where) {
    auto args = dataplane.array("eal_args");
    if (!args) return;
    std::optional<origin> no_huge, in_memory;
    bool all_valid = true;
    std::vector<std::string> values;
    for (const auto& arg : args->elements) {
        std::string value;
        if (!read_string(*arg.node, arg.where, value, dataplane.diag())) {
            all_valid = false;
            continue;
        }
        check_eal_arg(value, arg.where, dataplane.diag());
        if (value == "--no-pci") where.no_pci = arg.where;
        if (value == "--no-huge") no_huge = arg.where;
        if (value == "--in-memory") in_memory = arg.where;
        values.push_back(std::move(value));
    }
    if (no_huge && in_memory)  // EAL 22.11 refuses the pair at start; say so now
        dataplane.diag().report(*in_memory,
                                "'--in-memory' cannot be combined with '--no-huge' (line " +
                                    std::to_string(no_huge->at.line) + "): DPDK rejects the pair");
    if (all_valid) out = std::move(values);
}

void parse_worker_cpus(table_reader& dataplane, std::vector<unsigned>& out, origins& where) {
    auto cpus = dataplane.array("worker_cpus", presence::required);
    if (!cpus) return;
    auto count = cpus->elements.size();
    if (count == 0 || count > max_workers) {
        dataplane.diag().report(cpus->where, "must have between 1 and " +
                                                 std::to_string(max_workers) + " entries, got " +
                                                 std::to_string(count));
        return;
    }
    where.workers_known = true;
    out.clear();
    for (const auto& cpu : cpus->elements) {
        int64_t value = 0;
        if (read_integer(*cpu.node, cpu.where, 0, max_cpu, value, dataplane.diag()))
            out.push_back(unsigned(value));
        else
            out.push_back(0);  // keeps the count right for the local-port check
    }
}

bool is_plain_name(const std::string& name) {
    return !name.empty() && name != "." && name != ".." &&
           name.find_first_of(std::string_view("/\0", 2)) == std::string::npos;
}

bool is_power_of_two(uint32_t v) {
    return v != 0 && (v & (v - 1)) == 0;
}

}  // namespace

void parse_dataplane(table_reader& root, dataplane_config& out, origins& where) {
    auto dataplane = root.table("dataplane");
    if (!dataplane) {
        if (!root.has("dataplane"))
            root.diag().report(toml::source_position{}, "missing required table [dataplane]");
        return;
    }

    parse_eal_args(*dataplane, out.eal_args, where);
    dataplane->integer("control_cpu", 0, max_cpu, out.control_cpu);
    parse_worker_cpus(*dataplane, out.worker_cpus, where);

    std::string netns;
    if (auto at = dataplane->string("netns", netns)) {
        if (is_plain_name(netns))
            out.netns = netns;
        else
            dataplane->diag().report(*at,
                                     "must be a plain network namespace name (no '/', not "
                                     "'.' or '..'), got '" +
                                         netns + "'");
    }

    size_t idle = 0;
    if (dataplane->choice("idle", {"spin", "backoff"}, idle))
        out.idle = idle == 0 ? idle_policy::spin : idle_policy::backoff;

    dataplane->integer("mbufs", 1023, 16777215, out.mbufs);
    dataplane->integer("mbuf_cache", 0, 512, out.mbuf_cache);
    dataplane->integer("rx_descriptors", 64, 16384, out.rx_descriptors);
    dataplane->integer("tx_descriptors", 64, 16384, out.tx_descriptors);
    uint32_t ring_size = 0;
    if (auto at = dataplane->integer("ring_size", 64, 65536, ring_size)) {
        if (is_power_of_two(ring_size))
            out.ring_size = ring_size;
        else
            dataplane->diag().report(*at,
                                     "must be a power of two, got " + std::to_string(ring_size));
    }
    dataplane->integer("burst", 1, 256, out.burst);
    dataplane->integer("syn_proxy_max_held", 0, 16777215, out.syn_proxy_max_held);
    dataplane->boolean("kernel_interfaces", out.kernel_interfaces);
    dataplane->integer("kernel_packets_per_second", 1, 100000000, out.kernel_packets_per_second);
    dataplane->integer("kernel_packets_burst", 1, 100000000, out.kernel_packets_burst);
    dataplane->integer("icmp_echo_per_second", 0, 100000000, out.icmp_echo_per_second);
    dataplane->integer("icmp_echo_burst", 1, 100000000, out.icmp_echo_burst);
    dataplane->integer("icmp_errors_per_second", 0, 100000000, out.icmp_errors_per_second);
    dataplane->integer("icmp_errors_burst", 1, 100000000, out.icmp_errors_burst);
    dataplane->integer("fragment_max_datagrams", 0, 1048576, out.fragment_max_datagrams);
    dataplane->integer("fragment_timeout_ms", 1, 60000, out.fragment_timeout_ms);
    dataplane->report_unknown_keys();
}

}  // namespace sluice::config::detail

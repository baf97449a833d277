# shellcheck shell=bash disable=SC2034,SC2154 # (its globals are set by metal-setup.sh; the ones it fills are read by the other parts)
# scripts/metal/host.sh, sourced by scripts/metal-setup.sh: reading the host, every path under
# $root (SLUICE_METAL_ROOT): the kernel command line, NUMA nodes and their CPUs, a PCI device's
# driver, interfaces, family and NUMA node, whether its interface is live, hugetlbfs mounts, sluiced's
# processes. Reads only; changes nothing.

cmdline=""
declare -A cpu_node=() # CPU -> its NUMA node (from nodeN/cpulist)
nodes=()               # the NUMA nodes
numa_sysfs=0           # 1 when the kernel has /sys/devices/system/node

read_host() { # fills cmdline, cpu_node, nodes and numa_sysfs
    local d n c
    cmdline=$(read1 "$root/proc/cmdline")
    for d in "$root"/sys/devices/system/node/node[0-9]*; do
        [[ -d $d ]] || continue
        n=${d##*/node}
        nodes+=("$n")
        for c in $(expand_list "$(read1 "$d/cpulist")"); do cpu_node[$c]=$n; done
    done
    if [[ -d $root/sys/devices/system/node ]]; then numa_sysfs=1; fi
}

cmdline_value() { # the value of the last NAME=VALUE on the kernel command line
    local w v=""
    for w in $cmdline; do [[ $w == "$1="* ]] && v=${w#*=}; done
    printf '%s' "$v"
}

pci_dir() { printf '%s/sys/bus/pci/devices/%s' "$root" "$1"; }

dev_driver() { # the device's current driver name, or nothing
    local l
    l="$(pci_dir "$1")/driver"
    if [[ -L $l ]]; then
        basename "$(readlink "$l")"
    elif [[ -d $l ]]; then
        basename "$l"
    fi
}

dev_iface_dirs() { # the sysfs directories of the device's kernel network interfaces
    local d
    # A PCI NIC's netdev sits in net/; a virtio NIC's one level down (virtioN/net/).
    for d in "$(pci_dir "$1")"/net/* "$(pci_dir "$1")"/virtio*/net/*; do
        [[ -e $d ]] && printf '%s\n' "$d"
    done
    return 0
}

dev_ifaces() { # the device's kernel network interface names
    local d
    while IFS= read -r d; do printf '%s\n' "${d##*/}"; done < <(dev_iface_dirs "$1")
}

not_a_nic() { # prints why the device is not a network controller (PCI class 0x02), if it is not
    local class
    class=$(read1 "$(pci_dir "$1")/class")
    [[ -z $class || $class == 0x02* ]] && return 0
    printf 'PCI class %s is not a network controller (0x02…): binding it takes it from the kernel (a disk, the console?)' "$class"
}

nic_node() { # the NIC's NUMA node; the only node on one-node hosts; -1 when unknown
    local n
    n=$(read1 "$(pci_dir "$1")/numa_node")
    if [[ $n =~ ^[0-9]+$ ]]; then
        printf '%s' "$n"
    elif ((${#nodes[@]} == 1)); then
        printf '%s' "${nodes[0]}"
    else
        printf '%s' -1
    fi
}

# A device DPDK drives next to its kernel driver (bifurcated): NVIDIA/Mellanox ConnectX.
is_bifurcated() {
    local vendor drv
    vendor=$(read1 "$(pci_dir "$1")/vendor")
    drv=$(dev_driver "$1")
    [[ $vendor == 0x15b3 || $drv == mlx5_core || $drv == mlx4_core ]]
}

nic_family() { # i40e, ice, mlx5, or the current driver's name
    local vendor device drv
    vendor=$(read1 "$(pci_dir "$1")/vendor")
    device=$(read1 "$(pci_dir "$1")/device")
    drv=$(dev_driver "$1")
    case $drv in
    i40e | ice) printf '%s' "$drv" && return ;;
    mlx5_core) printf mlx5 && return ;;
    esac
    if [[ $vendor == 0x15b3 ]]; then
        printf mlx5
    elif [[ $vendor == 0x8086 ]]; then
        case ${device#0x} in
        1572 | 1574 | 1580 | 1581 | 1583 | 1584 | 1585 | 1586 | 1587 | 1588 | 1589 | 158a | 158b | 37ce | 37cf | 37d0 | 37d1 | 37d2 | 37d3) printf i40e ;;
        1591 | 1592 | 1593 | 1594 | 1595 | 1599 | 159a | 159b) printf ice ;;
        *) printf '%s' "${drv:-intel}" ;;
        esac
    else
        printf '%s' "${drv:-unknown}"
    fi
}

# Why binding the NIC would cut something live: its interface is up, or has addresses or routes.
# Prints the reasons (nothing when the interface is idle).
nic_busy() {
    local bdf=$1 net ifc oper flags reasons=() v6=() routes=0 default_route=0
    local -a f
    while IFS= read -r net; do
        [[ -n $net ]] || continue
        ifc=${net##*/}
        oper=$(read1 "$net/operstate")
        flags=$(read1 "$net/flags")
        if [[ $oper == up ]]; then
            reasons+=("$ifc is UP")
        elif [[ $flags =~ ^0x[0-9a-fA-F]+$ ]] && ((flags & 1)); then
            reasons+=("$ifc is administratively up (operstate ${oper:-unknown})")
        fi
        if [[ -r $root/proc/net/if_inet6 ]]; then
            while read -ra f; do
                # address ifindex prefixlen scope flags name; scope 20 is link-local
                [[ ${#f[@]} -ge 6 && ${f[5]} == "$ifc" && ${f[3]} != 20 ]] || continue
                v6+=("$(sed -E 's/(....)/\1:/g; s/:$//; s/(^|:)0+([0-9a-f])/\1\2/g' <<<"${f[0]}")/$((16#${f[2]}))")
            done <"$root/proc/net/if_inet6"
        fi
        if [[ -r $root/proc/net/route ]]; then
            while read -ra f; do
                [[ ${#f[@]} -ge 2 && ${f[0]} == "$ifc" ]] || continue
                routes=$((routes + 1))
                [[ ${f[1]} == 00000000 ]] && default_route=1
            done < <(tail -n +2 "$root/proc/net/route")
        fi
        ((${#v6[@]})) && reasons+=("$ifc has IPv6 address(es) $(join_by ', ' "${v6[@]}")")
        ((routes)) && reasons+=("$ifc has $routes IPv4 route(s)")
        ((default_route)) && reasons+=("$ifc carries the default route (the management interface?)")
        v6=()
        routes=0
        default_route=0
    done < <(dev_iface_dirs "$bdf")
    ((${#reasons[@]} == 0)) || join_by '; ' "${reasons[@]}"
}

hugetlbfs_mounts() { # "DIR PAGESIZE_KB" per hugetlbfs mount
    local dev dir type opts default_kb kb o
    default_kb=$(awk '/^Hugepagesize:/ {print $2}' "$root/proc/meminfo" 2>/dev/null || true)
    [[ -r $root/proc/mounts ]] || return 0
    while read -r dev dir type opts _; do
        [[ $type == hugetlbfs ]] || continue
        kb=$default_kb
        local -a os
        IFS=',' read -ra os <<<"$opts"
        for o in "${os[@]}"; do
            case ${o^^} in
            PAGESIZE=2M | PAGESIZE=2048K) kb=2048 ;;
            PAGESIZE=1G | PAGESIZE=1024M) kb=1048576 ;;
            esac
        done
        printf '%s %s\n' "$dir" "${kb:-0}"
        : "$dev"
    done <"$root/proc/mounts"
}

sluiced_pids() { # the pids of the running sluiced processes, each followed by a space
    local d
    for d in "$root"/proc/[0-9]*; do
        [[ $(read1 "$d/comm") == sluiced ]] && printf '%s ' "${d##*/}"
    done
    return 0
}

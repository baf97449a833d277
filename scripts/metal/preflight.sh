# shellcheck shell=bash disable=SC2154 # (its globals are set by metal-setup.sh and the other parts)
# scripts/metal/preflight.sh, sourced by scripts/metal-setup.sh: the preflight checks, one
# `ok|warn|fail: <what> — <why>` line each: root, configuration, CPU flags, IOMMU, the bind
# driver's module, the DPDK tools, the worker CPUs, each NIC, hugepages, hugetlbfs, memlock.
# Reads only; changes nothing.

preflight() {
    section "preflight (host: ${root:-/}, config: ${config}, NICs: ${nics[*]:-none})"
    local need_iommu=0 bdf
    nics_need_iommu && need_iommu=1
    check_root
    check_config
    check_cpu_flags
    check_iommu "$need_iommu"
    check_bind_module "$need_iommu"
    check_tools
    check_worker_cpus
    for bdf in "${nics[@]}"; do check_nic "$bdf"; done
    check_hugepages
    check_hugetlbfs
    check_memlock
    printf '\npreflight: %d ok, %d warn, %d fail\n' "$n_ok" "$n_warn" "$n_fail"
}

check_root() {
    if [[ $(id -u) -eq 0 ]]; then
        ok "running as root" "binding NICs, hugepages and sluiced itself need root"
    elif ((apply)); then
        fail "running as root" "--apply changes drivers and hugepages: run it as root (sudo)"
    else
        warn "running as root" "not root: the checks below can read less, and --apply needs root"
    fi
}

check_config() {
    if [[ -n $config_problem ]]; then
        if ((${#pcis[@]})); then
            warn "configuration" "$config_problem: NICs from --pci, no worker CPUs to check (--config FILE)"
        else
            fail "configuration" "$config_problem: no NICs to check; write it (docs/metal.md) or pass --config FILE or --pci BDF"
        fi
    else
        ok "configuration" "$config: ${#cfg_devices[@]} [[port]] device(s), worker_cpus ${cfg_workers[*]:-none}, control_cpu ${cfg_control:-0}"
    fi
    if ((${#vdevs[@]})); then
        ok "virtual devices" "$(join_by ', ' "${vdevs[@]}"): not PCI, nothing to bind"
    fi
    if ((no_huge)); then
        warn "[dataplane] eal_args" "--no-huge is the lab's setting: on metal, pool and flow tables belong in hugepages (drop it, add --huge-dir=$huge_dir)"
    fi
    if ((${#nics[@]} == 0)) && [[ -z $config_problem ]]; then
        fail "NICs" "no PCI device in $config's [[port]] entries: nothing to bind (--pci BDF)"
    fi
}

check_cpu_flags() {
    local flags
    flags=$(grep -m1 '^flags' "$root/proc/cpuinfo" 2>/dev/null | cut -d: -f2 || true)
    has_flag() { [[ " $flags " == *" $1 "* ]]; }
    if [[ -z $flags ]]; then
        warn "CPU flags" "cannot read $root/proc/cpuinfo"
        return 0
    fi
    if has_flag sse4_2; then
        ok "CPU flag sse4_2" "Debian's DPDK build requires it"
    else
        fail "CPU flag sse4_2" "missing: Debian's DPDK is built for SSE4.2 CPUs and its EAL refuses to start"
    fi
    if has_flag avx2; then
        ok "CPU flag avx2" "present: DPDK's AVX2 RX/TX paths can be used"
    else
        warn "CPU flag avx2" "missing: DPDK uses its SSE paths (slower per packet)"
    fi
    if has_flag constant_tsc && has_flag nonstop_tsc; then
        ok "invariant TSC" "constant_tsc nonstop_tsc: sluiced's timers and timeouts count TSC cycles"
    else
        warn "invariant TSC" "constant_tsc/nonstop_tsc missing: TSC-based timeouts drift with frequency changes"
    fi
    if has_flag pdpe1gb; then
        ok "CPU flag pdpe1gb" "1 GiB hugepages possible (--hugepage-size 1G)"
    elif [[ $page_size == 1G ]]; then
        fail "CPU flag pdpe1gb" "missing: no 1 GiB pages on this CPU; use --hugepage-size 2M"
    else
        ok "CPU flag pdpe1gb" "missing: 1 GiB pages unavailable, 2 MiB pages are used"
    fi
}

# An IOMMU (and the bind driver's module) is needed unless every NIC is a bifurcated one (mlx5),
# which stays on its kernel driver; with no NIC at all, it is needed.
nics_need_iommu() {
    local b
    ((${#nics[@]})) || return 0
    for b in "${nics[@]}"; do is_bifurcated "$b" || return 0; done
    return 1
}

check_iommu() { # NEED_IOMMU (1/0)
    local need_iommu=$1 units=() u asked="" noiommu
    for u in "$root"/sys/class/iommu/*; do [[ -e $u ]] && units+=("${u##*/}"); done
    [[ $(cmdline_value intel_iommu) == on* ]] && asked="intel_iommu=on"
    [[ -n $(cmdline_value amd_iommu) && $(cmdline_value amd_iommu) != off ]] && asked="amd_iommu=$(cmdline_value amd_iommu)"
    noiommu=$(read1 "$root/sys/module/vfio/parameters/enable_unsafe_noiommu_mode")
    if ((${#units[@]})); then
        ok "IOMMU" "on ($(join_by ' ' "${units[@]}")): vfio-pci confines each NIC's DMA to sluiced's memory"
        if [[ $(cmdline_value iommu) != pt ]]; then
            warn "iommu=pt" "not on the kernel command line: the host's other devices translate every DMA (slower); add iommu=pt"
        fi
    elif [[ $noiommu == Y || $noiommu == 1 ]]; then
        warn "IOMMU" "none, vfio in unsafe no-IOMMU mode: works, but a NIC can DMA anywhere and the kernel is tainted; enable VT-d/AMD-Vi and boot with intel_iommu=on iommu=pt"
    elif ((!need_iommu)) && ((${#nics[@]})); then
        ok "IOMMU" "none, and not needed: the NICs stay on their bifurcated kernel driver (mlx5)"
    elif [[ -n $asked ]]; then
        fail "IOMMU" "$asked is on the kernel command line but the kernel registered no IOMMU: enable VT-d (Intel) / AMD-Vi (IOMMU) in the firmware setup"
    elif [[ $driver == uio_pci_generic ]]; then
        warn "IOMMU" "none: uio_pci_generic works without, with no DMA protection"
    else
        fail "IOMMU" "none: vfio-pci needs one; enable VT-d/AMD-Vi in the firmware and boot with intel_iommu=on iommu=pt (docs/metal.md)"
    fi
    if [[ $driver == uio_pci_generic ]]; then
        warn "driver uio_pci_generic" "no IOMMU protection (the NIC can DMA anywhere in memory), no MSI-X (no link-state interrupt); prefer vfio-pci"
    fi
}

check_bind_module() { # NEED_IOMMU (1/0)
    local need_iommu=$1 mod=${driver//-/_}
    if [[ -d $root/sys/module/$mod ]]; then
        ok "module $driver" "loaded"
    elif [[ -z $root ]] && command -v modinfo >/dev/null 2>&1 && modinfo "$driver" >/dev/null 2>&1; then
        ok "module $driver" "available, not loaded: bind runs modprobe $driver"
    elif compgen -G "$root/lib/modules/*/kernel/drivers/*/*/$mod.ko*" >/dev/null ||
        compgen -G "$root/lib/modules/*/kernel/drivers/*/$mod.ko*" >/dev/null; then
        ok "module $driver" "available, not loaded: bind runs modprobe $driver"
    elif ((need_iommu)); then
        fail "module $driver" "not loaded and not found: Debian's stock kernel (linux-image-amd64) ships it; is kmod installed (modinfo, modprobe)?"
    else
        ok "module $driver" "not found, and not needed for these NICs"
    fi
}

check_tools() { # the tools the apply steps run
    local t missing=()
    for t in dpdk-devbind.py dpdk-hugepages.py; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
    if ((${#missing[@]})); then
        fail "DPDK tools" "$(join_by ' ' "${missing[@]}") not found: apt-get install dpdk"
    else
        ok "DPDK tools" "dpdk-devbind.py and dpdk-hugepages.py (Debian package dpdk)"
    fi
}

check_worker_cpus() { # existence, isolation, tickless, control CPU, hyperthreads
    if ((${#cfg_workers[@]} == 0)); then
        if [[ -z $config_problem ]]; then warn "worker CPUs" "none in $config's [dataplane] worker_cpus"; fi
        return 0
    fi
    local online online_list=() c absent=()
    online=$(read1 "$root/sys/devices/system/cpu/online")
    [[ -n $online ]] && read -ra online_list <<<"$(expand_list "$online")"
    for c in "${cfg_workers[@]}" ${cfg_control:+"$cfg_control"}; do
        if ((${#online_list[@]})) && ! in_list "$c" "${online_list[@]}"; then
            in_list "$c" "${absent[@]}" || absent+=("$c")
        fi
    done
    if ((${#absent[@]})); then
        fail "CPUs" "$(join_by ',' "${absent[@]}") not online here (online: $online): fix worker_cpus / control_cpu"
    fi
    local isolated_sys isolated=() nohz=() nocbs=() not_iso=() not_nohz=() wl
    isolated_sys=$(read1 "$root/sys/devices/system/cpu/isolated")
    read -ra isolated <<<"$(expand_list "$isolated_sys")"
    if ((${#isolated[@]} == 0)); then read -ra isolated <<<"$(expand_list "$(cmdline_value isolcpus)")"; fi
    read -ra nohz <<<"$(expand_list "$(cmdline_value nohz_full)")"
    read -ra nocbs <<<"$(expand_list "$(cmdline_value rcu_nocbs)")"
    for c in "${cfg_workers[@]}"; do
        in_list "$c" "${isolated[@]}" || not_iso+=("$c")
        { in_list "$c" "${nohz[@]}" && in_list "$c" "${nocbs[@]}"; } || not_nohz+=("$c")
    done
    wl=$(join_by ',' "${cfg_workers[@]}")
    if ((${#not_iso[@]})); then
        warn "worker CPUs isolated" "$(join_by ',' "${not_iso[@]}") not isolated (isolated: ${isolated_sys:-none}): the scheduler puts other tasks there (latency spikes, drops under load); boot with isolcpus=$wl nohz_full=$wl rcu_nocbs=$wl"
    else
        ok "worker CPUs isolated" "$wl in isolcpus: the scheduler leaves them to sluiced"
    fi
    if ((${#not_nohz[@]})); then
        warn "worker CPUs tickless" "$(join_by ',' "${not_nohz[@]}") not in both nohz_full= and rcu_nocbs=: timer ticks and RCU callbacks interrupt the poll loop; boot with nohz_full=$wl rcu_nocbs=$wl"
    else
        ok "worker CPUs tickless" "$wl in nohz_full and rcu_nocbs"
    fi
    if [[ -n $cfg_control ]] && in_list "$cfg_control" "${cfg_workers[@]}"; then
        warn "control_cpu" "$cfg_control is also a worker CPU: health checks and the control socket steal its polls"
    fi
    check_worker_hyperthreads
}

check_worker_hyperthreads() {
    local c sib shared=()
    for c in "${cfg_workers[@]}"; do
        for sib in $(expand_list "$(read1 "$root/sys/devices/system/cpu/cpu$c/topology/thread_siblings_list")"); do
            [[ $sib != "$c" ]] && in_list "$sib" "${cfg_workers[@]}" && ((c < sib)) && shared+=("$c+$sib")
        done
    done
    if ((${#shared[@]})); then
        warn "worker hyperthreads" "$(join_by ', ' "${shared[@]}") are hyperthreads of one core: each worker gets about half a core; pick one thread per core"
    fi
}

check_nic() { # BDF: identity, class, driver, DDP package, then in use, IOMMU group, NUMA node
    local bdf=$1 dir vendor device drv fam ifcs other
    dir=$(pci_dir "$bdf")
    if [[ ! -e $dir ]]; then
        fail "NIC $bdf" "no such PCI device here ($root/sys/bus/pci/devices/$bdf): \`lspci -D\` lists the host's; fix [[port]] device"
        return 0
    fi
    vendor=$(read1 "$dir/vendor")
    device=$(read1 "$dir/device")
    drv=$(dev_driver "$bdf")
    fam=$(nic_family "$bdf")
    ifcs=$(dev_ifaces "$bdf" | paste -sd, -)
    ok "NIC $bdf" "${vendor#0x}:${device#0x} ($fam), driver ${drv:-none}${ifcs:+, interface $ifcs}"
    other=$(not_a_nic "$bdf")
    if [[ -n $other ]]; then
        fail "NIC $bdf class" "$other; check [[port]] device / --pci"
        return 0
    fi
    check_nic_driver "$bdf" "$drv"
    if [[ $fam == ice ]] && ! compgen -G "$root/lib/firmware/updates/intel/ice/ddp/ice*.pkg" >/dev/null &&
        ! compgen -G "$root/lib/firmware/intel/ice/ddp/ice*.pkg" >/dev/null; then
        fail "NIC $bdf DDP package" "no /lib/firmware/intel/ice/ddp/ice.pkg: DPDK's ice PMD refuses the port without it ('Failed to load the DDP package'; safe mode has no RSS); install the E810 OS default DDP package (docs/metal.md)"
    fi
    check_nic_in_use "$bdf" "$drv" "$ifcs"
    check_nic_iommu_group "$bdf" "$dir"
    check_nic_numa "$bdf"
}

check_nic_driver() { # BDF DRIVER: the driver it is on and what binding does to it
    local bdf=$1 drv=$2
    if is_bifurcated "$bdf"; then
        if [[ $drv == vfio-pci || $drv == uio_pci_generic ]]; then
            fail "NIC $bdf driver" "mlx5 on $drv: DPDK's mlx5 PMD runs beside the kernel's mlx5_core, never on vfio-pci; \`dpdk-devbind.py -b mlx5_core $bdf\`"
        else
            ok "NIC $bdf driver" "${drv:-none}: mlx5 is bifurcated, it stays on mlx5_core (bind skips it); needs the mlx5_ib and ib_uverbs modules and rdma-core's libibverbs"
            if [[ ! -d $root/sys/module/ib_uverbs || ! -d $root/sys/module/mlx5_ib ]]; then
                warn "NIC $bdf RDMA modules" "mlx5_ib / ib_uverbs not loaded: the mlx5 PMD finds no device; modprobe mlx5_ib ib_uverbs"
            fi
        fi
    elif [[ $drv == "$driver" ]]; then
        ok "NIC $bdf driver" "already on $driver"
    else
        ok "NIC $bdf driver" "${drv:-none} now: bind moves it to $driver (undo moves it back)"
    fi
}

check_nic_in_use() { # BDF DRIVER INTERFACES: binding takes the kernel interface away
    local bdf=$1 drv=$2 ifcs=$3 busy
    if ! is_bifurcated "$bdf" && [[ $drv != "$driver" ]]; then
        busy=$(nic_busy "$bdf")
        if [[ -n $busy ]]; then
            if ((force)); then
                warn "NIC $bdf in use" "$busy: --force given, binding cuts it"
            else
                fail "NIC $bdf in use" "$busy: binding it would cut this live interface; \`ip link set DEV down\` and remove its addresses first, or pass --force"
            fi
        elif [[ -n $ifcs ]]; then
            ok "NIC $bdf in use" "$ifcs is down without addresses: safe to take from the kernel"
        fi
    fi
}

check_nic_iommu_group() { # BDF DIR: vfio needs every device of the group on vfio-pci (or on no driver)
    local bdf=$1 dir=$2 member mdrv others=()
    if [[ $driver == vfio-pci ]] && ! is_bifurcated "$bdf" && [[ -d $dir/iommu_group/devices ]]; then
        for member in "$dir"/iommu_group/devices/*; do
            member=${member##*/}
            [[ $member == "$bdf" ]] && continue
            in_list "$member" "${nics[@]}" && continue
            mdrv=$(dev_driver "$member")
            [[ -z $mdrv || $mdrv == vfio-pci || $mdrv == pcieport ]] && continue
            others+=("$member ($mdrv)")
        done
        if ((${#others[@]})); then
            fail "NIC $bdf IOMMU group" "$(basename "$(readlink "$dir/iommu_group")") also holds $(join_by ', ' "${others[@]}"): vfio needs the whole group on vfio-pci; bind those too (--pci) or move the card to a slot with its own group"
        fi
    fi
}

check_nic_numa() { # BDF
    local bdf=$1 node far=() c
    node=$(nic_node "$bdf")
    if [[ $node == -1 ]]; then
        if ((${#nodes[@]} > 1)); then
            warn "NIC $bdf NUMA node" "unknown (numa_node -1) on a ${#nodes[@]}-node host: the firmware gives no locality; check the slot's socket in the board manual"
        else
            ok "NIC $bdf NUMA node" "no NUMA information (one-node host)"
        fi
    elif ((${#cfg_workers[@]})); then
        for c in "${cfg_workers[@]}"; do
            [[ -n ${cpu_node[$c]:-} && ${cpu_node[$c]} != "$node" ]] && far+=("$c(node ${cpu_node[$c]})")
        done
        if ((${#far[@]})); then
            warn "NIC $bdf NUMA node" "NIC on node $node, worker CPUs $(join_by ' ' "${far[@]}") elsewhere: their packets cross the socket interconnect; pick worker_cpus from node $node ($(read1 "$root/sys/devices/system/node/node$node/cpulist"))"
        else
            ok "NIC $bdf NUMA node" "node $node, like the worker CPUs ($(join_by ',' "${cfg_workers[@]}"))"
        fi
    else
        ok "NIC $bdf NUMA node" "node $node"
    fi
}

check_hugepages() { # the counts of each page size, per node; the size asked against memory
    local hp size_kb nr free per_node nd sizes_seen=0 mem_kb nh what detail want_nodes=1
    for hp in "$root"/sys/kernel/mm/hugepages/hugepages-*kB; do
        [[ -d $hp ]] || continue
        sizes_seen=1
        size_kb=${hp##*/hugepages-}
        size_kb=${size_kb%kB}
        nr=$(read1 "$hp/nr_hugepages")
        free=$(read1 "$hp/free_hugepages")
        per_node=()
        for nd in "${nodes[@]}"; do
            nh="$root/sys/devices/system/node/node$nd/hugepages/hugepages-${size_kb}kB"
            [[ -d $nh ]] && per_node+=("node$nd $(read1 "$nh/nr_hugepages")/$(read1 "$nh/free_hugepages")")
        done
        what="hugepages ${size_kb} kB"
        detail="${nr:-?} reserved, ${free:-?} free${per_node[*]:+ (reserved/free: $(join_by ', ' "${per_node[@]}"))}"
        if [[ $size_kb != "$page_kb" ]]; then
            ok "$what" "$detail"
        elif [[ ${nr:-0} == 0 ]]; then
            warn "$what" "$detail: none yet; \`$prog --apply hugepages\` reserves $hugepages_per_node per node, or boot with hugepages="
        else
            ok "$what" "$detail"
        fi
    done
    if ((!sizes_seen)); then
        fail "hugepages" "no $root/sys/kernel/mm/hugepages: this kernel has no hugetlbfs support"
    elif [[ ! -d $root/sys/kernel/mm/hugepages/hugepages-${page_kb}kB ]]; then
        fail "hugepages $page_kb kB" "this kernel offers no $page_size pages (1G needs pdpe1gb and, best, hugepagesz=1G hugepages=N at boot)"
    fi
    mem_kb=$(awk '/^MemTotal:/ {print $2}' "$root/proc/meminfo" 2>/dev/null || true)
    ((${#nodes[@]} > 1)) && want_nodes=${#nodes[@]}
    if [[ $mem_kb =~ ^[0-9]+$ ]] && ((hugepages_per_node * page_kb * want_nodes > mem_kb * 8 / 10)); then
        warn "hugepages size" "$hugepages_per_node × $page_size per node is over 80% of this host's $((mem_kb / 1024)) MiB: lower --hugepages"
    fi
}

check_hugetlbfs() { # a hugetlbfs mount at huge_dir, with the page size asked
    local mounts m_dir m_kb found=0 listed=() where src
    mounts=$(hugetlbfs_mounts)
    while read -r m_dir m_kb; do
        [[ -n $m_dir ]] || continue
        listed+=("$m_dir")
        if [[ $m_dir == "$huge_dir" ]]; then
            found=1
            if [[ $m_kb != "$page_kb" ]]; then
                warn "hugetlbfs $huge_dir" "mounted with $m_kb kB pages, not $page_size: EAL with --huge-dir=$huge_dir uses only those; mount one with -o pagesize=$page_size and point --huge-dir at it"
            else
                ok "hugetlbfs $huge_dir" "mounted, $page_size pages"
            fi
        fi
    done <<<"$mounts"
    if ((!found)); then
        where="not mounted"
        ((${#listed[@]})) && where="not mounted there (hugetlbfs at $(join_by ', ' "${listed[@]}"))"
        src="the default"
        ((huge_dir_from_config)) && src="--huge-dir in eal_args"
        warn "hugetlbfs $huge_dir" "$where ($src): \`$prog --apply hugepages\` mounts it"
    fi
}

check_memlock() {
    local memlock
    memlock=$(ulimit -l)
    if [[ $memlock == unlimited ]]; then
        ok "memlock limit" "unlimited"
    else
        warn "memlock limit" "$memlock KiB in this shell: sluiced.service sets LimitMEMLOCK=infinity; by hand run \`ulimit -l unlimited\` first (vfio locks DMA memory)"
    fi
}

# shellcheck shell=bash disable=SC2154 # (its globals are set by metal-setup.sh and the other parts)
# scripts/metal/apply.sh, sourced by scripts/metal-setup.sh: planning the two changes, as actions
# (actions.sh) that a dry run prints and --apply runs: hugepages (reserve on the NICs' and sluiced's
# CPUs' NUMA nodes, mount hugetlbfs) and bind (modprobe the driver, bind each NIC to it).

plan_hugepages() {
    section "hugepages: $hugepages_per_node × $page_size per NUMA node, hugetlbfs at $huge_dir"
    local targets=() n c b
    if ((numa_sysfs)) && ((${#nodes[@]})); then
        for b in "${nics[@]}"; do
            n=$(nic_node "$b")
            [[ $n != -1 ]] && ! in_list "node$n" "${targets[@]}" && targets+=("node$n")
        done
        for c in "${cfg_workers[@]}" ${cfg_control:+"$cfg_control"}; do
            n=${cpu_node[$c]:-}
            [[ -n $n ]] && ! in_list "node$n" "${targets[@]}" && targets+=("node$n")
        done
        if ((${#targets[@]} == 0)); then
            for n in "${nodes[@]}"; do targets+=("node$n"); done
        fi
    else
        targets=(global)
    fi
    local t f cur
    for t in "${targets[@]}"; do
        f=$(hugepage_file "$t" "$page_kb")
        if [[ ! -r $f ]]; then
            fail "hugepages $t" "no $f: this kernel offers no $page_size pages there"
            continue
        fi
        cur=$(read1 "$f")
        if [[ $cur =~ ^[0-9]+$ ]] && ((cur >= hugepages_per_node)); then
            ok "hugepages $t" "$cur × $page_size reserved already (asked $hugepages_per_node): nothing to do"
            continue
        fi
        ok "hugepages $t" "${cur:-0} × $page_size now: reserve $hugepages_per_node"
        actions+=("record|hugepages_previous.$t.${page_kb}kB|${cur:-0}")
        hugepage_cmd "$t" "$page_kb" "$hugepages_per_node"
        actions+=("record|hugepages_reserved.$t.${page_kb}kB|$hugepages_per_node")
    done
    local m_dir m_kb mounted=0
    while read -r m_dir m_kb; do
        [[ $m_dir == "$huge_dir" ]] && mounted=1
        : "$m_kb"
    done <<<"$(hugetlbfs_mounts)"
    if ((mounted)); then
        ok "hugetlbfs $huge_dir" "mounted already"
    else
        [[ -d $root$huge_dir ]] || actions+=("run|mkdir|-p|$huge_dir")
        local mount="run|dpdk-hugepages.py|-p|$page_size|-m"
        [[ $huge_dir != /dev/hugepages ]] && mount+="|-d|$huge_dir"
        actions+=("record|hugepages_mounted|$huge_dir" "$mount")
    fi
}

plan_bind() {
    section "bind: NICs to $driver"
    local bdf drv busy to_bind=()
    for bdf in "${nics[@]}"; do
        if [[ ! -e $(pci_dir "$bdf") ]]; then
            fail "bind $bdf" "no such PCI device"
            continue
        fi
        drv=$(dev_driver "$bdf")
        busy=$(not_a_nic "$bdf")
        if [[ -n $busy ]]; then
            fail "bind $bdf" "refused: $busy"
            continue
        fi
        if is_bifurcated "$bdf"; then
            ok "bind $bdf" "mlx5 (bifurcated): stays on ${drv:-mlx5_core}"
            continue
        fi
        if [[ $drv == "$driver" ]]; then
            ok "bind $bdf" "already on $driver"
            continue
        fi
        busy=$(nic_busy "$bdf")
        if [[ -n $busy ]] && ((!force)); then
            fail "bind $bdf" "refused: $busy (binding cuts it; take it down or --force)"
            continue
        fi
        ok "bind $bdf" "${drv:-no driver} -> $driver"
        to_bind+=("$bdf|${drv:-none}")
    done
    ((${#to_bind[@]})) || return 0
    actions+=("run|modprobe|$driver")
    local entry prev cmd
    for entry in "${to_bind[@]}"; do
        bdf=${entry%%|*}
        prev=${entry#*|}
        actions+=("record|nic_previous_driver.$bdf|$prev")
        cmd="run|dpdk-devbind.py|-b|$driver"
        ((force)) && cmd+="|--force"
        actions+=("$cmd|$bdf" "expect_driver|$bdf|$driver" "record|nic_bound_driver.$bdf|$driver")
    done
}

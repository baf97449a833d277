# shellcheck shell=bash disable=SC2154 # (its globals are set by metal-setup.sh and the other parts)
# scripts/metal/undo.sh, sourced by scripts/metal-setup.sh: planning undo from the state file the
# apply steps wrote: each NIC back to its previous driver, hugetlbfs unmounted if metal-setup.sh
# mounted it, each hugepage count back to what it was, then the state file removed.

plan_undo() {
    section "undo: from $state"
    if [[ ! -f $state ]]; then
        ok "state file" "$state does not exist: nothing to undo"
        return
    fi
    local pids
    pids=$(sluiced_pids)
    if [[ -n $pids ]]; then
        if ((apply)); then
            fail "sluiced" "running (pid ${pids% }): systemctl stop sluiced first, it holds the NICs and hugepages"
        else
            warn "sluiced" "running (pid ${pids% }): stop it before undo --apply"
        fi
    fi
    local lineno=0 line k v entry mounted=""
    local -a nic_lines=() page_lines=()
    while IFS= read -r line || [[ -n $line ]]; do
        lineno=$((lineno + 1))
        [[ -z ${line//[[:space:]]/} || $line == \#* ]] && continue
        if [[ $line != *=* ]]; then
            fail "state file" "$state:$lineno: not key=value: '$line'"
            continue
        fi
        k=${line%%=*}
        v=${line#*=}
        case $k in
        nic_previous_driver.*) nic_lines+=("${k#nic_previous_driver.}|$v") ;;
        hugepages_previous.*.*kB) page_lines+=("${k#hugepages_previous.}|$v") ;;
        hugepages_mounted) mounted=$v ;;
        nic_bound_driver.* | hugepages_reserved.*) ;;
        *) warn "state file" "$state:$lineno: unknown key '$k', ignored" ;;
        esac
    done <"$state"
    for entry in "${nic_lines[@]}"; do undo_nic "${entry%%|*}" "${entry#*|}"; done
    if [[ -n $mounted ]]; then undo_mount "$mounted"; fi
    for entry in "${page_lines[@]}"; do undo_hugepages "${entry%%|*}" "${entry#*|}"; done
    actions+=("drop_state")
}

undo_nic() { # BDF DRIVER (the state file's nic_previous_driver.BDF=DRIVER; none: it had none)
    local bdf=$1 drv=$2 cur
    if ! normalize_bdf "$bdf" >/dev/null || [[ ! $drv =~ ^[A-Za-z0-9_-]+$ ]]; then
        fail "undo $bdf" "bad entry in $state: nic_previous_driver.$bdf=$drv"
        return 0
    fi
    if [[ ! -e $(pci_dir "$bdf") ]]; then
        warn "undo $bdf" "no such PCI device any more: skipped"
        return 0
    fi
    cur=$(dev_driver "$bdf")
    if [[ $cur == "$drv" || ($drv == none && -z $cur) ]]; then
        ok "undo $bdf" "on $drv already"
        return 0
    fi
    if [[ $drv == none ]]; then
        ok "undo $bdf" "${cur:-none} -> no driver (it had none)"
        actions+=("run|dpdk-devbind.py|-u|$bdf" "expect_driver|$bdf|")
    else
        ok "undo $bdf" "${cur:-none} -> $drv (its driver before metal-setup.sh)"
        actions+=("run|dpdk-devbind.py|-b|$drv|$bdf" "expect_driver|$bdf|$drv")
    fi
}

undo_mount() { # DIR (the state file's hugepages_mounted=DIR)
    local mounted=$1 m_dir m_kb is_mounted=0
    while read -r m_dir m_kb; do
        [[ $m_dir == "$mounted" ]] && is_mounted=1
        : "$m_kb"
    done <<<"$(hugetlbfs_mounts)"
    if ((is_mounted)); then
        ok "undo hugetlbfs" "unmount $mounted (metal-setup.sh mounted it)"
        actions+=("run|dpdk-hugepages.py|-u|-d|$mounted")
    else
        ok "undo hugetlbfs" "$mounted not mounted any more"
    fi
}

undo_hugepages() { # TARGET.SIZEkB COUNT (the state file's hugepages_previous.TARGET.SIZEkB=COUNT)
    local k=$1 v=$2 t size_kb cur
    t=${k%%.*}
    size_kb=${k#*.}
    size_kb=${size_kb%kB}
    if [[ ! $t =~ ^(node[0-9]+|global)$ || ! $size_kb =~ ^[0-9]+$ || ! $v =~ ^[0-9]+$ ]]; then
        fail "undo hugepages" "bad entry in $state: hugepages_previous.$k=$v"
        return 0
    fi
    cur=$(read1 "$(hugepage_file "$t" "$size_kb")")
    if [[ $cur == "$v" ]]; then
        ok "undo hugepages $t" "$v × $size_kb kB already"
        return 0
    fi
    ok "undo hugepages $t" "${cur:-?} -> $v × $size_kb kB (the count before metal-setup.sh)"
    hugepage_cmd "$t" "$size_kb" "$v"
}

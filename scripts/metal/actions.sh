# shellcheck shell=bash disable=SC2154 # (its globals are set by metal-setup.sh and the other parts)
# scripts/metal/actions.sh, sourced by scripts/metal-setup.sh: the plan-then-run machinery. The
# plan_* steps append actions; execute prints them (dry run) or runs them (--apply), recording what
# --apply changed in the state file (plain key=value lines) for undo. Also the dpdk-hugepages.py
# command lines for a hugepage count.

actions=() # "run|CMD|ARG…", "record|KEY|VALUE", "expect_driver|BDF|DRIVER", "expect_pages|FILE|N", "drop_state"

declare -A state_keys=()
state_has() { [[ -n ${state_keys[$1]+x} ]]; }
load_state_keys() {
    local k v
    [[ -r $state ]] || return 0
    while IFS='=' read -r k v; do
        [[ -z $k || $k == \#* ]] && continue
        state_keys[$k]=$v
    done <"$state"
}

record() {
    if ((apply)); then
        if state_has "$1"; then
            printf 'kept: %s=%s (recorded earlier)\n' "$1" "${state_keys[$1]}"
            return
        fi
        mkdir -p "$(dirname "$state")"
        [[ -s $state ]] || printf '# written by scripts/metal-setup.sh --apply; read by metal-setup.sh undo\n' >"$state"
        printf '%s=%s\n' "$1" "$2" >>"$state"
        state_keys[$1]=$2
        printf 'recorded: %s=%s (%s)\n' "$1" "$2" "$state"
    else
        printf 'would record: %s=%s (%s)\n' "$1" "$2" "$state"
    fi
}

package_of() {
    case $1 in
    dpdk-*) printf 'apt-get install dpdk' ;;
    modprobe) printf 'apt-get install kmod' ;;
    *) printf 'install it' ;;
    esac
}

run_cmd() {
    local shown
    shown=$(printf '%q ' "$@")
    shown=${shown% }
    if ((!apply)); then
        printf 'would run: %s\n' "$shown"
        return 0
    fi
    if ! command -v "$1" >/dev/null 2>&1; then
        printf '%s: %s: command not found (%s)\n' "$prog" "$1" "$(package_of "$1")" >&2
        return 1
    fi
    printf 'running: %s\n' "$shown"
    local rc=0
    "$@" || rc=$?
    if ((rc)); then
        printf "%s: '%s' failed with status %d\n" "$prog" "$shown" "$rc" >&2
        return 1
    fi
}

execute() {
    local a
    local -a p
    for a in "${actions[@]}"; do
        IFS='|' read -ra p <<<"$a"
        case ${p[0]} in
        run) run_cmd "${p[@]:1}" || return 1 ;;
        record) record "${p[1]}" "${p[2]}" ;;
        expect_driver)
            if ((apply)); then
                local now
                now=$(dev_driver "${p[1]}")
                if [[ $now != "${p[2]:-}" ]]; then
                    printf '%s: %s is on %s, not %s, after dpdk-devbind.py (see its messages above)\n' \
                        "$prog" "${p[1]}" "${now:-no driver}" "${p[2]:-no driver}" >&2
                    return 1
                fi
            fi
            ;;
        expect_pages)
            if ((apply)); then
                local got
                got=$(read1 "${p[1]}")
                if [[ $got != "${p[2]}" ]]; then
                    printf '%s: %s is %s, not %s: the kernel found too little contiguous memory; reserve at boot (hugepages=) instead\n' \
                        "$prog" "${p[1]}" "${got:-unreadable}" "${p[2]}" >&2
                    return 1
                fi
            fi
            ;;
        drop_state)
            if ((apply)); then
                rm -f "$state"
                printf 'removed: %s\n' "$state"
            else
                printf 'would remove: %s\n' "$state"
            fi
            ;;
        esac
    done
}

size_arg() { # KB [PAGE_KB] -> a dpdk-hugepages.py size: in G for 1 GiB pages, else in M
    local kb=$1 page_kb=${2:-$1}
    if ((page_kb % 1048576 == 0 && kb % 1048576 == 0)); then
        printf '%dG' $((kb / 1048576))
    elif ((kb % 1024 == 0)); then
        printf '%dM' $((kb / 1024))
    else
        printf '%dK' "$kb"
    fi
}

hugepage_file() { # TARGET (nodeN or global) SIZE_KB -> its nr_hugepages file
    if [[ $1 == global ]]; then
        printf '%s/sys/kernel/mm/hugepages/hugepages-%skB/nr_hugepages' "$root" "$2"
    else
        printf '%s/sys/devices/system/node/%s/hugepages/hugepages-%skB/nr_hugepages' "$root" "$1" "$2"
    fi
}

hugepage_cmd() { # TARGET SIZE_KB PAGES -> actions to set that count
    local cmd
    cmd="run|dpdk-hugepages.py|-p|$(size_arg "$2")"
    [[ $1 != global ]] && cmd+="|-n|${1#node}"
    actions+=("$cmd|-r|$(size_arg $(($2 * $3)) "$2")")
    actions+=("expect_pages|$(hugepage_file "$1" "$2")|$3")
}

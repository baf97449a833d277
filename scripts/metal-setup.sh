#!/usr/bin/env bash
# metal-setup.sh: gets a bare-metal host ready for sluiced, and back. docs/metal.md walks through it.
#
#   metal-setup.sh [preflight|hugepages|bind|all|undo] [options]
#
#   preflight  (default) checks the host and each NIC, one line each:
#              `ok|warn|fail: <what> — <why it matters / how to fix>`; changes nothing
#   hugepages  reserves hugepages on the NICs' and sluiced's CPUs' NUMA nodes
#              (dpdk-hugepages.py) and mounts hugetlbfs
#   bind       loads vfio-pci and binds each NIC to it (dpdk-devbind.py)
#   all        preflight, hugepages, bind
#   undo       rebinds each NIC to the driver it had and restores the hugepage counts, from the
#              state file the apply steps wrote
#
# Dry run by default: each command is printed as `would run: …` and nothing changes; --apply
# runs them (as root) and records what it changed in the state file (plain key=value lines,
# default /run/sluice-metal-setup.state: /run, like the changes, does not outlive a reboot; not in
# /run/sluice/, which systemd deletes whenever sluiced.service stops).
# Exit status: 0 no check failed; 1 a check or a command failed; 2 usage error.
#
# SLUICE_METAL_ROOT (tests only, default empty = the real /): a prefix for every file the script
# reads (/sys, /proc/cmdline, /proc/cpuinfo, /proc/meminfo, /proc/mounts, /proc/net, /lib/firmware),
# so tests can point it at a fake host tree. The commands still act on this host, so --apply is
# refused while it is set, unless SLUICE_METAL_ALLOW_APPLY=1 (tests with stub commands on PATH).
# No network access, no package installs.
#
# This file holds the arguments, the usage text and the dispatch; the rest is in scripts/metal/
# beside it (found through this file's real path, so a symlink to it works too), sourced below:
# common.sh (output, helpers), host.sh (reading the host), config.sh (the TOML file), preflight.sh
# (the checks), actions.sh (dry run or --apply, the state file), apply.sh (hugepages, bind),
# undo.sh. Copy that directory along with this file.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

prog=metal-setup.sh
usage_line="$prog [preflight|hugepages|bind|all|undo] [--dry-run|--apply] [--config FILE] [--pci BDF]... [--hugepages N] [--hugepage-size 2M|1G] [--driver vfio-pci|uio_pci_generic] [--state FILE] [--force]"

print_usage() {
    cat <<EOF
usage: $usage_line

subcommands:
  preflight   check the host and the NICs (default); changes nothing
  hugepages   reserve N hugepages on each NUMA node of the NICs and of sluiced's CPUs, mount hugetlbfs
  bind        modprobe the driver and bind each NIC to it (mlx5 NICs stay on mlx5_core)
  all         preflight, hugepages and bind
  undo        rebind the NICs to their previous drivers, restore the hugepage counts (state file)

options:
  --dry-run             print each command as 'would run: …' and change nothing (the default)
  --apply               run the commands (root); record what changed in the state file
  --config FILE         Sluice configuration to read [[port]] device, [dataplane] worker_cpus,
                        control_cpu and eal_args from (default /etc/sluice/sluice.toml)
  --pci BDF             a NIC's PCI address (repeatable); replaces the config's [[port]] devices
  --hugepages N         hugepages to have on each node (default 1024 of 2 MiB, 2 of 1 GiB)
  --hugepage-size SIZE  2M (default) or 1G (needs the CPU flag pdpe1gb)
  --driver DRIVER       vfio-pci (default) or uio_pci_generic (no IOMMU protection)
  --state FILE          state file (default /run/sluice-metal-setup.state)
  --force               bind NICs whose kernel interface is up or has addresses
  -h, --help            this text

exit status: 0 no check failed, 1 a check or a command failed, 2 usage error
environment: SLUICE_METAL_ROOT (tests only) prefixes every file read; see the script's header
EOF
}

usage_error() {
    printf '%s: %s\n' "$prog" "$1" >&2
    printf 'usage: %s\n' "$usage_line" >&2
    exit 2
}

# ---- the parts -------------------------------------------------------------------------------

metal_dir="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/metal"
for part in common host config preflight actions apply undo; do
    if [[ ! -r $metal_dir/$part.sh ]]; then
        printf '%s: %s is missing: %s needs the scripts/metal/ directory beside it (copy both)\n' \
            "$prog" "$metal_dir/$part.sh" "$prog" >&2
        exit 1
    fi
done
# shellcheck source=metal/common.sh
source "$metal_dir/common.sh"
# shellcheck source=metal/host.sh
source "$metal_dir/host.sh"
# shellcheck source=metal/config.sh
source "$metal_dir/config.sh"
# shellcheck source=metal/preflight.sh
source "$metal_dir/preflight.sh"
# shellcheck source=metal/actions.sh
source "$metal_dir/actions.sh"
# shellcheck source=metal/apply.sh
source "$metal_dir/apply.sh"
# shellcheck source=metal/undo.sh
source "$metal_dir/undo.sh"

# ---- arguments -------------------------------------------------------------------------------

subcommand=""
mode=""
config=/etc/sluice/sluice.toml
config_given=0
pcis=()
hugepages_per_node=""
page_size=2M
driver=vfio-pci
state=/run/sluice-metal-setup.state
state_given=0
force=0
apply=0
root=""
page_kb=""

parse_args() { # ARG...: the subcommand and the options' variables; usage_error on a bad one
    local arg opt value has_value want
    while (($#)); do
        arg=$1
        shift
        has_value=0
        value=""
        opt=$arg
        if [[ $arg == --*=* ]]; then
            opt=${arg%%=*}
            value=${arg#*=}
            has_value=1
        fi
        case $opt in
        -h | --help)
            print_usage
            exit 0
            ;;
        --dry-run | --apply | --force)
            ((has_value)) && usage_error "$opt takes no value (got '$arg')"
            case $opt in
            --force) force=1 ;;
            *)
                want=${opt#--}
                [[ -n $mode && $mode != "$want" ]] && usage_error "--apply and --dry-run exclude each other"
                mode=$want
                ;;
            esac
            ;;
        --config | --pci | --hugepages | --hugepage-size | --driver | --state)
            if ((!has_value)); then
                (($#)) || usage_error "$opt needs a value"
                [[ $1 == --* ]] && usage_error "$opt needs a value (got the option '$1')"
                value=$1
                shift
            fi
            take_option "$opt" "$value"
            ;;
        -*) usage_error "unknown option '$arg'" ;;
        *)
            case $arg in
            preflight | hugepages | bind | all | undo) ;;
            *) usage_error "unknown subcommand '$arg' (preflight, hugepages, bind, all, undo)" ;;
            esac
            [[ -n $subcommand ]] && usage_error "one subcommand at a time (got '$subcommand' and '$arg')"
            subcommand=$arg
            ;;
        esac
    done
}

take_option() { # OPTION VALUE, for the options that take a value
    local opt=$1 value=$2 bdf
    case $opt in
    --config)
        config=$value
        config_given=1
        ;;
    --pci)
        bdf=$(normalize_bdf "$value") ||
            usage_error "--pci: '$value' is not a PCI address (DDDD:BB:DD.F, e.g. 0000:03:00.0)"
        pcis+=("$bdf")
        ;;
    --hugepages)
        [[ $value =~ ^[1-9][0-9]{0,6}$ ]] ||
            usage_error "--hugepages: '$value' is not a number of pages from 1 to 9999999"
        hugepages_per_node=$value
        ;;
    --hugepage-size)
        case ${value^^} in
        2M | 2048K | 2048KB) page_size=2M ;;
        1G | 1024M | 1048576K | 1048576KB) page_size=1G ;;
        *) usage_error "--hugepage-size: '$value' is not 2M or 1G" ;;
        esac
        ;;
    --driver)
        case $value in
        vfio-pci | vfio_pci) driver=vfio-pci ;;
        uio_pci_generic | uio-pci-generic) driver=uio_pci_generic ;;
        *) usage_error "--driver: '$value' is not vfio-pci or uio_pci_generic" ;;
        esac
        ;;
    --state)
        [[ -n $value ]] || usage_error "--state: empty file name"
        state=$value
        state_given=1
        ;;
    esac
}

check_args() { # after parse_args: the defaults, and the checks that span options and environment
    subcommand=${subcommand:-preflight}
    apply=0
    [[ $mode == apply ]] && apply=1

    root=${SLUICE_METAL_ROOT:-}
    root=${root%/}
    if [[ -n $root && ! -d $root ]]; then
        usage_error "SLUICE_METAL_ROOT: '$root' is not a directory"
    fi
    if ((apply)) && [[ -n $root && ${SLUICE_METAL_ALLOW_APPLY:-} != 1 ]]; then
        usage_error "--apply with SLUICE_METAL_ROOT set: the checks read '$root' but the commands would change this host (tests set SLUICE_METAL_ALLOW_APPLY=1 with stub commands)"
    fi
    if ((config_given)) && [[ ! -f $config || ! -r $config ]]; then
        usage_error "--config: '$config' is not a readable file"
    fi
    if ((state_given)) && [[ $subcommand == undo && ! -f $state ]]; then
        usage_error "--state: '$state' does not exist"
    fi

    case $page_size in
    2M) page_kb=2048 ;;
    1G) page_kb=1048576 ;;
    esac
    if [[ -z $hugepages_per_node ]]; then
        if [[ $page_size == 1G ]]; then hugepages_per_node=2; else hugepages_per_node=1024; fi
    fi
}

# ---- main ----------------------------------------------------------------------------------

main() {
    parse_args "$@"
    check_args
    read_host
    if [[ $subcommand != undo ]]; then
        load_config
        choose_nics
        read_eal_args
    fi

    if ((apply)) && [[ $(id -u) -ne 0 ]]; then
        printf '%s: --apply must run as root\n' "$prog" >&2
        exit 1
    fi
    ((apply)) && load_state_keys

    if ((!apply)) && [[ $subcommand != preflight ]]; then
        printf '%s: dry run: nothing changes (--apply runs the commands below)\n' "$prog"
    fi

    case $subcommand in
    preflight) preflight ;;
    hugepages) plan_hugepages ;;
    bind) plan_bind ;;
    all)
        preflight
        plan_hugepages
        plan_bind
        ;;
    undo) plan_undo ;;
    esac
    finish
}

finish() { # after the checks and the plan: stop on a failed check (--apply), run or print the actions
    if ((n_fail)) && ((apply)); then
        printf '\n%s: %d check(s) failed: nothing changed\n' "$prog" "$n_fail" >&2
        exit 1
    fi
    if ((${#actions[@]})); then
        section "$(if ((apply)); then echo commands; else echo 'commands (dry run)'; fi)"
        if ! execute; then
            if [[ $subcommand == undo ]]; then
                printf '%s: undo stopped; %s keeps what is left to undo\n' "$prog" "$state" >&2
            elif [[ -s $state ]]; then
                printf '%s: stopped; what was changed so far is in %s (%s undo --apply)\n' "$prog" "$state" "$prog" >&2
            fi
            exit 1
        fi
    elif [[ $subcommand != preflight ]] && ((!n_fail)); then
        printf '\nnothing to do\n'
    fi
    ((n_fail)) && exit 1
    exit 0
}

main "$@"

# shellcheck shell=bash disable=SC2034,SC2154 # (its globals are set by metal-setup.sh; the ones it fills are read by the other parts)
# scripts/metal/config.sh, sourced by scripts/metal-setup.sh: the Sluice configuration (TOML, read
# with /usr/bin/python3): its [[port]] devices, worker and control CPUs and EAL arguments, and from
# them the NICs to check and bind, the virtual devices, and the hugetlbfs directory.

cfg_devices=()
cfg_workers=()
cfg_control=""
cfg_eal=()
config_problem=""

load_config() { # fills cfg_*, or config_problem when there is no configuration to read
    local out kind value
    if [[ ! -e $config ]]; then
        config_problem="$config does not exist"
        return
    fi
    if [[ ! -x /usr/bin/python3 ]]; then
        config_problem="cannot read $config: /usr/bin/python3 is missing (Debian's dpdk package depends on python3)"
        return
    fi
    out=$(
        /usr/bin/python3 - "$config" <<'PY'
import sys, tomllib
try:
    with open(sys.argv[1], "rb") as f:
        doc = tomllib.load(f)
except OSError as e:
    print(f"error\t{e.strerror}")
    sys.exit(0)
except tomllib.TOMLDecodeError as e:
    print(f"error\t{e}")
    sys.exit(0)
dp = doc.get("dataplane") if isinstance(doc.get("dataplane"), dict) else {}
ports = doc.get("port") if isinstance(doc.get("port"), list) else []
for p in ports:
    if isinstance(p, dict) and isinstance(p.get("device"), str):
        print(f"device\t{p['device']}")
for c in dp.get("worker_cpus", []) if isinstance(dp.get("worker_cpus"), list) else []:
    if isinstance(c, int) and not isinstance(c, bool):
        print(f"worker\t{c}")
c = dp.get("control_cpu", 0)
if isinstance(c, int) and not isinstance(c, bool):
    print(f"control\t{c}")
for a in dp.get("eal_args", []) if isinstance(dp.get("eal_args"), list) else []:
    if isinstance(a, str):
        print(f"eal\t{a}")
PY
    )
    while IFS=$'\t' read -r kind value; do
        case $kind in
        error)
            if ((config_given)); then usage_error "--config: '$config': $value"; fi
            config_problem="$config: $value"
            ;;
        device) cfg_devices+=("$value") ;;
        worker) cfg_workers+=("$value") ;;
        control) cfg_control=$value ;;
        eal) cfg_eal+=("$value") ;;
        esac
    done <<<"$out"
}

nics=()  # the PCI NICs (--pci, else the configuration's [[port]] devices), DDDD:BB:DD.F, once each
vdevs=() # the configuration's devices that are not PCI addresses (net_tap0,…)
huge_dir=/dev/hugepages
huge_dir_from_config=0
no_huge=0

choose_nics() { # fills nics and vdevs
    local b dev
    if ((${#pcis[@]})); then
        for b in "${pcis[@]}"; do in_list "$b" "${nics[@]}" || nics+=("$b"); done
    else
        for dev in "${cfg_devices[@]}"; do
            if b=$(normalize_bdf "$dev"); then
                in_list "$b" "${nics[@]}" || nics+=("$b")
            else
                in_list "$dev" "${vdevs[@]}" || vdevs+=("$dev")
            fi
        done
    fi
}

read_eal_args() { # fills huge_dir, huge_dir_from_config and no_huge from [dataplane] eal_args
    local i
    for ((i = 0; i < ${#cfg_eal[@]}; i++)); do
        case ${cfg_eal[i]} in
        --huge-dir=*)
            huge_dir=${cfg_eal[i]#--huge-dir=}
            huge_dir_from_config=1
            ;;
        --huge-dir)
            if ((i + 1 < ${#cfg_eal[@]})); then
                huge_dir=${cfg_eal[i + 1]}
                huge_dir_from_config=1
            fi
            ;;
        --no-huge) no_huge=1 ;;
        esac
    done
}

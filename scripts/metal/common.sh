# shellcheck shell=bash
# scripts/metal/common.sh, sourced by scripts/metal-setup.sh: the check-line output (ok/warn/fail
# and their counts, section headings) and small helpers on words, lists, files and PCI addresses.

# ---- output --------------------------------------------------------------------------------

n_ok=0
n_warn=0
n_fail=0
report() { # STATUS WHAT WHY
    printf '%s: %s — %s\n' "$1" "$2" "$3"
    case $1 in
    ok) n_ok=$((n_ok + 1)) ;;
    warn) n_warn=$((n_warn + 1)) ;;
    fail) n_fail=$((n_fail + 1)) ;;
    esac
}
ok() { report ok "$@"; }
warn() { report warn "$@"; }
fail() { report fail "$@"; }
section() { printf '\n== %s\n' "$*"; }

# ---- words, lists, files ---------------------------------------------------------------------

read1() { # the first line of a file, or nothing
    local line=""
    if [[ -r $1 ]]; then IFS= read -r line <"$1" || true; fi
    printf '%s' "$line"
}

expand_list() { # "0-3,8,10-11" -> "0 1 2 3 8 10 11"; tokens that are not CPU numbers are skipped
    local spec=$1 part i out=()
    local -a parts
    IFS=',' read -ra parts <<<"$spec"
    for part in "${parts[@]}"; do
        part=${part//[[:space:]]/}
        if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
            for ((i = BASH_REMATCH[1]; i <= BASH_REMATCH[2]; i++)); do out+=("$i"); done
        elif [[ $part =~ ^[0-9]+$ ]]; then
            out+=("$part")
        fi
    done
    printf '%s' "${out[*]}"
}

in_list() { # WORD LIST...
    local w=$1 x
    shift
    for x in "$@"; do [[ $x == "$w" ]] && return 0; done
    return 1
}

join_by() { # SEP WORDS...
    local sep=$1 joined="" w
    shift
    for w in "$@"; do joined+=${joined:+$sep}$w; done
    printf '%s' "$joined"
}

normalize_bdf() { # prints the DDDD:BB:DD.F form of a PCI address, or fails
    local a=${1,,}
    if [[ $a =~ ^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]; then
        printf '0000:%s' "$a"
    elif [[ $a =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]; then
        printf '%s' "$a"
    else
        return 1
    fi
}

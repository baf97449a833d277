# shellcheck shell=bash disable=SC2034  # huge_dir and huge_note are read by the caller
# 2 MiB hugepages for one benchmark run: reserve_hugepages and release_hugepages, sourced by
# perf/run.sh and perf/ab.sh. The caller installs `trap release_hugepages EXIT` so the pages and
# the mount go back on any exit (also Ctrl-C, a failed command).

huge_dir=""
huge_prev=""
huge_note=""
# shellcheck disable=SC2317  # called by the caller's EXIT trap
release_hugepages() {
    if [[ -n $huge_dir ]]; then
        umount "$huge_dir" 2>/dev/null || echo "hugepages: warning: cannot unmount $huge_dir" >&2
        rmdir "$huge_dir" 2>/dev/null || true
        huge_dir=""
    fi
    if [[ -n $huge_prev ]]; then
        echo "$huge_prev" >/proc/sys/vm/nr_hugepages 2>/dev/null ||
            echo "hugepages: warning: cannot put nr_hugepages back to $huge_prev" >&2
        huge_prev=""
    fi
}

# reserve_hugepages MIB: 2 MiB pages for MIB MiB of EAL memory (and 512 MiB to spare: EAL's heap
# may grow past -m) added to the host's, and a private hugetlbfs mount in huge_dir. False (the
# reason in huge_note, everything given back) when the host will not.
reserve_hugepages() {
    local pages=$((($1 + 512 + 1) / 2)) free
    if [[ $(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo) != 2048 ]]; then
        huge_note="the default hugepage size is not 2 MiB"
        return 1
    fi
    huge_prev=$(cat /proc/sys/vm/nr_hugepages)
    if ! echo $((huge_prev + pages)) 2>/dev/null >/proc/sys/vm/nr_hugepages; then
        huge_prev=""
        huge_note="cannot write /proc/sys/vm/nr_hugepages (as root they can be reserved)"
        return 1
    fi
    free=$(awk '/^HugePages_Free:/ { print $2 }' /proc/meminfo)
    if ((free < pages)); then
        huge_note="$free of the $pages 2 MiB pages needed could be reserved"
        release_hugepages
        return 1
    fi
    huge_dir=$(mktemp -d /tmp/sluice-perf-huge.XXXXXX)
    if ! mount -t hugetlbfs -o pagesize=2M nodev "$huge_dir"; then
        huge_note="cannot mount hugetlbfs on $huge_dir"
        release_hugepages
        return 1
    fi
    echo "hugepages: $pages 2 MiB pages reserved (nr_hugepages $huge_prev -> $((huge_prev + pages)))," \
        "hugetlbfs on $huge_dir"
}

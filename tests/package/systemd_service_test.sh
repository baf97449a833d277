#!/usr/bin/env bash
# Property: on a freshly booted real systemd the .deb installs without starting anything, and an edited sluice.toml gives a sluiced service that starts through READY=1 under the unit's hardening, reloads (a bad file fails, the service stays), logs structured journal records, survives the watchdog and stops cleanly.
#
# In detail: `dpkg -i` leaves the unit disabled and inactive; `systemctl start sluiced` runs
# ExecStartPre's --check and the unit is active/running with its STATUS= line; the running daemon
# has the unit's capability bounding set, NoNewPrivs, a seccomp filter, read-only /usr and /etc, an
# inaccessible /home and a private /tmp; sluicectl answers on the control socket and writes the
# state file under StateDirectory=; the worker answers a ping to the VIP and the exception path one
# to the LB address; `systemctl reload` applies a good file and fails on a bad one while the same
# process stays active; `journalctl -u sluiced -o json` has native records with PRIORITY,
# SYSLOG_IDENTIFIER=sluiced and VIP/BACKEND fields, and --check's line from ExecStartPre; the
# watchdog timestamp advances and nothing restarts for 40 s; stop exits 0; `dpkg -i` over the
# running service leaves it running; `dpkg -r` stops it.
#
#   systemd_service_test.sh --deb FILE           test this package (package_test.sh builds it
#                                                and runs this with it: one build for both)
#
# The "fresh host" is a systemd-nspawn container booting this host's own root through an overlay
# whose upper layer is a tmpfs (nothing the container does reaches the host's disk), with its own
# network namespace (a veth pair and a network namespace inside it carry one net_af_packet port)
# and its own systemd as PID 1, booted into a target that starts journald and the basic services
# but none of the host's own daemons. docs/operations.md, "Testing the package under systemd".
#
# Root only; exits 77 (skipped) without root, without systemd-nspawn (Debian's systemd-container)
# or without overlayfs. The container is shut down (killed after 30 s), the overlay unmounted and
# the test's cgroups removed on every exit.
set -uo pipefail

SKIP=77

# State of the run; cleanup() reads only these. save_state writes them to $work/state for the
# reaper (below).
work=
root=                        # the overlay: the container's /
rw=                          # tmpfs holding the overlay's upper and work directories
cgroups=()                   # cgroups this test made (host without systemd)
nspawn_pid=
leader=                      # the container's PID 1, as the host sees it
pidns=                       # its pid namespace
had_nspawn_run_dir=true
save_state() {
    declare -p work root rw cgroups nspawn_pid leader pidns had_nspawn_run_dir >"$work/state.new" &&
        mv "$work/state.new" "$work/state"
}

# Every process of the container's pid namespace, as host pids.
container_pids() {
    local p
    [[ -n $pidns ]] || return 0
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/ns/pid" 2>/dev/null) == "$pidns" ]] && echo "${p#/proc/}"
    done
}

# Shuts the container down (kills it after 30 s), unmounts the overlay, removes the cgroups and
# $work. Idempotent: run by the EXIT trap and, should the test be killed, by the reaper.
cleanup() {
    local i m cg left
    trap - INT TERM
    if [[ -n $nspawn_pid ]] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # SIGTERM: systemd-nspawn asks the container's systemd to power off.
        kill -TERM "$nspawn_pid" 2>/dev/null
        for ((i = 0; i < 30; i++)); do
            kill -0 "$nspawn_pid" 2>/dev/null || break
            sleep 1
        done
        if kill -0 "$nspawn_pid" 2>/dev/null; then
            echo "cleanup: the container did not power off within 30 s: killing it"
            [[ -n $leader ]] && kill -KILL "$leader" 2>/dev/null  # ends its whole pid namespace
            kill -KILL "$nspawn_pid" 2>/dev/null
        fi
        wait "$nspawn_pid" 2>/dev/null
    fi
    mapfile -t left < <(container_pids)
    if [[ ${#left[@]} -gt 0 ]]; then
        echo "cleanup: killing what is left of the container: pid ${left[*]}"
        kill -KILL "${left[@]}" 2>/dev/null
        sleep 1
    fi
    for m in "$root" "$rw"; do
        if [[ -n $m ]] && mountpoint -q "$m"; then
            for ((i = 0; i < 10; i++)); do
                umount "$m" 2>/dev/null && break
                sleep 1
            done
            mountpoint -q "$m" && { echo "cleanup: $m busy, detaching it"; umount -l "$m"; }
        fi
    done
    for cg in "${cgroups[@]}"; do
        [[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
        [[ -d $cg ]] && echo "cleanup: cannot remove cgroup $cg"
    done
    # systemd-nspawn's own run-time directories on a host without systemd (empty once it exited).
    if ! $had_nspawn_run_dir && [[ -d /run/systemd/nspawn ]]; then
        rmdir /run/systemd/nspawn/locks /run/systemd/nspawn/propagate /run/systemd/nspawn 2>/dev/null
    fi
    [[ -n $work && -d $work ]] || return 0
    if { [[ -n $root ]] && mountpoint -q "$root"; } || { [[ -n $rw ]] && mountpoint -q "$rw"; }; then
        echo "cleanup: $work still has mounts: left in place"
    else
        rm -rf "$work"
    fi
}

# The reaper: meson's timeout sends SIGTERM to the test's process group and SIGKILL half a second
# later, which would end the EXIT trap's cleanup early. A process in a session of its own waits
# for the test to end, then cleans up whatever the test's own cleanup did not finish.
if [[ ${1:-} == --reap ]]; then
    while kill -0 "$2" 2>/dev/null; do sleep 1; done
    [[ -f $3 ]] || exit 0
    # shellcheck disable=SC1090
    source "$3"
    cleanup
    exit 0
fi

deb=
while [[ $# -gt 0 ]]; do
    case $1 in
    --deb) deb=$2; shift 2 ;;
    *) echo "usage: $0 --deb FILE" >&2; exit 2 ;;
    esac
done
[[ -n $deb ]] || { echo "usage: $0 --deb FILE" >&2; exit 2; }

if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: needs root (mounts, systemd-nspawn)"
    exit $SKIP
fi
if ! command -v systemd-nspawn >/dev/null; then
    echo "SKIP: systemd-nspawn missing (package systemd-container; scripts/install-deps.sh installs it)"
    exit $SKIP
fi
if ! grep -qw overlay /proc/filesystems && ! modprobe overlay 2>/dev/null; then
    echo "SKIP: the kernel has no overlayfs"
    exit $SKIP
fi
[[ -f $deb ]] || { echo "FAIL: no package $deb"; exit 1; }
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")
for f in /lib/systemd/systemd /usr/bin/ip /usr/bin/python3; do
    [[ -x $f ]] || { echo "FAIL: $f missing on this host (the container boots the host's own root)"; exit 1; }
done
# The container starts from this host's root: a sluice installed here would be installed there.
status=$(dpkg-query -W -f='${db:Status-Abbrev}' sluice 2>/dev/null | tr -d ' ')
if [[ -n $status && $status != un ]]; then
    echo "FAIL: a sluice package is installed on this host (dpkg status '$status'): the container"
    echo "      boots this host's root, which must be a host without it ('dpkg -P sluice' first)"
    exit 1
fi

# shellcheck source=tests/package/steps.sh
source "$(dirname "${BASH_SOURCE[0]}")/steps.sh"

machine=sluice-test-$$
host_systemd=false
[[ -d /run/systemd/system ]] && host_systemd=true
[[ -e /run/systemd/nspawn ]] || had_nspawn_run_dir=false
work=$(mktemp -d /tmp/sluice-systemd-test.XXXXXX)
root=$work/root
rw=$work/rw
save_state
trap cleanup EXIT
trap 'exit 130' INT TERM
setsid bash "${BASH_SOURCE[0]}" --reap $$ "$work/state" </dev/null >/dev/null 2>&1 &

# --- the package ---
echo "package: $deb"

# --- the container's root: the host's root under a tmpfs overlay ---
phase "overlay of / on $root"
mkdir -p "$rw" "$root"
mount -t tmpfs -o mode=0755,size=2g tmpfs "$rw" || { echo "FAIL: mounting a tmpfs on $rw"; exit 1; }
mkdir "$rw/upper" "$rw/work"
if ! mount -t overlay overlay -o "lowerdir=/,upperdir=$rw/upper,workdir=$rw/work" "$root"; then
    echo "FAIL: mounting an overlay of / on $root"
    exit 1
fi
# What differs from the host, written into the upper layer: a machine id of its own (its journal is
# its own), no policy-rc.d (a CI image's would stop deb-systemd-invoke from stopping sluiced on
# removal), the package file, and the boot target.
/usr/bin/python3 -c 'import uuid; print(uuid.uuid4().hex)' >"$root/etc/machine-id"
rm -f "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/root/sluice.deb"
cat >"$root/etc/systemd/system/sluice-package-test.target" <<'EOF'
[Unit]
Description=Sluice package test: journald and the basic services, none of the host's daemons
Requires=sysinit.target sockets.target
After=sysinit.target sockets.target
EOF

# --- boot ---
# --register=no: there may be no systemd-machined (and no D-Bus). On a host without systemd, systemd-nspawn runs
# in a cgroup of its own (--keep-unit: it makes payload/ and supervisor/ under it), removed on exit.
# /sys/module: systemd-nspawn leaves it out of the container's /sys, and DPDK's EAL fails
# ("Cannot init VFIO") without it, even with --no-pci. --capability=all: the container's default
# set lacks CAP_IPC_LOCK and CAP_SYS_RAWIO, which the unit's bounding set names.
phase "boot the container $machine"
nspawn_args=(-D "$root" -M "$machine" -b --register=no --private-network --bind-ro=/sys/module
    --capability=all --console=read-only)
if $host_systemd; then
    start_nspawn=(systemd-nspawn "${nspawn_args[@]}")
else
    if [[ -e /sys/fs/cgroup/systemd/cgroup.procs ]]; then
        hierarchies=(/sys/fs/cgroup/systemd)  # legacy or hybrid: name=systemd, and cgroup2 if any
        [[ -e /sys/fs/cgroup/unified/cgroup.procs ]] && hierarchies+=(/sys/fs/cgroup/unified)
    else
        hierarchies=(/sys/fs/cgroup)  # unified
    fi
    for h in "${hierarchies[@]}"; do
        mkdir "$h/$machine" || { echo "FAIL: cannot create the cgroup $h/$machine"; exit 1; }
        cgroups+=("$h/$machine")
        save_state
    done
    # shellcheck disable=SC2016
    start_nspawn=(bash -c 'for cg in $CGROUPS; do echo $$ >"$cg/cgroup.procs" || exit 1; done; exec "$@"'
        bash systemd-nspawn "${nspawn_args[@]}" --keep-unit)
fi
# setsid: out of the test's process group, which meson's timeout kills; cleanup() stops it.
CGROUPS="${cgroups[*]}" setsid "${start_nspawn[@]}" -- systemd.unit=sluice-package-test.target \
    </dev/null >"$work/console.log" 2>&1 &
nspawn_pid=$!
save_state
for ((i = 0; i < 30; i++)); do
    leader=$(pgrep -P "$nspawn_pid" -x systemd | head -n 1)
    [[ -n $leader ]] && break
    kill -0 "$nspawn_pid" 2>/dev/null || break
    sleep 1
done
if [[ -z $leader ]]; then
    tail -n 40 "$work/console.log"
    echo "FAIL: systemd-nspawn started no systemd (console above)"
    exit 1
fi
pidns=$(readlink "/proc/$leader/ns/pid")
if [[ -z $pidns || $pidns == "$(readlink /proc/self/ns/pid)" ]]; then
    pidns=  # never the test's own pid namespace: cleanup kills every process of $pidns
    echo "FAIL: pid $leader is not a container's PID 1"
    exit 1
fi
save_state

# ct [-t SECONDS] COMMAND...: runs COMMAND in the container (all its namespaces), with a clean
# environment, bounded in time (60 s unless -t).
ct() {
    local t=60
    [[ $1 == -t ]] && { t=$2; shift 2; }
    timeout -k 5 "$t" nsenter -t "$leader" -a \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
prop() { ct systemctl show -P "$1" sluiced.service; }  # a property of the unit

for ((i = 0; i < 90; i++)); do
    state=$(ct -t 10 systemctl is-system-running 2>/dev/null)
    [[ $state == running || $state == degraded ]] && break
    sleep 1
done
if [[ $state != running && $state != degraded ]]; then
    tail -n 40 "$work/console.log"
    echo "FAIL: the container's systemd did not finish booting in 90 s (state '$state'; console above)"
    exit 1
fi
echo "container booted: PID 1 is host pid $leader, system state '$state'"
[[ $state == running ]] || ct systemctl --failed --no-pager --no-legend

# --- install ---
phase "dpkg -i the package in the container"
if ! out=$(ct -t 180 dpkg -i /root/sluice.deb 2>&1); then
    echo "$out"
    echo "FAIL: dpkg -i failed in the container"
    exit 1
fi
[[ $(ct systemctl is-enabled sluiced.service) == disabled ]] ||
    fail "after dpkg -i: systemctl is-enabled sluiced: '$(ct systemctl is-enabled sluiced.service)', not disabled"
[[ $(ct systemctl is-active sluiced.service) == inactive ]] ||
    fail "after dpkg -i: systemctl is-active sluiced: '$(ct systemctl is-active sluiced.service)', not inactive"
[[ $(prop Type) == notify ]] || fail "the installed unit's Type is '$(prop Type)', not notify"

# --- the network: lbc0 in namespace "lb" for sluiced's port, its peer cl0 stays in the
# container's own namespace (198.18.0.2, the backend and the pinging client) ---
phase "network: veth lbc0 (namespace lb) <-> cl0"
if ! out=$(ct sh -ec '
    ip netns add lb
    ip link add lbc0 type veth peer name cl0
    ip link set lbc0 netns lb
    ip -n lb link set lbc0 up
    ip link set cl0 up
    ip addr add 198.18.0.2/24 dev cl0
    ethtool -K cl0 tx off >/dev/null 2>&1 || true' 2>&1); then
    echo "$out"
    echo "FAIL: setting up the veth pair in the container"
    exit 1
fi

# --- the operator's edit of /etc/sluice/sluice.toml ---
config() {  # config PORT [EXTRA]: the file with the VIP on PORT, then EXTRA lines
    cat <<EOF
# /etc/sluice/sluice.toml of tests/package/systemd_service_test.sh: one net_af_packet port on a
# veth, no hugepages (--no-huge), the worker on CPU 1.
[dataplane]
eal_args = ["--no-huge", "-m", "256", "--no-pci", "--file-prefix=sluice-svc-test",
            "--log-level=lib.eal:notice"]
control_cpu = 0
worker_cpus = [1]
netns = "lb"
idle = "backoff"
mbufs = 4095

[[port]]
name = "net"
device = "net_af_packet0,iface=lbc0,qpairs=1"
addresses = ["198.18.0.1/24"]

[flows]
capacity = 1024

[control]
state_file = "/var/lib/sluice/state.json"

[[vip]]
name = "web"
address = "198.18.0.10"
port = $1
protocol = "tcp"
  [[vip.backend]]
  address = "198.18.0.2"
${2:-}
EOF
}
phase "write /etc/sluice/sluice.toml"
config 80 | ct sh -c 'cat >/etc/sluice/sluice.toml' || fail "writing /etc/sluice/sluice.toml in the container"

# --- start ---
phase "systemctl start sluiced"
t0=$SECONDS
out=$(ct -t 150 systemctl start sluiced.service 2>&1)
rc=$?
start_s=$((SECONDS - t0))
if [[ $rc -ne 0 ]]; then
    echo "$out"
    ct systemctl status sluiced.service --no-pager -l -n 0
    ct journalctl -u sluiced.service --no-pager -n 40
    echo "FAIL: systemctl start sluiced: exit $rc"
    exit 1
fi
active_at=$SECONDS
echo "started in ${start_s}s: $(prop StatusText)"
# Type=notify: `systemctl start` returns and the unit is "active" only after READY=1.
[[ $(prop ActiveState)/$(prop SubState) == active/running ]] ||
    fail "after start: $(prop ActiveState)/$(prop SubState), not active/running"
main_pid=$(prop MainPID)
[[ $main_pid =~ ^[1-9][0-9]*$ ]] || fail "MainPID '$main_pid'"
status_text=$(prop StatusText)
[[ $status_text =~ ^serving\ 1\ VIPs,\ 1\ backends\ \(generation\ [0-9]+\)$ ]] ||
    fail "STATUS= after READY=1 is '$status_text', not 'serving 1 VIPs, 1 backends (generation N)'"
[[ $(prop WatchdogUSec) == 30s ]] || fail "WatchdogUSec is '$(prop WatchdogUSec)', not 30s"
pre=$(prop ExecStartPre)
pre_pid=$(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' <<<"$pre")
[[ $pre == *"--check --config /etc/sluice/sluice.toml"* && $pre == *"code=exited ; status=0 }"* &&
    -n $pre_pid ]] || fail "ExecStartPre=sluiced --check did not run and exit 0: $pre"
pids=$(ct pgrep -x sluiced | tr '\n' ' ')
[[ $pids == "$main_pid " ]] || fail "sluiced processes in the container: '$pids', not the MainPID $main_pid"

# --- the unit's hardening, as applied to the running daemon ---
phase "hardening of the running sluiced (pid $main_pid in the container)"
proc_status=$(ct cat "/proc/$main_pid/status")
field() { awk -v k="$1:" '$1 == k { print $2 }' <<<"$proc_status"; }
# CapabilityBoundingSet=: CAP_DAC_OVERRIDE(1) NET_ADMIN(12) NET_RAW(13) IPC_LOCK(14) SYS_RAWIO(17)
# SYS_ADMIN(21), within what the container itself has.
pid1_bnd=$(ct cat /proc/1/status | awk '$1 == "CapBnd:" { print $2 }')
want_bnd=$(printf '%016x' $((0x227002 & 0x$pid1_bnd)))
[[ $(field CapBnd) == "$want_bnd" ]] ||
    fail "CapBnd of sluiced is $(field CapBnd), not $want_bnd (the unit's set within the container's $pid1_bnd)"
[[ $(field NoNewPrivs) == 1 ]] || fail "NoNewPrivileges=yes: NoNewPrivs is '$(field NoNewPrivs)'"
[[ $(field Seccomp) == 2 ]] || fail "RestrictAddressFamilies=/RestrictNamespaces=: Seccomp is '$(field Seccomp)', not 2 (filter)"
mounts=$(ct cat "/proc/$main_pid/mountinfo")
mount_of() { awk -v m="$1" '$5 == m { line = $0 } END { print line }' <<<"$mounts"; }  # the topmost
for m in /usr /etc; do
    [[ $(mount_of $m | awk '{ print $6 }') == ro* ]] || fail "ProtectSystem=full: $m is not read-only: $(mount_of $m)"
done
[[ $(mount_of /home | awk '{ print $4 }') == *inaccessible* ]] || fail "ProtectHome=yes: /home is $(mount_of /home)"
[[ $(mount_of /tmp | awk '{ print $4 }') == */systemd-private-*-sluiced.service-*/tmp ]] ||
    fail "PrivateTmp=yes: /tmp is $(mount_of /tmp)"
memlock=$(ct cat "/proc/$main_pid/limits" | awk '/^Max locked memory/ { print $4 }')
if ((0x$pid1_bnd >> 24 & 1)); then
    [[ $memlock == unlimited ]] || fail "LimitMEMLOCK=infinity: the hard limit is $memlock"
else
    echo "(LimitMEMLOCK=infinity: the container has no CAP_SYS_RESOURCE, its systemd keeps the limit at $memlock bytes)"
fi

# --- the control socket, the state directory, the data path ---
phase "sluicectl, StateDirectory=, ARP, a ping to the VIP and to the LB address"
out=$(ct sluicectl show info 2>&1)
rc=$?
[[ $rc -eq 0 && $(awk '$1 == "pid" { print $2 }' <<<"$out") == "$main_pid" ]] ||
    fail "sluicectl show info: exit $rc, not pid $main_pid: $out"
out=$(ct sluicectl set weight web 198.18.0.2:80 5 2>&1) || fail "sluicectl set weight: $out"
state=$(ct stat -c '%a %s' /var/lib/sluice /var/lib/sluice/state.json 2>&1 | tr '\n' ' ')
[[ $state =~ ^700\ [0-9]+\ 600\ [1-9][0-9]*\ $ ]] ||
    fail "StateDirectory=sluice: /var/lib/sluice and its state.json (mode, size): '$state', not 700 and 600"
# The worker answers pings to the VIP; the host kernel (through the exception path's TAP in
# namespace lb) answers the LB address. Both need 198.18.0.2's ARP answered by sluiced.
out=$(ct ping -c 1 -W 3 198.18.0.10 2>&1) || fail "ping 198.18.0.10 (the VIP, answered by the worker): $out"
out=$(ct ping -c 1 -W 3 198.18.0.1 2>&1) || fail "ping 198.18.0.1 (the LB address, exception path): $out"

# --- reload ---
phase "systemctl reload sluiced: a good file, then a bad one"
gen() { sed -n 's/.*(generation \([0-9]*\))$/\1/p' <<<"$(prop StatusText)"; }
gen0=$(gen)
config 8080 | ct sh -c 'cat >/etc/sluice/sluice.toml'
out=$(ct systemctl reload sluiced.service 2>&1) || fail "systemctl reload with a good file: $out"
gen1=$(gen)
[[ -n $gen0 && -n $gen1 && $gen1 -gt $gen0 ]] || fail "reload: generation $gen0 -> '$gen1' (StatusText '$(prop StatusText)')"
ct sluicectl show vips 2>&1 | grep -q '198\.18\.0\.10:8080/tcp' || fail "after reload: no VIP 198.18.0.10:8080/tcp in sluicectl show vips"
config 8080 $'[log]\nlevel = "verbose"' | ct sh -c 'cat >/etc/sluice/sluice.toml'
out=$(ct systemctl reload sluiced.service 2>&1) && fail "systemctl reload with a bad file succeeded: $out"
[[ $(prop ActiveState)/$(prop SubState) == active/running && $(prop MainPID) == "$main_pid" ]] ||
    fail "after a refused reload: $(prop ActiveState)/$(prop SubState), MainPID $(prop MainPID) (was $main_pid)"
[[ $(gen) == "$gen1" ]] || fail "a refused reload changed the generation: $gen1 -> $(gen)"
config 8080 | ct sh -c 'cat >/etc/sluice/sluice.toml'  # the good file again

# --- the watchdog: 40 s after start, still the same process, pinging ---
wd0=$(prop WatchdogTimestampMonotonic)
wait_s=$((40 - (SECONDS - active_at)))
((wait_s < 16)) && wait_s=16  # at least one ping interval (WatchdogSec/2) after wd0
phase "watchdog: ${wait_s}s more"
sleep "$wait_s"
wd1=$(prop WatchdogTimestampMonotonic)
[[ $(prop ActiveState) == active && $(prop MainPID) == "$main_pid" && $(prop NRestarts) == 0 ]] ||
    fail "$((SECONDS - active_at))s after start: $(prop ActiveState), MainPID $(prop MainPID) (was $main_pid), NRestarts $(prop NRestarts)"
[[ $wd0 =~ ^[0-9]+$ && $wd1 =~ ^[0-9]+$ && $wd1 -gt $wd0 ]] ||
    fail "no watchdog ping in ${wait_s}s (WatchdogTimestampMonotonic $wd0 -> $wd1)"

# --- the upgrade path: reinstalling leaves the running daemon alone, systemd reads the unit ---
phase "dpkg -i again while it runs"
out=$(ct -t 180 dpkg -i /root/sluice.deb 2>&1) || fail "dpkg -i over the running service: $out"
[[ $(prop ActiveState) == active && $(prop MainPID) == "$main_pid" ]] ||
    fail "reinstalling restarted or stopped sluiced: $(prop ActiveState), MainPID $(prop MainPID) (was $main_pid)"
[[ $(prop NeedDaemonReload) == no ]] || fail "after reinstalling, NeedDaemonReload=$(prop NeedDaemonReload) (postinst's daemon-reload)"

# --- stop ---
phase "systemctl stop sluiced"
out=$(ct systemctl stop sluiced.service 2>&1) || fail "systemctl stop sluiced: $out"
result="$(prop ActiveState) $(prop Result) $(prop ExecMainStatus)"
[[ $result == "inactive success 0" ]] ||
    fail "after stop: ActiveState Result ExecMainStatus = '$result', not 'inactive success 0'"
pids=$(ct pgrep -x sluiced)
[[ -z $pids ]] || fail "sluiced still runs after stop: pid $pids"

# --- the journal ---
phase "journalctl -u sluiced -o json"
journal_check() {
    ct journalctl -u sluiced.service -o json --no-pager >"$work/journal.json" 2>"$work/journal.err" ||
        { cat "$work/journal.err"; return 1; }
    /usr/bin/python3 - "$work/journal.json" "$main_pid" "$pre_pid" <<'EOF'
import json
import sys

path, main_pid, pre_pid = sys.argv[1:]
recs = []
for line in open(path, encoding="utf-8"):
    try:
        recs.append(json.loads(line))
    except ValueError:
        print(f"not a JSON record: {line[:200]!r}")
        sys.exit(1)


def msg(r):
    m = r.get("MESSAGE", "")
    return m if isinstance(m, str) else ""  # journalctl writes binary messages as arrays


def own(pid, **fields):
    """Records of PID with SYSLOG_IDENTIFIER=sluiced, unit sluiced.service and FIELDS."""
    return [r for r in recs if r.get("_PID") == pid and r.get("SYSLOG_IDENTIFIER") == "sluiced"
            and r.get("_SYSTEMD_UNIT") == "sluiced.service"
            and all(r.get(k) == v for k, v in fields.items())]


problems = []
native = own(main_pid, _TRANSPORT="journal")
if not native:
    problems.append(f"no native journal record (_TRANSPORT=journal) of sluiced pid {main_pid}")
bad = [r for r in native if r.get("PRIORITY") not in list("01234567")]
if bad:
    problems.append(f"{len(bad)} native record(s) without PRIORITY 0..7, e.g. {msg(bad[0])!r}")
checks = [
    ("the control socket line (info)", main_pid, {"PRIORITY": "6"}, "control socket /run/sluice/sluiced.sock"),
    ("the set weight event with VIP and BACKEND", main_pid,
     {"PRIORITY": "6", "VIP": "web", "BACKEND": "198.18.0.2:80"}, "weight 1 -> 5"),
    ("the refused reload's FILE:LINE:COLUMN error", main_pid, {"PRIORITY": "3"},
     "/etc/sluice/sluice.toml:"),
    ("READY (sluiced: ready)", main_pid, {}, "sluiced: ready"),
    ("the clean stop (sluiced: stopped)", main_pid, {}, "sluiced: stopped"),
    ("ExecStartPre's sluiced --check", pre_pid, {}, "configuration is valid"),
]
for what, pid, fields, text in checks:
    if not any(text in msg(r) for r in own(pid, **fields)):
        problems.append(f"no record of {what}: pid {pid}, {fields}, message with {text!r}")
wd = [msg(r) for r in recs if "watchdog timeout" in msg(r).lower()]
if wd:
    problems.append(f"the watchdog fired: {wd[0]!r}")
print(f"{len(recs)} records, {len(native)} native ones of pid {main_pid}")
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
}
# journald may still be reading the last lines of the stopped daemon's stdout: up to 3 tries.
for ((i = 0; i < 3; i++)); do
    out=$(journal_check 2>&1) && break
    sleep 2
done
if [[ $i -lt 3 ]]; then
    echo "$out"
else
    fail "journal: $out"
fi

# --- removal stops a running sluiced (debian/sluice.prerm) ---
phase "start again, then dpkg -r sluice"
out=$(ct -t 150 systemctl start sluiced.service 2>&1) || fail "second systemctl start sluiced: $out"
out=$(ct -t 180 dpkg -r sluice 2>&1) || fail "dpkg -r sluice in the container: $out"
pids=$(ct pgrep -x sluiced)
[[ -z $pids ]] || fail "sluiced still runs after dpkg -r: pid $pids"
[[ $(ct systemctl is-active sluiced.service) != active ]] || fail "sluiced.service is still active after dpkg -r"
[[ $(prop LoadState) == not-found ]] || fail "after dpkg -r the unit's LoadState is '$(prop LoadState)', not not-found"

phase "done: $failures failure(s)"
[[ $failures -eq 0 ]]

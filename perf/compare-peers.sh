#!/usr/bin/env bash
# Sluice side by side with the load balancers an operator would otherwise pick: the same namespace
# lab (scripts/lab.sh), the same load generators, the same CPU, and in turn as the load balancer
#
#   sluiced    dpdk-config/lab.toml as the demo and the e2e tests run it (one worker, af_packet;
#              idle = "backoff": the worker micro-sleeps after empty polls)
#   sluiced-spin  the same with idle = "spin" (the production setting for a dedicated core)
#   haproxy    TCP mode, balance leastconn, nbthread 1
#   nginx      the stream module (TCP proxy), worker_processes 1
#   nftables   DNAT with numgen round robin + SNAT (kernel forwarding, full-NAT like sluiced)
#
# For each peer: a fresh lab, then wrk keep-alive (requests/s), wrk with "Connection: close" (a
# new connection per request: connections/s, p50/p99 latency) and an iperf3 run (Gbit/s), then
# the lab is torn down. Then the sustained churn, on a fresh lab and a freshly started peer: 3
# periods of 25 s of wrk "Connection: close" back to back (nothing torn down or restarted in
# between), each period's connection rate and the last in % of the first. A rate that collapses
# after ~25 s is a balancer reusing local ports whose tuples are still in TIME_WAIT; the churn
# holds when the last period is at >= 80 % of the first. One table at the end, also as markdown
# with --out, with the requests per LB-core-second of each wrk load (see "CPU efficiency" below).
#
#   perf/compare-peers.sh                         # 10 s per load, 3 x 25 s churn (~11 minutes)
#   perf/compare-peers.sh --quick                 # 3 s per load, 3 x 5 s churn (~3 minutes)
#   perf/compare-peers.sh --no-churn              # without the sustained churn (~3 minutes)
#   perf/compare-peers.sh --out results.md        # also write the table as markdown
#   perf/compare-peers.sh --peers haproxy,nginx   # a subset, in this order
#   perf/compare-peers.sh --no-rps                # see "CPU placement" below
#
# CPU placement. The peers get the core that sluiced's worker uses (worker_cpus[0] of the config,
# "the LB core"); everything else (wrk, iperf3's client, the backends' servers) is pinned to the
# other core. A user-space peer is pinned with taskset, but the kernel work in the LB namespace
# (receiving on the veths, routing, NAT, bridging, and af_packet's copies for sluiced) runs on
# whichever CPU sent the packet, and nftables has no process to pin at all. So, for every peer
# alike, RPS steers the receive processing of the LB namespace's interfaces to the LB core and
# that of the client's and backends' interfaces to the other core (--no-rps turns this off).
# A second table gives, per load, how busy both cores were (/proc/stat), how much of the LB core
# went to softirq and to the load balancer's processes, and how much CPU jobs outside the lab
# took meanwhile (on a shared machine, the figure that says whether a row can be trusted).
# CPU efficiency: wrk's completed requests divided by the CPU seconds the LB core spent working
# during that load (/proc/stat of that core: user + nice + system + irq + softirq, i.e. all but
# idle, iowait and steal). It counts the kernel's packet work on that core, so it is comparable
# between a process (haproxy, nginx, sluiced) and kernel forwarding (nftables has no process).
#
# Traffic rules (docs/lab.md): lab addresses only (198.18.0.0/15), every load bounded in time
# (wrk -d, iperf3 -t, and `timeout` around each), and whatever happens (failure, Ctrl-C, SIGTERM)
# the trap stops every process this script started and removes the lab's namespaces. The lab is
# used under /tmp/sluice-lab.lock (the lock shared with the other people working on this machine)
# and /run/sluice-lab.lock (the lock of scripts/lab.sh, the e2e harness and the demo).
#
# Environment: SLUICE_PERF_BUILD_DIR (default build-perf, the release build of perf/run.sh),
# SLUICE_PERF_NO_BUILD=1 (use the sluiced already in that build directory: no meson, no ninja;
# for a build directory that someone else owns), SLUICE_PEERS_CONFIG (default
# dpdk-config/lab.toml).
#
# Files: this entry script sources perf/peers/peers.sh (the lab and each peer's start and stop)
# and perf/peers/loads.sh (the loads), and runs perf/peers/report.py (parsing, the tables), all
# found from this script's real path, so it runs from any clone and through a symlink.
set -euo pipefail
SELF=$(readlink -f "${BASH_SOURCE[0]}")
PEERS_DIR=$(dirname "$SELF")/peers
cd "$(dirname "$SELF")/.."

usage() {
    sed -n '2,/^set -euo/p' "$SELF" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

DURATION=10
CHURN=1           # the sustained churn (--no-churn: off)
CHURN_PERIODS=3   # back to back; perf/peers/report.py compares the last with the first
CHURN_SECONDS=25
OUT_MD=
PEERS=(sluiced sluiced-spin haproxy nginx nftables)
USE_RPS=1
ARGS=("$@")
while [[ $# -gt 0 ]]; do
    case $1 in
    --quick) DURATION=3 CHURN_SECONDS=5 ;;
    --no-churn) CHURN=0 ;;
    --out)
        [[ $# -ge 2 ]] || { echo "compare-peers: --out needs a file" >&2; exit 2; }
        OUT_MD=$2
        shift
        ;;
    --peers)
        [[ $# -ge 2 ]] || { echo "compare-peers: --peers needs a list" >&2; exit 2; }
        IFS=, read -r -a PEERS <<<"$2"
        shift
        ;;
    --no-rps) USE_RPS=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare-peers: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
for p in "${PEERS[@]}"; do
    [[ $p =~ ^(sluiced|sluiced-spin|haproxy|nginx|nftables)$ ]] ||
        { echo "compare-peers: unknown peer '$p' (sluiced, sluiced-spin, haproxy, nginx, nftables)" >&2; exit 2; }
done
# An --out path relative to where the user called us, not to the repository root we cd'ed into.
[[ -z $OUT_MD || $OUT_MD == /* ]] || OUT_MD=$OLDPWD/$OUT_MD

BUILD_DIR=${SLUICE_PERF_BUILD_DIR:-build-perf}
CONFIG=${SLUICE_PEERS_CONFIG:-dpdk-config/lab.toml}
WRK_THREADS=2
WRK_CONNECTIONS=32
NS_CLIENT=sluice-client
NS_LB=sluice-lb
VIP=198.18.0.10
GATEWAY=198.18.0.1
LOCAL_ADDR=198.18.1.1 # the LB's address on the server side: full-NAT source for every peer
BACKENDS=(198.18.1.11 198.18.1.12 198.18.1.13)
export LAB_BACKENDS=${#BACKENDS[@]}
export LAB_BIG_MIB=1 # /big.bin is not used here; a small one makes `lab.sh up` quicker

die() {
    echo "compare-peers: error: $*" >&2
    exit 1
}
log() { echo "compare-peers: $*"; }

for part in peers.sh loads.sh report.py; do
    [[ -f $PEERS_DIR/$part ]] || die "missing $PEERS_DIR/$part (the parts of this script)"
done
# shellcheck source-path=SCRIPTDIR source=peers/peers.sh
source "$PEERS_DIR/peers.sh"
# shellcheck source-path=SCRIPTDIR source=peers/loads.sh
source "$PEERS_DIR/loads.sh"

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, network namespaces, DPDK)"

WORK=$(mktemp -d /tmp/sluice-peers.XXXXXX)
RESULTS=$WORK/results.tsv # peer <TAB> key <TAB> value, rendered by the helper's `table`
: >"$RESULTS"

# ---- state for the trap: what is running and what was changed
LAB_UP=0
LB_PID=     # the load balancer under test (sluiced, haproxy, nginx master)
LB_KIND=
LOAD_PID=   # the load generator running now
KERNEL_LB=0 # 1 while sluice-lb's kernel owns the VIP and addresses (kernel peers)
RUN_NAME=   # the peer, or PEER-churn for its churn run

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    trap '' INT TERM # a second Ctrl-C must not cut the teardown short
    if [[ -n $LOAD_PID ]]; then stop_pid "$LOAD_PID" 5; fi
    if [[ -n $LB_PID ]]; then stop_pid "$LB_PID" 10; fi
    if ((KERNEL_LB)); then kernel_lb_off || true; fi
    if ((LAB_UP)); then ./scripts/lab.sh down 7>&- 9>&- || true; fi
    if ((rc)); then echo "compare-peers: exit status $rc; logs kept in $WORK" >&2; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Debian's Python (tomllib; not whatever python3 comes first on PATH).
helper() { /usr/bin/python3 "$PEERS_DIR/report.py" "$@"; }
# Parsers append to the results; a parser bug is noted in the table rather than ending the run.
parse() { helper "$@" >>"$RESULTS" || record "$2" note "could not parse: $1 ${*:3}"; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

# ---- dependencies and the release build (as perf/run.sh makes it)
./scripts/install-deps.sh
if [[ ${SLUICE_PERF_NO_BUILD:-0} == 1 ]]; then
    log "SLUICE_PERF_NO_BUILD=1: using the sluiced already built in $BUILD_DIR (not rebuilt)"
else
    if [[ ! -f $BUILD_DIR/build.ninja ]]; then
        # Same options as perf/run.sh: GCC 12 at -O3 reports false -Wrestrict/-Warray-bounds
        # positives that the regular -Werror build does not, and the tests are not needed here.
        meson setup "$BUILD_DIR" --buildtype=release -Dtests=false -Dwerror=false >/dev/null
    fi
    log "building sluiced in $BUILD_DIR"
    ninja -C "$BUILD_DIR" src/main/sluiced >"$WORK/build.log" 2>&1 ||
        { tail -n 30 "$WORK/build.log" >&2; die "build failed (log $WORK/build.log)"; }
fi
SLUICED=$BUILD_DIR/src/main/sluiced
[[ -x $SLUICED ]] || die "no $SLUICED after the build"
# The build type goes into the results' header: a figure of a debugoptimized build is not one
# of the release build.
BUILD_TYPE=$(sed -n 's/^buildtype *= *//p' "$BUILD_DIR/meson-private/cmd_line.txt" 2>/dev/null | head -n 1)
[[ -n $BUILD_TYPE ]] || BUILD_TYPE=$(grep -o '"buildtype", "value": "[a-z]*"' \
    "$BUILD_DIR/meson-info/intro-buildoptions.json" 2>/dev/null | sed 's/.*"\([a-z]*\)"$/\1/')
[[ -n $BUILD_TYPE ]] || BUILD_TYPE=unknown
log "sluiced: $SLUICED ($BUILD_TYPE build)"
for t in wrk iperf3 haproxy nginx nft taskset flock; do
    command -v "$t" >/dev/null || die "missing $t (scripts/install-deps.sh should have installed it)"
done
NGINX_STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so
# haproxy refuses to start when it cannot raise its descriptor limit to what maxconn needs (two
# descriptors per proxied connection), so size both proxies from the hard limit (20000 on the
# lab VM). wrk opens 32 connections: any of these is plenty.
FD_LIMIT=$(ulimit -Hn)
[[ $FD_LIMIT =~ ^[0-9]+$ ]] || FD_LIMIT=65536
((FD_LIMIT <= 65536)) || FD_LIMIT=65536
PROXY_MAXCONN=$(((FD_LIMIT - 256) / 2))

LB_CPU=$(helper worker-cpu "$CONFIG")
GEN_CPU=
for ((c = 0; c < $(nproc); c++)); do
    if ((c != LB_CPU)); then GEN_CPU=$c; break; fi
done
[[ -n $GEN_CPU ]] || die "needs two CPUs (the LB core $LB_CPU and one for the lab's clients and servers)"
mask() { printf '%x' $((1 << $1)); }

# ---- the lab, under both locks, for the whole time any lab namespace may exist
exec 7>/tmp/sluice-lab.lock
if ! flock -n 7; then
    log "waiting for /tmp/sluice-lab.lock (someone else is using the lab)"
    flock -w 1800 7 || die "/tmp/sluice-lab.lock still held after 30 minutes"
fi
exec 9>/run/sluice-lab.lock
if ! flock -n 9; then
    log "waiting for /run/sluice-lab.lock (an e2e test or the demo is using the lab)"
    flock -w 1800 9 || die "/run/sluice-lab.lock still held after 30 minutes"
fi
export SLUICE_LAB_LOCK_HELD=1 # scripts/lab.sh: we hold /run/sluice-lab.lock
# Lab namespaces without anybody holding the locks: someone's lab built by hand, or a leftover.
# Tearing it down might destroy someone's work, so stop and say so.
if ip netns list | awk '{print $1}' | grep -qE '^sluice-'; then
    die "sluice-* namespaces exist ($(ip netns list | awk '/^sluice-/{print $1}' | tr '\n' ' '));" \
        "if nobody is using them: scripts/lab.sh down"
fi
if pgrep -x sluiced >/dev/null; then
    die "a sluiced is already running (pid $(pgrep -x sluiced | tr '\n' ' ')); it would clash with ours"
fi

# ---- the run
per_peer=$((10 + 3 * DURATION + CHURN * (10 + CHURN_PERIODS * (CHURN_SECONDS + 1))))
log "${#PEERS[@]} peers, about $(((per_peer * ${#PEERS[@]} + 59) / 60)) minutes (~${per_peer} s each)"
started=$(date '+%Y-%m-%d %H:%M')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# A fresh lab and a freshly started peer, then the loads (measure or churn), then both go.
with_peer() { # peer run-name loads-function drops-key
    local peer=$1 name=$2 loads=$3 what=
    RUN_NAME=$name # the name of sluiced's log (perf/peers/peers.sh)
    [[ $name == "$peer" ]] || what="${name#"$peer"-}: "
    if ! lab_up "$name"; then
        tail -n 5 "$WORK/lab-$name.log" >&2
        record "$peer" note "${what}scripts/lab.sh up failed: not measured"
        lab_down "$name"
        return 0
    fi
    if start_peer "$peer" 2>"$WORK/start-$name.err"; then
        "$loads" "$peer"
    else
        cat "$WORK/start-$name.err" >&2
        reason=$(grep -v '^\s*$' "$WORK/start-$name.err" | tail -n 1 | cut -c1-160)
        record "$peer" note "${what}failed to start${reason:+: $reason}"
    fi
    stop_peer "$4"
    lab_down "$name"
}
for peer in "${PEERS[@]}"; do
    log "== $peer"
    with_peer "$peer" "$peer" measure drops
    # The sustained churn on a lab and load balancer of its own (see churn in perf/peers/loads.sh).
    if ((CHURN)); then with_peer "$peer" "$peer-churn" churn ch_drops; fi
done

machine="$(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
rps_text="RPS steers the LB namespace's receive processing to the LB core, the others' to the other core"
((USE_RPS)) || rps_text="no RPS (kernel receive work runs on the sending CPU)"
header="Measured $started with \`perf/compare-peers.sh${ARGS[*]:+ ${ARGS[*]}}\` on $machine; load average before: $load_before.
Load balancer on CPU $LB_CPU (sluiced's worker; haproxy/nginx pinned there with taskset), wrk/iperf3 clients and backends on CPU $GEN_CPU; $rps_text.
sluiced: $SLUICED, a $BUILD_TYPE build.
wrk $WRK_THREADS threads, $WRK_CONNECTIONS connections, ${DURATION} s per load; iperf3 one TCP stream, ${DURATION} s; p50/p99 are wrk's latency percentiles of the close run."
if ((CHURN)); then
    header+="
Sustained churn, on a fresh lab and a freshly started peer: $CHURN_PERIODS × $CHURN_SECONDS s of wrk Connection: close back to back, each period's connections/s and the last in % of the first (held: >= 80 %)."
fi
header+="
req per LB-core-s: requests wrk completed / CPU seconds the LB core worked (user+nice+system+irq+softirq in /proc/stat) during that load."
echo
echo "== results ($header)" | fold -s -w 100
echo
helper table "$RESULTS" "$(IFS=,; echo "${PEERS[*]}")" "$OUT_MD" "$header" "$CHURN"
[[ -z $OUT_MD ]] || log "markdown written to $OUT_MD"
log "logs and raw outputs in $WORK"

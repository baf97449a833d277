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
# the lab is torn down. One table at the end, also as markdown with --out.
#
#   perf/compare-peers.sh                         # 10 s per load (about 3 minutes in all)
#   perf/compare-peers.sh --quick                 # 3 s per load
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
#
# Traffic rules (docs/lab.md): lab addresses only (198.18.0.0/15), every load bounded in time
# (wrk -d, iperf3 -t, and `timeout` around each), and whatever happens (failure, Ctrl-C, SIGTERM)
# the trap stops every process this script started and removes the lab's namespaces. The lab is
# used under /tmp/sluice-lab.lock (the lock shared with the other people working on this machine)
# and /run/sluice-lab.lock (the lock of scripts/lab.sh, the e2e harness and the demo).
#
# Environment: SLUICE_PERF_BUILD_DIR (default build-perf, the release build of perf/run.sh),
# SLUICE_PEERS_CONFIG (default dpdk-config/lab.toml).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

DURATION=10
OUT_MD=
PEERS=(sluiced sluiced-spin haproxy nginx nftables)
USE_RPS=1
ARGS=("$@")
while [[ $# -gt 0 ]]; do
    case $1 in
    --quick) DURATION=3 ;;
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

stop_pid() { # pid [seconds]: SIGTERM, wait, SIGKILL
    local pid=$1 wait_s=${2:-10} i
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < wait_s * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

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

# ---- a small Python helper: parses wrk/iperf3/sluiced output, /proc/stat, renders the table
HELPER=$WORK/helper.py
cat >"$HELPER" <<'PY'
import json, re, sys

def ms(text):
    """wrk latency '655.00us' / '1.23ms' / '1.02s' -> milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return None
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]

def emit(peer, key, value):
    print(f"{peer}\t{key}\t{value}")

def wrk(peer, prefix, path):
    text = open(path, errors="replace").read()
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not m:
        emit(peer, "note", f"{prefix}: wrk printed no rate")
        return
    emit(peer, prefix + "_rps", m.group(1))
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        if m and ms(m.group(1)) is not None:
            emit(peer, f"{prefix}_p{pct}", "%.3f" % ms(m.group(1)))
    m = re.search(r"^\s+(\d+) requests in", text, re.M)
    total = int(m.group(1)) if m else 0
    errs = []
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errs += [f"{n} {k}" for k, n in zip(("connect", "read", "write", "timeout"),
                                             map(int, m.groups())) if n]
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errs.append(f"{m.group(1)} non-2xx")
    if errs:
        emit(peer, "note", f"{prefix}: {', '.join(errs)} errors in {total} requests")

def iperf3(peer, path):
    try:
        d = json.load(open(path))
    except (OSError, ValueError):
        emit(peer, "note", "iperf3: no JSON output")
        return
    if d.get("error"):
        emit(peer, "note", f"iperf3: {d['error']}")
    end = d.get("end", {})
    recv = end.get("sum_received", {}).get("bits_per_second")
    if recv:
        emit(peer, "ip_gbps", "%.3f" % (recv / 1e9))
        emit(peer, "ip_retr", end.get("sum_sent", {}).get("retransmits", 0))

def proc_ticks(pid):
    """(ppid, utime + stime in clock ticks) of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return int(fields[1]), int(fields[11]) + int(fields[12])

def snap(path, lb_pids):
    """/proc/stat, the CPU time of the load balancer's processes (`lbproc`), and of every other
    user-space process of the root network namespace (`other PID TICKS`): jobs that are not part
    of the lab (a concurrent compile, say) and compete for the same two cores."""
    import os
    root_ns = os.readlink("/proc/self/ns/net")  # ours: the root namespace (pid 1 may deny it)
    lb = set(map(int, lb_pids))
    lines, lb_ticks = [open("/proc/stat").read()], 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            ppid, ticks = proc_ticks(pid)
            if pid in lb:
                lb_ticks += ticks
            elif pid != 2 and ppid != 2 and pid != os.getpid() and \
                    os.readlink(f"/proc/{pid}/ns/net") == root_ns:  # not kthreads, not the lab
                lines.append(f"other {pid} {ticks}\n")
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
    if lb:
        lines.append(f"lbproc {lb_ticks}\n")
    open(path, "w").write("".join(lines))

def cpu(peer, prefix, before, after, lb_cpu, gen_cpu):
    """Between two snapshots (see snap): how busy the LB core and the other core were, the LB
    core's share in softirq (the kernel's packet work), the CPU time of the load balancer's own
    processes, and that of processes outside the lab, all in % of the LB core's elapsed time
    (that is, of one core). Tick-based accounting (this kernel has no IRQ_TIME_ACCOUNTING):
    a softirq that runs while a process is on the CPU is counted both as softirq and in that
    process's system time."""
    def read(path):
        out = {"other": {}}
        for line in open(path):
            f = line.split()
            if re.fullmatch(r"cpu\d+", f[0]):
                v = list(map(int, f[1:9]))  # user nice system idle iowait irq softirq steal
                out[f[0]] = (sum(v), v[3] + v[4], v[6])
            elif f[0] == "lbproc":
                out["lbproc"] = int(f[1])
            elif f[0] == "other":
                out["other"][int(f[1])] = int(f[2])
        return out
    b, a = read(before), read(after)
    k = f"cpu{lb_cpu}"
    elapsed = a[k][0] - b[k][0]
    if elapsed <= 0:
        return
    pct = lambda x: "%.0f" % (100.0 * x / elapsed)
    emit(peer, f"{prefix}_cpu_lb", pct(elapsed - (a[k][1] - b[k][1])))
    emit(peer, f"{prefix}_cpu_softirq", pct(a[k][2] - b[k][2]))
    if "lbproc" in a and "lbproc" in b:
        emit(peer, f"{prefix}_cpu_proc", pct(a["lbproc"] - b["lbproc"]))
    # Processes that ended during the load are missed: a lower bound.
    other = sum(t - b["other"].get(pid, 0) for pid, t in a["other"].items())
    emit(peer, f"{prefix}_cpu_other", pct(max(other, 0)))
    g = f"cpu{gen_cpu}"
    gt = a[g][0] - b[g][0]
    if gt > 0:
        emit(peer, f"{prefix}_cpu_gen", "%.0f" % (100.0 * (gt - (a[g][1] - b[g][1])) / gt))

def sluiced_drops(peer, log_path):
    """Non-zero drop counters of the last `sluiced: stats {...}` line (printed at exit)."""
    stats = None
    for line in open(log_path, errors="replace"):
        m = re.search(r"sluiced: stats (\{.*\})", line)
        if m:
            try:
                stats = json.loads(m.group(1))
            except ValueError:
                pass
    if stats is None:
        return
    def walk(d):  # counters may be nested per worker/port; sum by name
        if isinstance(d, dict):
            for k, v in d.items():
                if isinstance(v, (int, float)) and k.startswith("drop_") and v:
                    yield k, v
                else:
                    yield from walk(v)
        elif isinstance(d, list):
            for v in d:
                yield from walk(v)
    sums = {}
    for k, v in walk(stats):
        sums[k] = sums.get(k, 0) + v
    if sums:
        emit(peer, "drops", ", ".join(f"{k[5:]} {int(v)}" for k, v in sorted(sums.items())))

def table(results, peers, out_md, header):
    rows = {p: {"note": []} for p in peers}
    for line in open(results):
        peer, key, value = line.rstrip("\n").split("\t", 2)
        r = rows.setdefault(peer, {"note": []})
        if key == "note":
            r["note"].append(value)
        else:
            r[key] = value
    def num(r, k, fmt):
        return fmt % float(r[k]) if k in r else "—"
    def cpu_lb(r, p):  # busy / softirq / LB processes, % of the LB core
        if p + "_cpu_lb" not in r:
            return "—"
        return "/".join(r.get(f"{p}_cpu_{k}", "–") for k in ("lb", "softirq", "proc"))
    def per_load(r, key):
        return "/".join(r.get(f"{p}_cpu_{key}", "–") for p in ("ka", "cl", "ip"))
    cols = ["peer", "keep-alive req/s", "close req/s (new conn/s)", "close p50 ms",
            "close p99 ms", "iperf3 Gbit/s", "notes"]
    body = []
    for p in peers:
        r = rows[p]
        notes = list(r["note"])
        if "ip_retr" in r:
            notes.append(f"iperf3 retransmits {r['ip_retr']}")
        body.append([p, num(r, "ka_rps", "%.0f"), num(r, "cl_rps", "%.0f"),
                     num(r, "cl_p50", "%.2f"), num(r, "cl_p99", "%.2f"),
                     num(r, "ip_gbps", "%.2f"), "; ".join(notes) or "—"])
    cols2 = ["peer", "keep-alive p50/p99 ms",
             "LB core %: busy/softirq/LB process, keep-alive", "close", "iperf3",
             "other core busy %: ka/close/iperf3", "jobs outside the lab, % of a core",
             "sluiced drop counters"]
    body2 = []
    for p in peers:
        r = rows[p]
        ka = (f"{float(r['ka_p50']):.2f}/{float(r['ka_p99']):.2f}"
              if "ka_p50" in r and "ka_p99" in r else "—")
        body2.append([p, ka, cpu_lb(r, "ka"), cpu_lb(r, "cl"), cpu_lb(r, "ip"),
                      per_load(r, "gen"), per_load(r, "other"),
                      r.get("drops", "—") if p.startswith("sluiced") else ""])
    # Plain text for the terminal: the notes go below the table, one line each.
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(cols[:-1])]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(cols[:-1]))
    for b in body:
        print(line(b[:-1]))
    for b in body:
        if b[-1] != "—":
            print(f"  {b[0]}: {b[-1]}")
    widths2 = [max(len(c), *(len(b[i]) for b in body2)) for i, c in enumerate(cols2)]
    print()
    for cells in [cols2] + body2:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths2)).rstrip())
    if out_md:
        md = lambda cells: "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"
        with open(out_md, "w") as f:
            f.write(header.rstrip("\n") + "\n\n")
            f.write(md(cols) + "\n" + md(["---"] * len(cols)) + "\n")
            f.writelines(md(b) + "\n" for b in body)
            f.write("\n" + md(cols2) + "\n" + md(["---"] * len(cols2)) + "\n")
            f.writelines(md(b) + "\n" for b in body2)

cmd = sys.argv[1]
if cmd == "wrk":
    wrk(*sys.argv[2:5])
elif cmd == "iperf3":
    iperf3(*sys.argv[2:4])
elif cmd == "snap":
    snap(sys.argv[2], sys.argv[3:])
elif cmd == "cpu":
    cpu(*sys.argv[2:6], int(sys.argv[6]), int(sys.argv[7]))
elif cmd == "drops":
    sluiced_drops(*sys.argv[2:4])
elif cmd == "worker-cpu":
    import tomllib
    print(tomllib.load(open(sys.argv[2], "rb"))["dataplane"]["worker_cpus"][0])
elif cmd == "table":
    table(sys.argv[2], sys.argv[3].split(","), sys.argv[4], sys.argv[5])
PY
helper() { python3 "$HELPER" "$@"; }
# Parsers append to the results; a parser bug is noted in the table rather than ending the run.
parse() { helper "$@" >>"$RESULTS" || record "$2" note "could not parse: $1 ${*:3}"; }
record() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$RESULTS"; }

# ---- dependencies and the release build (as perf/run.sh makes it)
./scripts/install-deps.sh
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    # Same options as perf/run.sh: GCC 12 at -O3 reports false -Wrestrict/-Warray-bounds
    # positives that the regular -Werror build does not, and the tests are not needed here.
    meson setup "$BUILD_DIR" --buildtype=release -Dtests=false -Dwerror=false >/dev/null
fi
log "building sluiced in $BUILD_DIR"
ninja -C "$BUILD_DIR" src/main/sluiced >"$WORK/build.log" 2>&1 ||
    { tail -n 30 "$WORK/build.log" >&2; die "build failed (log $WORK/build.log)"; }
SLUICED=$BUILD_DIR/src/main/sluiced
[[ -x $SLUICED ]] || die "no $SLUICED after the build"
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

lab_up() {
    LAB_UP=1
    ./scripts/lab.sh up 7>&- 9>&- >"$WORK/lab-$1.log" 2>&1 || return 1
    local ns pid dev i
    # The backends' servers (nginx, iperf3, udp echo) go to the other core with the clients.
    for ((i = 1; i <= LAB_BACKENDS; i++)); do
        while read -r pid; do
            taskset -a -p -c "$GEN_CPU" "$pid" >/dev/null 2>&1 || true
        done < <(ip netns pids "sluice-be$i")
    done
    ((USE_RPS)) || return 0
    # RPS: receive processing of the LB namespace's interfaces on the LB core, of the others on
    # the other core (see the header). `ip netns exec` mounts the namespace's own /sys.
    ip netns exec "$NS_LB" sh -c "for f in /sys/class/net/*/queues/rx-*/rps_cpus; do
        case \$f in */lo/*) ;; *) echo $(mask "$LB_CPU") >\$f || exit 1 ;; esac; done" ||
        { echo "RPS setup failed in $NS_LB" >&2; return 1; }
    for ((i = 1; i <= LAB_BACKENDS + 1; i++)); do
        ns=sluice-be$i
        ((i <= LAB_BACKENDS)) || ns=$NS_CLIENT
        ip netns exec "$ns" sh -c "for f in /sys/class/net/eth0/queues/rx-*/rps_cpus; do
            echo $(mask "$GEN_CPU") >\$f || exit 1; done" ||
            { echo "RPS setup failed in $ns" >&2; return 1; }
    done
}

lab_down() {
    ./scripts/lab.sh down 7>&- 9>&- >>"$WORK/lab-$1.log" 2>&1 || true
    LAB_UP=0
}

# ---- the kernel of sluice-lb as the load balancer (haproxy, nginx, nftables)
# lab.sh keeps that kernel silent for sluiced: no addresses, arp off on lbc0/lbs0, arp_ignore=8,
# ip_forward=0, and policy rules that send everything arriving on lbc0/lbs0 to a blackhole before
# the local table (moved from priority 0 to 100) is consulted. The kernel peers need the
# opposite. The blackhole rules go; the local table's rule can stay at priority 100, since with
# the blackholes gone it is the first rule again. kernel_lb_off puts everything back.
kernel_lb_on() { # (called in a condition, where set -e is off: every step checked)
    KERNEL_LB=1
    local dev
    for dev in lbc0 lbs0; do
        ip -n "$NS_LB" rule del pref 10 iif "$dev" blackhole || return 1
    done
    ip -n "$NS_LB" addr add "$GATEWAY/24" dev lbc0 || return 1
    # The VIP as a local address: the kernel answers ARP for it (the client sees it on-link), as
    # on an IPVS director, and haproxy/nginx can bind it.
    ip -n "$NS_LB" addr add "$VIP/32" dev lbc0 || return 1
    ip -n "$NS_LB" addr add "$LOCAL_ADDR/24" dev lbs0 || return 1
    ip -n "$NS_LB" link set lbc0 arp on || return 1
    ip -n "$NS_LB" link set lbs0 arp on || return 1
    ip netns exec "$NS_LB" sysctl -qw net.ipv4.conf.all.arp_ignore=0
}

kernel_lb_off() {
    local dev
    ip netns exec "$NS_LB" nft delete table ip sluice_peers 2>/dev/null || true
    ip netns exec "$NS_LB" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.conf.all.arp_ignore=8
    for dev in lbc0 lbs0; do
        ip -n "$NS_LB" link set "$dev" arp off
        ip -n "$NS_LB" addr flush dev "$dev"
        ip -n "$NS_LB" rule show pref 10 | grep -q "iif $dev blackhole" ||
            ip -n "$NS_LB" rule add iif "$dev" pref 10 blackhole
    done
    KERNEL_LB=0
}

# ---- starting and stopping each peer; each returns non-zero with a reason on stderr

# Waits up to 10 s for a TCP listener on $VIP:80 in sluice-lb while $LB_PID lives.
wait_listening() {
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$LB_PID" 2>/dev/null || return 1
        ip netns exec "$NS_LB" ss -Hltn "src $VIP:80" | grep -q LISTEN && return 0
        sleep 0.1
    done
    return 1
}

start_sluiced() { # config log
    local config=$1 logf=$2 i
    # Like demo.sh and tests/e2e/lab.py: root namespace (sluiced enters sluice-lb itself), lcores
    # from the config (control_cpu, worker_cpus).
    "$SLUICED" --config "$config" </dev/null >"$logf" 2>&1 7>&- 9>&- &
    LB_PID=$!
    for ((i = 0; i < 600; i++)); do
        grep -q 'sluiced: ready' "$logf" && return 0
        kill -0 "$LB_PID" 2>/dev/null || { tail -n 5 "$logf" >&2; echo "sluiced exited before ready" >&2; return 1; }
        sleep 0.1
    done
    echo "sluiced not ready after 60 s" >&2
    return 1
}

start_haproxy() {
    local dir=$WORK/haproxy
    mkdir -p "$dir"
    {
        cat <<EOF
# HAProxy as an L4 load balancer: one thread, pinned with taskset to the LB core.
global
    nbthread 1
    maxconn $PROXY_MAXCONN
    log stderr format short local0 err
defaults
    mode tcp
    log global
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    maxconn $PROXY_MAXCONN
frontend http
    bind $VIP:80
    default_backend web
backend web
    balance leastconn
EOF
        for i in "${!BACKENDS[@]}"; do echo "    server be$((i + 1)) ${BACKENDS[i]}:80"; done
        cat <<EOF
# iperf3's control and data connections must meet on one server: hash the source address (as
# sluiced's maglev src-ip VIP does).
frontend iperf3
    bind $VIP:5201
    default_backend iperf3
backend iperf3
    balance source
EOF
        for i in "${!BACKENDS[@]}"; do echo "    server be$((i + 1)) ${BACKENDS[i]}:5201"; done
    } >"$dir/haproxy.cfg"
    haproxy -c -q -f "$dir/haproxy.cfg" >"$dir/check.log" 2>&1 ||
        { cat "$dir/check.log" >&2; return 1; }
    # -db: foreground (no daemon) so $! is haproxy itself; `ip netns exec` and taskset exec it.
    ip netns exec "$NS_LB" taskset -c "$LB_CPU" haproxy -db -f "$dir/haproxy.cfg" \
        </dev/null >"$dir/haproxy.log" 2>&1 7>&- 9>&- &
    LB_PID=$!
    wait_listening || { tail -n 5 "$dir/haproxy.log" >&2; echo "haproxy did not start" >&2; return 1; }
}

start_nginx() {
    local dir=$WORK/nginx
    mkdir -p "$dir"
    {
        cat <<EOF
# nginx stream (TCP proxy): one worker, pinned with taskset (master and worker) to the LB core.
load_module $NGINX_STREAM_MODULE;
user root;
daemon off;
worker_processes 1;
worker_rlimit_nofile $FD_LIMIT;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections $((PROXY_MAXCONN * 2)); }
stream {
    upstream web {
EOF
        for b in "${BACKENDS[@]}"; do echo "        server $b:80;"; done
        cat <<EOF
    }
    upstream iperf3 {
        hash \$remote_addr consistent; # control and data connections to one server
EOF
        for b in "${BACKENDS[@]}"; do echo "        server $b:5201;"; done
        cat <<EOF
    }
    server { listen $VIP:80; proxy_pass web; }
    server { listen $VIP:5201; proxy_pass iperf3; }
}
EOF
    } >"$dir/nginx.conf"
    ip netns exec "$NS_LB" taskset -c "$LB_CPU" nginx -c "$dir/nginx.conf" -p "$dir" \
        -e "$dir/error.log" </dev/null >"$dir/nginx.log" 2>&1 7>&- 9>&- &
    LB_PID=$!
    wait_listening || { cat "$dir/nginx.log" "$dir/error.log" 2>/dev/null | tail -n 5 >&2; echo "nginx did not start" >&2; return 1; }
}

start_nftables() {
    local dir=$WORK/nftables map i entries=()
    mkdir -p "$dir"
    for i in "${!BACKENDS[@]}"; do entries+=("$i : ${BACKENDS[i]}"); done
    map=$(IFS=,; echo "${entries[*]}") # 0 : 198.18.1.11,1 : 198.18.1.12,...
    cat >"$dir/rules.nft" <<EOF
# Kernel full-NAT in sluice-lb: DNAT the VIP to a backend, SNAT to the LB's server-side address
# (the backends have no route to the clients, as with sluiced).
table ip sluice_peers {
    chain prerouting {
        type nat hook prerouting priority dstnat; policy accept;
        iifname "lbc0" ip daddr $VIP tcp dport 80 dnat to numgen inc mod ${#BACKENDS[@]} map { $map }
        # iperf3: control and data connections to one server, hashed on the source address
        iifname "lbc0" ip daddr $VIP tcp dport 5201 dnat to jhash ip saddr mod ${#BACKENDS[@]} map { $map }
    }
    chain postrouting {
        type nat hook postrouting priority srcnat; policy accept;
        oifname "lbs0" ct status dnat snat to $LOCAL_ADDR
    }
}
EOF
    ip netns exec "$NS_LB" nft -f "$dir/rules.nft" 2>"$dir/nft.log" || { cat "$dir/nft.log" >&2; return 1; }
    ip netns exec "$NS_LB" sysctl -qw net.ipv4.ip_forward=1
}

start_peer() {
    LB_KIND=$1
    case $1 in
    sluiced) start_sluiced "$CONFIG" "$WORK/sluiced.log" ;;
    sluiced-spin)
        # The lab config with only the idle policy changed.
        sed 's/^idle = "backoff"/idle = "spin"/' "$CONFIG" >"$WORK/spin.toml"
        grep -q '^idle = "spin"' "$WORK/spin.toml" ||
            { echo "no 'idle = \"backoff\"' line to change in $CONFIG" >&2; return 1; }
        start_sluiced "$WORK/spin.toml" "$WORK/sluiced-spin.log"
        ;;
    haproxy) kernel_lb_on && start_haproxy ;;
    nginx) kernel_lb_on && start_nginx ;;
    nftables) kernel_lb_on && start_nftables ;;
    esac
}

stop_peer() {
    if [[ -n $LB_PID ]]; then
        stop_pid "$LB_PID" 10
        wait "$LB_PID" 2>/dev/null || true
    fi
    LB_PID=
    if [[ $LB_KIND == sluiced* && -f $WORK/$LB_KIND.log ]]; then
        parse drops "$LB_KIND" "$WORK/$LB_KIND.log"
    fi
    if ((KERNEL_LB)); then kernel_lb_off; fi
    LB_KIND=
}

# ---- CPU snapshots around each load (the helper's snap): /proc/stat, the CPU time of the load
# balancer's processes, sluiced (all its threads) or whatever runs in sluice-lb (haproxy; nginx's
# master and worker; nftables has none: its work is the LB core's softirq), and the CPU time of
# processes outside the lab, which says how far other jobs on the machine skewed a figure.
snapshot() { # file
    local pids=()
    if [[ $LB_KIND == sluiced* && -n $LB_PID ]]; then
        pids=("$LB_PID")
    elif [[ -n $LB_PID ]]; then
        mapfile -t pids < <(ip netns pids "$NS_LB" 2>/dev/null)
    fi
    helper snap "$1" "${pids[@]}" || : >"$1"
}

# ---- one bounded load in the client namespace, pinned to the other core; interruptible
# (a background job and `wait`, so the trap runs at once on a signal and stops it).
run_load() { # output-file seconds command...
    local out=$1 secs=$2
    shift 2
    ip netns exec "$NS_CLIENT" taskset -c "$GEN_CPU" timeout -k 5 "$((secs + 30))" "$@" \
        </dev/null >"$out" 2>&1 7>&- 9>&- &
    LOAD_PID=$!
    local rc=0
    wait "$LOAD_PID" || rc=$?
    LOAD_PID=
    return "$rc"
}

measure() { # peer
    local peer=$1 d=$WORK/$1
    mkdir -p "$d"
    local url=http://$VIP/
    # Warm-up and sanity: one GET through the load balancer (the first SYN to a fresh sluiced may
    # be dropped while it resolves the client's MAC; curl's retransmission covers it).
    if ! ip netns exec "$NS_CLIENT" curl -s -m 10 "$url" 7>&- 9>&- | grep -q 'backend be'; then
        record "$peer" note "no answer from $url: not measured"
        return 0
    fi

    log "$peer: wrk keep-alive, $WRK_THREADS threads, $WRK_CONNECTIONS connections, ${DURATION}s"
    snapshot "$d/stat-ka-0"
    run_load "$d/wrk-keepalive.txt" "$DURATION" \
        wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${DURATION}s" --latency "$url" ||
        record "$peer" note "wrk keep-alive exited with status $?"
    snapshot "$d/stat-ka-1"
    parse wrk "$peer" ka "$d/wrk-keepalive.txt"
    parse cpu "$peer" ka "$d/stat-ka-0" "$d/stat-ka-1" "$LB_CPU" "$GEN_CPU"

    log "$peer: wrk Connection: close (a new connection per request), ${DURATION}s"
    snapshot "$d/stat-cl-0"
    run_load "$d/wrk-close.txt" "$DURATION" \
        wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"${DURATION}s" --latency \
        -H 'Connection: close' "$url" ||
        record "$peer" note "wrk close exited with status $?"
    snapshot "$d/stat-cl-1"
    parse wrk "$peer" cl "$d/wrk-close.txt"
    parse cpu "$peer" cl "$d/stat-cl-0" "$d/stat-cl-1" "$LB_CPU" "$GEN_CPU"

    log "$peer: iperf3 to $VIP:5201, ${DURATION}s"
    snapshot "$d/stat-ip-0"
    run_load "$d/iperf3.json" "$DURATION" \
        iperf3 -c "$VIP" -p 5201 -t "$DURATION" -J --connect-timeout 5000 ||
        record "$peer" note "iperf3 exited with status $?"
    snapshot "$d/stat-ip-1"
    parse iperf3 "$peer" "$d/iperf3.json"
    parse cpu "$peer" ip "$d/stat-ip-0" "$d/stat-ip-1" "$LB_CPU" "$GEN_CPU"
}

# ---- the run
started=$(date '+%Y-%m-%d %H:%M')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for peer in "${PEERS[@]}"; do
    log "== $peer"
    if ! lab_up "$peer"; then
        tail -n 5 "$WORK/lab-$peer.log" >&2
        record "$peer" note "scripts/lab.sh up failed: not measured"
        lab_down "$peer"
        continue
    fi
    if start_peer "$peer" 2>"$WORK/start-$peer.err"; then
        measure "$peer"
    else
        cat "$WORK/start-$peer.err" >&2
        reason=$(grep -v '^\s*$' "$WORK/start-$peer.err" | tail -n 1 | cut -c1-160)
        record "$peer" note "failed to start${reason:+: $reason}"
    fi
    stop_peer
    lab_down "$peer"
done

machine="$(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r)"
rps_text="RPS steers the LB namespace's receive processing to the LB core, the others' to the other core"
((USE_RPS)) || rps_text="no RPS (kernel receive work runs on the sending CPU)"
header="Measured $started with \`perf/compare-peers.sh${ARGS[*]:+ ${ARGS[*]}}\` on $machine; load average before: $load_before.
Load balancer on CPU $LB_CPU (sluiced's worker; haproxy/nginx pinned there with taskset), wrk/iperf3 clients and backends on CPU $GEN_CPU; $rps_text.
wrk $WRK_THREADS threads, $WRK_CONNECTIONS connections, ${DURATION} s per load; iperf3 one TCP stream, ${DURATION} s; p50/p99 are wrk's latency percentiles of the close run."
echo
echo "== results ($header)" | fold -s -w 100
echo
helper table "$RESULTS" "$(IFS=,; echo "${PEERS[*]}")" "$OUT_MD" "$header"
[[ -z $OUT_MD ]] || log "markdown written to $OUT_MD"
log "logs and raw outputs in $WORK"

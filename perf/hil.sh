#!/usr/bin/env bash
# Hardware-in-the-loop performance runs of sluiced (issue 17, docs/hil.md): starts sluiced with a
# generated configuration, runs sluice-loadgen's scenarios through it (clients on one port,
# backends on the other), prints one RFC 2544-style table (frame size, NDR/PDR, latency at the
# NDR), writes JSON and, when gnuplot is installed, a PNG of received rate and latency against
# the offered rate. Stops everything it started on any exit.
#
#   perf/hil.sh                  # one host: sluiced and the generator joined by two net_memif pairs
#   perf/hil.sh --smoke          # seconds long: validation and the table, no speed threshold
#   perf/hil.sh --metal FILE     # two NIC ports each side, PCI addresses in FILE (docs/hil.md;
#                                # full addresses with the domain, 0000:03:00.0)
#   perf/hil.sh --soak [SECONDS] # soak: NDR search, then SECONDS at half the NDR with a line per
#                                # second; sluiced's mbufs_in_use and flows before and after,
#                                # and a verdict (default 600 s, 1800 s with --metal)
#
# Options: --build DIR (the build with src/main/sluiced and perf/loadgen/sluice-loadgen;
# default $SLUICE_HIL_BUILD_DIR or build), --out DIR (results; default $BUILD/hil-results),
# --scenarios "established_1k udp_1k ..." (default: all of the mode), --final S (full-duration
# trial seconds; default 10), --max-rate PPS (default 3e6), --cps-max-rate CPS (default 3e5),
# --syn-flood-rate PPS (spoofed SYNs beside the syn-flood scenario's cps load; 1e5, smoke 5000),
# --idle spin|backoff (sluiced's workers; default spin, backoff with --smoke), --soak [SECONDS]
# (default scenario established_1k; with --smoke, its short search), --soak-rate PPS (soak at this
# rate, no search first).
#
# Environment: SLUICE_HIL_BUILD_DIR, SLUICE_HIL_LOADGEN_ARGS (more sluice-loadgen options for
# every scenario, e.g. "--payload 64 --sample-every 16").
#
# One host: sluiced's worker on CPU 1, the generator on CPU 0 (the control lcores share CPU 0).
# memif in copy mode, no hugepages (--no-huge on both sides). Root needed (DPDK, the memif
# sockets); without root it exits 77 (skipped). Exit status: 0, 1 when a scenario failed its
# checks (the generator's validation, nothing received, sluiced not ready or dead; a soak also
# when its per-second lines or sluiced's metrics are missing or mbufs_in_use did not return to
# its start value), 2 usage. Every scenario writes its per-second lines to $OUT/NAME.seconds.jsonl.
# Paths (--build, --out) are relative to the repository's root.
set -euo pipefail
SELF=$(realpath "${BASH_SOURCE[0]}")
cd "$(dirname "$SELF")/.."

usage() { sed -n '2,/^set -euo/p' "$SELF" | grep '^#' | sed 's/^# \{0,1\}//'; }

BUILD_DIR=${SLUICE_HIL_BUILD_DIR:-build}
LOADGEN_EXTRA=${SLUICE_HIL_LOADGEN_ARGS:-}  # more generator options, e.g. "--payload 64"
OUT=""
SMOKE=0
METAL=""
SCENARIOS=""
FINAL_S=10
MAX_RATE=3e6
CPS_MAX_RATE=300000
FLOOD_RATE=""
IDLE=""
SOAK_S=""        # seconds; "" : no soak; "default": 600, 1800 with --metal
SOAK_RATE=""     # packets/s (cps: connections/s); "" : half the NDR searched first
# A soak's mbufs_in_use after may exceed the one before by this much: sluiced's worker may hold
# up to one RX burst (32) and one TX burst (32) in its buffers when the traffic stops.
MBUF_TOLERANCE=64
while (($#)); do
    case $1 in
        --smoke) SMOKE=1 ;;
        --build) BUILD_DIR=$2; shift ;;
        --out) OUT=$2; shift ;;
        --metal) METAL=$2; shift ;;
        --scenarios) SCENARIOS=$2; shift ;;
        --final) FINAL_S=$2; shift ;;
        --max-rate) MAX_RATE=$2; shift ;;
        --cps-max-rate) CPS_MAX_RATE=$2; shift ;;
        --syn-flood-rate) FLOOD_RATE=$2; shift ;;
        --idle) IDLE=$2; shift ;;
        --soak) if [[ ${2:-} =~ ^[0-9]+$ ]]; then SOAK_S=$2; shift; else SOAK_S=default; fi ;;
        --soak-rate) SOAK_RATE=$2; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "hil.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
if ((EUID != 0)); then
    echo "hil.sh: needs root (DPDK, memif sockets): skipped" >&2
    exit 77
fi
SLUICED=$BUILD_DIR/src/main/sluiced
LOADGEN=$BUILD_DIR/perf/loadgen/sluice-loadgen
for b in "$SLUICED" "$LOADGEN"; do
    [[ -x $b ]] || { echo "hil.sh: $b not built (ninja -C $BUILD_DIR ${b#"$BUILD_DIR"/})" >&2; exit 1; }
done
OUT=${OUT:-$BUILD_DIR/hil-results}
mkdir -p "$OUT"
[[ -n $IDLE ]] || IDLE=$([[ $SMOKE == 1 ]] && echo backoff || echo spin)
[[ $SOAK_S == default ]] && SOAK_S=$([[ -n $METAL ]] && echo 1800 || echo 600)
if [[ -n $SOAK_S ]]; then
    [[ -n $SCENARIOS ]] || SCENARIOS=established_1k
    # sluiced's /metrics on a free loopback port (read before and after the soak).
    METRICS_ADDR=127.0.0.1:$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi

# Everything started here is stopped on any exit: sluiced, a running generator, the temp dir.
TMP=$(mktemp -d /tmp/sluice-hil.XXXXXX)
sluiced_pid=""
loadgen_pid=""
cleanup() {
    local rc=$?
    [[ -n $loadgen_pid ]] && kill "$loadgen_pid" 2>/dev/null && wait "$loadgen_pid" 2>/dev/null
    if [[ -n $sluiced_pid ]]; then
        kill -TERM "$sluiced_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$sluiced_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$sluiced_pid" 2>/dev/null || true
        wait "$sluiced_pid" 2>/dev/null || true
    fi
    rm -rf "$TMP" "/var/run/dpdk/sluice-hil-lb-$$" "/var/run/dpdk/sluice-hil-gen-$$"  # EAL's runtime dirs
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Scenario table: name:mode:flows:vip_port:max_rate (packets/s; cps: connections/s). 1M
# established flows need ~3 GiB for sluiced's table and the generator's; the smoke run keeps to
# thousands.
if [[ $SMOKE == 1 ]]; then
    ALL="established_1k:established:1000:80:50000 udp_1k:udp:1000:9000:50000
         cps_10k:cps:10000:80:50000 syn_flood_10k:syn-flood:10000:80:20000"
    FLOOD_RATE=${FLOOD_RATE:-5000}
    SEARCH=(--min-rate 1000 --trial 0.2 --final 0.5 --max-trials 8 --resolution 0.05
            --grace 0.1)
else
    ALL="established_1k:established:1000:80:$MAX_RATE
         established_1M:established:1000000:80:$MAX_RATE
         udp_1k:udp:1000:9000:$MAX_RATE udp_1M:udp:1000000:9000:$MAX_RATE
         cps_100k:cps:100000:80:$CPS_MAX_RATE
         syn_flood_100k:syn-flood:100000:80:$CPS_MAX_RATE"
    # Grace 0.5 s: late frames still count (RFC 2544 waits 2 s; a shared VM stalls ~100 ms).
    FLOOD_RATE=${FLOOD_RATE:-100000}
    SEARCH=(--min-rate 10000 --trial 1 --final "$FINAL_S" --max-trials 30 --resolution 0.01
            --grace 0.5)
fi
[[ -n $SCENARIOS ]] || SCENARIOS=$(for s in $ALL; do printf '%s ' "${s%%:*}"; done)
max_flows=1000
for s in $ALL; do
    IFS=: read -r name _ flows _ <<<"$s"
    [[ " $SCENARIOS " == *" $name "* ]] && ((flows > max_flows)) && max_flows=$flows
done

# The devices of both sides: memif pairs (sluiced is the memif server) or the metal file's PCI
# addresses.
if [[ -n $METAL ]]; then
    eval "$(python3 - "$METAL" <<'EOF'
import sys, tomllib, shlex
m = tomllib.load(open(sys.argv[1], "rb"))
for k in ("lb_client_pci", "lb_server_pci", "gen_client_pci", "gen_server_pci"):
    print(f"{k.upper()}={shlex.quote(m[k])}")
print(f"LB_CPUS={shlex.quote(','.join(str(c) for c in m.get('lb_worker_cpus', [1])))}")
print(f"LB_CONTROL_CPU={int(m.get('lb_control_cpu', 0))}")
print(f"GEN_CPU={int(m.get('gen_cpu', 2))}")
print(f"LB_EAL={shlex.quote(' '.join(m.get('lb_eal_args', [])))}")
print(f"GEN_EAL={shlex.quote(' '.join(m.get('gen_eal_args', [])))}")
EOF
)"
    LB_CLIENT_DEV=$LB_CLIENT_PCI; LB_SERVER_DEV=$LB_SERVER_PCI
    GEN_DEVS=(-a "$GEN_CLIENT_PCI" -a "$GEN_SERVER_PCI")
    GEN_PORTS=(--client-port-name "$GEN_CLIENT_PCI" --server-port-name "$GEN_SERVER_PCI")
    LB_EAL_TOML=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1].split()))' \
        "$LB_EAL --file-prefix=sluice-hil-lb-$$")
    GEN_EAL=($GEN_EAL "--file-prefix=sluice-hil-gen-$$" -l "$GEN_CPU")
else
    LB_CLIENT_DEV="net_memif0,role=server,id=0,socket=$TMP/client.sock,socket-abstract=no,rsize=12"
    LB_SERVER_DEV="net_memif1,role=server,id=0,socket=$TMP/server.sock,socket-abstract=no,rsize=12"
    GEN_DEVS=(--vdev "net_memif0,role=client,id=0,socket=$TMP/client.sock,socket-abstract=no,rsize=12"
              --vdev "net_memif1,role=client,id=0,socket=$TMP/server.sock,socket-abstract=no,rsize=12")
    GEN_PORTS=(--client-port-name net_memif0 --server-port-name net_memif1)
    mem=$(( max_flows > 100000 ? 4096 : 1024 ))
    LB_EAL_TOML="[\"--no-huge\", \"-m\", \"$mem\", \"--no-shconf\", \"--no-pci\", \"--file-prefix=sluice-hil-lb-$$\", \"--log-level=lib.eal:notice\"]"
    GEN_EAL=(--no-huge -m "$mem" --no-shconf --no-pci "--file-prefix=sluice-hil-gen-$$"
             --log-level=lib.eal:notice -l 0)
    LB_CPUS=1; LB_CONTROL_CPU=0
fi

# write_config FLOWS: sluiced's configuration in $TMP/sluiced.toml. Clients behind 198.18.0.2
# (one neighbour for all of them), four backends on the servers' segment, 16 full-NAT local
# addresses, no exception interfaces, no health checks, no metrics listener (a soak: one on a
# loopback port), the control socket in the temp dir, tcp_syn 120 s (IPVS's); the flow table and
# the pool sized for FLOWS.
write_config() {
    local flows=$1 capacity=65536 mbufs=32767
    while ((capacity < flows * 2)); do capacity=$((capacity * 2)); done
    ((flows > 100000)) && mbufs=131071
    cat >"$TMP/sluiced.toml" <<EOF
[dataplane]
eal_args = $LB_EAL_TOML
control_cpu = $LB_CONTROL_CPU
worker_cpus = [$LB_CPUS]
idle = "$IDLE"
mbufs = $mbufs
kernel_interfaces = false

[control]
socket = "$TMP/sluiced.sock"

[metrics]
listen = "${METRICS_ADDR:-}"

[[port]]
name = "client"
device = "$LB_CLIENT_DEV"
addresses = ["198.18.0.1/24"]

[[port]]
name = "servers"
device = "$LB_SERVER_DEV"
addresses = ["198.18.1.1/24"]
local_addresses = ["198.18.1.128/28"]

[[route]]
prefix = "198.19.0.0/16"
via = "198.18.0.2"

[flows]
capacity = $capacity

# Opening 1 M flows takes over 10 s: a handshake whose ACK was lost must not be aged out (the
# default tcp_syn of 10 s) before the generator re-sends the ACK after its opening pass.
[timeouts]
tcp_syn = 120

[[vip]]
name = "tcp"
address = "198.18.0.10"
port = 80
protocol = "tcp"
backend = [{ address = "198.18.1.11" }, { address = "198.18.1.12" },
           { address = "198.18.1.13" }, { address = "198.18.1.14" }]

[[vip]]
name = "udp"
address = "198.18.0.10"
port = 9000
protocol = "udp"
backend = [{ address = "198.18.1.11" }, { address = "198.18.1.12" },
           { address = "198.18.1.13" }, { address = "198.18.1.14" }]
EOF
}

# start_sluiced NAME: in the background, its stderr in $OUT/NAME.sluiced.log; waits for
# "sluiced: ready". One sluiced per scenario: a fresh flow table, and its memif ports see one
# connection only (DPDK 22.11's memif can crash a polling process when a peer reconnects).
start_sluiced() {
    local log=$OUT/$1.sluiced.log
    rm -f "$TMP"/*.sock  # a crashed run leaves its memif sockets
    # A session of its own (setsid): with the kernel's autogroup scheduling each session gets an
    # equal share of a CPU, so sluiced does not share one with the generator and this script.
    setsid "$SLUICED" --config "$TMP/sluiced.toml" 2>"$log" >/dev/null &
    sluiced_pid=$!
    for _ in $(seq 300); do
        grep -q 'sluiced: ready' "$log" && return 0
        kill -0 "$sluiced_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "hil.sh: sluiced did not become ready (see $log):" >&2
    tail -20 "$log" >&2
    return 1
}

# stop_sluiced: SIGTERM, then SIGKILL after 5 s. False when it had died before.
stop_sluiced() {
    local alive=0
    [[ -n $sluiced_pid ]] || return 1
    kill -0 "$sluiced_pid" 2>/dev/null && alive=1
    kill -TERM "$sluiced_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$sluiced_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$sluiced_pid" 2>/dev/null || true
    wait "$sluiced_pid" 2>/dev/null || true
    sluiced_pid=""
    ((alive))
}

# read_metrics FILE: sluiced's /metrics (a plain HTTP GET on its loopback listener, no proxy)
# reduced to JSON in FILE: mbufs_in_use, mbufs_capacity, flows (active + inactive connections
# summed over the backends). False when sluiced does not answer or a gauge is missing.
read_metrics() {
    python3 - "$METRICS_ADDR" "$1" <<'EOF'
import json, sys, urllib.request
addr, path = sys.argv[1], sys.argv[2]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
text = opener.open(f"http://{addr}/metrics", timeout=5).read().decode()
names = {"sluice_mbufs_in_use": "mbufs_in_use", "sluice_mbufs_capacity": "mbufs_capacity",
         "sluice_backend_active_connections": "flows_active",
         "sluice_backend_inactive_connections": "flows_inactive"}
v = {}
for line in text.splitlines():
    name = line.split("{")[0].split(" ")[0]
    if not line.startswith("#") and name in names:
        v[names[name]] = v.get(names[name], 0) + int(float(line.rsplit(" ", 1)[1]))
missing = [n for n in names if names[n] not in v]
if missing:
    sys.exit(f"hil.sh: /metrics has no {', '.join(missing)}")
v["flows"] = v["flows_active"] + v["flows_inactive"]
json.dump(v, open(path, "w"))
EOF
}

# watch_soak NAME: called while the generator runs. Reads sluiced's metrics once the generator
# announces the soak (it then waits two seconds before sending) and echoes the soak's new
# per-second lines.
soak_shown=0
watch_soak() {
    local log=$OUT/$1.log before=$OUT/$1.metrics-before.json lines
    grep -q 'sluice-loadgen: soak starts' "$log" || return 0
    if [[ ! -f $before && ! -f $before.failed ]]; then
        read_metrics "$before" || touch "$before.failed"
    fi
    lines=$(awk '/sluice-loadgen: soak starts/ { on = 1; next } on && /^second /' "$log")
    if [[ -n $lines ]] && (($(wc -l <<<"$lines") > soak_shown)); then
        tail -n +$((soak_shown + 1)) <<<"$lines" >&2
        soak_shown=$(wc -l <<<"$lines")
    fi
}

# soak_verdict NAME: the soak's verdict from the generator's JSON and sluiced's metrics before and
# after: one line, and the same under "soak" in $OUT/NAME.json. False when the soak has no result
# or too few per-second lines, the metrics are missing, or mbufs_in_use did not return to its
# start value within MBUF_TOLERANCE.
soak_verdict() {
    python3 - "$OUT/$1.json" "$OUT/$1.metrics-before.json" "$OUT/$1.metrics-after.json" \
        "$MBUF_TOLERANCE" "$1" <<'EOF'
import json, os, sys
path, before_path, after_path, tolerance, name = sys.argv[1:4] + [int(sys.argv[4]), sys.argv[5]]
load = lambda p: json.load(open(p)) if os.path.exists(p) else None
run, before, after = load(path), load(before_path), load(after_path)
soak = (run or {}).get("soak")
if not soak:
    print(f"hil.sh: soak {name}: FAILED: the generator reported no soak", file=sys.stderr)
    sys.exit(1)
problems = []
if soak["seconds"] < int(soak["duration_s"]):
    problems.append(f"{soak['seconds']} per-second lines for {soak['duration_s']:.0f} s")
if not before or not after:
    problems.append("sluiced's /metrics not read " + ("before" if not before else "after"))
returned = None
if before and after:
    returned = after["mbufs_in_use"] <= before["mbufs_in_use"] + tolerance
    if not returned:
        problems.append("mbufs_in_use did not return")
soak["daemon"] = {"before": before, "after": after}
soak["verdict"] = {"lost": soak["lost"], "loss_ratio": soak["loss_ratio"],
                   "reordered": soak["reordered"], "mbufs_returned": returned,
                   "mbuf_tolerance": tolerance, "ok": not problems, "problems": problems}
json.dump(run, open(path, "w"), indent=2)
share = f" ({soak['ndr_fraction']:g} x NDR)" if soak["rate_from"] == "ndr" else ""
mbufs = flows = "unknown"
if before and after:
    mbufs = (f"{before['mbufs_in_use']} -> {after['mbufs_in_use']} (returned: "
             f"{'yes' if returned else 'NO'}, tolerance +{tolerance})")
    flows = f"{before['flows']} -> {after['flows']}"
print(f"hil.sh: soak {name}: {soak['duration_s']:.0f} s at {soak['rate_pps'] / 1e6:.4f} Mpps"
      f"{share}: lost {soak['lost']} of {soak['offered']} ({100 * soak['loss_ratio']:.6f}%), "
      f"reordered {soak['reordered']}, {soak['seconds_with_loss']} of {soak['seconds']} seconds "
      f"with loss; mbufs_in_use {mbufs}; flows {flows}"
      + ("" if not problems else "; FAILED: " + "; ".join(problems)), file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
}

# run_scenario NAME MODE FLOWS VIP_PORT MAX_RATE INDEX: one generator run, its JSON in
# $OUT/NAME.json, its per-second lines in $OUT/NAME.seconds.jsonl. The generator holds its ports
# after its report (--hold) until sluiced is stopped, so that no memif peer disconnects under a
# polling process (DPDK 22.11's memif unmaps a ring the poller may still read); a soak's "after"
# metrics are read then, with nothing in flight. False when the generator failed, sluiced died
# during it, or the soak's verdict failed.
run_scenario() {
    local name=$1 mode=$2 flows=$3 port=$4 max_rate=$5 index=$6 rc=0 log=$OUT/$1.log extra=()
    [[ $mode == syn-flood ]] && extra=(--syn-flood-rate "$FLOOD_RATE")
    if [[ -n $SOAK_S ]]; then
        extra+=(--soak "$SOAK_S")
        [[ -n $SOAK_RATE ]] && extra+=(--rate "$SOAK_RATE")
    fi
    echo "== $name" >&2
    rm -f "$OUT/$name.json" "$OUT/$name".metrics-*.json*
    soak_shown=0
    setsid timeout -k 5 $((900 + ${SOAK_S:-0})) "$LOADGEN" "${GEN_EAL[@]}" "${GEN_DEVS[@]}" -- \
        "${GEN_PORTS[@]}" --mode "$mode" --flows "$flows" --vip-port "$port" \
        --clients "198.19.$index.1" --scenario "$name" --json "$OUT/$name.json" \
        --per-second "$OUT/$name.seconds.jsonl" --max-rate "$max_rate" "${SEARCH[@]}" \
        "${extra[@]}" --hold $LOADGEN_EXTRA >"$OUT/$name.out" 2>"$log" &
    loadgen_pid=$!
    while kill -0 "$loadgen_pid" 2>/dev/null && ! grep -q 'sluice-loadgen: done' "$log"; do
        [[ -n $SOAK_S ]] && watch_soak "$name"
        sleep 0.2
    done
    if [[ -n $SOAK_S ]]; then
        watch_soak "$name"
        kill -0 "$sluiced_pid" 2>/dev/null && read_metrics "$OUT/$name.metrics-after.json" || true
    fi
    stop_sluiced || { echo "hil.sh: sluiced died during $name (see $OUT/$name.sluiced.log)" >&2; rc=1; }
    kill -TERM "$loadgen_pid" 2>/dev/null || true
    wait "$loadgen_pid" || rc=$?
    loadgen_pid=""
    grep -E '^trial|^soak:|usable|FAILED|sluice-loadgen:' "$log" | grep -v 'holding the ports' >&2 || true
    cat "$OUT/$name.out" >&2
    grep -o '"drop_[a-z_]*": [1-9][0-9]*' "$OUT/$name.sluiced.log" | sed 's/^/  sluiced /' >&2 || true
    if [[ -n $SOAK_S ]]; then soak_verdict "$name" || rc=1; fi
    return "$rc"
}

failed=""
index=0
for s in $ALL; do
    IFS=: read -r name mode flows port max_rate <<<"$s"
    index=$((index + 1))
    [[ " $SCENARIOS " == *" $name "* ]] || continue
    write_config "$flows"
    cp "$TMP/sluiced.toml" "$OUT/$name.sluiced.toml"
    if ! start_sluiced "$name"; then
        failed="$failed $name"
        stop_sluiced || true
        continue
    fi
    run_scenario "$name" "$mode" "$flows" "$port" "$max_rate" "$index" || failed="$failed $name"
done

# One table over the scenarios' JSON, the combined JSON, and the plot.
python3 - "$OUT" $SCENARIOS <<'EOF'
import json, os, sys
out, names = sys.argv[1], sys.argv[2:]
runs = []
for n in names:
    p = os.path.join(out, n + ".json")
    if os.path.exists(p):
        runs.append(json.load(open(p)))
print(f"{'scenario':<18} {'frame B':>7} {'flows':>8} {'NDR Mpps':>9} {'PDR Mpps':>9} "
      f"{'p50 us':>8} {'p99 us':>8} {'p99.9 us':>9} {'trials':>6} {'failures':>8} {'reord':>6}")
for r in runs:
    def rate(goal):  # a fixed-rate run has no search: its trial's achieved rate
        g = r.get(goal)
        if g is None:
            return f"{r['trials'][-1]['achieved_pps'] / 1e6:.4f}*" if r["trials"] else "-"
        return f"{g['median_pps'] / 1e6:.4f}" if g["found"] else "none"
    ndr, pdr = rate("ndr"), rate("pdr")
    lat = r.get("latency_at_ndr", {})
    print(f"{r['scenario']:<18} {r['frame_bytes']:>7} {r['usable_flows']:>8} {ndr:>9} "
          f"{pdr:>9} {lat.get('p50_us', 0):>8.1f} {lat.get('p99_us', 0):>8.1f} "
          f"{lat.get('p99_9_us', 0):>9.1f} {len(r['trials']):>6} "
          f"{r['totals']['validation_failures']:>8} {r.get('trials_reordered', 0):>6}")
print("(NDR: no frame lost; PDR: at most 0.5% lost; none: not found within the trial budget;"
      " cps rows in M connections/s; latency: one way through sluiced, at the NDR;"
      " frame: without FCS; reord: frames out of order in all trials)")
json.dump({"scenarios": runs}, open(os.path.join(out, "hil.json"), "w"), indent=2)
with open(os.path.join(out, "hil-trials.dat"), "w") as f:
    for r in runs:
        f.write(f'"{r["scenario"]}"\n')
        for t in sorted(r["trials"], key=lambda t: t["rate_pps"]):
            f.write(f'{t["rate_pps"]/1e6} {t["received"]/t["duration_s"]/1e6} '
                    f'{t["latency"]["p99_us"]}\n')
        f.write("\n\n")
EOF
rm -f "$OUT/hil.png"
if command -v gnuplot >/dev/null && grep -q '^[0-9]' "$OUT/hil-trials.dat"; then
    gnuplot <<EOF 2>"$OUT/gnuplot.log" || { echo "hil.sh: gnuplot failed (no PNG, see $OUT/gnuplot.log)" >&2; rm -f "$OUT/hil.png"; }
set terminal pngcairo size 1200,500 noenhanced
set output "$OUT/hil.png"
set multiplot layout 1,2
set key left top
set xlabel "offered (Mpps)"
set ylabel "received (Mpps)"
plot for [i=0:*] "$OUT/hil-trials.dat" index i using 1:2 with linespoints title columnheader(1)
set ylabel "p99 latency (us)"
set logscale y
plot for [i=0:*] "$OUT/hil-trials.dat" index i using 1:3 with linespoints title columnheader(1)
unset multiplot
EOF
fi
echo "hil.sh: results in $OUT (hil.json$([[ -f $OUT/hil.png ]] && echo ', hil.png'))" >&2
if [[ -n $failed ]]; then
    echo "hil.sh: FAILED:$failed" >&2
    exit 1
fi

#!/usr/bin/env bash
# Sluice demo, as root on a fresh Debian 12 box: installs the dependencies, builds, brings up the
# namespace lab, runs sluiced on dpdk-config/lab.toml and sends bounded traffic through it:
#   1000 HTTP GETs (each on a new connection), 100 UDP exchanges and 3 pings to the VIP 198.18.0.10,
# printing how many each backend served; 2 pings and 6 curl requests to the IPv6 VIP 2001:2::10
# (round robin over the backends' IPv6 addresses); then the daemon's counters. The lab is torn
# down on exit, also on failure or Ctrl-C. Exits non-zero if any request failed or a backend
# served none.
# SLUICE_BUILD_DIR overrides the build directory (default build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${SLUICE_BUILD_DIR:-build}
CONFIG=${SLUICE_DEMO_CONFIG:-dpdk-config/lab.toml}
WORK=$(mktemp -d /tmp/sluice-demo.XXXXXX)
DAEMON_LOG=$WORK/sluiced.log
VIP=198.18.0.10
VIP6=2001:2::10
SLUICED_PID=
LAB_UP=0

if [[ -t 1 ]]; then
    bold() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    bold() { printf '\n== %s\n' "$*"; }
fi
die() {
    echo "demo: error: $*" >&2
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get, network namespaces, DPDK)"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $SLUICED_PID ]] && kill -0 "$SLUICED_PID" 2>/dev/null; then
        echo "demo: stopping sluiced (pid $SLUICED_PID)"
        kill -TERM "$SLUICED_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SLUICED_PID" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$SLUICED_PID" 2>/dev/null || true
    fi
    if [[ $LAB_UP -eq 1 ]]; then
        ./scripts/lab.sh down || true
    fi
    echo "demo: daemon log kept in $DAEMON_LOG"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bold "dependencies"
./scripts/install-deps.sh

bold "build ($BUILD_DIR)"
if [[ -f $BUILD_DIR/build.ninja ]]; then
    meson setup --reconfigure "$BUILD_DIR" >/dev/null || { rm -rf "$BUILD_DIR"; meson setup "$BUILD_DIR"; }
else
    rm -rf "$BUILD_DIR"
    meson setup "$BUILD_DIR"
fi
ninja -C "$BUILD_DIR"
SLUICED=$BUILD_DIR/src/main/sluiced
[[ -x $SLUICED ]] || die "no $SLUICED after the build"

# One lab per machine: wait for an e2e test that may be using it.
exec 9>/run/sluice-lab.lock
flock -w 300 9 || die "the lab is busy (lock /run/sluice-lab.lock)"
export SLUICE_LAB_LOCK_HELD=1 # for scripts/lab.sh

bold "lab up"
LAB_UP=1
./scripts/lab.sh up 9>&-

bold "sluiced --config $CONFIG"
"$SLUICED" --config "$CONFIG" </dev/null >"$DAEMON_LOG" 2>&1 9>&- &
SLUICED_PID=$!
for ((i = 0; i < 600; i++)); do
    grep -q 'sluiced: ready' "$DAEMON_LOG" && break
    kill -0 "$SLUICED_PID" 2>/dev/null || { tail -n 40 "$DAEMON_LOG"; die "sluiced exited before ready"; }
    sleep 0.1
done
grep -q 'sluiced: ready' "$DAEMON_LOG" || { tail -n 40 "$DAEMON_LOG"; die "sluiced not ready after 60 s"; }
grep -m1 'sluiced: ready' "$DAEMON_LOG"
echo "(pid $SLUICED_PID, log $DAEMON_LOG)"

failed=0
client() { ip netns exec sluice-client python3 tests/e2e/client.py "$@" --expect-backends be1,be2,be3; }

bold "1000 HTTP GETs to http://$VIP/ from sluice-client, one new connection each"
client http --url "http://$VIP/" --count 1000 || failed=1

bold "100 UDP exchanges with $VIP:9000 from sluice-client, one new source port each"
client udp --addr "$VIP" --port 9000 --count 100 || failed=1

bold "ping -c 3 $VIP from sluice-client: the workers answer echo requests to a VIP themselves"
ip netns exec sluice-client ping -n -c 3 -i 0.2 -W 2 "$VIP" | tail -n 2 || failed=1

bold "IPv6: ping -6 -c 2 $VIP6 from sluice-client (the workers answer, and answer NDP for the VIP)"
ip netns exec sluice-client ping -6 -n -c 2 -i 0.2 -W 2 "$VIP6" | tail -n 2 || failed=1

bold "IPv6: 6 x curl -g http://[$VIP6]/ (VIP http6, round robin over [2001:2:0:1::11..13]:80)"
seen6=
for i in 1 2 3 4 5 6; do
    answer=$(ip netns exec sluice-client curl -gsS --max-time 5 "http://[$VIP6]/" |
        grep -o 'backend be[0-9]*') || { echo "request $i: failed"; failed=1; continue; }
    echo "request $i: $answer"
    seen6+=" $answer"
done
for be in be1 be2 be3; do
    [[ $seen6 == *"backend $be"* ]] || { echo "  WRONG: $be served none of the IPv6 requests"; failed=1; }
done

SLUICECTL=$BUILD_DIR/src/cli/sluicectl
# served_none_by FILE BACKEND...: prints a client run's result (its JSON line in FILE) and fails
# if any listed backend served a request.
served_none_by() {
    python3 - "$@" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
print(f"http: {d['ok']} ok, {d['failed']} failed; per backend {d['backends']}")
names = sys.argv[2:]
bad = [b for b in names if d["backends"].get(b, 0)]
print(("  WRONG: served by " if bad else "  as expected, none served by ") + ", ".join(bad or names))
sys.exit(1 if bad or d["failed"] else 0)
PY
}

bold "operator: sluicectl show backends http"
"$SLUICECTL" show backends http || failed=1

bold "operator: weight 0 on be2 (sluicectl set weight http 198.18.1.12:80 0), then 300 new connections"
"$SLUICECTL" set weight http 198.18.1.12:80 0 || failed=1
ip netns exec sluice-client python3 tests/e2e/client.py http --url "http://$VIP/" --count 300 \
    --json >"$WORK/weights.json" || failed=1
served_none_by "$WORK/weights.json" be2 || failed=1

bold "clients hold 4 keep-alive connections open; sluicectl show flows"
# Bounded: the holder closes its connections after 30 s at most, or when its stdin (the sleep)
# ends. The short-lived connections above are still listed in TIME_WAIT: only open ones shown.
sleep 30 | ip netns exec sluice-client python3 tests/e2e/client.py hold --url "http://$VIP/" \
    --count 4 --hold 30 --json >"$WORK/hold.json" 2>&1 &
HOLD_PID=$!
for _ in $(seq 50); do [[ -s $WORK/hold.json ]] && break; sleep 0.1; done
"$SLUICECTL" show flows --vip http --limit 100000 | grep -E '^WORKER|established' || failed=1

bold "operator: drain be3 with a 3 s deadline (sluicectl drain http 198.18.1.13:80 --timeout 3) under traffic, then 300 new connections"
"$SLUICECTL" drain http 198.18.1.13:80 --timeout 3 || failed=1
ip netns exec sluice-client python3 tests/e2e/client.py http --url "http://$VIP/" --count 300 \
    --json >"$WORK/drain.json" || failed=1
served_none_by "$WORK/drain.json" be2 be3 || failed=1
"$SLUICECTL" show backends http || failed=1
sleep 3.5
bold "after the deadline: be3's held connection was reset (RST to both ends) and counted"
"$SLUICECTL" show backends http || failed=1
"$SLUICECTL" show flows --vip http --limit 100000 | grep -E '^WORKER|established' || failed=1
python3 tests/e2e/telemetry.py --compact /sluice/stats | tr ',' '\n' | grep -E 'flows_reset_drain_timeout|resets_sent' || failed=1
kill "$HOLD_PID" 2>/dev/null || true
wait "$HOLD_PID" 2>/dev/null || true

bold "operator: back to normal (enable be3, weight 1 on be2)"
"$SLUICECTL" enable http 198.18.1.13:80 || failed=1
"$SLUICECTL" set weight http 198.18.1.12:80 1 || failed=1

bold "attack: SYN proxy on for http (sluicectl reload), a 3 s spoofed SYN flood from 198.18.128.0/17 while 300 GETs"
# The same lab config with syn_proxy = "on" for the http VIP and a route that sends the SYN-ACKs
# for the spoofed sources back towards the client namespace (which ignores them).
python3 - "$CONFIG" "$WORK/protected.toml" <<'PY'
import sys
text = open(sys.argv[1]).read().replace('name = "http"\n', 'name = "http"\nsyn_proxy = "on"\n', 1)
route = '[[route]]\nprefix = "198.18.128.0/17"\nvia = "198.18.0.2"\n\n'
open(sys.argv[2], "w").write(text.replace("[flows]", route + "[flows]", 1))
PY
"$SLUICECTL" reload "$WORK/protected.toml" || failed=1
ip netns exec sluice-client python3 tests/e2e/syn_flood.py --dst "$VIP" --dport 80 \
    --count 200000 --duration 3 >"$WORK/flood.json" &
FLOOD_PID=$!
sleep 0.5
client http --url "http://$VIP/" --count 300 || failed=1
wait "$FLOOD_PID" || failed=1
echo "flood: $(cat "$WORK/flood.json")"
"$SLUICECTL" show protection http || failed=1
python3 tests/e2e/telemetry.py --compact /sluice/stats | tr ',' '\n' | \
    grep -E 'syn_cookies_sent|syn_proxy_spliced|flows_created|flows_active' || failed=1
for be in 1 2 3; do
    echo "be$be SYN_RECV sockets: $(ip netns exec sluice-be$be ss -Htn state syn-recv | wc -l)"
done

bold "Prometheus: curl http://127.0.0.1:9273/metrics (excerpt)"
curl -s --max-time 5 http://127.0.0.1:9273/metrics | grep -E '^sluice_(backend_(connections_total|weight)\{vip="http"|syn_proxy_total|icmp_total|ndp_total)' || failed=1

bold "sluiced counters (telemetry /sluice/stats)"
python3 tests/e2e/telemetry.py --compact /sluice/stats || failed=1

bold "stopping sluiced (SIGTERM)"
kill -TERM "$SLUICED_PID"
rc=0
wait "$SLUICED_PID" || rc=$?
SLUICED_PID=
grep -E 'sluiced: stopped' "$DAEMON_LOG" | tail -n 1 || echo "(no 'sluiced: stopped' line in $DAEMON_LOG)"
echo "sluiced exit status $rc"
[[ $rc -eq 0 ]] || failed=1

bold "lab down"
./scripts/lab.sh down
LAB_UP=0

if [[ $failed -ne 0 ]]; then
    bold "demo FAILED (see above; daemon log $DAEMON_LOG)"
    exit 1
fi
bold "demo OK: every request answered, every backend served"

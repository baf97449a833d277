#!/usr/bin/env bash
# Instructions per packet on each data path: worker_bench's smoke sizes (everything cached) under
# callgrind, instructions inside worker::poll_once (inclusive) divided by the packets of the
# measured loop. Deterministic and machine-independent, unlike cycles: the figure to compare
# before and after a change to the fast path. Prints one table, no thresholds; the callgrind
# files stay in $OUT for callgrind_annotate. Whole connections (tcp_cps, 7 packets each, its 7
# passes all inside the measured loop) get both figures: per packet as every row, and per
# connection (the same instructions over the connections) in a column of their own.
#
#   perf/instructions.sh                        # every path below
#   perf/instructions.sh tcp_established_256    # only these worker_bench scenarios (smoke names)
#
# Environment: SLUICE_PERF_BUILD_DIR (default build-perf, release; shared with perf/run.sh),
# SLUICE_PERF_OUT (default $SLUICE_PERF_BUILD_DIR/perf-results), BENCH_ARGS (more worker_bench
# options, e.g. --nic-checksums). About 20 s per path.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${SLUICE_PERF_BUILD_DIR:-build-perf}
OUT=${SLUICE_PERF_OUT:-$BUILD_DIR/perf-results}/instructions
# label|worker_bench scenario (its --smoke name)
PATHS=(
    "established TCP, IPv4|tcp_established_256"
    "established UDP, IPv4|udp_established_256"
    "new flow (SYN), IPv4|tcp_new_2048"
    "SYN-proxy cookie answer|syn_cookies"
    "established TCP, IPv6|tcp6_established_256"
    "established UDP, IPv6|udp6_established_256"
    "established TCP, IPv6 + dest. options|tcp6_dstopt_established_256"
    "established TCP, NAT64|tcp_nat64_established_256"
    "established UDP, NAT64|udp_nat64_established_256"
    "established TCP, NAT46|tcp_nat46_established_256"
    "whole TCP connection (7 packets)|tcp_cps_2048"
)

for tool in valgrind callgrind_annotate; do
    command -v "$tool" >/dev/null ||
        { echo "instructions.sh: $tool not found (apt-get install valgrind)" >&2; exit 1; }
done
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    # As perf/run.sh: the release build of the benchmark only.
    meson setup "$BUILD_DIR" --buildtype=release -Dtests=false -Dwerror=false >/dev/null
fi
ninja -C "$BUILD_DIR" perf/worker_bench >/dev/null
mkdir -p "$OUT"

selected=("$@")
wanted() {
    [[ ${#selected[@]} -eq 0 ]] && return 0
    local s
    for s in "${selected[@]}"; do [[ $s == "$1" ]] && return 0; done
    return 1
}

# Inclusive instructions of worker::poll_once in a callgrind file (0 when it never ran). awk reads
# to the end: an early exit would fail the pipe (SIGPIPE under pipefail) on a build with -g.
poll_once_ir() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk '!found && /worker::poll_once\(\)/ { gsub(",", "", $1); print $1; found = 1 }
             END { if (!found) print 0 }'
}

# Packets of the measured loop of scenario $2 in worker_bench's JSON $1, and its connections
# (0 but for tcp_cps).
packets_of() {
    /usr/bin/python3 - "$1" "$2" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = [r for r in doc.get("results", []) if r.get("name") == sys.argv[2]]
print(rows[0]["packets"] if rows else 0, rows[0].get("connections", 0) if rows else 0)
EOF
}

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
printf '%s\n' "== instructions per packet (callgrind, worker::poll_once inclusive; commit $commit)"
printf '%-40s %-30s %10s %14s %12s %12s\n' "path" "scenario" "packets" "instructions" "per packet" \
    "per conn."
status=0
for entry in "${PATHS[@]}"; do
    label=${entry%%|*}
    scenario=${entry#*|}
    wanted "$scenario" || continue
    file="$OUT/$scenario.callgrind"
    rm -f "$file" "$OUT/$scenario.json"
    if ! timeout -k 10 600 valgrind --tool=callgrind --toggle-collect='*drive*' \
        --callgrind-out-file="$file" "$BUILD_DIR/perf/worker_bench" --smoke --only "$scenario" \
        --json "$OUT/$scenario.json" ${BENCH_ARGS:-} >"$OUT/$scenario.log" 2>&1; then
        printf '%-40s %-30s %s\n' "$label" "$scenario" "failed (see $OUT/$scenario.log)"
        status=1
        continue
    fi
    ir=$(poll_once_ir "$file")
    read -r packets connections < <(packets_of "$OUT/$scenario.json" "$scenario")
    if [[ $packets -eq 0 || $ir -eq 0 ]]; then
        printf '%-40s %-30s %s\n' "$label" "$scenario" "no packets or no poll_once (not a scenario?)"
        status=1
        continue
    fi
    per_connection=-
    [[ $connections -eq 0 ]] ||
        per_connection=$(awk -v i="$ir" -v c="$connections" 'BEGIN { printf "%.0f", i / c }')
    printf '%-40s %-30s %10d %14d %12.0f %12s\n' "$label" "$scenario" "$packets" "$ir" \
        "$(awk -v i="$ir" -v p="$packets" 'BEGIN { print i / p }')" "$per_connection"
done
exit $status

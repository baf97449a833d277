#!/usr/bin/env bash
# Sluice's data-path benchmark, one command: builds perf/worker_bench (release) if needed, runs it
# (the real worker on one lcore, every scenario plus the I/O-only baseline) on 4 KiB pages and,
# when the host can reserve them, again on 2 MiB hugepages; runs DPDK's own dpdk-testpmd in
# io-forward mode on a net_null pair as the external reference, and prints one table (a row per
# scenario and page size) with issue 16's targets (ratios to the baseline of the same run), and plots Mpps against concurrent flows
# (perf/plot.sh, when gnuplot is installed). The scaling rows run tcp_established_1M on N workers
# for N = 1..min(nproc, 4) and the summary checks 2 workers >= 1.8 x one. Bounded in time (a few minutes on a 2-core VM, most
# of it opening the 10 M flows, twice); the results stay in $OUT (JSON and logs).
#
#   perf/run.sh                      # everything
#   perf/run.sh --max-flows 1000000  # extra arguments go to worker_bench (see --help there)
#
# Environment: SLUICE_PERF_BUILD_DIR (default build-perf), SLUICE_PERF_OUT (default
# $SLUICE_PERF_BUILD_DIR/perf-results), TESTPMD_SECONDS (default 8), SLUICE_PERF_HUGE (auto, the
# default: the hugepage run when pages can be reserved; off: 4 KiB pages only).
# The first run is EAL --no-huge (no reservation, no root), as the test suite runs. The hugepage
# run needs root: run.sh reserves the 2 MiB pages worker_bench needs (worker_bench --plan-memory)
# on top of the host's nr_hugepages, mounts hugetlbfs on a private temporary directory, and on
# any exit unmounts it and puts nr_hugepages back as it was. When it cannot, it says why and
# runs on 4 KiB pages only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${SLUICE_PERF_BUILD_DIR:-build-perf}
OUT=${SLUICE_PERF_OUT:-$BUILD_DIR/perf-results}
TESTPMD_SECONDS=${TESTPMD_SECONDS:-8}
HUGE=${SLUICE_PERF_HUGE:-auto}
start=$(date +%s)

if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    # Release build of the benchmark only: no tests, and warnings not fatal (GCC 12 at -O3 reports
    # false -Wrestrict/-Warray-bounds positives in code the regular -Werror build compiles clean).
    meson setup "$BUILD_DIR" --buildtype=release -Dtests=false -Dwerror=false >/dev/null
fi
ninja -C "$BUILD_DIR" perf/worker_bench >/dev/null
buildtype=$(meson introspect --buildoptions "$BUILD_DIR" |
    python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"))')
[[ $buildtype == release ]] || echo "run.sh: warning: $BUILD_DIR is a '$buildtype' build, not release" >&2

mkdir -p "$OUT"
rm -f "$OUT/worker_bench.json" "$OUT/worker_bench-huge.json"
bench_rc=0

# run_bench JSON LOG ARGS...: one worker_bench run, its output shown and logged. False when it
# wrote no results; a failed check is remembered in bench_rc.
run_bench() {
    local json=$1 log=$2 rc=0
    shift 2
    timeout -k 10 900 "$BUILD_DIR/perf/worker_bench" --json "$json" "$@" | tee "$log" || rc=$?
    ((rc == 0)) || bench_rc=$rc
    [[ -f $json ]] || { echo "run.sh: worker_bench wrote no results (see $log)" >&2; return 1; }
}

# The hugepage run's pages and mount (perf/hugepages.sh), released on any exit.
# shellcheck source=perf/hugepages.sh
source perf/hugepages.sh
trap release_hugepages EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== worker_bench, 4 KiB pages (EAL --no-huge; log: $OUT/worker_bench.log)"
run_bench "$OUT/worker_bench.json" "$OUT/worker_bench.log" "$@" || exit 1

huge_json=""
if [[ $HUGE == off ]]; then
    huge_note="SLUICE_PERF_HUGE=off"
elif ! huge_mb=$("$BUILD_DIR/perf/worker_bench" --plan-memory --huge "$@"); then
    huge_note="worker_bench --plan-memory failed"
elif reserve_hugepages "$huge_mb"; then
    echo
    echo "== worker_bench, 2 MiB hugepages (log: $OUT/worker_bench-huge.log)"
    if run_bench "$OUT/worker_bench-huge.json" "$OUT/worker_bench-huge.log" --huge-dir "$huge_dir" \
        "$@"; then
        huge_json=$OUT/worker_bench-huge.json
    else
        huge_note="the hugepage run wrote no results (see $OUT/worker_bench-huge.log)"
    fi
    release_hugepages
fi
[[ -z $huge_note ]] || echo "run.sh: no hugepage run: $huge_note; 4 KiB pages only"

testpmd_mpps=""
testpmd_note=""
if command -v dpdk-testpmd >/dev/null; then
    echo "== dpdk-testpmd io forward, net_null0 <-> net_null1, ${TESTPMD_SECONDS}s (log: $OUT/testpmd.log)"
    # lcore 0 prints the statistics, lcore 1 forwards; SIGINT stops it (timeout -k: kill if not).
    timeout -k 5 -s INT "$TESTPMD_SECONDS" dpdk-testpmd --no-huge -m 512 --no-shconf --no-pci \
        --file-prefix=sluice-perf-testpmd --log-level='*:warning' \
        --vdev net_null0 --vdev net_null1 -l 0,1 -- \
        --forward-mode=io --total-num-mbufs=8192 --stats-period 1 >"$OUT/testpmd.log" 2>&1 || true
    # Rx-pps per port, one line per port per period (second); forwarded packets per second = the
    # sum over both ports. Periods reading 0 are start-up; the first non-zero one may be partial
    # and is left out when there are others.
    testpmd_mpps=$(awk '/Rx-pps:/ { v[n++] = $2 }
        END { k = 0
              for (i = 0; i + 1 < n; i += 2) if (v[i] + v[i + 1] > 0) p[k++] = v[i] + v[i + 1]
              first = k > 1 ? 1 : 0; s = 0
              for (i = first; i < k; i++) s += p[i]
              if (k > first) printf "%.2f", s / (k - first) / 1e6 }' "$OUT/testpmd.log")
    [[ -n $testpmd_mpps ]] || testpmd_note="dpdk-testpmd ran but printed no rates (see $OUT/testpmd.log)"
else
    testpmd_note="dpdk-testpmd not installed (Debian package dpdk-dev; scripts/install-deps.sh lists it)"
fi

echo
echo "== summary (one core; Mpps and cycles include the harness; 'worker' = inside poll_once)"
python3 - "$OUT/worker_bench.json" "$huge_json" "$testpmd_mpps" "$testpmd_note" "$(nproc)" <<'EOF'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:3] if p]
testpmd, note, cores = sys.argv[3], sys.argv[4], sys.argv[5]

def pages(d):  # runs before page_bytes was written were on 4 KiB pages
    b = d.get("page_bytes", 4096)
    return "%d MiB" % (b >> 20) if b >= 1 << 20 else "%d KiB" % (b >> 10)

# One table: each scenario's row per page size, next to each other.
fmt = "{:<28} {:>6} {:>6} {:>7} {:>7} {:>8} {:>8} {:>8} {:>9} {:>6} {:>7} {:>5}"
print(fmt.format("scenario", "pages", "flows", "Mpps", "ns/pkt", "cyc/pkt", "wk cyc", "wk Mpps",
                 "flows/s", "B/flow", "x base", "cpu"))
for name in dict.fromkeys(r["name"] for d in runs for r in d["results"]):
    for d in runs:
        for r in (r for r in d["results"] if r["name"] == name):
            if not r["ok"] and not r["packets"]:
                print("{:<28} {:>6} FAILED: {}".format(name, pages(d), r["error"]))
                continue
            print(fmt.format(
                name, pages(d), r["flows"] or "-", "%.2f" % r["mpps"], "%.1f" % r["ns_per_packet"],
                "%.0f" % r["cycles_per_packet"], "%.0f" % r["worker_cycles_per_packet"],
                "%.2f" % r["worker_mpps"],
                "%.2fM" % (r["flows_per_second"] / 1e6) if r["new_flows"] else "-",
                "%.0f" % r["bytes_per_flow"] if r["bytes_per_flow"] else "-",
                "%.3f" % r["vs_baseline"], "%.0f%%" % (100 * r["cpu_share"]))
                + ("" if r["ok"] else "  FAILED: " + r["error"])
                + ("  (flows/s = connections/s)" if r.get("connections") and r["ok"] else ""))
for d in runs:
    for s in d["skipped"]:
        if s["reason"] != "not in --only":
            print("{:<28} {:>6} skipped: {}".format(s["name"], pages(d), s["reason"]))
unlisted = sum(s["reason"] == "not in --only" for s in runs[0]["skipped"])
if unlisted:
    print("({} scenarios not in --only)".format(unlisted))
if testpmd:
    print(fmt.format("testpmd io (net_null)", "4 KiB", "-", testpmd, "%.1f" % (1e3 / float(testpmd)),
                     "%.0f" % (runs[0]["tsc_hz"] / 1e6 / float(testpmd)), "-", "-", "-", "-", "-",
                     "-"))
else:
    print("{:<28} {}".format("testpmd io (net_null)", note))

def line(text, ok, detail):
    state = "n/a " if ok is None else ("met " if ok else "MISS")
    print("  [{}] {:<44} {}".format(state, text, detail))

def targets(data):
    rows = {r["name"]: r for r in data["results"]}
    def get(name, key):
        r = rows.get(name)
        return r[key] if r and r["ok"] else None
    base = get("baseline", "mpps")
    print("\ntargets (issue 16: ratios to the I/O-only baseline of this run, %s pages; whole loop "
          "/ worker step alone):" % pages(data))
    def ratio(text, name, goal, per_second="mpps", unit="Mpps"):
        v = get(name, per_second)
        w = get(name, "worker_" + per_second)
        if v is None or not base:
            return line(text, None, "-")
        scale = 1 if unit == "Mpps" else 1e6
        line(text, v / scale / base >= goal, "%.3f x / %.3f x (%.2f / %.2f %s, baseline %.2f Mpps)"
             % (v / scale / base, w / scale / base, v / scale, w / scale, unit, base))
    ratio("established TCP, 1M flows >= 0.30 x", "tcp_established_1M", 0.30)
    ratio("established TCP, 10M flows >= 0.22 x", "tcp_established_10M", 0.22)
    ratio("established UDP, 1M flows >= 0.30 x", "udp_established_1M", 0.30)
    new = next((r["name"] for r in data["results"] if r["name"].startswith("tcp_new")), "tcp_new")
    ratio("new flows >= 0.10 x", new, 0.10, "flows_per_second", "M/s")
    ratio("SYN-cookie answers >= 0.25 x", "syn_cookies", 0.25)
    # Whole connections (7 packets each, as CSIT counts them); the full run's 1M row first.
    cps = sorted((r for r in data["results"] if r.get("connections") and r["ok"]),
                 key=lambda r: r["name"] != "tcp_cps_1M")
    if cps:
        c, wc = cps[0]["connections_per_second"], cps[0]["worker_connections_per_second"]
        line("CPS >= 1M connections/s per core", c >= 1e6,
             "%.2fM / %.2fM connections/s (%s)" % (c / 1e6, wc / 1e6, cps[0]["name"]))
    else:
        line("CPS >= 1M connections/s per core", None, "-")
    bpf = get("tcp_established_1M", "bytes_per_flow") or max(
        (r["bytes_per_flow"] for r in data["results"] if r["bytes_per_flow"]), default=None)
    line("<= 96 bytes per IPv4 flow (64 B entry)", None if bpf is None else bpf <= 96,
         "-" if bpf is None else "%.0f B (entry %d B + index + timer wheel)"
         % (bpf, data["flow_entry_bytes"]))
    # Scaling rows (tcp_established_1M_w{N}, N = 1..min(cores, 4): worker_bench skips the rest).
    sc = {p["workers"]: p for p in data.get("scaling", [])}
    two = sc.get(2)
    line("2 workers >= 1.8 x one worker", None if not two or not two["vs_one_worker"]
         else two["vs_one_worker"] >= 1.8,
         "-" if not two or not two["vs_one_worker"] else "%.2f x (whole loop)" % two["vs_one_worker"])
    if sc:
        print("scaling across workers (%s cores; worker 0 shares its core with the feeder):" % cores)
        for n, p in sorted(sc.items()):
            if n == 1 and len(sc) > 1:
                continue  # the reference of every other line
            print("  scaling: N=1 {:.2f} Mpps, N={} {:.2f} Mpps ({:.2f} x); per worker {} Mpps".format(
                sc[1]["mpps"] if 1 in sc else 0, n, p["mpps"], p["vs_one_worker"],
                " / ".join("%.2f" % w for w in p["per_worker_mpps"])))
    variants = [r for r in data["results"] if r.get("vs_tcp_new")]
    if variants:
        print("new-flow variants as a ratio to tcp_new in this run (whole loop / worker step):")
        for r in variants:
            print("  {:<28} {:.2f}M flows/s  {:.3f} x / {:.3f} x".format(
                r["name"], r["flows_per_second"] / 1e6, r["vs_tcp_new"], r["worker_vs_tcp_new"]))

for d in runs:
    targets(d)
EOF
echo
# Mpps against concurrent flows as a PNG next to the results (docs/perf-flows.png is refreshed
# by running perf/plot.sh by hand, so an ad-hoc run never rewrites the documented figure).
if command -v gnuplot >/dev/null; then
    perf/plot.sh "$OUT/worker_bench.json" ${huge_json:+"$huge_json"} --out "$OUT/perf-flows.png" ||
        echo "run.sh: warning: the plot failed (perf/plot.sh)" >&2
else
    echo "run.sh: gnuplot not installed (gnuplot-nox): no plot"
fi
echo "run.sh: done in $(($(date +%s) - start)) s; results in $OUT"
exit "$bench_rc"

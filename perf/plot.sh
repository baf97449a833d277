#!/usr/bin/env bash
# Plots worker_bench's established-flows figures (Mpps against the number of concurrent flows:
# 1k, 100k, 1M, 10M) from its --json output, with the I/O-only baseline of the same run and the
# issue's 10 Mpps target as horizontal lines. Given two results files (perf/run.sh's runs on
# 4 KiB pages and on 2 MiB hugepages), both are drawn, each labelled with its page size.
# gnuplot (Debian's gnuplot-nox), PNG.
#
#   perf/plot.sh                               # build-perf/perf-results/worker_bench.json (and
#                                              #   worker_bench-huge.json there, if any)
#                                              #   -> docs/perf-flows.png
#   perf/plot.sh RESULTS.json [HUGE.json] --out FILE.png
#
# perf/run.sh calls it at the end of every run (output next to its JSON); run this by hand to
# refresh the figure in the docs. Environment: SLUICE_PERF_BUILD_DIR, SLUICE_PERF_OUT (as run.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${SLUICE_PERF_BUILD_DIR:-build-perf}
RESULTS_DIR=${SLUICE_PERF_OUT:-$BUILD_DIR/perf-results}
OUT=docs/perf-flows.png
JSONS=()
while [[ $# -gt 0 ]]; do
    case $1 in
    --out)
        [[ $# -ge 2 ]] || { echo "plot.sh: --out needs a file" >&2; exit 2; }
        OUT=$2
        shift
        ;;
    -h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "plot.sh: unknown option $1" >&2; exit 2 ;;
    *)
        ((${#JSONS[@]} < 2)) || { echo "plot.sh: two results files at most" >&2; exit 2; }
        # Paths the user gave are relative to where they called us from, not the repository root.
        if [[ $1 == /* ]]; then JSONS+=("$1"); else JSONS+=("$OLDPWD/$1"); fi
        ;;
    esac
    shift
done
[[ $OUT == /* || $OUT == docs/perf-flows.png ]] || OUT=$OLDPWD/$OUT
if ((${#JSONS[@]} == 0)); then
    JSONS=("$RESULTS_DIR/worker_bench.json")
    [[ ! -f $RESULTS_DIR/worker_bench-huge.json ]] || JSONS+=("$RESULTS_DIR/worker_bench-huge.json")
fi

command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not installed (Debian: gnuplot-nox)" >&2; exit 1; }
for json in "${JSONS[@]}"; do
    [[ -f $json ]] || { echo "plot.sh: no $json (run perf/run.sh first)" >&2; exit 1; }
done

work=$(mktemp -d /tmp/sluice-plot.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Per results file k: flows.k.dat (flows, whole-loop Mpps, worker-step Mpps: one line per
# established scenario, by flow count); then gnuplot variables: each file's baseline and page
# size (pages_k), the caption and the ranges.
python3 - "$work" "${JSONS[@]}" <<'PY'
import json, re, sys
work, paths = sys.argv[1], sys.argv[2:]
esc = lambda s: s.replace("\\", "\\\\").replace('"', '\\"')
values, variables = [], []
for k, path in enumerate(paths):
    d = json.load(open(path))
    # tcp_established_{1k,100k,1M,10M} only: not the scaling rows (tcp_established_1M_w{N}).
    rows = sorted((r["flows"], r["mpps"], r["worker_mpps"]) for r in d["results"]
                  if re.fullmatch(r"tcp_established_\d+[kM]?", r["name"]) and r["ok"]
                  and r["flows"])
    if not rows:
        sys.exit("plot.sh: no tcp_established_* result in " + path)
    with open(f"{work}/flows.{k}.dat", "w") as f:
        f.write("# flows loop_mpps worker_mpps\n")
        f.writelines(f"{n} {m:.4f} {w:.4f}\n" for n, m, w in rows)
    base = next((r["mpps"] for r in d["results"] if r["name"] == "baseline" and r["ok"]), 0)
    b = d.get("page_bytes", 4096)  # runs before page_bytes was written: --no-huge
    page = f"{b >> 20} MiB" if b >= 1 << 20 else f"{b >> 10} KiB"
    variables += [f"baseline_{k} = {base}\n", f'pages_{k} = "{page} pages"\n']
    values += [base] + [v for _, m, w in rows for v in (m, w)]
    if k == 0:
        caption = (f"{d.get('cpu_model', '?')}, {d.get('cpus', '?')} CPUs, "
                   f"{d.get('build_type', '?')} build, {d.get('seconds_per_scenario', '?')} s per "
                   "point, 64 B frames, one lcore, net\\_ring ports")
with open(f"{work}/vars.gp", "w") as f:
    f.writelines(variables)
    f.write(f'caption = "{esc(caption)}"\n')
    f.write(f"ymax = {max(values + [10]) * 1.6}\n")
    f.write(f"ymin = {min(v for v in values if v > 0) / 1.6}\n")
PY

# pngcairo draws antialiased text and lines; plain png (libgd) is the fallback.
terminal="png size 900,640"
if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
    terminal="pngcairo size 900,640 font 'sans,10'"
fi

# One set of lines per results file: the worker step (squares), the whole loop (circles) and
# the baseline; the second file's dashed, its points open.
plots=()
for k in "${!JSONS[@]}"; do
    data="\"$work/flows.$k.dat\""
    dash=$((k == 0 ? 1 : 4))
    # The first file's values above (step) and below (loop) their points, the second's beside
    # theirs: near each other, the two runs' points would otherwise swap labels.
    above="offset 0, 1" below="offset 0, -1"
    ((k == 0)) || above="left offset 1, 0" below="left offset 1, 0"
    step="rgb \"#ff7f0e\"" loop="rgb \"#1f77b4\"" style="lw 2 dt $dash ps 1.2"
    plots+=("$data using 1:3 with linespoints lc $step $style pt $((5 - k)) \
        title \"worker step alone (poll\\\\_once), \" . pages_$k")
    plots+=("$data using 1:3:(sprintf(\"%.2f\", \$3)) with labels $above \
        tc $step notitle")
    plots+=("$data using 1:2 with linespoints lc $loop $style pt $((7 - k)) \
        title \"whole loop (harness + worker), \" . pages_$k")
    plots+=("$data using 1:2:(sprintf(\"%.2f\", \$2)) with labels $below \
        tc $loop notitle")
    plots+=("baseline_$k with lines lc rgb \"#2ca02c\" lw 2 dt $((dash + 1)) \
        title \"I/O-only baseline, same harness, \" . pages_$k")
done
plots+=("0.30 * baseline_0 with lines lc rgb \"#d62728\" lw 1.5 dt 3 \
    title \"goal at 1M flows: 0.30 x baseline, \" . pages_0")
plot_command=$(IFS=,; echo "${plots[*]}")

gnuplot <<EOF
load "$work/vars.gp"
set terminal $terminal
set output "$OUT"
set title "Sluice worker path: established TCP flows (perf/worker\\\\_bench)\n{/*0.8 " . caption . "}"
set logscale x 10
set logscale y 10
set xrange [500:20000000]
set yrange [ymin:ymax]
set xtics ("1k" 1000, "10k" 10000, "100k" 100000, "1M" 1000000, "10M" 10000000)
set ytics (1, 2, 5, 10, 20, 50, 100)
set mytics 10
set xlabel "concurrent established flows (log scale)"
set ylabel "Mpps (log scale)"
set grid xtics ytics mytics lc rgb "#dddddd"
set key below box maxcols 2
set bmargin 9  # the key below the x label
set label 1 sprintf("%.1f", baseline_0) at 600, baseline_0 offset 0, 0.7 tc rgb "#2ca02c"
plot $plot_command
EOF
echo "plot.sh: wrote $OUT"

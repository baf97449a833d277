#!/usr/bin/env bash
# Plots worker_bench's established-flows figures (Mpps against the number of concurrent flows:
# 1k, 100k, 1M, 10M) from its --json output, with the I/O-only baseline of the same run and the
# issue's 10 Mpps target as horizontal lines. gnuplot (Debian's gnuplot-nox), PNG.
#
#   perf/plot.sh                               # build-perf/perf-results/worker_bench.json
#                                              #   -> docs/perf-flows.png
#   perf/plot.sh RESULTS.json --out FILE.png
#
# perf/run.sh calls it at the end of every run (output next to its JSON); run this by hand to
# refresh the figure in the docs. Environment: SLUICE_PERF_BUILD_DIR, SLUICE_PERF_OUT (as run.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${SLUICE_PERF_BUILD_DIR:-build-perf}
JSON=${SLUICE_PERF_OUT:-$BUILD_DIR/perf-results}/worker_bench.json
OUT=docs/perf-flows.png
json_given=0
while [[ $# -gt 0 ]]; do
    case $1 in
    --out)
        [[ $# -ge 2 ]] || { echo "plot.sh: --out needs a file" >&2; exit 2; }
        OUT=$2
        shift
        ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "plot.sh: unknown option $1" >&2; exit 2 ;;
    *)
        ((json_given == 0)) || { echo "plot.sh: one results file only" >&2; exit 2; }
        JSON=$1
        json_given=1
        ;;
    esac
    shift
done
# Paths the user gave are relative to where they called us from, not the repository root.
[[ $JSON == /* || $json_given -eq 0 ]] || JSON=$OLDPWD/$JSON
[[ $OUT == /* || $OUT == docs/perf-flows.png ]] || OUT=$OLDPWD/$OUT

command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot not installed (Debian: gnuplot-nox)" >&2; exit 1; }
[[ -f $JSON ]] || { echo "plot.sh: no $JSON (run perf/run.sh first)" >&2; exit 1; }

work=$(mktemp -d /tmp/sluice-plot.XXXXXX)
trap 'rm -rf "$work"' EXIT

# flows, whole-loop Mpps, worker-step Mpps (one line per established scenario, by flow count);
# then the baseline and the caption as gnuplot variables.
python3 - "$JSON" "$work/flows.dat" "$work/vars.gp" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = sorted((r["flows"], r["mpps"], r["worker_mpps"]) for r in d["results"]
              if r["name"].startswith("tcp_established_") and r["ok"] and r["flows"])
if not rows:
    sys.exit("plot.sh: no tcp_established_* result in " + sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write("# flows loop_mpps worker_mpps\n")
    f.writelines(f"{n} {m:.4f} {w:.4f}\n" for n, m, w in rows)
base = next((r["mpps"] for r in d["results"] if r["name"] == "baseline" and r["ok"]), 0)
esc = lambda s: s.replace("\\", "\\\\").replace('"', '\\"')
caption = (f"{d.get('cpu_model', '?')}, {d.get('cpus', '?')} CPUs, {d.get('build_type', '?')} build, "
           f"{d.get('seconds_per_scenario', '?')} s per point, 64 B frames, one lcore, net\\_ring ports")
with open(sys.argv[3], "w") as f:
    f.write(f"baseline = {base}\n")
    f.write(f'caption = "{esc(caption)}"\n')
    f.write(f"ymax = {max([base, 10] + [max(m, w) for _, m, w in rows]) * 1.6}\n")
    f.write(f"ymin = {min(min(m, w) for _, m, w in rows) / 1.6}\n")
PY

# pngcairo draws antialiased text and lines; plain png (libgd) is the fallback.
terminal="png size 900,560"
if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
    terminal="pngcairo size 900,560 font 'sans,10'"
fi

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
set key bottom left box opaque
set style line 1 lc rgb "#1f77b4" lw 2 pt 7 ps 1.2
set style line 2 lc rgb "#ff7f0e" lw 2 pt 5 ps 1.2
set style line 3 lc rgb "#2ca02c" lw 2 dt 2
set style line 4 lc rgb "#d62728" lw 1.5 dt 3
set label 1 sprintf("%.1f", baseline) at 600, baseline offset 0, 0.7 tc rgb "#2ca02c"
plot "$work/flows.dat" using 1:3 with linespoints ls 2 title "worker step alone (poll\\\\_once)", \
     "" using 1:3:(sprintf("%.2f", \$3)) with labels offset 0, 1 tc rgb "#ff7f0e" notitle, \
     "" using 1:2 with linespoints ls 1 title "whole loop (harness + worker)", \
     "" using 1:2:(sprintf("%.2f", \$2)) with labels offset 0, -1 tc rgb "#1f77b4" notitle, \
     baseline with lines ls 3 title "I/O-only baseline, same harness", \
     10 with lines ls 4 title "issue 7 target at 1M flows (10 Mpps)"
EOF
echo "plot.sh: wrote $OUT"

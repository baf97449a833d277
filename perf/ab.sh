#!/usr/bin/env bash
# A/B of perf/worker_bench between two trees: A = BASE_REV (default bd15841, the tree before the
# structure work), B = this working tree (or B_REV). Builds each tree's worker_bench in its own
# release build dir (the options perf/run.sh uses), runs them alternately A B A B … ROUNDS times
# (so the machine's drift hits both alike) and prints one Markdown table per scenario: the median
# of A and of B, B/A, and the spread (min–max) of each, plus the commit ids.
#
#   perf/ab.sh [BASE_REV] [ROUNDS]            # defaults: bd15841, 3
#   SCENARIOS=tcp_established_1k,tcp_new_1M perf/ab.sh HEAD~1 5   # worker_bench --only (the
#                                                                   # baseline always runs)
#
# Environment: SCENARIOS (worker_bench --only), BENCH_ARGS (more worker_bench arguments, e.g.
# "--seconds 1 --max-flows 1000000"), B_REV (build B from this revision instead of the working
# tree, e.g. to compare two commits on the same src), METRIC (the JSON figure compared: mpps, the
# whole loop, default; or worker_mpps, the step alone), AB_JOBS (ninja -j, default 2),
# KEEP=1 (keep the temporary directory with the builds, logs and JSON), HUGE=1 (both sides on
# 2 MiB hugepages, reserved and mounted as perf/run.sh does, given back on exit; as root).
#
# Time: two release builds (2.5 minutes for both on a quiet 2-vCPU VM at -j2, up to ~10 with other
# jobs) plus 2 × ROUNDS runs of about 50 s each with every scenario (most of it opening the 10 M
# flows): the defaults took 7 min 34 s (docs/performance.md, "A/B runs"). Every run is bounded by `timeout`. Everything temporary (worktrees, build
# dirs) lives in one mktemp directory, removed on exit (also on failure or Ctrl-C).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BASE_REV=${1:-bd15841}
ROUNDS=${2:-3}
METRIC=${METRIC:-mpps}
AB_JOBS=${AB_JOBS:-2}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ab.sh: ROUNDS must be a positive integer" >&2; exit 2; }
[[ $METRIC == mpps || $METRIC == worker_mpps ]] || { echo "ab.sh: METRIC: mpps or worker_mpps" >&2; exit 2; }

# As root in a clone owned by someone else, git refuses the repository without this.
git_() { git -c safe.directory="$PWD" "$@"; }
a_commit=$(git_ rev-parse --verify "$BASE_REV^{commit}")
if [[ -n ${B_REV:-} ]]; then
    b_commit=$(git_ rev-parse --verify "$B_REV^{commit}")
    b_label="$(git_ rev-parse --short "$b_commit")"
else
    b_commit=$(git_ rev-parse HEAD)
    b_label="working tree at $(git_ rev-parse --short HEAD)"
    git_ diff --quiet HEAD -- . || b_label+=" with uncommitted changes"
fi

# shellcheck source=perf/hugepages.sh
source perf/hugepages.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sluice-ab.XXXXXX")
worktrees=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    release_hugepages
    for w in "${worktrees[@]}"; do git_ worktree remove --force "$w" >/dev/null 2>&1 || true; done
    git_ worktree prune >/dev/null 2>&1 || true
    if [[ ${KEEP:-0} == 1 ]]; then echo "ab.sh: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

add_worktree() {  # add_worktree DIR COMMIT
    git_ worktree add --detach --quiet "$1" "$2"
    worktrees+=("$1")
}

build() {  # build SOURCE_DIR BUILD_DIR LABEL
    echo "== building $3 ($1 -> $2)"
    # The same options as perf/run.sh: release, no tests, warnings not fatal (GCC 12 -O3 false
    # positives outside the benchmark).
    meson setup "$2" "$1" --buildtype=release -Dtests=false -Dwerror=false >"$2.setup.log" 2>&1 ||
        { cat "$2.setup.log" >&2; exit 1; }
    ninja -C "$2" -j"$AB_JOBS" perf/worker_bench >"$2.build.log" 2>&1 ||
        { tail -40 "$2.build.log" >&2; exit 1; }
}

start=$(date +%s)
add_worktree "$WORK/a-src" "$a_commit"
build "$WORK/a-src" "$WORK/a-build" "A ($BASE_REV)"
if [[ -n ${B_REV:-} ]]; then
    add_worktree "$WORK/b-src" "$b_commit"
    build "$WORK/b-src" "$WORK/b-build" "B ($B_REV)"
else
    build "$PWD" "$WORK/b-build" "B (working tree)"
fi
echo "ab.sh: built in $(($(date +%s) - start)) s"

args=()
[[ -n ${SCENARIOS:-} ]] && args+=(--only "$SCENARIOS")
# shellcheck disable=SC2206  # BENCH_ARGS is a list of words on purpose
[[ -n ${BENCH_ARGS:-} ]] && args+=(${BENCH_ARGS})
pages="4 KiB pages (EAL --no-huge)"
if [[ ${HUGE:-0} == 1 ]]; then
    # Enough for the side that needs more (the flow entry's size may differ between them).
    huge_mb=0
    for side in a b; do
        mb=$("$WORK/$side-build/perf/worker_bench" --plan-memory --huge "${args[@]}") ||
            { echo "ab.sh: worker_bench --plan-memory failed ($side)" >&2; exit 1; }
        ((mb > huge_mb)) && huge_mb=$mb
    done
    reserve_hugepages "$huge_mb" || { echo "ab.sh: HUGE=1: $huge_note" >&2; exit 1; }
    args+=(--huge-dir "$huge_dir")
    pages="2 MiB hugepages"
fi
rc=0
for ((r = 1; r <= ROUNDS; r++)); do
    for side in a b; do
        echo "== round $r/$ROUNDS: ${side^^} (log: $WORK/$side-$r.log)"
        # A failed check still writes its JSON (the row is marked); only a missing file is fatal.
        timeout -k 10 900 "$WORK/$side-build/perf/worker_bench" --json "$WORK/$side-$r.json" \
            "${args[@]}" >"$WORK/$side-$r.log" 2>&1 || rc=1
        [[ -f $WORK/$side-$r.json ]] || { tail -20 "$WORK/$side-$r.log" >&2; exit 1; }
    done
done

echo
echo "A: $a_commit ($BASE_REV)"
echo "B: $b_commit ($b_label)"
echo "metric: $METRIC (Mpps; tcp_new rows: M new flows/s), $ROUNDS runs each, alternating A B," \
    "$pages"
echo
python3 - "$WORK" "$ROUNDS" "$METRIC" <<'EOF'
import json, statistics, sys
work, rounds, metric = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = {s: [json.load(open(f"{work}/{s}-{r}.json")) for r in range(1, rounds + 1)] for s in "ab"}
names = []
for run in runs["a"] + runs["b"]:
    for row in run["results"]:
        if row["name"] not in names:
            names.append(row["name"])
def values(side, name):
    v, failed = [], 0
    for run in runs[side]:
        for row in run["results"]:
            if row["name"] == name:
                if row["ok"]:
                    v.append(row[metric])
                else:
                    failed += 1
    return v, failed
def cell(v, failed):
    s = "%.3f" % statistics.median(v) if v else "—"
    return s + (" (%d FAILED)" % failed if failed else "")
print("| scenario | A median | B median | B/A | spread A | spread B |")
print("| --- | --- | --- | --- | --- | --- |")
for name in names:
    (a, fa), (b, fb) = values("a", name), values("b", name)
    ratio = "%.3f" % (statistics.median(b) / statistics.median(a)) if a and b else "—"
    spread = lambda v: "%.3f–%.3f" % (min(v), max(v)) if v else "—"
    print(f"| {name} | {cell(a, fa)} | {cell(b, fb)} | {ratio} | {spread(a)} | {spread(b)} |")
EOF
echo
echo "ab.sh: done in $(($(date +%s) - start)) s"
exit "$rc"

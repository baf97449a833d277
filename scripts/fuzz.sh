#!/usr/bin/env bash
# Builds Sluice's libFuzzer targets (tests/fuzz, clang 14, ASan + UBSan) and runs each for a time.
#   scripts/fuzz.sh [SECONDS] [TARGET...]
# SECONDS per target (default 60); TARGETs among frame_path, control_request, config_load and
# http_request (default: all). Each runs over a copy of its seed corpus tests/fuzz/corpus/TARGET
# (new inputs it finds stay in the copy, $SLUICE_FUZZ_DIR/work/TARGET; the repository's corpus
# changes only by hand). A crash, leak, undefined behaviour or timeout fails the run; the input
# that caused it is left as $SLUICE_FUZZ_DIR/artifacts/TARGET/crash-* (or leak-*, timeout-*) and
# is replayed with: build-fuzz/tests/fuzz/fuzz_TARGET FILE.
# Only the fuzz executables and what they link are built (not the daemon, tests or benchmarks).
# SLUICE_FUZZ_BUILD_DIR overrides the build directory (default build-fuzz), SLUICE_FUZZ_DIR the
# work directory (default $SLUICE_FUZZ_BUILD_DIR/fuzz-run). Needs no root: EAL runs --no-huge.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

all_targets=(frame_path control_request config_load http_request)
seconds=60
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
    if [[ ! " ${all_targets[*]} " =~ " $t " ]]; then
        echo "fuzz.sh: unknown target '$t' (targets: ${all_targets[*]})" >&2
        exit 2
    fi
done

BUILD_DIR=${SLUICE_FUZZ_BUILD_DIR:-build-fuzz}
RUN_DIR=${SLUICE_FUZZ_DIR:-$BUILD_DIR/fuzz-run}
CXX_FUZZ=${SLUICE_FUZZ_CXX:-clang++-14}

if ! command -v "$CXX_FUZZ" >/dev/null; then
    echo "fuzz.sh: $CXX_FUZZ not found (Debian: clang-14 libclang-rt-14-dev; scripts/install-deps.sh)" >&2
    exit 1
fi

# -Dtests=false: the fuzz build needs no doctest suites; b_lundef=false as sanitizer builds need.
if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    rm -rf "$BUILD_DIR"
    CXX=$CXX_FUZZ meson setup "$BUILD_DIR" -Dfuzz=true -Dtests=false -Db_lundef=false
fi
exes=()
for t in "${targets[@]}"; do exes+=("tests/fuzz/fuzz_$t"); done
start=$SECONDS
ninja -C "$BUILD_DIR" "${exes[@]}"
echo "fuzz.sh: build took $((SECONDS - start)) s"

# Leak detection stays on (LeakSanitizer): the frame path's mbufs are checked by the target itself.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
for t in "${targets[@]}"; do
    work=$RUN_DIR/work/$t
    artifacts=$RUN_DIR/artifacts/$t
    rm -rf "$work" "$artifacts"
    mkdir -p "$work" "$artifacts"
    cp tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
    log=$RUN_DIR/$t.log
    printf '\n==== fuzz %s for %d s (log %s)\n' "$t" "$seconds" "$log"
    start=$SECONDS
    # -rss_limit_mb: EAL's --no-huge memory and ASan's shadow count towards the RSS.
    if "$BUILD_DIR/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=4096 \
        -max_len=4096 -print_final_stats=1 -artifact_prefix="$artifacts/" "$work" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units|^Done ' "$log" | tr '\n' ' ' || true
        echo "ok ($((SECONDS - start)) s, corpus $(ls "$work" | wc -l) inputs)"
    else
        tail -n 40 "$log" >&2
        echo "fuzz.sh: $t FAILED; input in $artifacts/" >&2
        failed+=("$t")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz.sh: failing targets: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz.sh: ${#targets[@]} target(s) ran ${seconds} s each without a failure"

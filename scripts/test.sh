#!/usr/bin/env bash
# Sluice's full test run, as root on a fresh Debian 12 box (this is what CI runs):
#   1. install the dependencies (scripts/install-deps.sh), check the C++ sources' format,
#   2. sanitizer build (ASan + UBSan) running the unit and packet suites,
#   3. the regular build (with every header compiled on its own: tests/headers),
#   4. the fuzz targets, 30 s each (scripts/fuzz.sh: clang 14, libFuzzer, its own build-fuzz),
#   5. every suite on the regular build: unit, packet and e2e (namespace lab, needs root).
# The last thing printed is meson's summary of run 5; any failure exits non-zero.
# SLUICE_BUILD_DIR / SLUICE_ASAN_BUILD_DIR override the build directories (default build, build-asan).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR=${SLUICE_BUILD_DIR:-build}
ASAN_DIR=${SLUICE_ASAN_BUILD_DIR:-build-asan}

step() { printf '\n==== %s\n' "$*"; }

# meson setup DIR ARGS...: reconfigures an existing build dir, recreates a broken one.
setup_build() {
    local dir=$1
    shift
    if [[ -f $dir/build.ninja ]] && meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1; then
        echo "reconfigured $dir"
        return 0
    fi
    rm -rf "$dir"
    meson setup "$dir" "$@"
}

if [[ $(id -u) -ne 0 ]]; then
    echo "test.sh: must run as root (apt-get, network namespaces for the e2e suite)" >&2
    exit 1
fi

step "dependencies"
./scripts/install-deps.sh

step "format (clang-format, .clang-format: 100 columns)"
# Every C++ source as clang-format would write it; lists the files that are not.
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t sources < <(git ls-files '*.cpp' '*.hpp')
else
    mapfile -t sources < <(find include src tests perf -name '*.cpp' -o -name '*.hpp')
fi
if ! clang-format --dry-run -Werror "${sources[@]}" 2>/dev/null; then
    clang-format --dry-run -Werror "${sources[@]}" 2>&1 | grep -E '^[^ ]+:[0-9]+:[0-9]+: error' | cut -d: -f1 | sort -u >&2 || true
    echo "test.sh: the files above are not clang-formatted (clang-format -i FILE)" >&2
    exit 1
fi
echo "${#sources[@]} files formatted"

step "sanitizer build ($ASAN_DIR: address,undefined) — unit and packet suites"
# The header check runs once, in the regular build below.
setup_build "$ASAN_DIR" -Db_sanitize=address,undefined -Db_lundef=false -Dheader_check=false
# No whole-tree build here: `meson test` builds what the selected suites' tests depend on (their
# executables and the libraries they link), not perf/, the load generator, sluiced or sluicectl,
# which the regular build below compiles and the e2e suite runs.
# UBSan only reports and carries on unless told to halt: make undefined behaviour fail the test.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    meson test -C "$ASAN_DIR" --print-errorlogs --suite unit --suite packet

step "build ($BUILD_DIR, every header on its own included)"
setup_build "$BUILD_DIR"
ninja -C "$BUILD_DIR"

step "fuzz targets (scripts/fuzz.sh 30: clang 14, libFuzzer + ASan + UBSan)"
./scripts/fuzz.sh 30

step "all suites: unit, packet, e2e"
meson test -C "$BUILD_DIR" --print-errorlogs

# shellcheck shell=bash
# tests/package/steps.sh, sourced by package_test.sh and systemd_service_test.sh: the checks'
# failure count and the timed phase headings both print.
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
started=$SECONDS
phase() { printf '==== [%4ds] %s\n' $((SECONDS - started)) "$*"; }

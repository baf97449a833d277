#!/usr/bin/env bash
# The Debian package built from the tree (debian/, docs/operations.md "Debian package"): it builds
# with dpkg-buildpackage, is lintian clean, installs sluiced, sluicectl, the unit, the man pages,
# the bash completion and /etc/sluice/sluice.toml as a conffile, starts and enables nothing, its
# sluiced accepts the shipped configuration (--check), and remove keeps the conffile while purge
# deletes it and /etc/sluice. The same .deb then goes through systemd_service_test.sh: installed
# on a freshly booted real systemd (a systemd-nspawn container), run as the service.
#
#   package_test.sh --source-dir DIR
#
# Root only; exits 77 (skipped) without root or without dpkg-buildpackage, dh or lintian. The
# build runs in a copy of the tree (git ls-files plus untracked files that are not ignored, so
# uncommitted work is packaged too) under a temporary directory. The package is always purged
# on exit (the host is shared with CI, which must never be left with it installed); the test
# refuses to start when a sluice package is already installed.
set -uo pipefail

SKIP=77
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=
while [[ $# -gt 0 ]]; do
    case $1 in
    --source-dir) source_dir=$2; shift 2 ;;
    *) echo "usage: $0 --source-dir DIR" >&2; exit 2 ;;
    esac
done
[[ -n $source_dir ]] || { echo "usage: $0 --source-dir DIR" >&2; exit 2; }
source_dir=$(cd "$source_dir" && pwd)

if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: needs root (dpkg -i)"
    exit $SKIP
fi
for tool in dpkg-buildpackage dh lintian; do
    if ! command -v $tool >/dev/null; then
        echo "SKIP: $tool missing (scripts/install-deps.sh installs it)"
        exit $SKIP
    fi
done

# shellcheck source=tests/package/steps.sh
source "$script_dir/steps.sh"

installed() {  # the package's dpkg status, "" when dpkg knows nothing of it
    dpkg-query -W -f='${db:Status-Abbrev}' sluice 2>/dev/null | tr -d ' '
}

# dpkg ARGS...: other jobs on this host run apt-get; wait up to 5 minutes for dpkg's lock.
dpkg_locked() {
    local out rc tries=0
    while :; do
        out=$(dpkg "$@" 2>&1)
        rc=$?
        if [[ $rc -ne 0 ]] && grep -q 'lock' <<<"$out" && [[ $tries -lt 60 ]]; then
            tries=$((tries + 1))
            sleep 5
            continue
        fi
        printf '%s\n' "$out"
        return $rc
    done
}

status=$(installed)
if [[ -n $status && $status != un ]]; then
    echo "FAIL: a sluice package is installed already (dpkg status '$status'): this test installs"
    echo "      and purges its own; run 'dpkg -P sluice' first if that one is not wanted"
    exit 1
fi

work=$(mktemp -d /tmp/sluice-package-test.XXXXXX)
cleanup() {
    local s
    s=$(installed)
    if [[ -n $s && $s != un ]]; then
        echo "cleanup: purging sluice (status '$s')"
        dpkg_locked -P sluice >/dev/null || echo "cleanup: dpkg -P sluice failed" >&2
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the source tree, as git sees it (tracked and untracked-but-not-ignored files) ---
phase "copy the tree to $work/sluice"
mkdir -p "$work/sluice"
if git -C "$source_dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # Files deleted in the work tree but still tracked are skipped.
    (cd "$source_dir" && git ls-files -z --cached --others --exclude-standard |
        while IFS= read -r -d '' f; do [[ -e $f || -L $f ]] && printf '%s\0' "$f"; done |
        tar --null -T - -cf -) | tar -xf - -C "$work/sluice" || { echo "FAIL: copying the tree"; exit 1; }
    (cd "$work/sluice" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) >"$work/files.lst"
else
    # A tarball without .git: everything but build directories.
    tar -C "$source_dir" --exclude='./build*' --exclude='./debian/build' -cf - . |
        tar -xf - -C "$work/sluice" || { echo "FAIL: copying the tree"; exit 1; }
fi
cd "$work/sluice" || exit 1

# The package version follows meson.build's project version (a native package: no revision).
meson_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" meson.build | head -n 1)
deb_version=$(dpkg-parsechangelog -S Version)
[[ $deb_version == "$meson_version" ]] ||
    fail "debian/changelog's version $deb_version is not meson.build's project version $meson_version"

if ! out=$(dpkg-checkbuilddeps 2>&1); then
    echo "FAIL: $out (scripts/install-deps.sh should install every Build-Depends of debian/control)"
    exit 1
fi

# --- build ---
phase "dpkg-buildpackage -us -uc -b (log: build.log)"
if ! nice -n 10 dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log"
    echo "FAIL: dpkg-buildpackage failed"
    exit 1
fi
arch=$(dpkg --print-architecture)
deb=$work/sluice_${deb_version}_$arch.deb
changes=$work/sluice_${deb_version}_$arch.changes
[[ -f $deb && -f $changes ]] || { echo "FAIL: no .deb or .changes in $work"; ls -l "$work"; exit 1; }
# Everything the build wrote into the tree is ignored by git (debian/.gitignore), so a build in a
# developer's clone leaves `git status` clean; the .deb files go to the tree's parent.
if [[ -f $work/files.lst ]]; then
    stray=$(find . \( -type f -o -type l \) | sed 's|^\./||' | sort | comm -13 "$work/files.lst" - |
        git -C "$source_dir" check-ignore --no-index --verbose --non-matching --stdin |
        sed -n 's/^::\t//p')
    [[ -z $stray ]] || fail "the build left files git does not ignore: $stray"
fi

# --- lintian ---
phase "lintian $(basename "$changes")"
lintian --fail-on error,warning --display-info "$changes"
rc=$?
[[ $rc -eq 0 ]] || fail "lintian --fail-on error,warning: exit $rc"

# --- install ---
sluiced_pids() {  # processes running the installed binary
    local p
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/exe" 2>/dev/null) == /usr/sbin/sluiced ]] && echo "${p#/proc/}"
    done
}
phase "dpkg -i $(basename "$deb")"
if ! dpkg_locked -i "$deb"; then
    echo "FAIL: dpkg -i failed (its Depends come from scripts/install-deps.sh's packages)"
    exit 1
fi
[[ $(installed) == ii ]] || fail "after dpkg -i, status is '$(installed)', not ii"

for f in /usr/sbin/sluiced /usr/bin/sluicectl; do
    [[ -x $f ]] || fail "$f missing or not executable"
done
unit=$(dpkg -L sluice | grep -E '^(/usr)?/lib/systemd/system/sluiced\.service$' | head -n 1)
[[ -n $unit && -f $unit ]] || fail "no sluiced.service under /lib/systemd/system or /usr/lib/systemd/system"
if [[ -n $unit ]]; then
    grep -qx 'ExecStart=/usr/sbin/sluiced --config /etc/sluice/sluice.toml' "$unit" ||
        fail "$unit does not start /usr/sbin/sluiced --config /etc/sluice/sluice.toml"
fi
for f in /usr/share/man/man8/sluiced.8.gz /usr/share/man/man8/sluicectl.8.gz /usr/share/man/man8/sluice-metal-setup.8.gz \
    /usr/share/man/man5/sluice.toml.5.gz /usr/share/bash-completion/completions/sluicectl \
    /usr/share/doc/sluice/copyright /etc/sluice/sluice.toml /usr/share/sluice/metal/common.sh; do
    [[ -f $f ]] || fail "$f missing"
done
# The bare-metal script runs from its symlink (it finds its parts beside its real path).
sluice-metal-setup --help 2>&1 | grep -q '^  preflight' || fail "sluice-metal-setup --help does not run"
conffiles=$(dpkg-query -W -f='${Conffiles}' sluice)
grep -q '^ */etc/sluice/sluice.toml ' <<<"$conffiles" ||
    fail "/etc/sluice/sluice.toml is not a conffile (Conffiles: $conffiles)"
missing_libs=$(ldd /usr/sbin/sluiced /usr/bin/sluicectl | grep 'not found' || true)
[[ -z $missing_libs ]] || fail "unresolved libraries: $missing_libs"

# Nothing started or enabled: the unit stays disabled, no sluiced runs from /usr/sbin.
enabled=$(systemctl is-enabled sluiced.service 2>/dev/null)
[[ $enabled == disabled ]] || fail "systemctl is-enabled sluiced: '$enabled', not disabled"
[[ ! -e /etc/systemd/system/multi-user.target.wants/sluiced.service ]] ||
    fail "/etc/systemd/system/multi-user.target.wants/sluiced.service exists"
if [[ -d /run/systemd/system ]]; then
    active=$(systemctl is-active sluiced.service 2>/dev/null)
    [[ $active == inactive ]] || fail "systemctl is-active sluiced: '$active', not inactive"
else
    echo "(systemd is not running here: checked the enablement links and processes only)"
fi
pids=$(sluiced_pids)
[[ -z $pids ]] || fail "a sluiced from /usr/sbin runs after install: pid $pids"

phase "the installed binaries"
out=$(/usr/sbin/sluiced --check --config /etc/sluice/sluice.toml 2>&1)
rc=$?
[[ $rc -eq 0 ]] || fail "/usr/sbin/sluiced --check --config /etc/sluice/sluice.toml: exit $rc: $out"
out=$(/usr/bin/sluicectl --version 2>&1)
grep -qF "$meson_version" <<<"$out" || fail "sluicectl --version says '$out', not $meson_version"
out=$(MANPAGER=cat MANWIDTH=100 man sluiced 2>&1 | head -n 5)
grep -q 'sluiced' <<<"$out" || fail "man sluiced: '$out'"

# --- reinstall (an upgrade's maintainer script path): a local edit of the conffile survives ---
phase "edit /etc/sluice/sluice.toml, dpkg -i again"
marker="# local edit by tests/package/package_test.sh"
echo "$marker" >>/etc/sluice/sluice.toml
dpkg_locked --force-confold -i "$deb" || fail "dpkg -i over the installed package failed"
grep -qxF "$marker" /etc/sluice/sluice.toml || fail "reinstalling lost the local edit of /etc/sluice/sluice.toml"
[[ $(systemctl is-enabled sluiced.service 2>/dev/null) == disabled ]] || fail "reinstalling enabled sluiced"
pids=$(sluiced_pids)
[[ -z $pids ]] || fail "a sluiced from /usr/sbin runs after reinstall: pid $pids"

# --- remove: the conffile stays; purge: it goes, with /etc/sluice ---
phase "dpkg -r sluice"
dpkg_locked -r sluice || fail "dpkg -r sluice failed"
[[ $(installed) == rc ]] || fail "after dpkg -r, status is '$(installed)', not rc (config-files)"
[[ ! -e /usr/sbin/sluiced && ! -e /usr/bin/sluicectl ]] || fail "binaries left after dpkg -r"
[[ -z $unit || ! -e $unit ]] || fail "$unit left after dpkg -r"
[[ -f /etc/sluice/sluice.toml ]] || fail "/etc/sluice/sluice.toml removed by dpkg -r (a conffile stays)"

phase "dpkg -P sluice"
dpkg_locked -P sluice || fail "dpkg -P sluice failed"
status=$(installed)
[[ -z $status || $status == un ]] || fail "after dpkg -P, status is '$status'"
[[ ! -e /etc/sluice ]] || fail "/etc/sluice left after dpkg -P: $(ls -A /etc/sluice)"
leftovers=$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked \
    -name '*sluiced*' 2>/dev/null)
[[ -z $leftovers ]] || fail "deb-systemd-helper state left after purge: $leftovers"

# --- the same package as a service under a real systemd (one build for both) ---
phase "the package under systemd (systemd_service_test.sh --deb)"
bash "$script_dir/systemd_service_test.sh" --deb "$deb"
rc=$?
case $rc in
0) ;;
"$SKIP") echo "SKIP: the systemd part (no systemd-nspawn or overlayfs on this host)" ;;
*) fail "systemd_service_test.sh: exit $rc" ;;
esac

phase "done: $failures failure(s)"
[[ $failures -eq 0 ]]

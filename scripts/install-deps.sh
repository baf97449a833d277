#!/usr/bin/env bash
# Installs everything Sluice needs to build, test and run its lab on Debian 12 (bookworm).
# Idempotent: when every package is already installed it does nothing (no apt-get update).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps.sh: must run as root (apt-get install)" >&2
    exit 1
fi

packages=(
    # build
    meson ninja-build pkg-config cmake g++ clang-format
    # fuzz targets and clang builds (scripts/fuzz.sh): clang 14 and its libFuzzer/sanitizer runtimes
    clang-14 libclang-rt-14-dev
    # libraries
    libdpdk-dev libhyperscan-dev libjemalloc-dev libtomlplusplus-dev doctest-dev
    nlohmann-json3-dev libcli11-dev libfmt-dev libbsd-dev libnuma-dev libpcap-dev libbenchmark-dev
    libelf-dev libbpf-dev libxdp-dev
    # sd_notify and the journal (src/main/service_notify.cpp, src/common/log.cpp); systemd's
    # pkg-config file (unit dir) and systemd-analyze for tests/service; bash-completion's dir
    libsystemd-dev systemd bash-completion
    # the Debian package (debian/, tests/package): dpkg-buildpackage, debhelper, lintian
    dpkg-dev debhelper lintian
    # tests/package/systemd_service_test.sh boots a container with systemd-nspawn
    systemd-container
    # DPDK tools (dpdk-testpmd, dpdk-telemetry.py, dpdk-devbind.py)
    dpdk dpdk-dev
    # lab: namespaces, servers, load generators
    iproute2 ethtool nginx iperf3 curl wrk python3 python3-scapy hping3 iputils-ping procps psmisc prometheus
    # tests/e2e/e2e_dashboards.py reads the alert rules (YAML)
    python3-yaml
    # tests/e2e/e2e_status_page.py opens /status in headless Chromium through Selenium
    chromium chromium-driver python3-selenium
    util-linux
    # perf: peers for perf/compare-peers.sh, plots for perf/plot.sh
    haproxy libnginx-mod-stream nftables gnuplot-nox
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ $status == installed ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Packages such as nginx and prometheus start their system service on install. The lab runs its
# own servers inside namespaces; no host-wide service is wanted, so service starts are denied for
# the duration of the install (policy-rc.d, honoured by invoke-rc.d), unless a policy exists.
policy=/usr/sbin/policy-rc.d
own_policy=false
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=true
fi
trap '$own_policy && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"

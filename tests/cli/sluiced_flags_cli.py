#!/usr/bin/env python3
"""sluiced's --log-level accepts exactly debug, info, warn and error and wins over [log] level,
and without --config sluiced reads /etc/sluice/sluice.toml.

The level is checked on a real start that fails after validation (a net_af_packet port on an
interface that does not exist): its info lines ("EAL arguments") appear with [log] level =
"debug" and vanish with --log-level error, which still shows the error. DPDK's own lines (the
af_packet driver's "ioctl failed") come through sluiced's logger once, at their level, on stderr:
none on stdout."""
import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

failures: list[str] = []

CONFIG = """\
[dataplane]
eal_args = ["--no-huge", "-m", "64", "--no-pci", "--no-shconf",
            "--file-prefix=sluice-flags-test", "--log-level=lib.eal:error"]
worker_cpus = [0]
kernel_interfaces = false

[[port]]
name = "a"
device = "net_af_packet0,iface=sluice-none0"
addresses = ["198.18.0.1/24"]

[log]
level = "debug"
"""

LINE = re.compile(r"^\S+Z (debug|info|warn|error) ", re.MULTILINE)


def check(cond: bool, msg: str) -> None:
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", flush=True)


def run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=90,
                          stdin=subprocess.DEVNULL)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sluiced", required=True)
    args = ap.parse_args()
    print(__doc__.strip().splitlines()[0], flush=True)
    exe = args.sluiced
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "flags.toml"
        cfg.write_text(CONFIG)
        for level in ("debug", "info", "warn", "error"):
            for argv in (["--log-level", level], [f"--log-level={level}"]):
                res = run(exe, "--check", "--config", str(cfg), *argv)
                check(res.returncode == 0, f"{' '.join(argv)} --check: exit {res.returncode}: "
                      f"{res.stderr.strip()}")
        for bad in ("verbose", "INFO", "warning", ""):
            res = run(exe, "--check", "--config", str(cfg), "--log-level", bad)
            check(res.returncode == 2 and "--log-level must be debug, info, warn or error" in
                  res.stderr, f"--log-level {bad!r}: exit {res.returncode}: {res.stderr.strip()}")
        res = run(exe, "--check", "--config", str(cfg), "--log-level")
        check(res.returncode == 2, f"--log-level without a value: exit {res.returncode}")

        res = run(exe, "--help")
        check(res.returncode == 0 and "--log-level" in res.stdout and
              "/etc/sluice/sluice.toml" in res.stdout, f"--help: {res.stdout}")
        res = run(exe, "--check")
        check("/etc/sluice/sluice.toml" in res.stdout + res.stderr,
              f"--check without --config does not read /etc/sluice/sluice.toml: "
              f"{res.stdout}{res.stderr}")

        # A start that fails after validation: the config's level, then the flag's.
        res = run(exe, "--config", str(cfg))
        levels = set(LINE.findall(res.stderr))
        check(res.returncode == 1 and "info" in levels and "EAL arguments" in res.stderr,
              f"[log] level = debug: exit {res.returncode}, levels {sorted(levels)}:\n{res.stderr}")
        dpdk = [line for line in res.stderr.splitlines() if "ioctl failed" in line]
        check(len(dpdk) == 1 and LINE.search(dpdk[0]) and "error" in LINE.findall(dpdk[0])
              and not res.stdout.strip(),
              f"DPDK's driver error: stderr lines {dpdk}, stdout {res.stdout!r}")
        res = run(exe, "--config", str(cfg), "--log-level", "error")
        levels = set(LINE.findall(res.stderr))
        check(res.returncode == 1 and levels == {"error"},
              f"--log-level error: exit {res.returncode}, levels {sorted(levels)}:\n{res.stderr}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

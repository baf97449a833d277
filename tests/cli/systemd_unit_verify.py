#!/usr/bin/env python3
"""`systemd-analyze verify` accepts dist/systemd/sluiced.service without a warning, and the unit
keeps the settings docs/operations.md promises (notify, --check before start, reload through the
control API, watchdog, restart on failure, no memory-lock limit).

verify needs the ExecStart binaries to exist and the Documentation= man pages to be found, so the
unit is checked as a copy naming the build's binaries, with MANPATH at a tree of dist/man. A
copy with a misspelt key must draw a warning, so the test can tell a silent verify from a
broken one. Exit 77 (skipped) without systemd-analyze."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP = 77


def verify(unit: Path, env: dict[str, str]) -> tuple[int, str]:
    res = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                         env=env, timeout=60)
    return res.returncode, (res.stdout + res.stderr).strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--unit", required=True)
    ap.add_argument("--man-dir", required=True)
    ap.add_argument("--sluiced", required=True)
    ap.add_argument("--sluicectl", required=True)
    args = ap.parse_args()
    print(__doc__.strip().splitlines()[0], flush=True)
    if not shutil.which("systemd-analyze"):
        print("SKIP: systemd-analyze not installed (Debian package systemd)")
        return SKIP
    text = Path(args.unit).read_text()
    failures = []
    wanted = [r"^Type=notify$",
              r"^ExecStartPre=/usr/sbin/sluiced --check --config /etc/sluice/sluice.toml$",
              r"^ExecStart=/usr/sbin/sluiced --config /etc/sluice/sluice.toml$",
              r"^ExecReload=/usr/bin/sluicectl reload$", r"^WatchdogSec=\S+$",
              r"^Restart=on-failure$", r"^LimitMEMLOCK=infinity$", r"^NoNewPrivileges=yes$",
              r"^CapabilityBoundingSet=.*CAP_NET_ADMIN.*$", r"^WantedBy=multi-user.target$"]
    for pattern in wanted:
        if not re.search(pattern, text, re.MULTILINE):
            failures.append(f"the unit has no line matching {pattern}")
    with tempfile.TemporaryDirectory(prefix="sluice-unit-") as tmp:
        man = Path(tmp) / "man"
        for page in Path(args.man_dir).iterdir():
            section = man / f"man{page.suffix[1:]}"
            section.mkdir(parents=True, exist_ok=True)
            shutil.copy(page, section / page.name)
        env = dict(os.environ, MANPATH=str(man))
        copy = text.replace("/usr/sbin/sluiced", str(Path(args.sluiced).resolve()))
        copy = copy.replace("/usr/bin/sluicectl", str(Path(args.sluicectl).resolve()))
        unit = Path(tmp) / "sluiced.service"
        unit.write_text(copy)
        rc, out = verify(unit, env)
        print(f"systemd-analyze verify: exit {rc}" + (f"\n{out}" if out else ", no output"))
        if rc != 0 or out:
            failures.append(f"systemd-analyze verify: exit {rc}: {out}")
        unit.write_text(copy.replace("[Install]", "[Install]\nWantedByy=multi-user.target"))
        rc, out = verify(unit, env)
        if "WantedByy" not in out:
            failures.append(f"a misspelt key drew no warning (exit {rc}: {out!r}): the check "
                            "above could not have failed")
    for f in failures:
        print(f"FAIL: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

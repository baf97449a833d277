#!/usr/bin/env python3
"""sluiced refuses a bad config with FILE:LINE:COLUMN: problem lines and exit status 2, before
touching EAL or a NIC (a FIFO, a device, a directory or an oversized file included, at once), and
accepts the shipped sample configs with --check."""
import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

BAD = """\
[dataplane]
worker_cpus = [1]
mbufs = 12
foo = 1

[[port]]
name = "client"
device = "net_af_packet0,iface=lbc0"
addresses = ["198.18.0.1/24"]

[[vip]]
address = "198.18.0.10"
port = 80
protocol = "tcp"
  [[vip.backend]]
  address = "10.9.9.9"
"""

# (line, column, message fragment) in the order sluiced must print them.
EXPECTED = [
    (3, 9, "dataplane.mbufs: must be between 1023 and 16777215, got 12"),
    (4, 1, "unknown key 'foo' in [dataplane]"),
    (15, 3, "no route reaches 10.9.9.9"),
]


def fail(msg: str) -> None:
    print(f"FAIL: {msg}")
    sys.exit(1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluiced", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        bad = Path(tmp) / "bad.toml"
        bad.write_text(BAD)
        # The real start path (no --check): it must stop at validation.
        for argv in ([args.sluiced, "--config", str(bad)],
                     [args.sluiced, "--check", "--config", str(bad)]):
            res = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            if res.returncode != 2:
                fail(f"{' '.join(argv)}: exit {res.returncode}, want 2\n{res.stderr}")
            lines = [l for l in res.stderr.splitlines() if l.startswith(str(bad) + ":")]
            if len(lines) != len(EXPECTED):
                fail(f"want {len(EXPECTED)} error lines, got:\n{res.stderr}")
            for line, (ln, col, msg) in zip(lines, EXPECTED):
                m = re.match(re.escape(str(bad)) + r":(\d+):(\d+): (.*)", line)
                if not m or (int(m[1]), int(m[2])) != (ln, col) or msg not in m[3]:
                    fail(f"error line {line!r} is not {bad}:{ln}:{col}: …{msg}…")
            if "EAL" in res.stderr:
                fail(f"EAL was initialised for an invalid config:\n{res.stderr}")
            print(f"ok: {' '.join(argv[1:])} -> exit 2 with {len(lines)} located errors")

        missing = Path(tmp) / "missing.toml"
        res = subprocess.run([args.sluiced, "--config", str(missing)], capture_output=True,
                             text=True, timeout=30)
        if res.returncode != 2 or f"{missing}: cannot read" not in res.stderr:
            fail(f"missing file: exit {res.returncode}, stderr {res.stderr!r}")
        print("ok: missing file -> exit 2, 'cannot read'")

        # What is not a regular file is refused at once (a FIFO without a writer must not block
        # the start), and so is a file over the 16 MiB limit.
        fifo = Path(tmp) / "fifo.toml"
        os.mkfifo(fifo)
        big = Path(tmp) / "big.toml"
        with open(big, "wb") as f:
            f.truncate((16 << 20) + 1)
        for path, why in ((fifo, "a FIFO, not a regular file"),
                          ("/dev/zero", "a character device, not a regular file"),
                          (Path(tmp), "a directory, not a regular file"),
                          (big, f"{(16 << 20) + 1} bytes, over the 16 MiB limit")):
            res = subprocess.run([args.sluiced, "--config", str(path)], capture_output=True,
                                 text=True, timeout=10)
            want = f"{path}: cannot read: {why}"
            if res.returncode != 2 or want not in res.stderr:
                fail(f"--config {path}: exit {res.returncode}, stderr {res.stderr!r}; want 2 "
                     f"and {want!r}")
            print(f"ok: --config {path} -> exit 2, {why}")

    for name in ("lab.toml", "lab-2workers.toml", "metal.toml"):
        path = Path(args.source_dir) / "dpdk-config" / name
        res = subprocess.run([args.sluiced, "--check", "--config", str(path)],
                             capture_output=True, text=True, timeout=30)
        if res.returncode != 0:
            fail(f"{name} rejected (exit {res.returncode}):\n{res.stderr}")
        print(f"ok: {name} is valid")


if __name__ == "__main__":
    main()

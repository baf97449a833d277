#!/usr/bin/env python3
"""With JOURNAL_STREAM naming its stderr, sluiced's log goes to journald as native records
(PRIORITY, SYSLOG_IDENTIFIER=sluiced, MESSAGE, and VIP/BACKEND where the call site gives them),
and nothing to stderr; with JOURNAL_STREAM naming another stream it stays on stderr.

No journald runs here, so the test plays journald: in a private mount namespace (unshare -m) it
mounts a tmpfs on /run/systemd and binds the datagram socket libsystemd sends to,
/run/systemd/journal/socket. Root only; exit 77 (skipped) otherwise."""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP = 77
failures: list[str] = []


def check(cond: bool, msg: str) -> None:
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", flush=True)


def records(sock: socket.socket) -> list[dict[str, str]]:
    out = []
    sock.settimeout(0.5)
    while True:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return out
        # Native protocol: KEY=value lines (values with a newline use a binary form; ours have
        # none, so a line without '=' is a failure of its own).
        fields = {}
        for line in data.decode().splitlines():
            key, eq, value = line.partition("=")
            check(bool(eq), f"record line without '=': {line!r}")
            fields[key] = value
        out.append(fields)


def run_logged(argv: list[str], sock: socket.socket, match: bool) -> tuple[list[dict], str]:
    """Runs argv with stderr to a file and JOURNAL_STREAM naming it (or another inode)."""
    with tempfile.TemporaryFile() as err:
        st = os.fstat(err.fileno())
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino + (0 if match else 1)}")
        subprocess.run(argv, stderr=err, stdout=subprocess.DEVNULL, env=env, timeout=90)
        err.seek(0)
        return records(sock), err.read().decode(errors="replace")


def inner(args: argparse.Namespace) -> int:
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run/systemd"], check=True)
    os.mkdir("/run/systemd/journal")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/run/systemd/journal/socket")

    recs, err = run_logged([args.probe], sock, match=True)
    check(err == "", f"journal mode also wrote to stderr: {err!r}")
    check(len(recs) == 2, f"{len(recs)} records, want 2 (the debug line is below the level): {recs}")
    if len(recs) == 2:
        want = {"PRIORITY": "4", "SYSLOG_IDENTIFIER": "sluiced", "VIP": "web",
                "BACKEND": "198.19.0.11:80",
                "MESSAGE": "health: vip web backend 198.19.0.11:80: up -> down"}
        check(recs[0] == want, f"first record {recs[0]}, want {want}")
        check(recs[1] == {"PRIORITY": "3", "SYSLOG_IDENTIFIER": "sluiced",
                          "MESSAGE": "plain error"}, f"second record {recs[1]}")

    recs, err = run_logged([args.probe], sock, match=False)
    check(recs == [], f"JOURNAL_STREAM naming another stream still sent records: {recs}")
    check("warn  health: vip web" in err and "error plain error" in err,
          f"stderr mode lost lines: {err!r}")

    # The daemon itself: a start that fails after validation logs info and error lines.
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "j.toml"
        cfg.write_text(args.config_text)
        recs, err = run_logged([args.sluiced, "--config", str(cfg)], sock, match=True)
    mine = [r for r in recs if r.get("SYSLOG_IDENTIFIER") == "sluiced"]
    check(any(r["PRIORITY"] == "6" and r["MESSAGE"].startswith("EAL arguments:") for r in mine),
          f"sluiced sent no info record 'EAL arguments:': {recs}")
    check(any(r["PRIORITY"] == "3" and r["MESSAGE"].startswith("startup failed") for r in mine),
          f"sluiced sent no error record 'startup failed': {recs}")
    check("EAL arguments" not in err, f"sluiced wrote its log lines to stderr too: {err!r}")
    return 1 if failures else 0


CONFIG = """\
[dataplane]
eal_args = ["--no-huge", "-m", "64", "--no-pci", "--no-shconf",
            "--file-prefix=sluice-journal-test", "--log-level=lib.eal:error"]
worker_cpus = [0]
kernel_interfaces = false

[[port]]
name = "a"
device = "net_af_packet0,iface=sluice-none1"
addresses = ["198.18.0.1/24"]
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--probe", required=True)
    ap.add_argument("--sluiced", required=True)
    ap.add_argument("--inner", action="store_true")
    args = ap.parse_args()
    args.probe = str(Path(args.probe).resolve())
    args.sluiced = str(Path(args.sluiced).resolve())
    args.config_text = CONFIG
    if args.inner:
        return inner(args)
    print(__doc__.strip().splitlines()[0], flush=True)
    if os.geteuid() != 0 or not Path("/usr/bin/unshare").exists():
        print("SKIP: needs root and unshare (a private mount namespace)")
        return SKIP
    res = subprocess.run(["/usr/bin/unshare", "--mount", "--propagation", "private",
                          sys.executable, __file__, "--inner", "--probe", args.probe,
                          "--sluiced", args.sluiced], timeout=200)
    return res.returncode


if __name__ == "__main__":
    sys.exit(main())

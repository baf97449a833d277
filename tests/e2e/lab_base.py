"""The e2e harness's basics: the lab's names and paths, failures, logging, commands in a
namespace, kernel counters and DPDK telemetry (re-exported by lab.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Sequence

NS_CLIENT = "sluice-client"
NS_LB = "sluice-lb"
VIP = "198.18.0.10"
VIP6 = "2001:2::10"  # on-link in the client's 2001:2::/64 like VIP in 198.18.0.0/24 (docs/lab.md)
BACKENDS = ("be1", "be2", "be3")
LAB_STATE_DIR = Path(os.environ.get("LAB_STATE_DIR", "/run/sluice-lab"))
LOCK_PATH = Path("/run/sluice-lab.lock")
EAL_FILE_PREFIX = "sluice-lab"
SKIP = 77  # meson test: skipped

HERE = Path(__file__).resolve().parent


class Failure(Exception):
    """A property did not hold; the message says which and with what numbers."""


class _Interrupted(BaseException):
    pass


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise Failure(msg)


# ---------------------------------------------------------------------------------------------
# processes and namespaces


def ns_run(
    ns: str, argv: Sequence[str], timeout: float = 60, check_rc: bool = True
) -> subprocess.CompletedProcess:
    """Runs argv inside network namespace `ns`, capturing output; bounded by `timeout` seconds."""
    cmd = ["ip", "netns", "exec", ns, *argv]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise Failure(f"timed out after {timeout}s: {' '.join(cmd)}") from e
    if check_rc and res.returncode != 0:
        raise Failure(
            f"exit {res.returncode}: {' '.join(cmd)}\n--- stdout\n{res.stdout[-4000:]}"
            f"\n--- stderr\n{res.stderr[-4000:]}"
        )
    return res


def snmp(ns: str) -> dict[str, int]:
    """A namespace kernel's counters: /proc/net/snmp as IcmpInErrors, TcpInCsumErrors, ..., and
    /proc/net/snmp6 (Icmp6InPktTooBigs, ...)."""
    out = {}
    lines = ns_run(ns, ["cat", "/proc/net/snmp"]).stdout.splitlines()
    for names, values in zip(lines[0::2], lines[1::2]):
        proto = names.split(":")[0]
        out.update({f"{proto}{k}": int(v) for k, v in zip(names.split()[1:], values.split()[1:])})
    for line in ns_run(ns, ["cat", "/proc/net/snmp6"]).stdout.splitlines():
        parts = line.split()  # "Icmp6InPktTooBigs   3"
        if len(parts) == 2:
            out[parts[0]] = int(parts[1])
    return out


def lab_namespaces() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.startswith("sluice-")]


def telemetry(command: str, prefix: str = EAL_FILE_PREFIX, timeout: float = 5) -> dict:
    """Sends one command to the DPDK telemetry socket of `prefix`; returns the reply's payload."""
    path = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(timeout)
        try:
            s.connect(path)
        except OSError as e:
            raise Failure(f"telemetry: cannot connect to {path}: {e}") from e
        s.recv(1 << 16)  # info blob sent on connect
        s.send(command.encode())
        reply = s.recv(1 << 20)
    try:
        doc = json.loads(reply.decode())
    except ValueError as e:
        raise Failure(f"telemetry: {command}: reply is not JSON: {reply[:200]!r}") from e
    key = command.split(",", 1)[0]
    if not isinstance(doc, dict) or key not in doc:
        raise Failure(f"telemetry: {command}: unexpected reply {str(doc)[:300]}")
    return doc[key]

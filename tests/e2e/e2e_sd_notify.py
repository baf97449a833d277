#!/usr/bin/env python3
"""sluiced speaks systemd's notify protocol: READY=1 once the VIPs answer, WATCHDOG=1 at half the
interval, RELOADING=1 (with MONOTONIC_USEC) then READY=1 around a SIGHUP or API reload, STOPPING=1
on SIGTERM.

sluiced runs with NOTIFY_SOCKET naming an AF_UNIX datagram socket this test reads (what systemd
does for Type=notify) and WATCHDOG_USEC=1000000 (WatchdogSec=1s)."""
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import lab

WATCHDOG_USEC = 1_000_000


class NotifySocket:
    """The AF_UNIX SOCK_DGRAM socket sd_notify(3) writes to; every datagram with its arrival time."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="sluice-notify-")
        self.path = str(Path(self.dir) / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._pump, daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        while not self.done:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self.lock:
                self.messages.append((time.monotonic(), fields))

    def since(self, t0: float, key: str | None = None) -> list[tuple[float, dict[str, str]]]:
        with self.lock:
            return [(t, m) for t, m in self.messages if t >= t0 and (key is None or key in m)]

    def wait_for(self, t0: float, key: str, timeout: float = 10) -> tuple[float, dict[str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.since(t0, key)
            if found:
                return found[0]
            time.sleep(0.02)
        raise lab.Failure(f"no {key}=... notification within {timeout}s; got "
                          f"{[m for _, m in self.since(t0)]}")

    def close(self) -> None:
        self.done = True
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


def http_ok(t: lab.Test, n: int) -> None:
    res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", str(n))
    lab.check(res["failed"] == 0, f"{res['failed']} of {n} requests failed: {res['errors']}")


def check_reload(t: lab.Test, d: lab.Sluiced, ns: NotifySocket, how: str) -> None:
    t0 = time.monotonic()
    if how == "SIGHUP":
        d.reload()
    else:
        t.sluicectl_ok("reload")
    t_rel, rel = ns.wait_for(t0, "RELOADING")
    usec = int(rel.get("MONOTONIC_USEC", "0"))
    # Python's monotonic clock is CLOCK_MONOTONIC on Linux, the clock systemd compares against.
    lab.check(t0 * 1e6 - 1e6 <= usec <= time.monotonic() * 1e6,
              f"{how}: MONOTONIC_USEC={usec} is not the time of the reload (~{t0 * 1e6:.0f})")
    t_ready, ready = ns.wait_for(t_rel, "READY")
    lab.check(rel.get("RELOADING") == "1" and ready.get("READY") == "1",
              f"{how}: expected RELOADING=1 then READY=1, got {rel} then {ready}")
    lab.check(ready.get("STATUS", "").startswith("serving"), f"{how}: READY without STATUS: {ready}")
    lab.log(f"{how}: RELOADING=1 (MONOTONIC_USEC={usec}) then READY=1 after "
            f"{(t_ready - t_rel) * 1000:.1f} ms, {ready['STATUS']!r}")


def check_watchdog(ns: NotifySocket, t0: float, seconds: float) -> None:
    time.sleep(seconds)
    pings = [t for t, m in ns.since(t0, "WATCHDOG") if m["WATCHDOG"] == "1"]
    lab.check(len(pings) >= int(seconds / (WATCHDOG_USEC / 2e6)) - 1,
              f"{len(pings)} WATCHDOG=1 pings in {seconds}s (expected one per 0.5 s)")
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    lab.check(max(gaps) < WATCHDOG_USEC / 1e6,
              f"longest gap between watchdog pings {max(gaps):.2f}s >= WatchdogSec (1 s)")
    lab.log(f"{len(pings)} watchdog pings in {seconds}s, longest gap {max(gaps) * 1000:.0f} ms")


def body(t: lab.Test) -> None:
    t.lab_up()
    cfg = t.config("lab.toml")
    ns = NotifySocket()
    os.environ["NOTIFY_SOCKET"] = ns.path
    os.environ["WATCHDOG_USEC"] = str(WATCHDOG_USEC)
    try:
        t0 = time.monotonic()
        with t.sluiced(cfg) as d:
            t_ready, ready = ns.wait_for(t0, "READY")
            # READY=1 is sent where 'sluiced: ready' is printed: the VIPs answer from then on.
            http_ok(t, 10)
            vips = cfg.read_text().count("[[vip]]")
            lab.check(ready.get("STATUS", "").startswith(f"serving {vips} VIPs"),
                      f"READY=1 came with STATUS {ready.get('STATUS')!r}, not 'serving {vips} VIPs'")
            lab.check("sluiced: ready" in d.log_text(), "READY=1 without 'sluiced: ready' on stderr")
            early = [m for tm, m in ns.since(t0) if tm < t_ready and "READY" in m]
            lab.check(not early, f"more than one READY=1 at start: {early}")
            lab.log(f"READY=1 {t_ready - t0:.1f}s after start, {ready['STATUS']!r}")
            check_watchdog(ns, t_ready, 3.0)
            check_reload(t, d, ns, "SIGHUP")
            check_reload(t, d, ns, "sluicectl reload")
            http_ok(t, 5)
            t_stop = time.monotonic()
            d.stop(timeout=10)
            _, stopping = ns.wait_for(t_stop, "STOPPING", timeout=2)
            lab.check(stopping["STOPPING"] == "1", f"STOPPING={stopping['STOPPING']}")
            lab.log("SIGTERM: STOPPING=1")
    finally:
        del os.environ["NOTIFY_SOCKET"]
        del os.environ["WATCHDOG_USEC"]
        ns.close()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

"""The processes an e2e test drives: a running sluiced (start, ready, reload, stop, its stats)
and background clients that report JSON lines (re-exported by lab.py)."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

from lab_base import NS_CLIENT, HERE, Failure, log


# ---------------------------------------------------------------------------------------------
# sluiced


STATS_RE = re.compile(r"sluiced: stats (\{.*\})")


class Sluiced:
    """One sluiced process: started on a config, stderr to a log file, stopped with SIGTERM."""

    def __init__(self, exe: Path, config: Path, log_path: Path, ready_timeout: float = 60):
        self.exe = exe
        self.config = config
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen | None = None
        self.exit_code: int | None = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def dump_log(self, lines: int = 80) -> None:
        text = self.log_text().splitlines()
        print(f"--- last {min(lines, len(text))} lines of {self.log_path}", file=sys.stderr)
        for line in text[-lines:]:
            print(f"    {line}", file=sys.stderr)
        print("---", file=sys.stderr, flush=True)

    def start(self) -> None:
        if subprocess.run(["pgrep", "-x", "sluiced"], capture_output=True).returncode == 0:
            raise Failure("another sluiced is already running on this machine (pgrep -x sluiced)")
        log(f"starting {self.exe} --config {self.config} (log {self.log_path})")
        logf = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                [str(self.exe), "--config", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=logf,
                stderr=subprocess.STDOUT,
            )
        finally:
            logf.close()
        t0 = time.monotonic()
        while time.monotonic() - t0 < self.ready_timeout:
            if "sluiced: ready" in self.log_text():
                log(f"sluiced ready after {time.monotonic() - t0:.1f}s (pid {self.proc.pid})")
                return
            rc = self.proc.poll()
            if rc is not None:
                self.exit_code = rc
                self.dump_log()
                raise Failure(f"sluiced exited with status {rc} before printing 'sluiced: ready'")
            time.sleep(0.1)
        self.dump_log()
        raise Failure(f"sluiced did not print 'sluiced: ready' within {self.ready_timeout}s")

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 10) -> float:
        """SIGTERM; checks exit status 0 and 'sluiced: stopped' within `timeout`. Returns seconds."""
        if self.proc is None:
            return 0.0
        if self.proc.poll() is not None:
            self.exit_code = self.proc.returncode
            self.proc = None
            self.dump_log()
            raise Failure(f"sluiced died during the test (exit status {self.exit_code})")
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.dump_log()
            raise Failure(f"sluiced did not exit within {timeout}s of SIGTERM (killed)")
        elapsed = time.monotonic() - t0
        self.proc = None
        text = self.log_text()
        if self.exit_code != 0:
            self.dump_log()
            raise Failure(f"sluiced exited with status {self.exit_code} after SIGTERM")
        if "sluiced: stopped" not in text:
            self.dump_log()
            raise Failure("sluiced exited without printing 'sluiced: stopped'")
        log(f"sluiced stopped cleanly after {elapsed:.2f}s")
        return elapsed

    def kill_quietly(self) -> None:
        """Teardown path after a failure: stop it whatever state it is in."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        self.proc = None

    def reload(self, timeout: float = 15) -> float:
        """SIGHUP: waits for a new `reload: applied` log line; fails on `reload refused` (with the
        logged errors) or on a timeout. Returns the seconds it took."""
        if self.proc is None or self.proc.poll() is not None:
            raise Failure("reload: sluiced is not running")
        text = self.log_text()
        n_ok, n_bad = text.count("reload: applied"), text.count("reload refused")
        t0 = time.monotonic()
        log(f"reload: SIGHUP to sluiced (pid {self.proc.pid}), config {self.config}")
        self.proc.send_signal(signal.SIGHUP)
        while time.monotonic() - t0 < timeout:
            text = self.log_text()
            if text.count("reload refused") > n_bad:
                self.dump_log(40)
                lines = [ln for ln in text.splitlines() if "reload refused" in ln]
                raise Failure(f"sluiced refused the reload of {self.config}: {lines[-1].strip()}")
            if text.count("reload: applied") > n_ok:
                elapsed = time.monotonic() - t0
                line = [ln for ln in text.splitlines() if "reload: applied" in ln][-1]
                log(f"reload applied after {elapsed:.2f}s: {line.strip()}")
                return elapsed
            if self.proc.poll() is not None:
                self.dump_log()
                raise Failure(f"sluiced exited with status {self.proc.returncode} on SIGHUP")
            time.sleep(0.05)
        self.dump_log(40)
        raise Failure(f"sluiced logged neither 'reload: applied' nor 'reload refused' within "
                      f"{timeout}s of SIGHUP")

    def final_stats(self) -> dict | None:
        """The last `sluiced: stats {...}` line printed (at exit or on SIGUSR1)."""
        found = None
        for line in self.log_text().splitlines():
            m = STATS_RE.search(line)
            if m:
                try:
                    found = json.loads(m.group(1))
                except ValueError:
                    pass
        return found


# ---------------------------------------------------------------------------------------------
# a client that keeps running while the test does other things


class BackgroundClient:
    """tests/e2e/client.py running inside sluice-client in the background (e.g. `hold`, which
    keeps connections open until its stdin closes). Its stdout JSON lines are read as they come."""

    def __init__(self, argv: Sequence[str], script: str = "client.py"):
        self.argv = list(argv)
        cmd = ["ip", "netns", "exec", NS_CLIENT, sys.executable, str(HERE / script), *argv]
        if script == "client.py":
            cmd.append("--json")
        log(f"background client: {' '.join(argv)}")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self._lines.put),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self._stderr.append),
                         daemon=True).start()

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink(line)
        sink(None)

    def next_json(self, timeout: float) -> dict:
        """The next JSON line the client prints, within `timeout` seconds."""
        t_end = time.monotonic() + timeout
        while True:
            left = t_end - time.monotonic()
            try:
                line = self._lines.get(timeout=max(0.0, left))
            except queue.Empty:
                raise Failure(f"background client {' '.join(self.argv)}: no report within "
                              f"{timeout}s") from None
            if line is None:
                self.proc.wait(timeout=5)
                raise Failure(f"background client {' '.join(self.argv)} ended (exit "
                              f"{self.proc.returncode}) without a report; stderr: "
                              f"{''.join(filter(None, self._stderr))[-2000:]}")
            line = line.strip()
            if line.startswith("{"):
                try:
                    return json.loads(line)
                except ValueError:
                    pass
            log(f"client: {line}")

    def finish(self, timeout: float = 30) -> dict:
        """Closes the client's stdin (its signal to stop) and returns its final JSON summary."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        res = self.next_json(timeout)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure(f"background client {' '.join(self.argv)} did not exit") from None
        for line in filter(None, self._stderr):
            log(f"client: {line.rstrip()}")
        return res

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

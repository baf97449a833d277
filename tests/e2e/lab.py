"""End-to-end test harness for Sluice: the namespace lab, a running sluiced, telemetry, clients.

Every e2e test is a small script that calls `run_test(__doc__, body)`; `body(t)` gets a `Test`
with helpers. The harness:
  * serialises lab users with a lock file (one lab per machine),
  * brings the lab up through scripts/lab.sh and ALWAYS tears it down (finally + signals),
  * starts sluiced with a config, waits for `sluiced: ready`, stops it with SIGTERM and checks the
    clean exit; dumps the daemon's log when anything fails,
  * fails the test if a `sluice-` namespace survives the teardown.

Python 3 standard library only. Must run as root (namespaces); exits 77 (meson's "skip") otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import ipaddress
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Iterator, Sequence

# The basics and the processes live in lab_base.py and lab_processes.py; tests use them as lab.X.
from lab_base import (  # noqa: F401  (re-exported)
    NS_CLIENT,
    NS_LB,
    VIP,
    VIP6,
    BACKENDS,
    LAB_STATE_DIR,
    LOCK_PATH,
    EAL_FILE_PREFIX,
    SKIP,
    HERE,
    Failure,
    _Interrupted,
    log,
    check,
    ns_run,
    snmp,
    lab_namespaces,
    telemetry,
)
from lab_processes import STATS_RE, BackgroundClient, Sluiced  # noqa: F401  (re-exported)


def vip_toml(address: str = VIP, port: int = 80, protocol: str = "tcp",
             backends: Sequence[dict | str] = (), health: dict | None = None,
             tables: dict[str, dict] | None = None, rules: Sequence[dict] = (), **keys) -> str:
    """One `[[vip]]` block: `keys` are the VIP's other keys (name, scheduler, hash, ...), each
    backend is an address or a dict of backend keys ({"address": ..., "weight": 2}); addresses
    of either family are written as they are (no brackets: the port is its own key); `health`
    the keys of its [vip.health] table; `tables` other sub-tables ({"limits": {...}} is
    [vip.limits]); `rules` the [[vip.rule]] entries."""
    def val(v) -> str:
        return json.dumps(v)  # strings and integers are written alike in TOML and JSON

    lines = ["[[vip]]"]
    vip_keys = {**{k: v for k, v in keys.items() if k == "name"}, "address": address,
                "port": port, "protocol": protocol,
                **{k: v for k, v in keys.items() if k != "name"}}
    lines += [f"{k} = {val(v)}" for k, v in vip_keys.items()]
    if health:
        lines.append("  [vip.health]")
        lines += [f"  {k} = {val(v)}" for k, v in health.items()]
    for be in backends:
        be = {"address": be} if isinstance(be, str) else be
        lines.append("  [[vip.backend]]")
        lines += [f"  {k} = {val(v)}" for k, v in be.items()]
    for table, values in (tables or {}).items():
        lines.append(f"  [vip.{table}]")
        lines += [f"  {k} = {val(v)}" for k, v in values.items()]
    for rule in rules:
        lines.append("  [[vip.rule]]")
        lines += [f"  {k} = {val(v)}" for k, v in rule.items()]
    return "\n".join(lines) + "\n"


METRICS_URL = "http://127.0.0.1:9273/metrics"
_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+\S+)?$")


def scrape_metrics() -> tuple[str, str]:
    """GET /metrics of the running sluiced (root namespace): (text, Content-Type)."""
    try:
        with urllib.request.urlopen(METRICS_URL, timeout=5) as resp:
            check(resp.status == 200, f"GET {METRICS_URL}: HTTP {resp.status}")
            return resp.read().decode(), resp.headers.get("Content-Type", "")
    except OSError as e:
        raise Failure(f"GET {METRICS_URL}: {e}") from e


def metric_total(text: str, metric: str, **labels: str) -> float:
    """Sum of `metric`'s samples whose labels include `labels`; fails if there is none."""
    found, s = 0, 0.0
    for line in text.splitlines():
        m = _SAMPLE_RE.match(line)
        if not m or m.group(1) != metric:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            found += 1
            s += float(m.group(3))
    check(found > 0, f"/metrics has no sample of {metric} with {labels}")
    return s


def backend_addr(be: str) -> str:
    """be1 -> 198.18.1.11 (the lab's addressing, docs/lab.md)."""
    return f"198.18.1.1{int(be[2:])}"


def backend_addr6(be: str) -> str:
    """be1 -> 2001:2:0:1::11 (the lab's IPv6 addressing, docs/lab.md)."""
    return f"2001:2:0:1::1{int(be[2:])}"


_BACKEND6_NET = ipaddress.IPv6Network("2001:2:0:1::/64")


def backend_name(addr: str) -> str:
    """198.18.1.11 or 2001:2:0:1::11 (any spelling, brackets allowed) -> be1: the inverse of
    backend_addr and backend_addr6; other addresses are returned as is."""
    m = re.fullmatch(r"198\.18\.1\.1([1-9])", addr)
    if m:
        return f"be{m.group(1)}"
    try:
        a = ipaddress.ip_address(addr.strip("[]"))
    except ValueError:
        return addr
    if a.version == 6 and a in _BACKEND6_NET:
        host = int(a) - int(_BACKEND6_NET.network_address)
        if 0x11 <= host <= 0x19:  # be$i is ::1$i, written in hex: ::11 .. ::19
            return f"be{host - 0x10}"
    return addr


def host_port(addr: str, port: int) -> str:
    """'198.18.1.11', 80 -> '198.18.1.11:80'; an IPv6 address gets brackets: '[2001:2::10]:80'."""
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def split_host_port(text: str) -> tuple[str, int]:
    """The inverse of host_port: '[2001:2::10]:80' or '198.18.0.10:80' -> (address, port).
    An unbracketed IPv6 address with a port ('2001:2::10:80') splits at its last colon."""
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def http_url(addr: str, path: str = "/", port: int = 80) -> str:
    """http://198.18.0.10/ or http://[2001:2::10]/ (curl needs -g for the brackets)."""
    host = f"[{addr}]" if ":" in addr else addr
    return f"http://{host}{'' if port == 80 else f':{port}'}{path}"


def lab_backends() -> list[str]:
    """The backends of the lab that is up now (be1..beN, LAB_BACKENDS of scripts/lab.sh)."""
    names = [ns[len("sluice-"):] for ns in lab_namespaces() if re.fullmatch(r"sluice-be[0-9]", ns)]
    return sorted(names) or list(BACKENDS)


# ---------------------------------------------------------------------------------------------
# the test object


class Test:
    def __init__(self, name: str, args: argparse.Namespace):
        self.name = name
        self.sluiced_exe = Path(args.sluiced).resolve()
        self.sluicectl_exe = Path(args.sluicectl).resolve()
        self.source_dir = Path(args.source_dir).resolve()
        self.work_dir = Path(args.log_dir).resolve() / f"{name}.d"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.daemons: list[Sluiced] = []
        self.background: list[BackgroundClient] = []
        self.lab_is_up = False
        self._nstarts = 0

    # -- lab
    def lab(self, action: str, env_extra: dict[str, str] | None = None) -> None:
        script = self.source_dir / "scripts" / "lab.sh"
        env = dict(os.environ, SLUICE_LAB_LOCK_HELD="1")  # we hold /run/sluice-lab.lock
        env.update(env_extra or {})
        res = subprocess.run([str(script), action], capture_output=True, text=True, timeout=120,
                             env=env)
        for line in (res.stdout + res.stderr).splitlines():
            log(line)
        if res.returncode != 0:
            raise Failure(f"scripts/lab.sh {action} failed (exit {res.returncode})")

    def lab_up(self, backends: int | None = None, big_mib: int | None = None) -> None:
        """scripts/lab.sh up; `backends` (1..9) sets LAB_BACKENDS (default: the script's, 3),
        `big_mib` the size of /big.bin (LAB_BIG_MIB, default 50)."""
        self.lab_is_up = True
        env = {}
        if backends:
            env["LAB_BACKENDS"] = str(backends)
        if big_mib:
            env["LAB_BIG_MIB"] = str(big_mib)
        self.lab("up", env or None)

    # -- the backends' nginx (health tests)
    def nginx_pids(self, be: str) -> list[int]:
        """The master (from its pidfile) and its workers of backend `be`'s nginx; [] if down."""
        try:
            master = int((LAB_STATE_DIR / be / "nginx.pid").read_text().strip())
            os.kill(master, 0)
        except (OSError, ValueError):
            return []
        workers = []
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                    workers.append(int(d.name))
            except (OSError, IndexError, ValueError):
                continue
        return [master, *workers]

    def stop_nginx(self, be: str) -> None:
        """Stops backend `be`'s nginx at once (SIGTERM): its port 80 then refuses connections."""
        pids = self.nginx_pids(be)
        check(bool(pids), f"nginx of {be} is not running")
        os.kill(pids[0], signal.SIGTERM)
        t_end = time.monotonic() + 5
        while self.nginx_pids(be):
            check(time.monotonic() < t_end, f"nginx of {be} still running 5 s after SIGTERM")
            time.sleep(0.05)
        log(f"{be}: nginx stopped")

    def start_nginx(self, be: str) -> None:
        """Starts backend `be`'s nginx again with the lab's configuration."""
        d = LAB_STATE_DIR / be
        ns_run(f"sluice-{be}", ["nginx", "-q", "-c", str(d / "nginx.conf"), "-p", str(d),
                                "-e", str(d / "nginx-error.log")])
        log(f"{be}: nginx started")

    def signal_nginx(self, be: str, sig: int) -> None:
        """Sends `sig` to every nginx process of `be` (SIGSTOP: it stops answering, SIGCONT)."""
        pids = self.nginx_pids(be)
        check(bool(pids), f"nginx of {be} is not running")
        for pid in pids:
            os.kill(pid, sig)
        log(f"{be}: nginx {signal.Signals(sig).name}")

    def maintenance(self, be: str, on: bool) -> None:
        """Backend `be`'s /health answers 503 while on (scripts/lab.sh's nginx configuration)."""
        flag = LAB_STATE_DIR / be / "maintenance"
        if on:
            flag.write_text("on\n")
        else:
            flag.unlink(missing_ok=True)
        log(f"{be}: /health answers {503 if on else 200}")

    def big_sha256(self) -> str:
        return (LAB_STATE_DIR / "big.bin.sha256").read_text().strip()

    # -- configs
    def config(self, name: str = "lab.toml", tables: dict[str, dict] | None = None) -> Path:
        """dpdk-config/<name>, with `tables` ({table: {key: value}}) replacing same-named tables."""
        src = self.source_dir / "dpdk-config" / name
        if not src.exists():
            raise Failure(f"missing config {src}")
        if not tables:
            return src
        text = src.read_text()
        for table, values in tables.items():
            text = _replace_toml_table(text, table, values)
        out = self.work_dir / f"{src.stem}-{'-'.join(tables)}.toml"
        out.write_text(text)
        log(f"generated {out} from {src.name} with {tables}")
        return out

    def write_config(self, filename: str, vips: Sequence[str],
                     tables: dict[str, dict] | None = None, base: str = "lab.toml") -> Path:
        """Writes <work dir>/<filename>: dpdk-config/<base> with every `[[vip]]` replaced by `vips`
        (blocks from vip_toml) and `tables` replacing same-named tables, as config() does.
        Writing the same filename again rewrites the file in place, ready for Sluiced.reload()."""
        src = self.source_dir / "dpdk-config" / base
        if not src.exists():
            raise Failure(f"missing config {src}")
        text = _strip_vips(src.read_text())
        for table, values in (tables or {}).items():
            text = _replace_toml_table(text, table, values)
        text = text.rstrip("\n") + "\n\n" + "\n".join(vips)
        out = self.work_dir / filename
        tmp = out.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, out)  # a reload never reads a half-written file
        log(f"wrote {out} ({base} with {len(vips)} VIP(s)"
            f"{', ' + str(tables) if tables else ''})")
        return out

    def client_start(self, *argv: str, script: str = "client.py") -> BackgroundClient:
        """Starts client.py (or another script of tests/e2e printing JSON lines, such as
        syn_flood.py) in the client namespace in the background (killed at teardown)."""
        c = BackgroundClient(argv, script)
        self.background.append(c)
        return c

    # -- sluiced
    @contextlib.contextmanager
    def sluiced(self, config: Path, ready_timeout: float = 60) -> Iterator[Sluiced]:
        """Runs sluiced for the duration of the block; a clean SIGTERM exit is part of the test."""
        self._nstarts += 1
        d = Sluiced(self.sluiced_exe, config, self.work_dir / f"sluiced-{self._nstarts}.log",
                    ready_timeout)
        self.daemons.append(d)
        d.start()
        ok = False
        try:
            yield d
            ok = True
        finally:
            if ok:
                d.stop()
            else:
                d.kill_quietly()
                d.dump_log(40)

    # -- clients inside sluice-client
    def client(self, *argv: str, timeout: float = 240, script: str = "client.py") -> dict:
        """Runs tests/e2e/client.py (or another script printing a JSON summary line, such as
        syn_flood.py) in the client namespace; returns its JSON summary."""
        cmd = [sys.executable, str(HERE / script), *argv]
        if script == "client.py":
            cmd.append("--json")
        res = ns_run(NS_CLIENT, cmd, timeout=timeout, check_rc=False)
        if res.stderr.strip():
            for line in res.stderr.strip().splitlines()[-20:]:
                log(f"client: {line}")
        try:
            return json.loads(res.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError) as e:
            raise Failure(
                f"client {' '.join(argv)} printed no JSON summary (exit {res.returncode}):\n"
                f"{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
            ) from e

    def http_gets(self, count: int, allowed: set[str] | None = None, vip: str = VIP) -> dict:
        """`count` GETs to `vip` (default the IPv4 VIP; VIP6 for IPv6) over new connections: all
        must succeed, and only backends in `allowed` (default: the lab's be1..be3) may answer."""
        allowed = set(BACKENDS) if allowed is None else allowed
        res = self.client("http", "--url", http_url(vip), "--count", str(count))
        log(f"http: {res['ok']} ok, {res['failed']} failed in {res['elapsed_s']}s; "
            f"per backend {res['backends']}; errors {res['errors']}")
        check(res["failed"] == 0, f"{res['failed']} of {count} requests failed: {res['errors']}")
        check(set(res["backends"]) <= allowed,
              f"answers from {res['backends']}, want only {sorted(allowed)}")
        return res

    def stats(self) -> dict:
        return telemetry("/sluice/stats")

    # -- sluicectl (root namespace: the control socket is a path, not an address)
    def sluicectl(self, *args: str, json_out: bool = False, timeout: float = 30,
                  quiet: bool = False) -> tuple[int, str, str]:
        """Runs sluicectl [--json] ARGS; returns (exit status, stdout, stderr). Never raises on
        a non-zero exit: callers check it."""
        cmd = [str(self.sluicectl_exe), *(["--json"] if json_out else []), *args]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                                 stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise Failure(f"sluicectl did not exit within {timeout}s: {' '.join(cmd)}") from e
        if not quiet:
            shown = " ".join(["sluicectl", *(["--json"] if json_out else []), *args])
            out = res.stdout.strip()
            log(f"$ {shown} -> exit {res.returncode}"
                + (f"\n{out}" if out and not json_out else "")
                + (f"\n  stderr: {res.stderr.strip()}" if res.stderr.strip() else ""))
        return res.returncode, res.stdout, res.stderr

    def sluicectl_ok(self, *args: str) -> str:
        """sluicectl ARGS, which must exit 0; returns its stdout."""
        rc, out, err = self.sluicectl(*args)
        check(rc == 0, f"sluicectl {' '.join(args)}: exit {rc}, stderr: {err.strip()}")
        return out

    def sluicectl_json(self, *args: str, quiet: bool = True):
        """sluicectl --json ARGS, which must exit 0 and print JSON; returns it parsed."""
        rc, out, err = self.sluicectl(*args, json_out=True, quiet=quiet)
        check(rc == 0, f"sluicectl --json {' '.join(args)}: exit {rc}, stderr: {err.strip()}")
        try:
            return json.loads(out)
        except ValueError as e:
            raise Failure(f"sluicectl --json {' '.join(args)}: output is not JSON: "
                          f"{out[:500]!r}") from e

    def backends(self, vip: str) -> dict[str, dict]:
        """`sluicectl --json show backends VIP`, keyed by lab name (be1 for 198.18.1.11:80 and
        for [2001:2:0:1::11]:80)."""
        rows = self.sluicectl_json("show", "backends", vip)
        check(isinstance(rows, list), f"show backends {vip}: not a list: {str(rows)[:300]}")
        out = {}
        for row in rows:
            addr, _ = split_host_port(row["backend"])
            out[backend_name(addr)] = row
        return out

    def check_kernels_accepted_everything(self) -> None:
        """Fails if the client's or a backend's kernel rejected any packet sluiced rewrote: IP
        header errors or TCP/UDP checksum errors (/proc/net/snmp of each fresh namespace)."""
        watched = {"Ip": ("InHdrErrors", "InAddrErrors"), "Tcp": ("InCsumErrors", "InErrs"),
                   "Udp": ("InCsumErrors", "InErrors")}
        for ns in (NS_CLIENT, *(f"sluice-{be}" for be in lab_backends())):
            lines = ns_run(ns, ["cat", "/proc/net/snmp"]).stdout.splitlines()
            for names, values in zip(lines[0::2], lines[1::2]):
                proto, keys = names.split(":")[0], names.split()[1:]
                counts = {k: int(v) for k, v in zip(keys, values.split()[1:])}
                for key in watched.get(proto, ()):
                    bad = counts.get(key, 0)
                    if bad and (proto, key) == ("Tcp", "InErrs"):
                        # Linux also counts a SYN challenge as InErrs: a SYN-ACK that reaches an
                        # established socket — a duplicate, after the client retransmitted its
                        # SYN — is answered with a challenge ACK, not rejected as malformed.
                        ext = _netstat_moved(ns)
                        challenges = ext.get("TcpExt:TCPSYNChallenge", 0)
                        log(f"{ns}: Tcp:InErrs {bad}, of them SYN challenges {challenges} "
                            f"(TcpExt: {ext})")
                        bad -= challenges
                    check(bad == 0, f"{ns}: kernel counted {proto}:{key} = {counts.get(key)}")
        log("kernels: no IP header or TCP/UDP checksum errors in client and backends")

    # -- teardown
    def teardown(self) -> list[str]:
        problems = []
        for c in self.background:
            c.kill()
        for d in self.daemons:
            if d.proc is not None:
                d.kill_quietly()
        if self.lab_is_up or lab_namespaces():
            try:
                self.lab("down")
            except Exception as e:  # noqa: BLE001 - report and keep tearing down
                problems.append(f"lab down failed: {e}")
        left = lab_namespaces()
        if left:
            problems.append(f"namespaces left after teardown: {' '.join(left)}")
        return problems


def _netstat_moved(ns: str) -> dict[str, int]:
    """The namespace's non-zero /proc/net/netstat counters (TcpExt, IpExt): which path of the
    kernel counted an error (TCPSYNChallenge, TCPBacklogDrop, ...)."""
    lines = ns_run(ns, ["cat", "/proc/net/netstat"]).stdout.splitlines()
    out = {}
    for names, values in zip(lines[0::2], lines[1::2]):
        proto = names.split(":")[0]
        out.update({f"{proto}:{k}": int(v) for k, v in zip(names.split()[1:], values.split()[1:])
                    if v != "0"})
    return out


def _replace_toml_table(text: str, table: str, values: dict) -> str:
    """Removes `[table]` (and its keys) from text and appends a new `[table]` with `values`."""
    out, skipping = [], False
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for line in text.splitlines():
        m = header.match(line)
        if m:
            skipping = m.group(1) == table and not line.lstrip().startswith("[[")
            if skipping:
                continue
        if not skipping:
            out.append(line)
    out.append("")
    out.append(f"[{table}]")
    for k, v in values.items():
        out.append(f"{k} = {json.dumps(v)}")
    return "\n".join(out) + "\n"


def _strip_vips(text: str) -> str:
    """Removes every `[[vip]]` / `[[vip.backend]]` block (and the comments right above them)."""
    out: list[str] = []
    skipping = False
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    for line in text.splitlines():
        m = header.match(line)
        if m:
            skipping = m.group(1) == "vip" or m.group(1).startswith("vip.")
            if skipping:
                while out and (not out[-1].strip() or out[-1].lstrip().startswith("#")):
                    out.pop()
                continue
        if not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------------------
# entry point


@contextlib.contextmanager
def _lab_lock(timeout: float = 240) -> Iterator[None]:
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        t0 = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - t0 > timeout:
                    raise Failure(f"lab lock {LOCK_PATH} held by someone else for {timeout}s")
                time.sleep(0.5)
        yield
    finally:
        os.close(fd)


def run_test(doc: str, body: Callable[[Test], None]) -> None:
    name = Path(sys.argv[0]).stem
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("--sluiced", default=os.environ.get("SLUICED", "build/src/main/sluiced"))
    ap.add_argument("--sluicectl",
                    default=os.environ.get("SLUICECTL", "build/src/cli/sluicectl"))
    ap.add_argument("--source-dir", default=os.environ.get("SLUICE_SOURCE_DIR", str(HERE.parent.parent)))
    ap.add_argument("--log-dir", default=os.environ.get("SLUICE_E2E_LOG_DIR", "/tmp/sluice-e2e"))
    args = ap.parse_args()
    prop = doc.strip().splitlines()[0]
    print(f"=== {name}: {prop}", flush=True)

    if os.geteuid() != 0:
        print(f"SKIP {name}: needs root (network namespaces)")
        sys.exit(SKIP)
    if not Path(args.sluiced).exists():
        print(f"FAIL {name}: sluiced not found at {args.sluiced}")
        sys.exit(1)

    def on_signal(signum, _frame):
        signal.signal(signum, signal.SIG_IGN)  # a second one must not interrupt the teardown
        raise _Interrupted(signal.Signals(signum).name)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    t = None
    failure: str | None = None
    t_start = time.monotonic()
    try:
        with _lab_lock():
            t = Test(name, args)
            try:
                body(t)
            finally:
                for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                    signal.signal(s, signal.SIG_IGN)
                problems = t.teardown()
                if problems:
                    failure = "; ".join(problems)
    except Failure as e:
        failure = f"{e}" + (f"; {failure}" if failure else "")
    except _Interrupted as e:
        failure = f"interrupted by {e}"
    except Exception as e:  # noqa: BLE001 - any bug in a test is a failure with a trace
        import traceback

        traceback.print_exc()
        failure = f"{type(e).__name__}: {e}"
    elapsed = time.monotonic() - t_start
    if failure:
        print(f"FAIL {name} ({elapsed:.1f}s): {failure}", flush=True)
        sys.exit(1)
    print(f"PASS {name} ({elapsed:.1f}s): {prop}", flush=True)
    sys.exit(0)

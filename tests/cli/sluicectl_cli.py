#!/usr/bin/env python3
"""sluicectl sends exactly the documented JSON request for each command, renders the daemon's
answer as tables, change lines or --json, and exits 0 done / 1 refused / 2 usage error (nothing
sent) / 3 daemon unreachable, each with a message saying what is wrong."""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SLUICECTL = ""
TMP = Path()
FAILURES = []


def check(cond: bool, msg: str) -> bool:
    if not cond:
        FAILURES.append(msg)
        print(f"FAIL: {msg}")
    return cond


class FakeSluiced:
    """Listens on a Unix socket like sluiced; answers each request line with the next scripted
    reply and records the requests it got."""

    def __init__(self, path: Path, replies):
        self.path = path
        self.replies = list(replies)  # dict (sent as JSON), str (sent raw), or None (no answer)
        self.requests = []
        self.connections = 0
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(4)
        self.listener.settimeout(0.1)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(5)
                buf = b""
                try:
                    while True:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        buf += chunk
                        while b"\n" in buf:
                            line, buf = buf.split(b"\n", 1)
                            self.requests.append(line.decode())
                            reply = self.replies.pop(0) if self.replies else None
                            if reply is None:
                                self.stopping.wait(3)  # never answer: the client must time out
                                return
                            data = reply if isinstance(reply, str) else json.dumps(reply) + "\n"
                            conn.sendall(data.encode())
                except (socket.timeout, ConnectionError):
                    pass

    def stop(self):
        self.stopping.set()
        self.thread.join(5)
        self.listener.close()
        self.path.unlink(missing_ok=True)


def run(argv, env=None, exe=None, **kw):
    full_env = dict(os.environ)
    full_env.pop("SLUICE_SOCKET", None)
    full_env.update(env or {})
    return subprocess.run([exe or SLUICECTL, *argv], capture_output=True, text=True, timeout=30,
                          env=full_env, **kw)


def world_executable_copy() -> str:
    """A copy of sluicectl another user can run: the build tree may sit under a directory only
    its owner may enter (a checkout in /root, mode 0700)."""
    copy = TMP / "bin" / "sluicectl"
    copy.parent.mkdir(mode=0o755, exist_ok=True)
    shutil.copyfile(SLUICECTL, copy)
    os.chmod(copy, 0o755)
    return str(copy)


def with_server(replies, argv, env=None, cwd=None):
    """Runs sluicectl against a fake daemon; returns (completed process, requests as parsed JSON)."""
    path = TMP / "sluiced.sock"
    server = FakeSluiced(path, replies)
    try:
        res = run(["--socket", str(path), *argv], env=env, cwd=cwd)
    finally:
        server.stop()
    parsed = []
    for line in server.requests:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            parsed.append({"unparsable": line})
    return res, parsed


def ok(result):
    return {"ok": True, "result": result}


def backend(vip, addr, state="up", weight=1, configured=None, active=0, inactive=0,
            cps=0, pkts=(0, 0), octets=(0, 0)):
    return {"vip": vip, "backend": addr, "state": state, "weight": weight,
            "configured_weight": weight if configured is None else configured,
            "max_connections": 0, "active": active, "inactive": inactive,
            "connections_total": active + inactive, "new_connections_per_second": cps,
            "packets_to_backend": pkts[0], "packets_from_backend": pkts[1],
            "bytes_to_backend": octets[0], "bytes_from_backend": octets[1]}


VIPS = [
    {"name": "http", "address": "198.18.0.10", "port": 80, "protocol": "tcp",
     "scheduler": "wrr", "backends": 3, "active": 12, "inactive": 3},
    {"name": "dns6", "address": "2001:2::10", "port": 53, "protocol": "udp",
     "scheduler": "maglev", "backends": 2, "active": 0, "inactive": 40},
]
B11 = backend("http", "198.18.1.11:80", active=7, inactive=1, cps=25.5, pkts=(18230, 17011),
              octets=(1893201, 20493112))
B12 = backend("http", "198.18.1.12:80", weight=1, active=5, inactive=2, cps=12,
              pkts=(9120, 8420), octets=(950112, 10233001))
B11["health"] = {"state": "up", "last_result": "ok", "last_detail": "HTTP 200",
                 "last_check_ago": 0.42, "consecutive_successes": 9, "consecutive_failures": 0}
B12["health"] = {"state": "unchecked"}  # no "health" at all (B13): an older daemon, shown "-"
B12_DRAINING = dict(B12, state="draining")
B12_WEIGHT0 = dict(B12, weight=0)
B13 = backend("http", "198.18.1.13:80", state="disabled", weight=2)
B14 = backend("http", "198.18.1.14:80", weight=3)
BACKENDS = [B11, dict(B12_DRAINING, weight=0), B13]

STATS = {
    "totals": {"rx_packets": 1204332, "tx_packets": 1203990, "rx_bytes": 98311029,
               "tx_bytes": 98290112, "flows_active": 15, "flows_created": 5021,
               "drop_no_backend": 4, "drop_ttl_exceeded": 0, "drop_flow_table_full": 2},
    "workers": [
        {"worker": 0, "rx_packets": 602100, "tx_packets": 601950, "flows_active": 8,
         "drop_no_backend": 3, "drop_flow_table_full": 0},
        {"worker": 1, "rx_packets": 602232, "tx_packets": 602040, "flows_active": 7,
         "drop_no_backend": 1, "drop_flow_table_full": 2},
    ],
}

SHOW_VIPS = """\
NAME  VIP                  SCHEDULER  BACKENDS  ACTIVE  INACTIVE
http  198.18.0.10:80/tcp   wrr               3      12         3
dns6  [2001:2::10]:53/udp  maglev            2       0        40
"""

SHOW_BACKENDS = """\
VIP   BACKEND         STATE                    HEALTH                      WEIGHT  ACTIVE  INACTIVE  CONN/S  PKTS IN/OUT      BYTES IN/OUT
http  198.18.1.11:80  up                       up (HTTP 200, 0.4s ago)          1       7         1    25.5  18230/17011  1893201/20493112
http  198.18.1.12:80  draining (7 flows left)  unchecked                0 (cfg 1)       5         2      12    9120/8420   950112/10233001
http  198.18.1.13:80  disabled                 -                                2       0         0       0          0/0               0/0
"""

SHOW_STATS = """\
totals:
  rx_packets      1204332
  tx_packets      1203990
  rx_bytes       98311029
  tx_bytes       98290112
  flows_active         15
  flows_created      5021
drops:
  no_backend       4
  flow_table_full  2
workers:
  WORKER  RX PACKETS  TX PACKETS  FLOWS ACTIVE  DROPS
       0      602100      601950             8      3
       1      602232      602040             7      3
"""

FLOWS = {"flows": [
    {"worker": 0, "protocol": "tcp", "client": "198.18.0.2:56316", "vip": "http",
     "vip_address": "198.18.0.10:80", "backend": "198.18.1.11:80", "local": "198.18.1.1:1024",
     "state": "established", "expires_in": 900.0},
    {"worker": 1, "protocol": "udp", "client": "[2001:2::2]:5353", "vip": "dns6",
     "vip_address": "[2001:2::10]:53", "backend": "[2001:2::11]:53", "local": "[2001:2::1]:40000",
     "state": "udp", "expires_in": 12.25},
], "truncated": True, "limit": 2}

PROTECTION = {"vip": "http", "new_connections": {"per_second": 0, "burst": 0},
              "packets": {"per_second": 100000, "burst": 200000},
              "source_new_connections": {"per_second": 10, "burst": 5},
              "source_table_size": 65536, "action": "reset", "half_open": 3, "max_half_open": 1000,
              "max_half_open_per_backend": 0, "syn_proxy": "auto", "workers": 2,
              "syn_proxy_engaged_workers": 1, "source_entries": 12, "source_evictions": 0,
              "refused": {"vip_connections": 0, "source_connections": 85, "packets": 0,
                          "half_open": 0, "rule": 5},
              "rules": [{"name": "admin", "pattern": "GET /admin", "action": "drop",
                         "matches": 5}]}

SHOW_PROTECTION = """\
vip http
  new connections          unlimited
  per source               10/s burst 5
  packets                  100000/s burst 200000
  refused connections get  reset
  half-open                3 (max 1000)
  syn proxy                auto (engaged on 1 of 2 workers)
  sources tracked          12 (0 evicted while limited)
  refused: source_connections 85, rule 5
  RULE   ACTION  MATCHES  PATTERN
  admin  drop          5  GET /admin
"""

SHOW_FLOWS = """\
WORKER  PROTO  CLIENT            VIP   BACKEND          LOCAL              STATE        EXPIRES
     0  tcp    198.18.0.2:56316  http  198.18.1.11:80   198.18.1.1:1024    established   900.0s
     1  udp    [2001:2::2]:5353  dns6  [2001:2::11]:53  [2001:2::1]:40000  udp            12.2s
(first 2 flows shown; raise --limit for more)
"""

# show state: the state file's content as sluiced holds it (docs/operations.md, "State that
# survives").
STATE = {"file": "/var/lib/sluice/state.json", "written": "2026-11-21T23:07:06.512Z",
         "state": {"version": 1, "written": "2026-11-21T23:07:06.512Z", "vips": [
             {"address": "198.18.0.10", "port": 80, "protocol": "tcp", "name": "http",
              "limits": {"source_new_connections": {"per_second": 50, "burst": 100}},
              "backends": [
                  {"address": "198.18.1.12", "port": 80, "admin": "draining"},
                  {"address": "198.18.1.13", "port": 80, "weight": 3},
                  {"address": "198.18.1.14", "port": 80, "added": True, "weight": 1},
                  {"address": "198.18.1.11", "port": 80, "admin": "removing"}]}]}}
SHOW_STATE = """\
state file /var/lib/sluice/state.json (written 2026-11-21T23:07:06.512Z)
VIP   BACKEND         STATE     WEIGHT  NOTE
http  198.18.1.12:80  draining  -       -
http  198.18.1.13:80  up        3       -
http  198.18.1.14:80  up        1       added
http  198.18.1.11:80  removed   -       -
VIP   LIMIT                   RATE  BURST
http  source_new_connections  50/s  100
"""

# (argv, requests sluicectl must send in human mode (the first may be the look-up of the backend
#  as it was), replies, human output). --json mode sends only the last request.
COMMANDS = [
    (["show", "vips"], [{"cmd": "show_vips"}], [ok(VIPS)], SHOW_VIPS),
    (["show", "backends"], [{"cmd": "show_backends"}], [ok(BACKENDS)], SHOW_BACKENDS),
    (["show", "backends", "http"], [{"cmd": "show_backends", "vip": "http"}], [ok(BACKENDS)],
     SHOW_BACKENDS),
    (["show", "stats"], [{"cmd": "show_stats"}], [ok(STATS)], SHOW_STATS),
    (["show", "flows", "--limit", "2"], [{"cmd": "show_flows", "limit": 2}], [ok(FLOWS)],
     SHOW_FLOWS),
    (["show", "flows", "--vip", "http", "--backend", "198.18.1.11:80"],
     [{"cmd": "show_flows", "vip": "http", "backend": "198.18.1.11:80"}],
     [ok({"flows": [], "truncated": False, "limit": 100})], "no flows\n"),
    (["set", "weight", "http", "198.18.1.12:80", "0"],
     [{"cmd": "show_backends", "vip": "http"},
      {"cmd": "set_weight", "vip": "http", "backend": "198.18.1.12:80", "weight": 0}],
     [ok([B11, B12]), ok(B12_WEIGHT0)], "http 198.18.1.12:80: weight 1 -> 0\n"),
    (["set", "limit", "http", "source_new_connections", "10", "--burst", "5"],
     [{"cmd": "set_limit", "vip": "http", "limit": "source_new_connections", "per_second": 10,
       "burst": 5}],
     [ok(PROTECTION)], SHOW_PROTECTION),
    (["show", "protection", "http"], [{"cmd": "show_protection", "vip": "http"}],
     [ok([PROTECTION])], SHOW_PROTECTION),
    (["drain", "http", "198.18.1.12:80"],
     [{"cmd": "show_backends", "vip": "http"},
      {"cmd": "drain", "vip": "http", "backend": "198.18.1.12:80"}],
     [ok([B11, B12]), ok(B12_DRAINING)], "http 198.18.1.12:80: up -> draining (7 flows left)\n"),
    (["drain", "http", "198.18.1.12", "--timeout", "300"],  # bare ADDR: the VIP's port
     [{"cmd": "show_backends", "vip": "http"},
      {"cmd": "drain", "vip": "http", "backend": "198.18.1.12", "timeout": 300}],
     [ok([B11, B12]), ok(B12_DRAINING)], "http 198.18.1.12:80: up -> draining (7 flows left)\n"),
    (["enable", "http", "198.18.1.13:80"],
     [{"cmd": "show_backends", "vip": "http"},
      {"cmd": "enable", "vip": "http", "backend": "198.18.1.13:80"}],
     [ok([B11, B13]), ok(dict(B13, state="up"))], "http 198.18.1.13:80: disabled -> up\n"),
    (["disable", "http", "198.18.1.11:80", "--reset"],
     [{"cmd": "show_backends", "vip": "http"},
      {"cmd": "disable", "vip": "http", "backend": "198.18.1.11:80", "reset": True}],
     [ok([B11]), ok(dict(B11, state="disabled", active=0, inactive=0))],
     "http 198.18.1.11:80: up -> disabled, flows reset\n"),
    (["disable", "http", "198.18.1.11:80"],
     [{"cmd": "show_backends", "vip": "http"},
      {"cmd": "disable", "vip": "http", "backend": "198.18.1.11:80"}],
     [ok([B11]), ok(dict(B11, state="disabled"))], "http 198.18.1.11:80: up -> disabled\n"),
    (["add", "backend", "http", "198.18.1.14:80", "--weight", "3"],
     [{"cmd": "add_backend", "vip": "http", "backend": "198.18.1.14:80", "weight": 3}],
     [ok(B14)], "http 198.18.1.14:80: added, weight 3, up\n"),
    (["add", "backend", "[2001:2::10]:80/tcp", "[2001:2::14]:8080"],
     [{"cmd": "add_backend", "vip": "[2001:2::10]:80/tcp", "backend": "[2001:2::14]:8080"}],
     [ok(backend("http6", "[2001:2::14]:8080"))], "http6 [2001:2::14]:8080: added, weight 1, up\n"),
    (["remove", "backend", "http", "198.18.1.12:80"],
     [{"cmd": "show_backends", "vip": "http"},
      {"cmd": "remove_backend", "vip": "http", "backend": "198.18.1.12:80"}],
     [ok([B12]), ok(dict(B12, state="removing"))],
     "http 198.18.1.12:80: up -> removing (7 flows left)\n"),
    (["show", "state"], [{"cmd": "show_state"}], [ok(STATE)], SHOW_STATE),
    (["show", "state"], [{"cmd": "show_state"}], [ok({"file": None, "state": {"vips": []}})],
     "no state file ([control] state_file is not set): changes made with sluicectl last until "
     "the next reload or restart\n"),
    (["reload"], [{"cmd": "reload"}], [ok({"generation": 4, "file": "/etc/sluice/sluice.toml"})],
     "reloaded /etc/sluice/sluice.toml: generation 4\n"),
    (["reload", "/etc/sluice/next.toml"], [{"cmd": "reload", "file": "/etc/sluice/next.toml"}],
     [ok({"generation": 5, "file": "/etc/sluice/next.toml"})],
     "reloaded /etc/sluice/next.toml: generation 5\n"),
]


def check_usage_errors():
    cases = [
        ([], "missing command"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["show"],
         "missing 'show' command (one of: vips, backends, stats, ports, info, flows, protection, state)"),
        (["show", "flows", "--backend", "198.18.1.11:80"], "--backend requires --vip"),
        (["show", "flows", "--limit", "0"], "--limit: must be an integer from 1 to 100000"),
        (["show", "flows", "--limit", "lots"], "got 'lots'"),
        (["show", "pools"], "unknown 'show' command 'pools'"),
        (["set", "weight", "http", "198.18.1.12:80"], "WEIGHT is required"),
        (["drain", "http"], "BACKEND is required"),
        (["set", "limit", "http", "conns", "5"],
         "LIMIT: conns not in {new_connections,packets,source_new_connections}"),
        (["set", "limit", "http", "packets", "-5"],
         "RATE: must be an integer from 0 to 1000000000, got '-5'"),
        (["set", "limit", "http", "packets", "5", "--burst", "2000000000"],
         "--burst: must be an integer from 0 to 1000000000, got '2000000000'"),
        (["set", "weight", "http", "198.18.1.12:80", "abc"],
         "WEIGHT: must be an integer from 0 to 65535, got 'abc'"),
        (["set", "weight", "http", "198.18.1.12:80", "70000"],
         "WEIGHT: must be an integer from 0 to 65535, got '70000'"),
        (["set", "weight", "http", "198.18.1.12:80", "-1"],
         "WEIGHT: must be an integer from 0 to 65535, got '-1'"),
        (["add", "backend", "http", "198.18.1.14:80", "--weight", "1.5"],
         "--weight: must be an integer from 0 to 65535, got '1.5'"),
        (["add", "backend", "http", "198.18.1.300:80"], "'198.18.1.300' is not an IPv4 address"),
        (["add", "backend", "http", "198.18.1.14:0"], "port must be an integer from 1 to 65535"),
        (["add", "backend", "http", "198.18.1.14:65536"],
         "port must be an integer from 1 to 65535, got '65536'"),
        (["add", "backend", "http", "198.18.1.14:http"], "got 'http'"),
        (["add", "backend", "http", "[2001:2::14]80"], "expected ':PORT' after ']'"),
        (["enable", "http", "2001:2::zz"], "is not an IP address"),
        (["show", "backends", "198.18.0.10:80/sctp"], "protocol must be tcp or udp"),
        (["drain", "http", "198.18.1.12:80", "--timeout", "0"],
         "--timeout: must be a number of seconds greater than 0, got '0'"),
        (["--timeout", "-3", "show", "vips"], "--timeout"),
        (["show", "vips", "--bogus"], "--bogus"),
    ]
    path = TMP / "sluiced.sock"
    server = FakeSluiced(path, [])
    try:
        for argv, fragment in cases:
            res = run(["--socket", str(path), *argv])
            shown = " ".join(argv) or "(no arguments)"
            if check(res.returncode == 2, f"usage error '{shown}': exit {res.returncode}, want 2"
                                          f"\n{res.stderr}"):
                check(res.stderr.startswith("sluicectl: ") and fragment in res.stderr,
                      f"usage error '{shown}': stderr {res.stderr!r} lacks {fragment!r}")
    finally:
        server.stop()
    check(server.connections == 0,
          f"usage errors must send nothing, but sluicectl connected {server.connections} times")
    print(f"ok: {len(cases)} usage errors exit 2 with their reason, nothing sent")


def check_unreachable():
    missing = TMP / "missing.sock"
    want = f"sluicectl: cannot connect to {missing}: No such file or directory — is sluiced running?"
    res = run(["--socket", str(missing), "show", "vips"])
    check(res.returncode == 3 and want in res.stderr,
          f"no daemon: exit {res.returncode}, stderr {res.stderr!r}; want 3 and {want!r}")
    res = run(["show", "vips"], env={"SLUICE_SOCKET": str(missing)})
    check(res.returncode == 3 and want in res.stderr,
          f"SLUICE_SOCKET not used: exit {res.returncode}, stderr {res.stderr!r}")

    # A socket file nobody listens on (sluiced died): connection refused.
    stale = TMP / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(stale))
    s.close()
    res = run(["--socket", str(stale), "show", "vips"])
    check(res.returncode == 3 and "Connection refused — is sluiced running?" in res.stderr,
          f"stale socket: exit {res.returncode}, stderr {res.stderr!r}")
    stale.unlink()

    # Permission denied: the socket is root-only.
    private = TMP / "private"
    private.mkdir(mode=0o700)
    sock = private / "sluiced.sock"
    server = FakeSluiced(sock, [ok([])])
    try:
        if os.geteuid() == 0:
            res = run(["--socket", str(sock), "show", "vips"], exe=world_executable_copy(),
                      user=65534, group=65534, extra_groups=[])
        else:
            os.chmod(private, 0o000)
            res = run(["--socket", str(sock), "show", "vips"])
            os.chmod(private, 0o700)
    finally:
        server.stop()
    check(res.returncode == 3 and "Permission denied" in res.stderr and "root" in res.stderr,
          f"permission denied: exit {res.returncode}, stderr {res.stderr!r}")

    # A daemon that accepts but never answers: bounded by --timeout.
    res, _ = with_server([None], ["--timeout", "0.5", "show", "vips"])
    check(res.returncode == 3 and "no answer from sluiced" in res.stderr
          and "within 0.5 s" in res.stderr, f"timeout: exit {res.returncode}, {res.stderr!r}")
    # Closing without an answer, or answering something that is not the protocol.
    res, _ = with_server(["garbage\n"], ["show", "vips"])
    check(res.returncode == 3 and "unexpected answer from sluiced (not JSON)" in res.stderr,
          f"garbage answer: exit {res.returncode}, {res.stderr!r}")
    res, _ = with_server(['{"ok": true, "result": {}}\n'], ["show", "vips"])
    check(res.returncode == 3 and "result is not a list" in res.stderr,
          f"wrong result shape: exit {res.returncode}, {res.stderr!r}")
    print("ok: unreachable, refused, root-only, silent and garbled daemons exit 3 with a message")


def check_commands():
    for argv, requests, replies, human in COMMANDS:
        shown = " ".join(argv)
        res, got = with_server(replies, argv)
        check(got == requests, f"'{shown}' sent {got}, want {requests}")
        check(res.returncode == 0, f"'{shown}': exit {res.returncode}\n{res.stderr}")
        check(res.stdout == human, f"'{shown}' printed:\n{res.stdout}want:\n{human}")

        res, got = with_server(replies[-1:], ["--json", *argv])
        check(got == requests[-1:], f"'--json {shown}' sent {got}, want {requests[-1:]}")
        check(res.returncode == 0, f"'--json {shown}': exit {res.returncode}\n{res.stderr}")
        try:
            printed = json.loads(res.stdout)
        except json.JSONDecodeError:
            printed = None
        check(printed == replies[-1]["result"],
              f"'--json {shown}' printed {res.stdout!r}, want the result as JSON")
    print(f"ok: {len(COMMANDS)} commands send the documented request and render the answer")

    # Global options may follow the command.
    res, got = with_server([ok(VIPS)], ["show", "vips", "--json"])
    check(res.returncode == 0 and json.loads(res.stdout or "null") == VIPS,
          f"'show vips --json': exit {res.returncode}, {res.stdout!r}")

    # A relative reload path is resolved here: sluiced does not share our working directory.
    res, got = with_server([ok({"generation": 6, "file": str(TMP / "next.toml")})],
                           ["reload", "next.toml"], cwd=TMP)
    check(got == [{"cmd": "reload", "file": str(TMP / "next.toml")}],
          f"'reload next.toml' sent {got}, want the absolute path")
    print("ok: options after the command, relative reload path made absolute")


def check_refusals():
    refusal = {"ok": False, "error": "unknown VIP 'nope'"}
    res, got = with_server([refusal, refusal], ["set", "weight", "nope", "198.18.1.12:80", "0"])
    check(res.returncode == 1, f"refusal: exit {res.returncode}, want 1")
    check(res.stderr == "sluicectl: unknown VIP 'nope'\n",
          f"refusal: stderr {res.stderr!r}, want the daemon's error")
    check(res.stdout == "", f"refusal: stdout {res.stdout!r}, want nothing")
    check(got[-1:] == [{"cmd": "set_weight", "vip": "nope", "backend": "198.18.1.12:80",
                        "weight": 0}], f"refusal: the command itself was not sent: {got}")

    details = {"ok": False, "error": "reload refused: 2 errors in /etc/sluice/sluice.toml",
               "details": ["/etc/sluice/sluice.toml:3:9: dataplane.mbufs: must be between 1023 "
                           "and 16777215, got 12",
                           "/etc/sluice/sluice.toml:15:3: no route reaches 10.9.9.9"]}
    res, _ = with_server([details], ["--json", "reload"])
    want = ("sluicectl: reload refused: 2 errors in /etc/sluice/sluice.toml\n"
            "  /etc/sluice/sluice.toml:3:9: dataplane.mbufs: must be between 1023 and 16777215, "
            "got 12\n  /etc/sluice/sluice.toml:15:3: no route reaches 10.9.9.9\n")
    check(res.returncode == 1 and res.stderr == want,
          f"refusal with details: exit {res.returncode}, stderr {res.stderr!r}, want {want!r}")
    print("ok: refusals exit 1 and print the error and each detail")


def main() -> None:
    global SLUICECTL, TMP
    ap = argparse.ArgumentParser()
    ap.add_argument("--sluicectl", required=True)
    args = ap.parse_args()
    SLUICECTL = os.path.abspath(args.sluicectl)
    with tempfile.TemporaryDirectory() as tmp:
        TMP = Path(tmp)
        os.chmod(tmp, 0o755)  # the unprivileged run must reach its socket's directory
        check_usage_errors()
        check_unreachable()
        check_commands()
        check_refusals()
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()

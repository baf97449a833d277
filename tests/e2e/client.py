#!/usr/bin/env python3
"""Lab clients for Sluice's e2e tests and demo; run inside the sluice-client namespace.

  client.py http     --count N [--url URL]          N GETs, each on a NEW connection
                     [--bind A[,A...]] [--parallel] ... from each source address A (N per address;
                                                    --parallel: the addresses concurrently)
  client.py udp      --count N [--addr A --port P]  N request/response exchanges, each from a new port
                     [--prefix T]                   ... each payload starting with the text T
  client.py idle     --idle S  [--url URL]          two GETs on one keep-alive socket, S seconds apart
  client.py download --url URL [--sha256 HEX]       one GET, streamed into sha256
                     [--rate-mib R]                 ... read at most R MiB/s (a long download)
  client.py hold     --count N [--hold S]           N connections kept open and idle until stdin
                     [--no-request] [--bind A]      closes (or S seconds); one keep-alive GET on
                                                    each first tells which backend it reached
  client.py keepalive [--interval S] [--url URL]    one keep-alive connection, a GET every S
                                                    seconds until stdin closes; never reconnects
  client.py paced    --every S --duration D         a GET on a NEW connection every S seconds for
                                                    D seconds; every attempt's time, outcome and
                                                    backend in the summary ("log")

IPv6 targets work the same way: --url http://[2001:2::10]/ (brackets), --addr 2001:2::10, and
--bind with the client's IPv6 addresses (the socket's family follows the target's address).
Every operation has a socket timeout (default 5 s) and is never retried: a failure is a failure.
Output: a human summary, or with --json one JSON object on the last line of stdout.
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import http.client
import ipaddress
import json
import os
import re
import select
import socket
import sys
import time
import urllib.parse
from collections import Counter

BACKEND_RE = re.compile(rb"backend (be[0-9]+)")


def _split_url(url: str) -> tuple[str, int, str]:
    """http://host[:port]/path -> (host, port, path); an IPv6 host comes without its brackets
    (http.client.HTTPConnection opens an AF_INET6 socket for it and brackets the Host header)."""
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http" or not u.hostname:
        raise SystemExit(f"client: only http:// URLs: {url}")
    return u.hostname, u.port or 80, (u.path or "/") + (f"?{u.query}" if u.query else "")


def _error_text(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def _get_once(conn: http.client.HTTPConnection, path: str) -> str:
    """One GET with Connection: close on `conn`; returns the answering backend's name. Raises on
    anything but HTTP 200."""
    conn.request("GET", path, headers={"Connection": "close"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"HTTP status {resp.status}")
    m = BACKEND_RE.search(body)
    return m.group(1).decode() if m else "unknown"


def cmd_http(args) -> dict:
    host, port, path = _split_url(args.url)
    sources = [a for a in args.bind.split(",") if a] if args.bind else [None]

    def from_source(src: str | None) -> tuple[Counter[str], Counter[str]]:
        backends: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        for _ in range(args.count):
            conn = http.client.HTTPConnection(host, port, timeout=args.timeout,
                                              source_address=(src, 0) if src else None)
            try:
                backends[_get_once(conn, path)] += 1
            except Exception as e:  # noqa: BLE001 - every failure is counted, none retried
                errors[(f"{src}: " if src else "") + _error_text(e)] += 1
            finally:
                conn.close()
        return backends, errors

    t0 = time.monotonic()
    if args.parallel and len(sources) > 1:  # one thread per source address
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(64, len(sources))) as pool:
            results = list(pool.map(from_source, sources))
    else:
        results = [from_source(src) for src in sources]
    elapsed = time.monotonic() - t0
    backends: Counter[str] = sum((b for b, _ in results), Counter())
    errors: Counter[str] = sum((e for _, e in results), Counter())
    failed = sum(errors.values())
    out = {
        "kind": "http",
        "requests": args.count * len(sources),
        "ok": args.count * len(sources) - failed,
        "failed": failed,
        "backends": dict(sorted(backends.items())),
        "errors": dict(errors.most_common(10)),
        "elapsed_s": round(elapsed, 3),
    }
    if args.bind:
        out["by_source"] = {src: dict(sorted(b.items())) for src, (b, _) in zip(sources, results)}
    return out


def cmd_paced(args) -> dict:
    """One GET on a new connection every --every seconds for --duration seconds, one at a time
    (an attempt that takes longer delays the next). Prints a JSON line when it starts; the
    summary's "log" lists [seconds since start, backend or null, error or null] per attempt."""
    host, port, path = _split_url(args.url)
    log: list[list] = []
    print(json.dumps({"kind": "paced", "event": "started"}), flush=True)
    t0 = time.monotonic()
    n = 0
    while True:
        due = t0 + n * args.every
        now = time.monotonic()
        if due - t0 >= args.duration:
            break
        if due > now:
            time.sleep(due - now)
        n += 1
        started = time.monotonic() - t0
        conn = http.client.HTTPConnection(host, port, timeout=args.timeout,
                                          source_address=(args.bind, 0) if args.bind else None)
        try:
            log.append([round(started, 3), _get_once(conn, path), None])
        except Exception as e:  # noqa: BLE001 - every failure is recorded, none retried
            log.append([round(started, 3), None, _error_text(e)])
        finally:
            conn.close()
    failed = sum(1 for _, _, err in log if err)
    return {"kind": "paced", "requests": len(log), "ok": len(log) - failed, "failed": failed,
            "backends": dict(sorted(Counter(b for _, b, _ in log if b).items())), "log": log}


def cmd_udp(args) -> dict:
    backends: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    ok = failed = 0
    ports: set[int] = set()
    open_socks: list[socket.socket] = []  # kept open so that every exchange has its own port
    target = ipaddress.ip_address(args.addr)  # also normalises an IPv6 spelling for the compare
    family, wildcard = ((socket.AF_INET6, "::") if target.version == 6
                        else (socket.AF_INET, "0.0.0.0"))
    t0 = time.monotonic()
    for i in range(args.count):
        s = socket.socket(family, socket.SOCK_DGRAM)
        open_socks.append(s)
        s.settimeout(args.timeout)
        payload = (args.prefix + f"sluice-e2e {i} {os.getpid()} {time.monotonic_ns()}").encode()
        if args.size > len(payload):  # padded with a pattern: a misplaced piece shows
            payload += bytes((i + k * 7) & 0xff for k in range(args.size - len(payload)))
        try:
            s.bind((wildcard, 0))
            ports.add(s.getsockname()[1])
            s.sendto(payload, (args.addr, args.port))
            while True:  # ignore strays from other peers (there should be none)
                data, peer = s.recvfrom(65535)  # IPv6: (address, port, flowinfo, scope id)
                if ipaddress.ip_address(peer[0]) == target and peer[1] == args.port:
                    break
            name, sep, echoed = data.partition(b" ")
            if not sep or not re.fullmatch(rb"be[0-9]+", name):
                raise RuntimeError(f"answer without backend prefix: {data[:60]!r}")
            if echoed != payload:
                raise RuntimeError(f"payload altered: sent {payload!r} got {echoed!r}")
            backends[name.decode()] += 1
            ok += 1
        except Exception as e:  # noqa: BLE001
            failed += 1
            errors[_error_text(e)] += 1
        if len(open_socks) >= 512:
            for o in open_socks:
                o.close()
            open_socks.clear()
    for o in open_socks:
        o.close()
    return {
        "kind": "udp",
        "requests": args.count,
        "ok": ok,
        "failed": failed,
        "source_ports": len(ports),
        "backends": dict(sorted(backends.items())),
        "errors": dict(errors.most_common(10)),
        "elapsed_s": round(time.monotonic() - t0, 3),
    }


def cmd_idle(args) -> dict:
    host, port, path = _split_url(args.url)
    conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
    out: dict = {"kind": "idle", "idle_s": args.idle, "ok": False}
    try:
        conn.request("GET", path)  # HTTP/1.1: keep-alive by default
        r1 = conn.getresponse()
        b1 = r1.read()
        out["first_status"] = r1.status
        sock1 = conn.sock
        if sock1 is None:
            raise RuntimeError("server closed the connection after the first response")
        local = sock1.getsockname()
        out["local_port"] = local[1]
        time.sleep(args.idle)
        conn.request("GET", path)
        if conn.sock is not sock1:
            raise RuntimeError("http.client reconnected: the first connection was closed")
        r2 = conn.getresponse()
        b2 = r2.read()
        out["second_status"] = r2.status
        m1, m2 = BACKEND_RE.search(b1), BACKEND_RE.search(b2)
        out["backends"] = [m.group(1).decode() if m else None for m in (m1, m2)]
        if r1.status != 200 or r2.status != 200:
            raise RuntimeError(f"statuses {r1.status}, {r2.status}")
        if out["backends"][0] != out["backends"][1]:
            raise RuntimeError(f"the two answers came from different backends {out['backends']}")
        out["ok"] = True
    except Exception as e:  # noqa: BLE001
        out["error"] = _error_text(e)
    finally:
        conn.close()
    return out


def cmd_download(args) -> dict:
    host, port, path = _split_url(args.url)
    conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
    h = hashlib.sha256()
    n = 0
    out: dict = {"kind": "download", "url": args.url, "ok": False}
    t0 = time.monotonic()
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        out["status"] = resp.status
        out["content_length"] = int(resp.getheader("Content-Length") or -1)
        while True:
            chunk = resp.read(1 << 16)
            if not chunk:
                break
            h.update(chunk)
            n += len(chunk)
            if args.rate_mib:  # pace the reads; TCP flow control slows the sender down
                ahead = n / (args.rate_mib * 1048576) - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        out["ok"] = resp.status == 200 and (not args.sha256 or h.hexdigest() == args.sha256)
    except Exception as e:  # noqa: BLE001
        out["error"] = _error_text(e)
    finally:
        conn.close()
    elapsed = time.monotonic() - t0
    out.update(bytes=n, sha256=h.hexdigest(), elapsed_s=round(elapsed, 3),
               mbit_s=round(n * 8 / elapsed / 1e6, 1) if elapsed > 0 else 0)
    return out


def _peer_state(sock: socket.socket) -> str:
    """'open', 'closed' (FIN) or 'reset' (RST, or another error) for a held connection; never
    blocks."""
    sock.settimeout(0)  # a socket with a timeout would first wait that long for data
    try:
        return "closed" if sock.recv(1, socket.MSG_PEEK) == b"" else "open"
    except BlockingIOError:
        return "open"
    except ConnectionResetError:
        return "reset"
    except OSError:
        return "reset"


def cmd_hold(args) -> dict:
    """Opens --count connections one after the other and keeps them open and idle until stdin
    reaches EOF (or a line arrives), at most --hold seconds; then closes them. Prints a JSON line
    once all are open, and the summary at the end."""
    host, port, path = _split_url(args.url)
    conns: list[http.client.HTTPConnection] = []
    backends: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    ports_by_backend: dict[str, list[int]] = {}
    opened = failed = 0
    t0 = time.monotonic()
    for _ in range(args.count):
        conn = http.client.HTTPConnection(host, port, timeout=args.timeout,
                                          source_address=(args.bind, 0) if args.bind else None)
        try:
            if args.no_request:
                conn.connect()
            else:
                conn.request("GET", path)  # HTTP/1.1 keep-alive: the connection stays open
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"HTTP status {resp.status}")
                if conn.sock is None:
                    raise RuntimeError("server closed the connection after the response")
                m = BACKEND_RE.search(body)
                be = m.group(1).decode() if m else "unknown"
                backends[be] += 1
                ports_by_backend.setdefault(be, []).append(conn.sock.getsockname()[1])
            conns.append(conn)
            opened += 1
        except Exception as e:  # noqa: BLE001
            failed += 1
            errors[_error_text(e)] += 1
            conn.close()
    report = {
        "kind": "hold",
        "event": "holding",
        "requested": args.count,
        "open": opened,
        "failed": failed,
        "backends": dict(sorted(backends.items())),
        "errors": dict(errors.most_common(10)),
        "local_ports": sorted(c.sock.getsockname()[1] for c in conns),
        "ports_by_backend": {be: sorted(p) for be, p in sorted(ports_by_backend.items())},
        "connect_s": round(time.monotonic() - t0, 3),
    }
    print(json.dumps(report) if args.json else f"hold: {opened} open, {failed} failed", flush=True)
    t_hold = time.monotonic()
    deadline = t_hold + args.hold
    stopped_by = "timeout"
    while time.monotonic() < deadline:
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, deadline - time.monotonic()))
        if r:
            sys.stdin.readline()  # EOF or a line: either is the signal to stop
            stopped_by = "stdin"
            break
    states = ["closed" if c.sock is None else _peer_state(c.sock) for c in conns]
    reset_ports = sorted(c.sock.getsockname()[1] for c, st in zip(conns, states)
                         if st == "reset" and c.sock is not None)
    for c in conns:
        c.close()
    report.update(event="closed", held_s=round(time.monotonic() - t_hold, 3),
                  stopped_by=stopped_by, closed_by_peer=sum(st != "open" for st in states),
                  reset_by_peer=states.count("reset"), reset_local_ports=reset_ports)
    return report


def cmd_keepalive(args) -> dict:
    """One HTTP/1.1 connection; a GET on it every --interval seconds until stdin reaches EOF (or
    a line arrives), at most --hold seconds. Prints a JSON line after the first answer. Stops at
    the first failure: a closed connection is never silently replaced."""
    host, port, path = _split_url(args.url)
    conn = http.client.HTTPConnection(host, port, timeout=args.timeout)
    backends: Counter[str] = Counter()
    out: dict = {"kind": "keepalive", "requests": 0, "ok": 0, "failed": 0}
    sock = None
    t0 = time.monotonic()
    deadline = t0 + args.hold
    stopped_by = "timeout"
    try:
        while True:
            out["requests"] += 1
            conn.request("GET", path)
            if sock is None:
                sock = conn.sock
                out["local_port"] = sock.getsockname()[1]
            elif conn.sock is not sock:
                raise RuntimeError("http.client reconnected: the connection had been closed")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise RuntimeError(f"HTTP status {resp.status}")
            m = BACKEND_RE.search(body)
            backends[m.group(1).decode() if m else "unknown"] += 1
            out["ok"] += 1
            if out["ok"] == 1:
                first = {**out, "event": "connected", "backends": dict(backends)}
                print(json.dumps(first) if args.json else f"keepalive: {first}", flush=True)
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([sys.stdin], [], [], min(args.interval, left))
            if r:
                sys.stdin.readline()
                stopped_by = "stdin"
                break
    except Exception as e:  # noqa: BLE001
        out["failed"] += 1
        out["error"] = _error_text(e)
        stopped_by = "error"
    finally:
        conn.close()
    out.update(event="closed", backends=dict(sorted(backends.items())), stopped_by=stopped_by,
               held_s=round(time.monotonic() - t0, 3))
    return out


def human(res: dict) -> str:
    kind = res["kind"]
    if kind in ("http", "udp"):
        lines = [f"{kind}: {res['requests']} requests in {res['elapsed_s']:.1f}s: "
                 f"{res['ok']} ok, {res['failed']} failed"]
        for b, n in res["backends"].items():
            share = 100.0 * n / res["requests"] if res["requests"] else 0
            lines.append(f"  {b:8s} {n:6d}  ({share:4.1f}%)")
        for e, n in res["errors"].items():
            lines.append(f"  error x{n}: {e}")
        return "\n".join(lines)
    return json.dumps(res, indent=2)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("http")
    p.add_argument("--url", default="http://198.18.0.10/")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--bind", default="",
                   help="comma-separated source addresses; --count GETs from each")
    p.add_argument("--parallel", action="store_true",
                   help="with several --bind addresses: all addresses at once (a thread each)")
    p = sub.add_parser("udp")
    p.add_argument("--addr", default="198.18.0.10", help="IPv4 or IPv6 address")
    p.add_argument("--port", type=int, default=9000)
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--prefix", default="", help="text in front of each datagram's payload")
    p.add_argument("--size", type=int, default=0, help="pad each datagram's payload to this size")
    p = sub.add_parser("idle")
    p.add_argument("--url", default="http://198.18.0.10/")
    p.add_argument("--idle", type=float, default=15)
    p = sub.add_parser("hold")
    p.add_argument("--url", default="http://198.18.0.10/")
    p.add_argument("--count", type=int, default=10)
    p.add_argument("--hold", type=float, default=60, help="at most this many seconds")
    p.add_argument("--bind", default="", help="source address")
    p.add_argument("--no-request", action="store_true",
                   help="only connect (no GET: the backend stays unknown)")
    p = sub.add_parser("keepalive")
    p.add_argument("--url", default="http://198.18.0.10/")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between GETs")
    p.add_argument("--hold", type=float, default=120, help="at most this many seconds")
    p = sub.add_parser("paced")
    p.add_argument("--url", default="http://198.18.0.10/")
    p.add_argument("--every", type=float, default=0.01, help="seconds between connections")
    p.add_argument("--duration", type=float, default=20, help="seconds")
    p.add_argument("--bind", default="", help="source address")
    p = sub.add_parser("download")
    p.add_argument("--url", default="http://198.18.0.10/big.bin")
    p.add_argument("--sha256")
    p.add_argument("--rate-mib", type=float, default=0,
                   help="read at most this many MiB/s (0: as fast as possible)")
    for p in sub.choices.values():
        p.add_argument("--timeout", type=float, default=5.0, help="per socket operation, seconds")
        p.add_argument("--json", action="store_true", help="print one JSON line")
        p.add_argument("--expect-backends", default="",
                       help="comma-separated backends that must each answer at least once")
    args = ap.parse_args()
    res = {"http": cmd_http, "udp": cmd_udp, "idle": cmd_idle, "download": cmd_download,
           "hold": cmd_hold, "keepalive": cmd_keepalive, "paced": cmd_paced}[args.cmd](args)
    print(json.dumps(res) if args.json else human(res), flush=True)
    ok = res.get("failed", 0) == 0 if "failed" in res else res.get("ok", False)
    silent = [b for b in filter(None, args.expect_backends.split(","))
              if res.get("backends", {}).get(b, 0) == 0]
    if silent:
        print(f"{args.cmd}: no answer from {', '.join(silent)}", file=sys.stderr)
    return 0 if ok and not silent else 1


if __name__ == "__main__":
    sys.exit(main())

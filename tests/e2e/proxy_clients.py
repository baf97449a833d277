#!/usr/bin/env python3
"""Clients of e2e_syn_proxy_bounds.py, run in the sluice-client namespace; one JSON line each.

  proxy_clients.py banner --addr A --port P [--timeout S]
      one connection; reads the greeting line; reports it and how long it took.
  proxy_clients.py churn --addr A --port P --rate R --duration D
      R new connections per second for D seconds (bounded: at most R*D), each sending one
      request line once connected, none closed until the end; then all are reset (SO_LINGER 0).
      Reports how many completed their handshake (with the load balancer, for a proxied VIP).
Python 3 standard library only."""
import argparse
import errno
import json
import resource
import select
import socket
import struct
import time


def banner(args) -> dict:
    t0 = time.monotonic()
    out = {"ok": False, "banner": "", "elapsed_s": 0.0, "error": ""}
    try:
        with socket.create_connection((args.addr, args.port), timeout=args.timeout) as s:
            s.settimeout(args.timeout)
            line = b""
            while not line.endswith(b"\n"):
                data = s.recv(1024)
                if not data:
                    break
                line += data
            out["banner"] = line.decode(errors="replace").strip()
            out["ok"] = out["banner"].startswith("220 ")
            s.sendall(b"QUIT\r\n")
    except OSError as e:
        out["error"] = f"{type(e).__name__}: {e}"
    out["elapsed_s"] = round(time.monotonic() - t0, 3)
    return out


def churn(args) -> dict:
    total = int(args.rate * args.duration)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, total + 256)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    socks, connected, failed = [], 0, 0
    family = socket.AF_INET6 if ":" in args.addr else socket.AF_INET  # --addr 2001:2::10 works too
    poller = select.epoll()
    pending = {}
    t0 = time.monotonic()
    for i in range(total):
        due = t0 + i / args.rate
        while True:
            now = time.monotonic()
            timeout = due - now
            if timeout <= 0:
                break
            for fd, ev in poller.poll(timeout):
                s = pending.pop(fd, None)
                poller.unregister(fd)
                if s is None:
                    continue
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected += 1
                    try:
                        s.send(b"HELO sluice-test\r\n")
                    except OSError:
                        pass
                else:
                    failed += 1
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        rc = s.connect_ex((args.addr, args.port))
        if rc not in (0, errno.EINPROGRESS):
            failed += 1
            s.close()
            continue
        socks.append(s)
        pending[s.fileno()] = s
        poller.register(s.fileno(), select.EPOLLOUT)
    end = time.monotonic() + 1.0
    while pending and time.monotonic() < end:
        for fd, ev in poller.poll(0.1):
            s = pending.pop(fd, None)
            poller.unregister(fd)
            if s is not None and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
    elapsed = time.monotonic() - t0
    for s in socks:
        s.close()
    return {"attempted": total, "connected": connected, "failed": failed,
            "elapsed_s": round(elapsed, 2), "rate": round(total / elapsed, 1)}


def main() -> None:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("banner")
    b.add_argument("--addr", required=True)
    b.add_argument("--port", type=int, required=True)
    b.add_argument("--timeout", type=float, default=8)
    c = sub.add_parser("churn")
    c.add_argument("--addr", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--rate", type=float, default=1000)
    c.add_argument("--duration", type=float, default=4)
    args = p.parse_args()
    res = banner(args) if args.cmd == "banner" else churn(args)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()

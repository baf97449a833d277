#!/usr/bin/env python3
"""UDP echo server for the Sluice lab: answers each datagram with '<name> ' + payload.

Runs inside a backend namespace; started and stopped by scripts/lab.sh.
"""
import argparse
import os
import signal
import socket
import sys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bind", required=True, help="address to listen on (IPv4 or IPv6)")
    ap.add_argument("--port", type=int, default=9000)
    ap.add_argument("--name", required=True, help="prefix of every answer, e.g. be1")
    ap.add_argument("--pidfile", help="write our pid here once listening")
    args = ap.parse_args()

    # One socket per address and family: lab.sh starts one instance on the backend's IPv4
    # address and one on its IPv6 address.
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.bind, args.port))
    prefix = args.name.encode() + b" "

    def stop(_signum, _frame):
        if args.pidfile:
            try:
                os.unlink(args.pidfile)
            except OSError:
                pass
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")

    while True:
        data, peer = sock.recvfrom(65535)
        try:
            sock.sendto(prefix + data, peer)
        except OSError:
            pass  # e.g. no ARP answer for the peer yet: the client retries or fails on its own


if __name__ == "__main__":
    sys.exit(main())

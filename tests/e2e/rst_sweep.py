#!/usr/bin/python3
"""Bounded spoofed TCP segments for the lab (scapy builds them, a raw socket sends them): RSTs
(default) or SYNs with random sequence numbers from --src:--sport to --dst at the ports
--dport-min..--dport-max (one port: both equal), --count segments at most, paced to --rate per
second, at most 30 s.

    /usr/bin/python3 rst_sweep.py --src 198.18.1.11 --sport 80 --dst 198.18.1.1 \
        --dport-min 1025 --dport-max 1025 --count 8000 [--rate 4000] [--syn]

Run inside a lab namespace (root: raw socket); the kernel routes the datagrams (a spoofed
source is kept as is). Refuses addresses outside 198.18.0.0/15 (DESIGN.md's lab rule). Prints one
JSON line: segments sent, seconds.
"""
import argparse
import ipaddress
import json
import random
import socket
import sys
import time

from scapy.all import IP, TCP, raw  # /usr/bin/python3 has scapy (common brief)

LAB = ipaddress.ip_network("198.18.0.0/15")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", required=True)
    ap.add_argument("--sport", type=int, required=True)
    ap.add_argument("--dst", required=True)
    ap.add_argument("--dport-min", type=int, required=True)
    ap.add_argument("--dport-max", type=int, required=True)
    ap.add_argument("--count", type=int, default=8000)
    ap.add_argument("--rate", type=float, default=4000)
    ap.add_argument("--syn", action="store_true", help="SYNs instead of RSTs")
    args = ap.parse_args()
    for a in (args.src, args.dst):
        if ipaddress.ip_address(a) not in LAB:
            print(f"rst_sweep: {a} is outside the lab's {LAB}", file=sys.stderr)
            return 2
    if not 0 < args.count <= 100000 or args.rate <= 0 or args.dport_min > args.dport_max:
        print("rst_sweep: 0 < --count <= 100000, --rate > 0, --dport-min <= --dport-max",
              file=sys.stderr)
        return 2
    flags = "S" if args.syn else "R"
    span = args.dport_max - args.dport_min + 1
    packets = [raw(IP(src=args.src, dst=args.dst, id=random.getrandbits(16)) /
                   TCP(sport=args.sport, dport=args.dport_min + i % span,
                       seq=random.getrandbits(32), flags=flags, window=0 if not args.syn else 64240))
               for i in range(args.count)]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    t0 = time.monotonic()
    deadline = t0 + 30
    sent = 0
    for i, p in enumerate(packets):
        due = t0 + i / args.rate
        now = time.monotonic()
        if now >= deadline:
            break
        if due > now:
            time.sleep(due - now)
        try:
            s.sendto(p, (args.dst, 0))
            sent += 1
        except OSError:  # socket buffer full: the kernel drops, we move on
            pass
    print(json.dumps({"sent": sent, "seconds": round(time.monotonic() - t0, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

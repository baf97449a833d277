#!/usr/bin/env python3
"""Exception path: ICMP echo to the LB's addresses is answered by the host kernel through the TAP interfaces, `ping VIP` by the data plane itself, while new TCP connections to LB addresses (any port) and UDP to them get nothing.

From sluice-client a raw-socket ICMP echo request to 198.18.0.1 (the LB's client-side address)
and from sluice-be1 one to 198.18.1.1 must each get their echo reply, id and sequence intact;
sluiced counts the frames it handed to the kernel and those the kernel sent. A TCP SYN to
198.18.0.1:22 (below the full-NAT range) and to 198.18.0.1:62000 (in the kernel's range, but
a new connection, not an answer) and a UDP datagram to 198.18.0.1:62000 get no answer and are
counted as local_unhandled drops: no host service is reachable through the data plane.
iputils' `ping -c 5` of the VIP 198.18.0.10 from sluice-client gets 5 replies, counted as
icmp_echo_replies by the workers (not handed to the kernel: its sl-client receives nothing).
hping3's SYNs to the VIP with TTL 1 are dropped before any flow and each draws ICMP time
exceeded from 198.18.0.1 (what traceroute through the LB shows).
"""
import lab


def tap_rx_packets(tap: str) -> int:
    """Frames the kernel of sluice-lb received on exception interface `tap` (handed to it)."""
    return int(lab.ns_run(lab.NS_LB, ["cat", f"/sys/class/net/{tap}/statistics/rx_packets"])
               .stdout)


PING = r'''
import os, socket, struct, sys, time
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
dst, ident = sys.argv[1], os.getpid() & 0xffff
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.settimeout(2)
for seq in range(1, 4):
    payload = b"sluice-exception-path"
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + payload), ident, seq) + payload
    sock.sendto(pkt, (dst, 0))
    t_end = time.monotonic() + 2
    while True:
        data, addr = sock.recvfrom(2048)
        icmp = data[(data[0] & 0x0f) * 4:]
        t, _, _, rid, rseq = struct.unpack("!BBHHH", icmp[:8])
        if t == 0 and rid == ident and rseq == seq and addr[0] == dst:
            print(f"reply {seq} from {addr[0]}", flush=True)
            break
        if time.monotonic() > t_end:
            sys.exit(f"no echo reply {seq} from {dst}")
'''

PROBE = r'''
import socket, sys
host, port, proto = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if proto == "tcp":
    try:
        socket.create_connection((host, port), timeout=1.5)
        print("connected")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print(type(e).__name__)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(1.5)
    s.sendto(b"hello", (host, port))
    try:
        s.recvfrom(100)
        print("answered")
    except socket.timeout:
        print("timeout")
    except OSError as e:
        print(type(e).__name__)
'''


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab.toml")):
        before = t.stats()
        for ns, dst in ((lab.NS_CLIENT, "198.18.0.1"), ("sluice-be1", "198.18.1.1")):
            out = lab.ns_run(ns, ["python3", "-c", PING, dst], timeout=20).stdout
            lab.log(f"{ns} -> {dst}: {out.strip()!r}")
            lab.check(out.count("reply") == 3, f"ICMP echo to {dst} from {ns}: {out!r}")
        after = t.stats()
        delivered = after["kernel_delivered"] - before["kernel_delivered"]
        sent = after["kernel_sent"] - before["kernel_sent"]
        lab.log(f"kernel_delivered +{delivered}, kernel_sent +{sent}")
        lab.check(delivered >= 6 and sent >= 6,
                  f"6 echo requests in and 6 replies out expected: +{delivered} / +{sent}")

        # Whether the pings reached the kernel is read on the client side's exception interface
        # (the kernel's receive count of sl-client): lab.toml's http6 probes its backends over
        # HTTP, and the answers to those probes reach the kernel through sl-servers all along,
        # so sluiced's kernel_delivered, summed over both ports, moves during the pings anyway.
        before, tap_before = t.stats(), tap_rx_packets("sl-client")
        out = lab.ns_run(lab.NS_CLIENT, ["ping", "-n", "-c", "5", "-i", "0.2", "-W", "2",
                                         "198.18.0.10"], timeout=30, check_rc=False).stdout
        lab.log(f"ping 198.18.0.10: {out.strip().splitlines()[-2:]!r}")
        lab.check(" 5 received" in out, f"ping of the VIP: {out!r}")
        after, tap_after = t.stats(), tap_rx_packets("sl-client")
        answered = after["icmp_echo_replies"] - before["icmp_echo_replies"]
        handed = tap_after - tap_before
        lab.log(f"icmp_echo_replies +{answered}; sl-client received +{handed} (kernel_delivered "
                f"+{after['kernel_delivered'] - before['kernel_delivered']}, both ports)")
        lab.check(answered == 5, f"icmp_echo_replies moved by {answered}, want 5")
        lab.check(handed == 0, f"the VIP's pings reached the kernel: sl-client received +{handed}")

        before = t.stats()
        hping = ["timeout", "15", "hping3", "-n", "-S", "-p", "80", "--ttl", "1", "-c", "3",
                 "-i", "u200000", "198.18.0.10"]
        res = lab.ns_run(lab.NS_CLIENT, hping, timeout=30, check_rc=False)
        transit = (res.stdout + res.stderr).count("TTL 0 during transit from ip=198.18.0.1")
        lab.log(f"hping3 --ttl 1 to the VIP: {transit} time exceeded from 198.18.0.1")
        after = t.stats()
        sent = after["icmp_time_exceeded_sent"] - before["icmp_time_exceeded_sent"]
        expired = after["drop_ttl_exceeded"] - before["drop_ttl_exceeded"]
        created = after["flows_created"] - before["flows_created"]
        lab.check(transit == 3, f"3 time exceeded expected by hping3: {res.stdout[-600:]!r}")
        lab.check(sent == 3 and expired == 3 and created == 0,
                  f"TTL-1 SYNs: icmp_time_exceeded_sent +{sent}, drop_ttl_exceeded +{expired}, "
                  f"flows_created +{created}; want 3, 3, 0")

        before = t.stats()
        for port, proto in ((22, "tcp"), (62000, "tcp"), (62000, "udp")):
            out = lab.ns_run(lab.NS_CLIENT, ["python3", "-c", PROBE, "198.18.0.1", str(port),
                                             proto], timeout=20).stdout.strip()
            lab.log(f"{proto} 198.18.0.1:{port} -> {out}")
            lab.check(out == "timeout", f"{proto} to 198.18.0.1:{port} got {out!r}, want no "
                                        "answer at all")
        dropped = t.stats()["drop_local_unhandled"] - before["drop_local_unhandled"]
        lab.check(dropped >= 3, f"drop_local_unhandled moved by {dropped}, want >= 3")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

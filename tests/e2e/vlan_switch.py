#!/usr/bin/env python3
"""A user-space 802.1Q switch for tests/e2e/e2e_vlan.py and e2e_vlan_trunk.py: frames from an access
port leave the trunk port tagged with that access port's VID (0: untagged, the native VLAN);
frames from the trunk go to the access port of their VID, untagged; anything else from the trunk
is dropped (counted). The lab's kernel has no 802.1Q support (no 8021q module: `ip link add ...
type vlan` fails; no bridge VLAN filtering), so this stands in for the switch port an LB's tagged
NIC port would face.

  vlan_switch.py switch --access IFACE[:VID]... --trunk IFACE [--vid N]
      forward until SIGTERM / SIGINT; an access port without :VID has --vid
  vlan_switch.py send --iface IFACE --frame HEX   send one raw frame and exit

A receiving kernel moves a frame's tag into the socket buffer's metadata before packet sockets
see it; PACKET_AUXDATA hands it back (tp_vlan_tci), and the switch puts it back in place. Prints
"ready" once both sockets are bound, and its counts as JSON at exit. Python standard library only.
"""
import argparse
import json
import select
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
ETH_P_8021Q = 0x8100
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4  # sockaddr_ll pkttype of our own transmissions, seen again
TP_STATUS_VLAN_VALID = 1 << 4
TP_STATUS_VLAN_TPID_VALID = 1 << 6
AUXDATA = struct.Struct("=IIIHHHH")  # struct tpacket_auxdata


def open_port(ifname: str) -> socket.socket:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    s.bind((ifname, 0))
    s.setblocking(False)
    return s


def receive(s: socket.socket) -> bytes | None:
    """The next frame with its 802.1Q tag in place (if it had one); None for our own."""
    data, ancillary, _flags, addr = s.recvmsg(65535, socket.CMSG_SPACE(AUXDATA.size))
    if addr[2] == PACKET_OUTGOING:
        return None
    for level, kind, cdata in ancillary:
        if level != SOL_PACKET or kind != PACKET_AUXDATA or len(cdata) < AUXDATA.size:
            continue
        status, _len, _snaplen, _mac, _net, tci, tpid = AUXDATA.unpack_from(cdata)
        if status & TP_STATUS_VLAN_VALID:
            if not status & TP_STATUS_VLAN_TPID_VALID:
                tpid = ETH_P_8021Q
            data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data


def access_ports(args) -> dict[int, socket.socket]:
    """VID -> the access port's socket, from --access IFACE[:VID] (default --vid)."""
    ports = {}
    for spec in args.access:
        name, _, vid = spec.partition(":")
        vid = int(vid) if vid else args.vid
        if vid is None or vid in ports:
            raise SystemExit(f"--access {spec}: no VID, or a VID given twice")
        ports[vid] = open_port(name)
    return ports


def trunk_vid(frame: bytes) -> int | None:
    """The VID of a frame from the trunk (0: untagged), None if too short."""
    if len(frame) >= 18 and struct.unpack_from("!H", frame, 12)[0] == ETH_P_8021Q:
        return struct.unpack_from("!H", frame, 14)[0] & 0x0FFF
    return 0 if len(frame) >= 14 else None


def switch(args) -> int:
    by_vid, trunk = access_ports(args), open_port(args.trunk)
    vid_of = {s: vid for vid, s in by_vid.items()}
    counts = {"to_trunk": 0, "to_access": 0, "dropped_from_trunk": 0,
              **{f"to_vid_{vid}": 0 for vid in by_vid}}
    running = True

    def stop(_signum, _frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    while running:
        try:
            readable, _, _ = select.select([*by_vid.values(), trunk], [], [], 0.2)
        except InterruptedError:
            continue
        for s in readable:
            while True:
                try:
                    frame = receive(s)
                except BlockingIOError:
                    break
                if frame is None or len(frame) < 14:
                    continue
                if s is not trunk:
                    vid = vid_of[s]
                    tag = struct.pack("!HH", ETH_P_8021Q, vid) if vid else b""
                    trunk.send(frame[:12] + tag + frame[12:])
                    counts["to_trunk"] += 1
                    continue
                vid = trunk_vid(frame)
                if vid in by_vid:
                    by_vid[vid].send(frame[:12] + frame[16:] if vid else frame)
                    counts["to_access"] += 1
                    counts[f"to_vid_{vid}"] += 1
                else:
                    counts["dropped_from_trunk"] += 1
    print(json.dumps(counts), flush=True)
    return 0


def send(args) -> int:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((args.iface, 0))
    s.send(bytes.fromhex(args.frame))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    sw = sub.add_parser("switch")
    sw.add_argument("--access", required=True, action="append", help="IFACE or IFACE:VID")
    sw.add_argument("--trunk", required=True)
    sw.add_argument("--vid", type=int, help="the VID of access ports without one")
    se = sub.add_parser("send")
    se.add_argument("--iface", required=True)
    se.add_argument("--frame", required=True, help="the whole Ethernet frame, hex")
    args = p.parse_args()
    return switch(args) if args.cmd == "switch" else send(args)


if __name__ == "__main__":
    sys.exit(main())

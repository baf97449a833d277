#!/usr/bin/env python3
"""A client on VLAN 100 reaches the VIPs through sluiced's tagged client port: 100 HTTP GETs and UDP echoes (IPv4 and IPv6) succeed, untagged and other-VID frames are dropped as wrong_vlan, and a VIP with mss_clamp = 1200 gives the client an MSS of at most 1200.

Topology (docs/lab.md, "A client on a VLAN"): the lab's kernel has no 802.1Q support (no 8021q
module, no bridge VLAN filtering), so the client cannot tag itself; the test adds a second,
tagged client segment with a user-space access switch (tests/e2e/vlan_switch.py) in front of a
new DPDK port:

  sluice-client eth1 (198.18.4.2/24, 2001:2:0:4::2/64, untagged)
    <-veth-> sw-c [vlan_switch.py, VID 100, in sluice-lb] lbv0-sw <-veth, tagged-> lbv0 (DPDK)

sluiced's client port is `net_af_packet0,iface=lbv0` with `vlan = 100` and the addresses
198.18.4.1/24 and 2001:2:0:4::1/64 instead of the lab's; the VIPs 198.18.4.10 (http :80, echo
:9000), 198.18.4.11 (http :80 with mss_clamp = 1200) and 2001:2:0:4::10 (http, echo) are on-link
there, so the client resolves them through eth1 and every frame between switch and LB is tagged
(the servers port stays untagged). Properties:
  (a) 100 GETs to http://198.18.4.10/ over new connections and 20 to http://[2001:2:0:4::10]/
      all answer 200, from the lab's backends;
  (b) 50 UDP exchanges with 198.18.4.10:9000 and 20 with [2001:2:0:4::10]:9000 are all echoed;
  (c) an untagged ARP request and one tagged with VID 101, sent straight onto the trunk, are
      dropped as wrong_vlan (+2) and not answered;
  (d) a connection to 198.18.4.11 (mss_clamp = 1200) has TCP_MAXSEG <= 1200 at the client, one to
      198.18.4.10 more than 1200, and mss_clamped counts the clamped SYN and SYN-ACK (>= 2);
  (e) the switch dropped nothing from the trunk (sluiced tagged every frame it sent with 100),
      and the client's and backends' kernels count no header or checksum error.
The test removes what it added (the switch, the veths, the policy rules) itself; the lab's
teardown deletes the namespaces that held them anyway.
"""
import json
import re
import subprocess
import sys
import time

import lab

VLAN = 100
CLIENT4, CLIENT6 = "198.18.4.2/24", "2001:2:0:4::2/64"
LB4, LB6 = "198.18.4.1/24", "2001:2:0:4::1/64"
VIP4, VIP4_CLAMP, VIP6 = "198.18.4.10", "198.18.4.11", "2001:2:0:4::10"
CLAMP = 1200
STEP = 60  # seconds: the bound of every step
# The LB-namespace ends this test adds: the new DPDK port and the switch's two legs.
LB_LINKS = ("lbv0", "lbv0-sw", "sw-c")
SWITCH = lab.HERE / "vlan_switch.py"

# Connects, sends one GET, reads the answer and prints the socket's TCP_MAXSEG (the MSS the
# client's kernel settled on from the SYN-ACK it received).
MAXSEG_SCRIPT = """
import socket, sys
s = socket.create_connection((sys.argv[1], 80), timeout=5)
s.sendall(b"GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG), data.split(b" ")[1].decode())
"""


def edited_lab_toml(t: lab.Test, replacements) -> str:
    """lab.toml without its VIPs, each (old, new) of `replacements` applied to its one `old`."""
    text = lab._strip_vips((t.source_dir / "dpdk-config" / "lab.toml").read_text())
    for old, new in replacements:
        lab.check(text.count(old) == 1, f"lab.toml: expected one '{old}'")
        text = text.replace(old, new)
    return text


def vlan_config(t: lab.Test):
    """lab.toml with the client port on lbv0, tagged and renumbered, and this test's VIPs."""
    text = edited_lab_toml(t, (('iface=lbc0,', 'iface=lbv0,'),
                               ('addresses = ["198.18.0.1/24", "2001:2::1/64"]',
                                f'addresses = ["{LB4}", "{LB6}"]\nvlan = {VLAN}')))
    backends4 = [lab.backend_addr(be) for be in lab.BACKENDS]
    backends6 = [lab.backend_addr6(be) for be in lab.BACKENDS]
    vips = [
        lab.vip_toml(VIP4, 80, "tcp", backends4, name="http-vlan"),
        lab.vip_toml(VIP4, 9000, "udp", backends4, name="echo-vlan"),
        lab.vip_toml(VIP4_CLAMP, 80, "tcp", backends4, name="http-clamp", mss_clamp=CLAMP),
        lab.vip_toml(VIP6, 80, "tcp", backends6, name="http6-vlan"),
        lab.vip_toml(VIP6, 9000, "udp", backends6, name="echo6-vlan"),
    ]
    out = t.work_dir / "vlan.toml"
    out.write_text(text.rstrip("\n") + "\n\n" + "\n".join(vips))
    lab.log(f"wrote {out}: client port lbv0, vlan {VLAN}, {LB4} {LB6}; {len(vips)} VIPs")
    return out


def offloads_off(ns: str, dev: str) -> None:
    for feature in ("tx", "tso", "gso", "gro"):  # as scripts/lab.sh does for every veth end
        lab.ns_run(ns, ["ethtool", "-K", dev, feature, "off"], check_rc=False)


def add_segment() -> None:
    """The tagged client segment: eth1 in the client, sw-c / lbv0-sw / lbv0 in the LB namespace,
    kept from the LB namespace's kernel as lab.sh keeps lbc0 (no ARP, no IPv6, blackholed)."""
    lb, c = lab.NS_LB, lab.NS_CLIENT
    lab.ns_run(lb, ["ip", "link", "add", "lbv0", "type", "veth", "peer", "name", "lbv0-sw"])
    lab.ns_run(lb, ["ip", "link", "add", "sw-c", "type", "veth", "peer", "name", "eth1",
                    "netns", c])
    for dev in LB_LINKS:
        lab.ns_run(lb, ["sysctl", "-qw", f"net.ipv6.conf.{dev}.disable_ipv6=1"])
        lab.ns_run(lb, ["ip", "link", "set", dev, "arp", "off"])
        for family in ("-4", "-6"):
            lab.ns_run(lb, ["ip", family, "rule", "add", "iif", dev, "pref", "10", "blackhole"])
        offloads_off(lb, dev)
        lab.ns_run(lb, ["ip", "link", "set", dev, "up"])
    lab.ns_run(c, ["sysctl", "-qw", "net.ipv6.conf.eth1.disable_ipv6=0",
                   "net.ipv6.conf.eth1.accept_ra=0", "net.ipv6.conf.eth1.autoconf=0"])
    offloads_off(c, "eth1")
    lab.ns_run(c, ["ip", "addr", "add", CLIENT4, "dev", "eth1"])
    lab.ns_run(c, ["ip", "addr", "add", CLIENT6, "dev", "eth1", "nodad"])
    lab.ns_run(c, ["ip", "link", "set", "eth1", "up"])
    lab.log(f"client eth1 {CLIENT4} {CLIENT6} -> sw-c | switch VID {VLAN} | lbv0-sw -> lbv0")


def remove_segment() -> None:
    if lab.NS_LB not in lab.lab_namespaces():
        return
    for dev in ("lbv0", "sw-c"):  # deleting one end of a veth deletes its peer
        lab.ns_run(lab.NS_LB, ["ip", "link", "del", dev], check_rc=False)
    for dev in LB_LINKS:
        for family in ("-4", "-6"):
            lab.ns_run(lab.NS_LB, ["ip", family, "rule", "del", "iif", dev, "pref", "10"],
                       check_rc=False)


def start_switch() -> subprocess.Popen:
    p = subprocess.Popen(["ip", "netns", "exec", lab.NS_LB, sys.executable, str(SWITCH),
                          "switch", "--access", "sw-c", "--trunk", "lbv0-sw", "--vid", str(VLAN)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline().strip()
    lab.check(line == "ready", f"vlan_switch.py did not start: {line!r}")
    return p


def stop_switch(p: subprocess.Popen) -> dict:
    p.terminate()
    try:
        out, _ = p.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    try:
        return json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}


def udp(t: lab.Test, addr: str, count: int) -> None:
    res = t.client("udp", "--addr", addr, "--port", "9000", "--count", str(count))
    lab.log(f"udp {addr}: {res['ok']} ok, {res['failed']} failed; per backend {res['backends']}")
    lab.check(res["failed"] == 0 and res["ok"] == count,
              f"udp {addr}: {res['failed']} of {count} failed: {res['errors']}")


def arp_request(tag: bytes) -> str:
    """A broadcast ARP request for 198.18.4.1 from a made-up host 198.18.4.254, with the 4-byte
    802.1Q `tag` (or none) after the MAC addresses, as hex."""
    mac = bytes.fromhex("02c1000000fe")
    arp = (bytes.fromhex("0001080006040001") + mac + bytes([198, 18, 4, 254]) + bytes(6)
           + bytes([198, 18, 4, 1]))
    return (b"\xff" * 6 + mac + tag + b"\x08\x06" + arp).hex()


def wrong_vlan_dropped(t: lab.Test) -> None:
    before = t.stats()
    for tag in (b"", bytes.fromhex("81000065")):  # untagged; VID 101
        lab.ns_run(lab.NS_LB, [sys.executable, str(SWITCH), "send", "--iface", "lbv0-sw",
                               "--frame", arp_request(tag)])
    moved = 0
    for _ in range(20):  # the worker backs off when idle: give it a moment
        moved = t.stats()["drop_wrong_vlan"] - before["drop_wrong_vlan"]
        if moved >= 2:
            break
        time.sleep(0.1)
    after = t.stats()
    answered = after.get("arp_requests_answered", 0) - before.get("arp_requests_answered", 0)
    lab.log(f"untagged and VID-101 ARP requests on the trunk: drop_wrong_vlan +{moved}, "
            f"arp_requests_answered +{answered}")
    lab.check(moved == 2, f"drop_wrong_vlan moved by {moved}, want 2")
    lab.check(answered == 0, f"{answered} of the wrongly tagged ARP requests were answered")


def maxseg(addr: str) -> int:
    res = lab.ns_run(lab.NS_CLIENT, [sys.executable, "-c", MAXSEG_SCRIPT, addr], timeout=STEP)
    mss, status = res.stdout.split()
    lab.check(status == "200", f"GET http://{addr}/ answered {status}")
    return int(mss)


def body(t: lab.Test) -> None:
    t.lab_up()
    switch = None
    try:
        add_segment()
        switch = start_switch()
        with t.sluiced(vlan_config(t)) as d:
            lab.check(re.search(rf"port client: vlan {VLAN}, tag stripped by the (NIC|workers)",
                                d.log_text()) is not None, "sluiced did not log the client VLAN")
            t.http_gets(100, vip=VIP4)
            t.http_gets(20, vip=VIP6)
            udp(t, VIP4, 50)
            udp(t, VIP6, 20)
            wrong_vlan_dropped(t)
            before = t.stats()["mss_clamped"]
            clamped, plain = maxseg(VIP4_CLAMP), maxseg(VIP4)
            moved = t.stats()["mss_clamped"] - before
            lab.log(f"TCP_MAXSEG through {VIP4_CLAMP} (mss_clamp {CLAMP}): {clamped}; "
                    f"through {VIP4}: {plain}; mss_clamped +{moved}")
            lab.check(clamped <= CLAMP, f"MSS {clamped} through the clamped VIP, want <= {CLAMP}")
            lab.check(plain > CLAMP, f"MSS {plain} through the unclamped VIP, want > {CLAMP}")
            lab.check(moved >= 2, f"mss_clamped moved by {moved}, want >= 2 (SYN and SYN-ACK)")
            lab.log(f"stats: {json.dumps(t.stats())}")
            t.check_kernels_accepted_everything()
        counts = stop_switch(switch)
        switch = None
        lab.log(f"switch: {counts}")
        lab.check(counts.get("to_access", 0) > 0 and counts.get("dropped_from_trunk", 1) == 0,
                  f"switch counts {counts}: sluiced sent frames without VID {VLAN}")
    finally:
        if switch is not None:
            stop_switch(switch)
        remove_segment()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""A client on VLAN 100 reaches the VIPs through sluiced's tagged client port: 100 HTTP GETs and UDP echoes (IPv4 and IPv6) succeed, untagged frames are dropped as wrong_vlan, and a VIP with mss_clamp = 1200 gives the client an MSS of at most 1200.

Topology (docs/lab.md, "VLAN test"): the lab as usual, plus a VLAN sub-interface eth0.100 on the
client's veth (ip link add link eth0 name eth0.100 type vlan id 100) with 198.18.4.2/24 and
2001:2:0:4::2/64. sluiced's client port gets `vlan = 100` and the addresses 198.18.4.1/24 and
2001:2:0:4::1/64 instead of the lab's; the VIPs 198.18.4.10 (http :80, echo :9000), 198.18.4.11
(http :80 with mss_clamp = 1200) and 2001:2:0:4::10 (http, echo) are on-link on the VLAN, so the
client ARPs / solicits for them through eth0.100 and every frame between client and LB is tagged
(the servers port stays untagged). Properties:
  (a) 100 GETs to http://198.18.4.10/ over new connections and 20 to http://[2001:2:0:4::10]/
      all answer 200, from the lab's backends;
  (b) 50 UDP exchanges with 198.18.4.10:9000 and 20 with [2001:2:0:4::10]:9000 are all echoed;
  (c) the client's untagged eth0 pinging the LB's old address sends untagged ARP requests that
      sluiced drops as wrong_vlan (+1 or more) and never answers;
  (d) a connection to 198.18.4.11 (mss_clamp = 1200) has TCP_MAXSEG <= 1200 at the client, one to
      198.18.4.10 more than 1200, and mss_clamped counts the clamped SYN and SYN-ACK (>= 2);
  (e) the client's and backends' kernels count no header or checksum error.
The sub-interface goes with the client namespace at teardown; the test deletes it itself first.
"""
import json
import re
import sys

import lab

VLAN = 100
SUBIF = f"eth0.{VLAN}"
CLIENT4, CLIENT6 = "198.18.4.2/24", "2001:2:0:4::2/64"
LB4, LB6 = "198.18.4.1/24", "2001:2:0:4::1/64"
VIP4, VIP4_CLAMP, VIP6 = "198.18.4.10", "198.18.4.11", "2001:2:0:4::10"
CLAMP = 1200
STEP = 60  # seconds: the bound of every step

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


def vlan_config(t: lab.Test):
    """lab.toml with the client port tagged and renumbered, and this test's VIPs."""
    text = lab._strip_vips((t.source_dir / "dpdk-config" / "lab.toml").read_text())
    old = 'addresses = ["198.18.0.1/24", "2001:2::1/64"]'
    lab.check(text.count(old) == 1, "lab.toml's client port addresses line changed")
    text = text.replace(old, f'addresses = ["{LB4}", "{LB6}"]\nvlan = {VLAN}')
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
    lab.log(f"wrote {out}: client port vlan {VLAN}, {LB4} {LB6}; {len(vips)} VIPs")
    return out


def add_subif() -> None:
    c = lab.NS_CLIENT
    lab.ns_run(c, ["ip", "link", "add", "link", "eth0", "name", SUBIF, "type", "vlan", "id",
                   str(VLAN)])
    sysctl = SUBIF.replace(".", "/")
    lab.ns_run(c, ["sysctl", "-qw", f"net.ipv6.conf.{sysctl}.disable_ipv6=0",
                   f"net.ipv6.conf.{sysctl}.accept_ra=0", f"net.ipv6.conf.{sysctl}.autoconf=0"])
    for feature in ("tx", "tso", "gso", "gro"):  # as scripts/lab.sh does for every veth end
        lab.ns_run(c, ["ethtool", "-K", SUBIF, feature, "off"], check_rc=False)
    lab.ns_run(c, ["ip", "addr", "add", CLIENT4, "dev", SUBIF])
    lab.ns_run(c, ["ip", "addr", "add", CLIENT6, "dev", SUBIF, "nodad"])
    lab.ns_run(c, ["ip", "link", "set", SUBIF, "up"])
    lab.log(f"client: {SUBIF} (VLAN {VLAN}) with {CLIENT4} {CLIENT6}")


def del_subif() -> None:
    if lab.NS_CLIENT in lab.lab_namespaces():
        lab.ns_run(lab.NS_CLIENT, ["ip", "link", "del", SUBIF], check_rc=False)


def udp(t: lab.Test, addr: str, count: int) -> None:
    res = t.client("udp", "--addr", addr, "--port", "9000", "--count", str(count))
    lab.log(f"udp {addr}: {res['ok']} ok, {res['failed']} failed; per backend {res['backends']}")
    lab.check(res["failed"] == 0 and res["ok"] == count,
              f"udp {addr}: {res['failed']} of {count} failed: {res['errors']}")


def untagged_dropped(t: lab.Test) -> None:
    before = t.stats()
    res = lab.ns_run(lab.NS_CLIENT, ["ping", "-n", "-c", "2", "-i", "0.5", "-W", "1", "-I", "eth0",
                                     "198.18.0.1"], timeout=STEP, check_rc=False)
    after = t.stats()
    moved = after["drop_wrong_vlan"] - before["drop_wrong_vlan"]
    lab.log(f"untagged ping from eth0: exit {res.returncode}; drop_wrong_vlan +{moved}")
    lab.check(res.returncode != 0, "an untagged ping of 198.18.0.1 was answered")
    lab.check(moved >= 1, "untagged frames on the tagged port moved no drop_wrong_vlan")


def maxseg(addr: str) -> int:
    res = lab.ns_run(lab.NS_CLIENT, [sys.executable, "-c", MAXSEG_SCRIPT, addr], timeout=STEP)
    mss, status = res.stdout.split()
    lab.check(status == "200", f"GET http://{addr}/ answered {status}")
    return int(mss)


def body(t: lab.Test) -> None:
    t.lab_up()
    try:
        add_subif()
        with t.sluiced(vlan_config(t)) as d:
            lab.check(re.search(rf"port client: vlan {VLAN}, tag stripped by the (NIC|workers)",
                                d.log_text()) is not None, "sluiced did not log the client VLAN")
            t.http_gets(100, vip=VIP4)
            t.http_gets(20, vip=VIP6)
            udp(t, VIP4, 50)
            udp(t, VIP6, 20)
            untagged_dropped(t)
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
    finally:
        del_subif()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""Both of sluiced's ports as VLAN sub-ports of one DPDK device (a trunk: client VLAN 100, servers VLAN 200) carry real traffic: GETs, UDP echoes and an intact download over IPv4 and IPv6, every frame on the trunk tagged with its port's VID; the client sub-port's own mtu = 1400 makes the backends learn path MTU 1400 from sluiced's ICMP.

Topology (docs/lab.md, "Two VLANs on one port"): as in e2e_vlan.py, the lab's kernel has no
802.1Q, so a user-space switch (tests/e2e/vlan_switch.py) in the LB namespace stands in for the
switch a trunk port faces:

  sluice-client eth1 (198.18.4.2/24, 2001:2:0:4::2/64) <-veth-> sw-c   [access, VID 100]
  backends on br-srv <-bridge-> lbs0-br <-veth-> lbs0                  [access, VID 200]
  switch trunk lbv0-sw <-veth, tagged 100 and 200-> lbv0 (DPDK, net_af_packet)

sluiced has one device, `net_af_packet0,iface=lbv0`, and two [[port]]s on it: "client"
(vlan = 100, 198.18.4.1/24, 2001:2:0:4::1/64, mtu = 1400) and "servers" (vlan = 200, the lab's
198.18.1.1/24, 2001:2:0:1::1/64 and local address pools). Properties:
  (a) sluiced starts the device once and logs the servers port as sharing the client's device;
  (b) 100 GETs to http://198.18.4.10/ over new connections and 20 to http://[2001:2:0:4::10]/
      answer 200 from all three backends; 50 and 20 UDP echoes come back;
  (c) a download of /big.bin over each family is intact (sha256); the backends' 1500-byte
      segments exceed the client port's mtu 1400, so sluiced drops them (frame_too_big) and sends
      fragmentation needed / packet too big (icmp_too_big_sent), the backends' kernels count them
      and cache path MTU 1400 towards the LB's local addresses;
  (d) the switch dropped nothing from the trunk (every frame sluiced sent carried VID 100 or 200)
      and forwarded frames to both VLANs; no kernel in the lab counts a header or checksum error.
"""
import json
import re
import subprocess
import sys

import e2e_vlan
import lab

CLIENT_VID, SERVERS_VID = 100, 200
CLIENT_MTU = 1400
VIP4, VIP6 = e2e_vlan.VIP4, e2e_vlan.VIP6
TRUNK = "net_af_packet0,iface=lbv0,qpairs=1,framecnt=2048"


def trunk_config(t: lab.Test):
    """lab.toml with both ports on the lbv0 device, the client one renumbered, and the VIPs."""
    text = e2e_vlan.edited_lab_toml(t, (
        ('"net_af_packet0,iface=lbc0,qpairs=1,framecnt=2048"', f'"{TRUNK}"'),
        ('"net_af_packet1,iface=lbs0,qpairs=1,framecnt=2048"', f'"{TRUNK}"'),
        ('addresses = ["198.18.0.1/24", "2001:2::1/64"]',
         f'addresses = ["{e2e_vlan.LB4}", "{e2e_vlan.LB6}"]\nvlan = {CLIENT_VID}\n'
         f'mtu = {CLIENT_MTU}'),
        ('addresses = ["198.18.1.1/24", "2001:2:0:1::1/64"]',
         f'addresses = ["198.18.1.1/24", "2001:2:0:1::1/64"]\nvlan = {SERVERS_VID}'),
    ))
    backends4 = [lab.backend_addr(be) for be in lab.BACKENDS]
    backends6 = [lab.backend_addr6(be) for be in lab.BACKENDS]
    vips = [
        lab.vip_toml(VIP4, 80, "tcp", backends4, name="http-trunk"),
        lab.vip_toml(VIP4, 9000, "udp", backends4, name="echo-trunk"),
        lab.vip_toml(VIP6, 80, "tcp", backends6, name="http6-trunk"),
        lab.vip_toml(VIP6, 9000, "udp", backends6, name="echo6-trunk"),
    ]
    out = t.work_dir / "vlan-trunk.toml"
    out.write_text(text.rstrip("\n") + "\n\n" + "\n".join(vips))
    lab.log(f"wrote {out}: ports client (vlan {CLIENT_VID}, mtu {CLIENT_MTU}) and servers (vlan "
            f"{SERVERS_VID}) on {TRUNK}; {len(vips)} VIPs")
    return out


def start_switch() -> subprocess.Popen:
    p = subprocess.Popen(["ip", "netns", "exec", lab.NS_LB, sys.executable,
                          str(e2e_vlan.SWITCH), "switch", "--access", f"sw-c:{CLIENT_VID}",
                          "--access", f"lbs0:{SERVERS_VID}", "--trunk", "lbv0-sw"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline().strip()
    lab.check(line == "ready", f"vlan_switch.py did not start: {line!r}")
    return p


def backend_icmp_in() -> int:
    """Fragmentation-needed and packet-too-big messages the backends' kernels received."""
    total = 0
    for be in lab.lab_backends():
        counters = lab.snmp(f"sluice-{be}")
        total += counters.get("IcmpInDestUnreachs", 0) + counters.get("Icmp6InPktTooBigs", 0)
    return total


def cached_mtus(family: str) -> list[str]:
    """The backends' cached path MTU exceptions of a family ("-4" / "-6"), as text lines."""
    found = []
    for be in lab.lab_backends():
        out = lab.ns_run(f"sluice-{be}", ["ip", family, "route", "show", "cache"]).stdout
        found += [f"{be}: {' '.join(line.split())}" for line in out.splitlines()
                  if re.search(r"\bmtu \d+", line)]
    return found


def download(t: lab.Test, vip: str) -> None:
    before, icmp_before = t.stats(), backend_icmp_in()
    want = t.big_sha256()
    res = t.client("download", "--url", lab.http_url(vip, "/big.bin"), "--sha256", want,
                   timeout=120)
    after, icmp_after = t.stats(), backend_icmp_in()
    too_big = after["drop_frame_too_big"] - before["drop_frame_too_big"]
    sent = after["icmp_too_big_sent"] - before["icmp_too_big_sent"]
    lab.log(f"download via {vip}: status {res.get('status')}, {res['bytes']} bytes in "
            f"{res['elapsed_s']}s; frame_too_big +{too_big}, icmp_too_big_sent +{sent}, "
            f"backends received {icmp_after - icmp_before}")
    lab.check("error" not in res and res.get("status") == 200 and res["sha256"] == want,
              f"download via {vip} failed or corrupt: {res}")
    lab.check(too_big >= 1 and sent >= 1,
              f"via {vip}: no segment hit the client port's mtu {CLIENT_MTU} (frame_too_big "
              f"+{too_big}, icmp_too_big_sent +{sent})")
    lab.check(icmp_after - icmp_before >= 1, f"via {vip}: the backends received no ICMP error")


def body(t: lab.Test) -> None:
    t.lab_up()
    switch = None
    try:
        e2e_vlan.add_segment()
        switch = start_switch()
        with t.sluiced(trunk_config(t)) as d:
            log = d.log_text()
            lab.check(re.search(r"port servers: .*shares the device of client", log) is not None,
                      "sluiced did not log the servers port as a sub-port of the client's device")
            for port, vid in (("client", CLIENT_VID), ("servers", SERVERS_VID)):
                lab.check(re.search(rf"port {port}: vlan {vid}, tag stripped by", log) is not None,
                          f"sluiced did not log VLAN {vid} on port {port}")
            lab.check(re.search(rf"port client: .*mtu {CLIENT_MTU}\b", log) is not None,
                      f"sluiced did not log mtu {CLIENT_MTU} on the client port")
            for vip, count in ((VIP4, 100), (VIP6, 20)):
                res = t.http_gets(count, vip=vip)
                lab.check(len(res["backends"]) == len(lab.BACKENDS),
                          f"via {vip} only {sorted(res['backends'])} answered")
            e2e_vlan.udp(t, VIP4, 50)
            e2e_vlan.udp(t, VIP6, 20)
            download(t, VIP4)
            download(t, VIP6)
            for family in ("-4", "-6"):
                lines = cached_mtus(family)
                lab.log(f"backends' cached path MTUs ({family}): {lines}")
                lab.check(any(re.search(rf"\bmtu {CLIENT_MTU}\b", x) for x in lines),
                          f"no backend cached path MTU {CLIENT_MTU} ({family})")
            lab.log(f"stats: {json.dumps(t.stats())}")
            t.check_kernels_accepted_everything()
        counts = e2e_vlan.stop_switch(switch)
        switch = None
        lab.log(f"switch: {counts}")
        lab.check(counts.get("dropped_from_trunk", 1) == 0,
                  f"switch counts {counts}: sluiced sent frames without VID 100 or 200")
        lab.check(counts.get(f"to_vid_{CLIENT_VID}", 0) > 0 and
                  counts.get(f"to_vid_{SERVERS_VID}", 0) > 0,
                  f"switch counts {counts}: one of the VLANs carried nothing")
    finally:
        if switch is not None:
            e2e_vlan.stop_switch(switch)
        e2e_vlan.remove_segment()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

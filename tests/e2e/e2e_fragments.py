#!/usr/bin/env python3
"""8 KiB UDP datagrams to the IPv4 and the IPv6 VIP, fragmented by the kernels both ways, are all echoed intact: sluiced reassembles and fragments them.

With dpdk-config/lab.toml (UDP echo VIPs on 198.18.0.10:9000 and [2001:2::10]:9000, lab MTU
1500), its two ports on net_af_xdp instead of net_af_packet: DPDK 22.11's af_packet PMD joins a
PACKET_FANOUT group with PACKET_FANOUT_FLAG_DEFRAG, so the LB namespace's kernel reassembles
IPv4 fragments before the PMD sees them and hands it one datagram larger than its ring frames
(dropped as bad_ipv4_total_length); AF_XDP takes the frames before the kernel does. From the
client namespace, for each VIP:
  (a) 50 exchanges of an 8192-byte datagram, each from a new port, are all echoed byte for
      byte by the backends (client.py udp --size 8192);
  (b) sluiced took every piece both ways: fragments_received (of the family) grew by at least
      12 per exchange (6 pieces from the client, 6 of the answer from the backend),
      datagrams_reassembled by at least 2 per exchange, and it cut every datagram again for
      the 1500-byte ports (fragments_sent at least 12 per exchange);
  (c) no fragment was refused or timed out (drop_bad_fragment, drop_fragment_timeout,
      drop_fragment_table_full unchanged), and no drop counter moved beyond ALLOWED_DROPS.
The kernels of the client and the backends count no header, checksum or reassembly error.
"""
import lab

COUNT = 50
SIZE = 8192
PIECES = 6  # 8192 + 8 (UDP) bytes, and the echo's 8196 + 8, over 1480 (IPv4) or 1448 (IPv6)
# See e2e_ipv6.py: at most the first packet towards each of the client's addresses, while
# sluiced learns its MAC; UDP does not retransmit, so (a) would show it as a failed exchange.
ALLOWED_DROPS = {"drop_neighbor_unresolved": 2, "drop_multicast_destination": 50}
FRAGMENT_DROPS = ("drop_bad_fragment", "drop_fragment_timeout", "drop_fragment_table_full",
                  "drop_ipv4_fragment", "drop_ipv6_fragment")


def exchange(t: lab.Test, addr: str, family: str) -> None:
    before = t.stats()
    res = t.client("udp", "--addr", addr, "--port", "9000", "--count", str(COUNT), "--size",
                   str(SIZE), timeout=120)
    after = t.stats()
    lab.log(f"udp {addr}:9000 x {SIZE} B: {res['ok']} ok, {res['failed']} failed in "
            f"{res['elapsed_s']}s; per backend {res['backends']}; errors {res['errors']}")
    lab.check(res["failed"] == 0, f"{res['failed']} of {COUNT} exchanges failed: {res['errors']}")
    keys = (f"fragments_received_{family}", "datagrams_reassembled", "datagrams_fragmented",
            "fragments_sent", *FRAGMENT_DROPS)
    moved = {k: after[k] - before[k] for k in keys}
    lab.log(f"  counters moved: {moved}")
    lab.check(moved[f"fragments_received_{family}"] >= 2 * PIECES * COUNT,
              f"fragments_received_{family} moved by {moved[f'fragments_received_{family}']}, "
              f"want >= {2 * PIECES * COUNT}")
    lab.check(moved["datagrams_reassembled"] >= 2 * COUNT,
              f"datagrams_reassembled moved by {moved['datagrams_reassembled']}")
    lab.check(moved["datagrams_fragmented"] >= 2 * COUNT,
              f"datagrams_fragmented moved by {moved['datagrams_fragmented']}")
    lab.check(moved["fragments_sent"] >= 2 * PIECES * COUNT,
              f"fragments_sent moved by {moved['fragments_sent']}")
    for k in FRAGMENT_DROPS:
        lab.check(moved[k] == 0, f"{k} moved by {moved[k]}")


def check_drops(ready: dict, end: dict) -> None:
    moved = {k: end[k] - ready.get(k, 0) for k in end
             if k.startswith("drop_") and end[k] != ready.get(k, 0)}
    lab.log(f"drop counters moved since ready: {moved or 'none'} (allowed: {ALLOWED_DROPS})")
    bad = {k: v for k, v in moved.items() if v > ALLOWED_DROPS.get(k, 0)}
    lab.check(not bad, f"unexplained drops since ready: {bad} (allowed: {ALLOWED_DROPS})")


def check_reassembly_in_kernels() -> None:
    """The kernels put every piece sluiced cut back together (/proc/net/snmp, snmp6)."""
    for ns in (lab.NS_CLIENT, *(f"sluice-{be}" for be in lab.lab_backends())):
        lines = lab.ns_run(ns, ["cat", "/proc/net/snmp"]).stdout.splitlines()
        ip = dict(zip(lines[0].split()[1:], lines[1].split()[1:]))
        lab.check(ip.get("ReasmFails", "0") == "0", f"{ns}: Ip ReasmFails = {ip.get('ReasmFails')}")
        six = dict(ln.split() for ln in lab.ns_run(ns, ["cat", "/proc/net/snmp6"])
                   .stdout.splitlines() if ln.strip())
        for key in ("Ip6ReasmFails", "Ip6InHdrErrors", "Udp6InCsumErrors", "Udp6InErrors"):
            lab.check(six.get(key, "0") == "0", f"{ns}: kernel counted {key} = {six.get(key)}")
        lab.log(f"{ns}: reassembled IPv4 {ip.get('ReasmOKs')}, IPv6 {six.get('Ip6ReasmOKs')}")


def af_xdp_config(t: lab.Test):
    """dpdk-config/lab.toml with both ports on net_af_xdp (see the docstring)."""
    text = (t.source_dir / "dpdk-config" / "lab.toml").read_text()
    for port, iface in (("0", "lbc0"), ("1", "lbs0")):
        old = f"net_af_packet{port},iface={iface},qpairs=1,framecnt=2048"
        lab.check(old in text, f"lab.toml has no port device {old!r}")
        text = text.replace(old, f"net_af_xdp{port},iface={iface}")
    out = t.work_dir / "lab-af_xdp.toml"
    out.write_text(text)
    return out


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(af_xdp_config(t)):
        ready = t.stats()
        exchange(t, lab.VIP, "ipv4")
        exchange(t, lab.VIP6, "ipv6")
        check_drops(ready, t.stats())
        t.check_kernels_accepted_everything()
        check_reassembly_in_kernels()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

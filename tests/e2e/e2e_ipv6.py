#!/usr/bin/env python3
"""The dual-stack lab.toml serves its IPv6 VIP 2001:2::10 like the IPv4 one: ping, HTTP round robin, an intact download, iperf3, UDP echo and HTTP health checks, with no unexplained drop.

With dpdk-config/lab.toml as shipped (IPv4 and IPv6 on both ports, VIPs http6, iperf3-6 and
echo6 on 2001:2::10 over the backends' IPv6 addresses), from the client namespace:
  (a) `ping -6 -c 3 2001:2::10` and `ping -c 3 198.18.0.10` lose nothing, and the workers
      answer each echo themselves (icmp_echo_replies +3 each);
  (b) 300 GETs to http://[2001:2::10]/ over new connections all answer 200, each backend
      serving 20..47 % (rr gives a third each);
  (c) a 50 MiB /big.bin through [2001:2::10] arrives with the lab's sha256;
  (d) `iperf3 -6 -c 2001:2::10 -t 3` ends without error having received > 0 bytes;
  (e) 100 UDP exchanges with [2001:2::10]:9000, each from a new port, are all echoed, by every
      backend (equal-weight wrr);
  (f) the daemon answered neighbour solicitations (ndp_solicits_answered > 0) and echo
      requests (icmp_echo_replies >= 3), and no drop counter moved between ready and the end
      beyond ALLOWED_DROPS;
  (g) http6's HTTP probes of /health, sent over IPv6, hold all three backends up with their
      last check "ok" and at least `rise` (2) consecutive successes.
The kernels of the client and the backends count no IPv4 or IPv6 header or checksum error.
"""
import json
import time

import lab

VIP6 = lab.VIP6
# Drop reasons this test's traffic may move (at most this many), and why:
#   neighbor_unresolved: a packet towards a neighbour whose MAC sluiced has not learnt yet is
#     dropped while it resolves it (docs/lab.md: "a new client address costs one dropped SYN").
#     The backends are resolved at start and the client's MAC comes with its ARP request and
#     neighbour solicitation for the VIP, so at most the first packet towards each of the
#     client's two addresses; its kernel retransmits, and every exchange must still succeed.
# - multicast_destination: the client's and backends' kernels send MLD reports and router
#     solicitations for a few seconds after their links come up (docs/lab.md); a handful.
# Nothing else: the lab's kernels send no other stray traffic to the LB's ports.
ALLOWED_DROPS = {"drop_neighbor_unresolved": 2, "drop_multicast_destination": 50}
STEP = 60  # seconds: the bound of every step


def ping(t: lab.Test, args: list[str], dst: str) -> None:
    before = t.stats()
    res = lab.ns_run(lab.NS_CLIENT, ["ping", *args, "-n", "-c", "3", "-i", "0.2", "-W", "2",
                                     dst], timeout=STEP, check_rc=False)
    after = t.stats()
    summary = [ln for ln in res.stdout.splitlines() if "packet loss" in ln]
    lab.log(f"ping {' '.join(args)} {dst}: {summary}")
    lab.check(res.returncode == 0 and summary and " 3 received, 0% packet loss" in summary[0],
              f"ping {' '.join(args)} -c 3 {dst}: exit {res.returncode}\n{res.stdout[-800:]}"
              f"{res.stderr[-400:]}")
    answered = after["icmp_echo_replies"] - before["icmp_echo_replies"]
    handed = after["kernel_delivered"] - before["kernel_delivered"]
    lab.log(f"  icmp_echo_replies +{answered}, kernel_delivered +{handed}")
    lab.check(answered == 3, f"ping {dst}: icmp_echo_replies moved by {answered}, want 3")


def check_http(t: lab.Test) -> None:
    res = t.http_gets(300, vip=VIP6)
    lab.check(res["ok"] == 300, f"http6: {res['ok']} of 300 GETs answered 200")
    for be in lab.BACKENDS:
        share = res["backends"].get(be, 0) / 300
        lab.check(0.20 <= share <= 0.47, f"http6: {be} served {share:.0%} of 300, want 20..47 %: "
                                         f"{res['backends']}")


def check_download(t: lab.Test) -> None:
    want = t.big_sha256()
    res = t.client("download", "--url", lab.http_url(VIP6, "/big.bin"), "--sha256", want,
                   timeout=STEP)
    lab.log(f"download [{VIP6}]/big.bin: status {res.get('status')}, {res['bytes']} bytes in "
            f"{res['elapsed_s']}s ({res['mbit_s']} Mbit/s)")
    lab.check("error" not in res, f"download failed after {res['bytes']} bytes: {res.get('error')}")
    lab.check(res.get("status") == 200, f"download: HTTP status {res.get('status')}")
    lab.check(res["bytes"] == 50 << 20, f"download: {res['bytes']} bytes, want {50 << 20}")
    lab.check(res["sha256"] == want, f"download: sha256 {res['sha256']} != lab's {want}")


def check_iperf3() -> None:
    res = lab.ns_run(lab.NS_CLIENT, ["iperf3", "-6", "-c", VIP6, "-p", "5201", "-t", "3", "-J",
                                     "--connect-timeout", "5000"], timeout=STEP, check_rc=False)
    try:
        doc = json.loads(res.stdout)
    except ValueError:
        raise lab.Failure(f"iperf3 -6: exit {res.returncode}, no JSON: {res.stdout[-1000:]} "
                          f"{res.stderr[-1000:]}") from None
    lab.check("error" not in doc, f"iperf3 -6 error: {doc.get('error')}")
    lab.check(res.returncode == 0, f"iperf3 -6 exit status {res.returncode}")
    received = doc["end"]["sum_received"]
    lab.log(f"iperf3 -6: received {received['bytes']} bytes "
            f"({received['bits_per_second'] / 1e6:.1f} Mbit/s), retransmits "
            f"{doc['end']['sum_sent'].get('retransmits')}, server "
            f"{doc['start'].get('connected', [{}])[0].get('remote_host')}")
    lab.check(received["bytes"] > 0, f"iperf3 -6 received {received['bytes']} bytes")


def check_udp(t: lab.Test) -> None:
    res = t.client("udp", "--addr", VIP6, "--port", "9000", "--count", "100", timeout=STEP)
    lab.log(f"udp [{VIP6}]:9000: {res['ok']} ok, {res['failed']} failed, {res['source_ports']} "
            f"source ports; per backend {res['backends']}; errors {res['errors']}")
    lab.check(res["failed"] == 0, f"{res['failed']} of 100 UDP exchanges failed: {res['errors']}")
    lab.check(res["source_ports"] == 100, f"only {res['source_ports']} distinct source ports")
    for be in lab.BACKENDS:
        lab.check(res["backends"].get(be, 0) > 0, f"udp: {be} echoed none: {res['backends']}")


def check_health(t: lab.Test, rise: int = 2) -> None:
    """http6's probes (interval 2 s, rise 2: the defaults) have run and found every backend up."""
    t_end = time.monotonic() + 15
    while True:
        rows = t.backends("http6")
        lab.check(set(rows) == set(lab.BACKENDS), f"show backends http6 lists {sorted(rows)}")
        health = {be: rows[be]["health"] for be in lab.BACKENDS}
        if all(h.get("state") == "up" and h.get("last_result") == "ok"
               and h.get("consecutive_successes", 0) >= rise for h in health.values()):
            break
        lab.check(time.monotonic() < t_end, f"http6's health checks within 15 s: {health}")
        time.sleep(0.2)
    for be, h in health.items():
        lab.log(f"http6 {be} ({rows[be]['backend']}): {h['state']}, last {h['last_result']} "
                f"{h.get('last_detail', '')!r}, checks {h['checks']}")
        lab.check(rows[be]["backend"] == lab.host_port(lab.backend_addr6(be), 80),
                  f"http6 {be} is {rows[be]['backend']}")


def check_counters(ready: dict, end: dict) -> None:
    lab.log(f"ndp_solicits_answered {end['ndp_solicits_answered']}, ndp_solicits_sent "
            f"{end['ndp_solicits_sent']}, icmp_echo_replies {end['icmp_echo_replies']}")
    lab.check(end["ndp_solicits_answered"] > 0, "ndp_solicits_answered is 0")
    lab.check(end["icmp_echo_replies"] - ready["icmp_echo_replies"] >= 3,
              f"icmp_echo_replies moved by {end['icmp_echo_replies'] - ready['icmp_echo_replies']}")
    moved = {k: end[k] - ready.get(k, 0) for k in end
             if k.startswith("drop_") and end[k] != ready.get(k, 0)}
    lab.log(f"drop counters moved since ready: {moved or 'none'} (allowed: {ALLOWED_DROPS})")
    bad = {k: v for k, v in moved.items() if v > ALLOWED_DROPS.get(k, 0)}
    lab.check(not bad, f"unexplained drops since ready: {bad} (allowed: {ALLOWED_DROPS})")


def check_kernels6() -> None:
    """IPv6's share of check_kernels_accepted_everything: /proc/net/snmp6 of each namespace."""
    watched = ("Ip6InHdrErrors", "Ip6InAddrErrors", "Udp6InCsumErrors", "Udp6InErrors")
    for ns in (lab.NS_CLIENT, *(f"sluice-{be}" for be in lab.lab_backends())):
        counts = dict(ln.split() for ln in lab.ns_run(ns, ["cat", "/proc/net/snmp6"])
                      .stdout.splitlines() if ln.strip())
        for key in watched:
            lab.check(counts.get(key, "0") == "0", f"{ns}: kernel counted {key} = {counts[key]}")
    lab.log("kernels: no IPv6 header or UDP checksum errors in client and backends")


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab.toml")):
        ready = t.stats()
        steps = [("(a) ping -6", lambda: ping(t, ["-6"], VIP6)),
                 ("(a) ping", lambda: ping(t, [], lab.VIP)),
                 ("(b) http", lambda: check_http(t)),
                 ("(c) download", lambda: check_download(t)),
                 ("(d) iperf3 -6", check_iperf3),
                 ("(e) udp", lambda: check_udp(t)),
                 ("(g) health", lambda: check_health(t))]
        for name, step in steps:
            t0 = time.monotonic()
            step()
            took = time.monotonic() - t0
            lab.log(f"{name}: done in {took:.1f}s")
            lab.check(took <= STEP, f"{name} took {took:.1f}s, bound {STEP}s")
        check_counters(ready, t.stats())
        t.check_kernels_accepted_everything()
        check_kernels6()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""Prometheus /metrics: served on 127.0.0.1:9273 in the root namespace only, valid for promtool, and its counters count 100 GETs.

GET http://127.0.0.1:9273/metrics from the root namespace; from sluice-client,
198.18.0.1:9273 (the LB's address on the client leg) must not answer. `promtool check metrics`
accepts the exposition (skipped with a note when promtool is not installed). 100 GETs to the
`http` VIP add exactly 100 to sluice_backend_connections_total summed over its backends, and
sluice_worker_packets_total grows. sluice_local_tuples lists the 32 local addresses of the
servers port (198.18.1.128/28 and 2001:2:0:1::80/124) with free > 0, in_use rises by at least
20 while 20 connections are held open and in_use + free stays the same; `sluicectl --json show
stats` lists the same 32 addresses under local_tuples. Both ports report link up and the GETs'
frames, and the control thread's ARP counters are exposed. 20 bare TCP ACKs (hping3, no
connection) to the http VIP add 20 to sluice_vip_drops_total{vip="http",reason="no_flow"} and
nothing to any other VIP's drops.
"""
import ipaddress
import re
import shutil
import subprocess

import lab

URL = lab.METRICS_URL
HELD = 20
# lab.toml's servers port: local_addresses = ["198.18.1.128/28", "2001:2:0:1::80/124"]
LOCAL_ADDRESSES = ({f"198.18.1.{128 + i}" for i in range(16)}
                   | {str(ipaddress.IPv6Address("2001:2:0:1::80") + i) for i in range(16)})


def local_tuples(text: str) -> dict[str, dict[str, float]]:
    """sluice_local_tuples of the servers port: address -> {state: value}."""
    out: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        if not line.startswith("sluice_local_tuples{"):
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
        if labels.get("port") == "servers":
            out.setdefault(labels["address"], {})[labels["state"]] = float(line.split()[-1])
    return out


def check_local_tuples(t: lab.Test, text: str) -> None:
    before = local_tuples(text)
    lab.log(f"sluice_local_tuples{{port=\"servers\"}}: {len(before)} addresses; "
            f"in_use {sum(v.get('in_use', 0) for v in before.values()):g}")
    lab.check(set(before) == LOCAL_ADDRESSES,
              f"sluice_local_tuples lists {sorted(before)}, want the 16 of 198.18.1.128/28 "
              f"and the 16 of 2001:2:0:1::80/124")
    lab.check(all(v.get("free", 0) > 0 and "in_use" in v for v in before.values()),
              f"sluice_local_tuples without free tuples or in_use: {before}")
    hold = t.client_start("hold", "--url", f"http://{lab.VIP}/", "--count", str(HELD),
                          "--hold", "60")
    try:
        held = hold.next_json(timeout=60)
        lab.check(held["open"] == HELD, f"only {held['open']} of {HELD} connections opened: "
                                        f"{held['errors']}")
        during = local_tuples(lab.scrape_metrics()[0])
    finally:
        done = hold.finish()
    used0 = sum(v["in_use"] for v in before.values())
    used1 = sum(v.get("in_use", 0) for v in during.values())
    total0 = sum(v["in_use"] + v["free"] for v in before.values())
    total1 = sum(v.get("in_use", 0) + v.get("free", 0) for v in during.values())
    lab.log(f"with {HELD} held: in_use {used0:g} -> {used1:g}, in_use + free {total0:g} -> "
            f"{total1:g}; hold closed {done['open']} after {done['held_s']}s")
    lab.check(used1 - used0 >= HELD, f"in_use rose by {used1 - used0:g} with {HELD} held")
    lab.check(total1 == total0, f"in_use + free changed: {total0:g} -> {total1:g}")
    doc = t.sluicectl_json("show", "stats")
    rows = [r for r in doc.get("local_tuples", []) if r.get("port") == "servers"]
    lab.check({r.get("address") for r in rows} == LOCAL_ADDRESSES
              and all({"in_use", "free"} <= set(r) for r in rows),
              f"show stats local_tuples of servers: {rows}")


def check_ports_and_control(text: str) -> None:
    """The port and control families (declared once with every other counter) carry values."""
    for port in ("client", "servers"):
        up = lab.metric_total(text, "sluice_port_link_up", port=port)
        rx = lab.metric_total(text, "sluice_port_packets_total", port=port, direction="rx")
        lab.log(f"port {port}: link_up {up:g}, rx packets {rx:g}")
        lab.check(up == 1, f"sluice_port_link_up{{port=\"{port}\"}} is {up:g}, want 1")
        lab.check(rx >= 100 * 4, f"port {port} received {rx:g} frames for 100 GETs")
    arp = lab.metric_total(text, "sluice_arp_total")
    lab.log(f"sluice_arp_total: {arp:g}")
    lab.check(arp > 0, "sluice_arp_total is 0 after start-up resolution")


def vip_drops(text: str) -> dict[tuple[str, str], float]:
    """sluice_vip_drops_total: (vip, reason) -> count."""
    out: dict[tuple[str, str], float] = {}
    for line in text.splitlines():
        if line.startswith("sluice_vip_drops_total{"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', line))
            out[(labels["vip"], labels["reason"])] = float(line.split()[-1])
    return out


def check_vip_drops() -> None:
    before = vip_drops(lab.scrape_metrics()[0])
    hping = ["timeout", "15", "hping3", "-n", "-A", "-p", "80", "-c", "20", "-i", "u20000",
             lab.VIP]
    res = lab.ns_run(lab.NS_CLIENT, hping, timeout=30, check_rc=False)
    lab.log(f"hping3 -A x20 to {lab.VIP}:80 -> exit {res.returncode}")
    after = vip_drops(lab.scrape_metrics()[0])
    lab.log(f"sluice_vip_drops_total: {before} -> {after}")
    grew = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    lab.check(grew == {("http", "no_flow"): 20},
              f"sluice_vip_drops_total grew by {grew}, want +20 for (http, no_flow) only")


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config()):
        text, ctype = lab.scrape_metrics()
        lab.log(f"GET {URL}: {len(text)} bytes, {len(text.splitlines())} lines, "
                f"Content-Type {ctype!r}")
        lab.check(ctype.startswith("text/plain"), f"Content-Type {ctype!r}, want text/plain")

        # Not reachable from the lab's client side (only localhost in the root namespace).
        res = lab.ns_run(lab.NS_CLIENT, ["curl", "-sS", "-o", "/dev/null", "--max-time", "3",
                                         "http://198.18.0.1:9273/metrics"],
                         timeout=15, check_rc=False)
        lab.log(f"from {lab.NS_CLIENT}: curl http://198.18.0.1:9273/metrics -> exit "
                f"{res.returncode} {res.stderr.strip()}")
        lab.check(res.returncode != 0,
                  f"/metrics answered from {lab.NS_CLIENT} at 198.18.0.1:9273")

        promtool = shutil.which("promtool")
        if promtool is None:
            lab.log("NOTE: promtool not installed (Debian: prometheus); skipping its check")
        else:
            res = subprocess.run([promtool, "check", "metrics"], input=text,
                                 capture_output=True, text=True, timeout=30)
            lab.log(f"promtool check metrics -> exit {res.returncode} "
                    f"{(res.stdout + res.stderr).strip()}")
            lab.check(res.returncode == 0, f"promtool check metrics failed:\n"
                                           f"{(res.stdout + res.stderr).strip()[-3000:]}")

        c0 = lab.metric_total(text, "sluice_backend_connections_total", vip="http")
        p0 = lab.metric_total(text, "sluice_worker_packets_total")
        res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "100")
        lab.log(f"http: {res['ok']} ok, {res['failed']} failed; per backend {res['backends']}")
        lab.check(res["failed"] == 0, f"{res['failed']} of 100 GETs failed: {res['errors']}")
        text, _ = lab.scrape_metrics()
        c1 = lab.metric_total(text, "sluice_backend_connections_total", vip="http")
        p1 = lab.metric_total(text, "sluice_worker_packets_total")
        lab.log(f"sluice_backend_connections_total{{vip=\"http\"}}: {c0:g} -> {c1:g}; "
                f"sluice_worker_packets_total: {p0:g} -> {p1:g}")
        lab.check(c1 - c0 == 100, f"sluice_backend_connections_total over http's backends "
                                  f"grew by {c1 - c0:g}, want 100")
        for be, n in res["backends"].items():
            got = lab.metric_total(text, "sluice_backend_connections_total", vip="http",
                        backend=f"{lab.backend_addr(be)}:80")
            lab.check(got == n, f"{be}: sluice_backend_connections_total {got:g}, the client "
                                f"saw {n}")
        lab.check(p1 - p0 >= 100 * 8, f"sluice_worker_packets_total grew by {p1 - p0:g} for "
                                      f"100 GETs (want >= 800)")
        check_ports_and_control(text)
        check_vip_drops()
        # After the per-backend totals: the held connections add to them.
        check_local_tuples(t, lab.scrape_metrics()[0])
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

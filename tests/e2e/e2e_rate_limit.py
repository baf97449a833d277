#!/usr/bin/env python3
"""A per-source limit of 10 new connections/s, burst 5, lets about 15 of 100 connections in one second through; another client is unaffected.

[vip.limits] source_new_connections_per_second = 10, burst 5, action = "reset". Client A opens
a new connection (one GET) every 10 ms for 1 s from one address; client B, from another address
at the same time, one every 100 ms (its own 10/s). A gets 5 (burst) + about 10 (refill) through
and the rest are refused at once with an RST (ECONNREFUSED), counted as source_connections
refusals in sluicectl show protection and in sluice_protect_refused_total; B gets all of its 10.
Then `sluicectl set limit ... source_new_connections 0` lifts the limit without a restart: A's
next 50 connections in 0.5 s all succeed; a bad `set limit` changes nothing.
"""
import time

import lab

A = "198.18.0.41"
B = "198.18.0.42"
URL = f"http://{lab.VIP}/"


def refused_total(vip: str) -> float:
    text, _ = lab.scrape_metrics()
    return lab.metric_total(text, "sluice_protect_refused_total", vip=vip,
                            reason="source_connections")


def body(t: lab.Test) -> None:
    t.lab_up()
    for addr in (A, B):
        lab.ns_run(lab.NS_CLIENT, ["ip", "addr", "add", f"{addr}/24", "dev", "eth0"])
    vip = lab.vip_toml(name="limited", scheduler="rr", backends=[lab.backend_addr(be)
                                                                 for be in lab.BACKENDS],
                       tables={"limits": {"source_new_connections_per_second": 10,
                                          "source_new_connections_burst": 5,
                                          "action": "reset"}})
    cfg = t.write_config("rate-limit.toml", [vip])
    with t.sluiced(cfg):
        # Warm-up: both sources' first SYN makes sluiced learn their MAC; then let the buckets
        # fill up again (5 tokens at 10/s: 0.5 s).
        warm = t.client("http", "--url", URL, "--bind", f"{A},{B}", "--count", "1")
        lab.check(warm["failed"] == 0, f"warm-up failed: {warm['errors']}")
        time.sleep(1.5)
        before = refused_total("limited")

        fast = t.client_start("paced", "--url", URL, "--bind", A, "--every", "0.01",
                              "--duration", "1", "--timeout", "3")
        slow = t.client_start("paced", "--url", URL, "--bind", B, "--every", "0.1",
                              "--duration", "1", "--timeout", "3")
        fast.next_json(timeout=10)
        slow.next_json(timeout=10)
        a = fast.finish(timeout=60)
        b = slow.finish(timeout=60)
        errors_a = sorted({err for _, _, err in a["log"] if err})
        span = a["log"][-1][0] - a["log"][0][0] if a["log"] else 0
        lab.log(f"client A: {a['ok']} of {a['requests']} through in {span:.2f}s, errors "
                f"{errors_a}; client B: {b['ok']} of {b['requests']}")
        lab.check(a["requests"] >= 90, f"client A made only {a['requests']} attempts in 1 s")
        # 5 burst + 10/s over the ~1 s the attempts span; scheduling jitter either way.
        lab.check(11 <= a["ok"] <= 19, f"client A got {a['ok']} connections through, want ~15")
        lab.check(all("refused" in e.lower() for e in errors_a),
                  f"client A's refused connections failed otherwise than refused: {errors_a}")
        lab.check(b["failed"] == 0, f"client B (within its limit) lost {b['failed']} "
                  f"connections: {[e for _, _, e in b['log'] if e]}")

        refused = refused_total("limited") - before
        lab.log(f"sluice_protect_refused_total{{reason=source_connections}} +{refused}")
        lab.check(refused == a["failed"],
                  f"metrics count {refused} refusals, client A saw {a['failed']}")
        shown = t.sluicectl_ok("show", "protection", "limited")
        lab.log("show protection:\n" + shown)
        lab.check("vip limited" in shown and "10/s burst 5" in shown,
                  "show protection does not show the per-source limit")

        # A bad change is refused and changes nothing.
        rc, _, err = t.sluicectl("set", "limit", "limited", "source_conns", "5")
        lab.check(rc == 2 and "source_conns" in err, f"bad limit name: rc {rc}, {err!r}")
        rc, _, err = t.sluicectl("set", "limit", "limited", "packets", "0", "--burst", "5")
        lab.check(rc == 1 and "burst" in err, f"burst without a rate: rc {rc}, {err!r}")
        after_bad = t.sluicectl_json("show", "protection", "limited")[0]
        lab.check(after_bad["source_new_connections"] == {"per_second": 10, "burst": 5},
                  f"a refused set limit changed the limit: {after_bad}")

        out = t.sluicectl_ok("set", "limit", "limited", "source_new_connections", "0")
        lab.log("set limit: " + out.strip())
        free = t.client("paced", "--url", URL, "--bind", A, "--every", "0.01", "--duration",
                        "0.5", "--timeout", "3")
        lab.log(f"unlimited: {free['ok']} of {free['requests']} through")
        lab.check(free["failed"] == 0,
                  f"{free['failed']} connections refused after the limit was lifted")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

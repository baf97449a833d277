#!/usr/bin/env python3
"""Passive detection: with probes 30 s apart, a backend whose port refuses connections (RST) is marked down by the data path after passive_failures=3 failed connects, long before its next probe.

Probes: TCP every 30 s (first at once, no jitter), rise 1; passive_failures = 3. After the
first probes found all three up, be2's nginx stops; a client then opens a new connection every
50 ms for 4 s. Round-robin sends every third to be2 and each is refused (RST), until the third
consecutive failure: be2 is down, no later connection goes there and none fails. At most 3
failures in all, be2's health is "down", and no probe ran meanwhile (checks still 1 per backend).
"""
import time

import lab

PASSIVE = 3


def body(t: lab.Test) -> None:
    t.lab_up()
    health = {"type": "tcp", "interval": "30s", "timeout": "1s", "rise": 1, "fall": 3,
              "initial_jitter": False, "passive_failures": PASSIVE,
              "passive_connect_timeout": "1s"}
    cfg = t.write_config("health.toml", [lab.vip_toml(
        name="http", backends=[lab.backend_addr(be) for be in lab.BACKENDS], health=health)])
    with t.sluiced(cfg):
        t_end = time.monotonic() + 5
        while not all(r["health"].get("last_result") == "ok"
                      for r in t.backends("http").values()):
            lab.check(time.monotonic() < t_end, "first probes not done within 5 s")
            time.sleep(0.1)
        t.http_gets(30)
        t.stop_nginx("be2")
        t0 = time.monotonic()
        res = t.client("paced", "--url", f"http://{lab.VIP}/", "--every", "0.05",
                       "--duration", "4", "--timeout", "2")
        took = time.monotonic() - t0
        failures = [e for e in res["log"] if e[2]]
        lab.log(f"paced: {res['requests']} connections, {res['failed']} failed "
                f"{failures}, per backend {res['backends']}")
        lab.check(1 <= len(failures) <= PASSIVE,
                  f"{len(failures)} connections failed, want 1..{PASSIVE} before be2 was down")
        last_failure = failures[-1][0]
        later_be2 = [e for e in res["log"] if e[0] > last_failure and e[1] == "be2"]
        lab.check(not later_be2, f"be2 got connections after it failed: {later_be2[:3]}")
        h = t.backends("http")["be2"]["health"]
        lab.log(f"be2 health after {took:.1f} s: {h}")
        lab.check(h["state"] == "down", f"be2 should be down by passive detection: {h}")
        lab.check(sum(h["checks"].values()) == 1,
                  f"a probe ran meanwhile ({h['checks']}): passive detection was not what acted")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

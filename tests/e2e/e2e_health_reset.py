#!/usr/bin/env python3
"""on_down = "reset" resets the established flows of a backend that went down, on both sides; all_down = "reset" answers new connections with an immediate RST when every backend is down.

Probes: GET /health every 1 s, timeout 0.5 s, rise 2, fall 2; on_down = "reset",
all_down = "reset". Six held-open keep-alive connections, two per backend. be1's /health turns
503: once be1 is down its two connections are reset (the client sees ECONNRESET on exactly those,
be1's kernel has no established connection left, flows_reset_backend_down counts 2), the four
others stay open. Then every backend's /health turns 503: once all are down (and the other four
connections reset in turn), a new connection is refused at once (RST from the VIP, well under a
second) instead of hanging in SYN retries.
"""
import time

import lab


def established_on_80(be: str) -> int:
    # Connections through the VIP come from the full-NAT pool (198.18.1.128/28); the LB's own
    # health probes come from its port address 198.18.1.1 and are not the flows counted here.
    out = lab.ns_run(f"sluice-{be}", ["ss", "-Htn", "state", "established",
                                      "( sport = :80 and not dst 198.18.1.1 )"])
    return len([ln for ln in out.stdout.splitlines() if ln.strip()])


def wait_state(t: lab.Test, be: str, state: str, within: float = 5) -> None:
    t_end = time.monotonic() + within
    while t.backends("http")[be]["health"]["state"] != state:
        lab.check(time.monotonic() < t_end, f"{be} not {state} within {within} s")
        time.sleep(0.1)


def body(t: lab.Test) -> None:
    t.lab_up()
    health = {"type": "http", "http_path": "/health", "interval": "1s", "timeout": "500ms",
              "rise": 2, "fall": 2, "on_down": "reset", "all_down": "reset"}
    cfg = t.write_config("health.toml", [lab.vip_toml(
        name="http", backends=[lab.backend_addr(be) for be in lab.BACKENDS], health=health)])
    with t.sluiced(cfg):
        for be in lab.BACKENDS:
            wait_state(t, be, "up")
        hold = t.client_start("hold", "--url", f"http://{lab.VIP}/", "--count", "6",
                              "--hold", "60")
        held = hold.next_json(timeout=30)
        by_backend = held["ports_by_backend"]
        lab.check(held["open"] == 6 and all(len(by_backend.get(be, [])) == 2
                                            for be in lab.BACKENDS),
                  f"want two held connections per backend: {held}")
        before = t.stats()["flows_reset_backend_down"]

        t.maintenance("be1", True)
        wait_state(t, "be1", "down")
        t_end = time.monotonic() + 3
        while established_on_80("be1") > 0:
            lab.check(time.monotonic() < t_end, "be1 still has established connections 3 s "
                                                "after going down with on_down = reset")
            time.sleep(0.1)
        reset = t.stats()["flows_reset_backend_down"] - before
        lab.check(reset == 2, f"flows_reset_backend_down moved by {reset}, want 2")
        for be in ("be2", "be3"):
            lab.check(established_on_80(be) == 2, f"{be}'s connections should be untouched")

        for be in ("be2", "be3"):
            t.maintenance(be, True)
        for be in ("be2", "be3"):
            wait_state(t, be, "down")
        t0 = time.monotonic()
        res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "5", "--timeout", "5")
        took = time.monotonic() - t0
        lab.log(f"all down: {res['failed']} of 5 failed in {took:.2f} s: {res['errors']}")
        lab.check(res["failed"] == 5, f"with every backend down requests succeeded: {res}")
        lab.check(all("Connection refused" in e or "reset" in e.lower() for e in res["errors"]),
                  f"want connection refused (RST), got {res['errors']}")
        lab.check(took < 2.5, f"5 refused connects took {took:.2f} s: not an immediate RST")

        # be2 and be3 went down too, so on_down = "reset" reset their connections as well.
        done = hold.finish()
        lab.check(done["reset_local_ports"] == sorted(held["local_ports"]),
                  f"the client saw RSTs on {done['reset_local_ports']}, want all six "
                  f"{sorted(held['local_ports'])}")
        reset = t.stats()["flows_reset_backend_down"] - before
        lab.check(reset == 6, f"flows_reset_backend_down moved by {reset} in all, want 6")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

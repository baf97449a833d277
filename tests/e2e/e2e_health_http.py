#!/usr/bin/env python3
"""HTTP health probes: be3 answering 503 on /health goes down, and so does be1 when its nginx is paused (SIGSTOP, probes time out); both come back after rise successes, and new connections follow.

Probes: GET /health every 1 s, timeout 0.5 s, rise 2, fall 2, expecting 200. The lab's nginx
answers 503 on /health while a maintenance flag exists. With be3 in maintenance, be3 must be
down within fall x interval + timeout (+ slack) with last result "bad_status" ("HTTP 503"), and 60
new GETs must avoid it; with the flag gone it is up again. Pausing be1's nginx with SIGSTOP
leaves its kernel accepting connections but nothing answers: the probes time out, be1 goes down
("timeout") and 60 GETs go to be2/be3 only; SIGCONT brings it back.
"""
import signal
import time

import lab

INTERVAL, TIMEOUT, RISE, FALL = 1.0, 0.5, 2, 2
BOUND = FALL * INTERVAL + TIMEOUT + 1.0  # + slack: probe phase, control loop, our polling


def wait_health(t: lab.Test, be: str, state: str, within: float) -> dict:
    """Polls show backends until `be`'s health is `state`; returns its health object."""
    t_end = time.monotonic() + within
    while True:
        h = t.backends("http")[be]["health"]
        if h["state"] == state:
            return h
        lab.check(time.monotonic() < t_end, f"{be} not {state} within {within:.1f} s: {h}")
        time.sleep(0.1)


def body(t: lab.Test) -> None:
    t.lab_up()
    health = {"type": "http", "http_path": "/health", "expect_status": ["200"],
              "interval": "1s", "timeout": "500ms", "rise": RISE, "fall": FALL}
    cfg = t.write_config("health.toml", [lab.vip_toml(
        name="http", backends=[lab.backend_addr(be) for be in lab.BACKENDS], health=health)])
    with t.sluiced(cfg):
        for be in lab.BACKENDS:
            wait_health(t, be, "up", 5)
        t.http_gets(30)

        t.maintenance("be3", True)
        t0 = time.monotonic()
        h = wait_health(t, "be3", "down", BOUND)
        lab.log(f"be3 down after {time.monotonic() - t0:.2f} s: {h}")
        lab.check(h["last_result"] == "bad_status" and h["last_detail"] == "HTTP 503",
                  f"be3's last check should be HTTP 503 (bad_status): {h}")
        res = t.http_gets(60, allowed={"be1", "be2"})
        lab.check(res["backends"].get("be3", 0) == 0, f"be3 got connections while down: {res}")
        t.maintenance("be3", False)
        h = wait_health(t, "be3", "up", RISE * INTERVAL + INTERVAL + 1)
        lab.check(h["consecutive_successes"] >= RISE, f"be3 up without {RISE} successes: {h}")

        t.signal_nginx("be1", signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            h = wait_health(t, "be1", "down", BOUND)
            lab.log(f"be1 (paused) down after {time.monotonic() - t0:.2f} s: {h}")
            lab.check(h["last_result"] == "timeout", f"be1's last check should time out: {h}")
            res = t.http_gets(60, allowed={"be2", "be3"})
            lab.check(res["backends"].get("be1", 0) == 0, f"paused be1 got connections: {res}")
        finally:
            t.signal_nginx("be1", signal.SIGCONT)
        wait_health(t, "be1", "up", RISE * INTERVAL + INTERVAL + 1)
        res = t.http_gets(60)
        lab.check(all(res["backends"].get(be, 0) >= 15 for be in lab.BACKENDS),
                  f"after recovery every backend should serve again: {res['backends']}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""max_connections = 5 per backend: 15 held connections fill the VIP, a 16th is refused, room returns.

rr over be1..be3, each with max_connections = 5. 15 idle keep-alive connections take 5 per
backend; a 16th connection attempt gets no SYN-ACK (drop_backends_full grows). Once the 15 are
closed and their flows have aged out (2 s FIN/TIME_WAIT/close timeouts), 15 new held connections
succeed again, 5 per backend.
"""
import time

import lab

LIMIT = 5
HELD = LIMIT * len(lab.BACKENDS)
TIMEOUTS = {"tcp_fin_wait": 2, "tcp_time_wait": 2, "tcp_close": 2}


def hold_full(t: lab.Test, what: str) -> lab.BackgroundClient:
    hold = t.client_start("hold", "--url", f"http://{lab.VIP}/", "--count", str(HELD),
                          "--hold", "120")
    held = hold.next_json(timeout=60)
    lab.log(f"{what}: {held['open']} open, {held['failed']} failed in {held['connect_s']}s; "
            f"per backend {held['backends']}; errors {held['errors']}")
    lab.check(held["open"] == HELD,
              f"{what}: only {held['open']} of {HELD} connections opened: {held['errors']}")
    lab.check(held["backends"] == {be: LIMIT for be in lab.BACKENDS},
              f"{what}: want {LIMIT} connections per backend, got {held['backends']}")
    return hold


def release(hold: lab.BackgroundClient, what: str) -> None:
    done = hold.finish()
    lab.log(f"{what}: closed {done['open']} connections after {done['held_s']}s "
            f"({done['closed_by_peer']} had been closed by the server)")
    lab.check(done["closed_by_peer"] == 0,
              f"{what}: {done['closed_by_peer']} held connections died while held")


def body(t: lab.Test) -> None:
    t.lab_up()
    vip = lab.vip_toml(name="http-limited", scheduler="rr",
                       backends=[{"address": lab.backend_addr(be), "max_connections": LIMIT}
                                 for be in lab.BACKENDS])
    cfg = t.write_config("max-connections.toml", [vip], {"timeouts": TIMEOUTS})
    with t.sluiced(cfg):
        hold = hold_full(t, "first hold")
        base = t.stats()

        t0 = time.monotonic()
        extra = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "1", "--timeout", "3")
        took = time.monotonic() - t0
        s = t.stats()
        full = s["drop_backends_full"] - base["drop_backends_full"]
        lab.log(f"16th connection: {extra['ok']} ok, {extra['failed']} failed after {took:.1f}s; "
                f"errors {extra['errors']}; drop_backends_full +{full} (now "
                f"{s['drop_backends_full']}), flows_active {s['flows_active']}")
        lab.check(extra["failed"] == 1,
                  f"a 16th connection was served by {extra['backends']} although every backend "
                  f"holds {LIMIT} connections")
        err = next(iter(extra["errors"]), "")
        lab.check(any(k in err.lower() for k in ("timed out", "timeout", "reset", "refused")),
                  f"16th connection failed in an unexpected way: {extra['errors']}")
        lab.check(s["drop_backends_full"] >= 1,
                  f"drop_backends_full is {s['drop_backends_full']} after a refused connection")

        release(hold, "first hold")
        # Wait for the closed connections' flows to age out and leave the counts.
        t_closed = time.monotonic()
        time.sleep(4)
        while t.stats()["flows_active"] != 0 and time.monotonic() - t_closed < 12:
            time.sleep(0.25)
        s = t.stats()
        lab.log(f"{time.monotonic() - t_closed:.1f}s after closing: flows_active "
                f"{s['flows_active']}, flows_expired {s['flows_expired']}")
        lab.check(s["flows_active"] == 0,
                  f"flows_active is {s['flows_active']} "
                  f"{time.monotonic() - t_closed:.1f}s after the connections closed")

        hold = hold_full(t, "second hold")
        release(hold, "second hold")
        lab.log(f"stats: {t.stats()}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

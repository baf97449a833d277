#!/usr/bin/env python3
"""With 2 s timeouts, flows of 50 UDP + 20 HTTP exchanges are active, then all expire within ~5 s."""
import time

import lab

TIMEOUTS = {"tcp_syn": 2, "tcp_established": 900, "tcp_fin_wait": 2, "tcp_time_wait": 2,
            "tcp_close": 2, "udp": 2}


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab.toml", {"timeouts": TIMEOUTS})):
        base = t.stats()
        lab.log(f"stats before: {base}")
        udp = t.client("udp", "--addr", lab.VIP, "--port", "9000", "--count", "50")
        http = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "20")
        t_last = time.monotonic()
        lab.check(udp["failed"] == 0 and http["failed"] == 0,
                  f"traffic failed: udp {udp['failed']} ({udp['errors']}), "
                  f"http {http['failed']} ({http['errors']})")
        s1 = t.stats()
        lab.log(f"stats right after traffic: {s1}")
        lab.check(s1["flows_active"] > 0, f"flows_active is {s1['flows_active']} right after traffic")
        created = s1["flows_created"] - base["flows_created"]
        lab.check(created >= 70, f"flows_created grew by {created}, want >= 70")

        time.sleep(max(0.0, 5.0 - (time.monotonic() - t_last)))
        s2 = t.stats()
        waited = time.monotonic() - t_last
        # Aging may run in steps; allow a little more than 5 s but report when it took longer.
        while s2["flows_active"] != 0 and time.monotonic() - t_last < 8.0:
            time.sleep(0.25)
            s2 = t.stats()
            waited = time.monotonic() - t_last
        lab.log(f"stats {waited:.1f}s after the last exchange: {s2}")
        lab.check(s2["flows_active"] == 0,
                  f"flows_active is {s2['flows_active']} {waited:.1f}s after the last exchange")
        lab.check(s2["flows_expired"] >= 70, f"flows_expired is {s2['flows_expired']}, want >= 70")
        lab.check(s2["flows_expired"] == s2["flows_created"],
                  f"flows_expired {s2['flows_expired']} != flows_created {s2['flows_created']}")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

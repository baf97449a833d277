#!/usr/bin/env python3
"""Exception-path flood: during a 20 s ICMP flood at the LB's client-side address, `sluicectl show stats` answers within 1 s every time, a backend stopped during it is marked down within its health bound, healthy backends stay up, the kernel rate limit counts the excess, and ping is answered afterwards.

hping3 --icmp --flood (bounded by `timeout 20` and a count) runs in sluice-client against
198.18.0.1. Meanwhile `sluicectl show stats` is timed every 0.2 s (the maximum is printed). At
second 5 of the flood be2's nginx is stopped; with HTTP checks every 1 s (timeout 0.5 s, fall 3)
it must be down within fall x interval + timeout + 1 s of slack, while be1 and be3 (whose probe
answers share the data path with the flood but not its kernel bucket) stay up. After the flood
drop_kernel_rate_limited has moved, and three echo requests to 198.18.0.1 all get replies.
Printed: frames offered (hping3's count) and delivered to the kernel, per second.
"""
import re
import subprocess
import time

import lab
from e2e_exception_path import PING

FLOOD_S, STOP_AT = 20.0, 5.0
FLOOD_COUNT = 5_000_000  # a bound besides the time: the lab's veth delivers ~66k frames/s
INTERVAL, TIMEOUT, RISE, FALL = 1.0, 0.5, 2, 3
BOUND = FALL * INTERVAL + TIMEOUT
API_LIMIT_S = 1.0


def wait_all_up(t: lab.Test) -> None:
    t_end = time.monotonic() + 15
    while True:
        rows = t.backends("http")
        if all(r["health"]["state"] == "up" and r["health"].get("last_result") == "ok"
               for r in rows.values()):
            return
        lab.check(time.monotonic() < t_end, f"backends not all probed up within 15 s: {rows}")
        time.sleep(0.2)


def timed_stats(t: lab.Test) -> float:
    start = time.monotonic()
    rc, out, err = t.sluicectl("show", "stats", quiet=True, timeout=10)
    took = time.monotonic() - start
    lab.check(rc == 0 and "rx_packets" in out, f"show stats under flood: exit {rc}, {err!r}")
    return took


def body(t: lab.Test) -> None:
    t.lab_up()
    health = {"type": "http", "http_path": "/health", "interval": "1s", "timeout": "500ms",
              "rise": RISE, "fall": FALL}
    cfg = t.write_config("flood.toml", [lab.vip_toml(
        name="http", backends=[lab.backend_addr(be) for be in lab.BACKENDS], health=health)])
    with t.sluiced(cfg):
        wait_all_up(t)
        lab.log("all three backends probed up")
        before = t.stats()
        flood = subprocess.Popen(
            ["ip", "netns", "exec", lab.NS_CLIENT, "timeout", "-s", "INT", str(int(FLOOD_S)),
             "hping3", "--icmp", "--flood", "-q", "-c", str(FLOOD_COUNT), "198.18.0.1"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            t0 = time.monotonic()
            latencies, stopped, down_after = [], None, None
            others_down = set()
            while flood.poll() is None and time.monotonic() - t0 < FLOOD_S + 5:
                latencies.append(timed_stats(t))
                now = time.monotonic() - t0
                if stopped is None and now >= STOP_AT:
                    t.stop_nginx("be2")
                    stopped = time.monotonic() - t0
                if stopped is not None:
                    rows = t.backends("http")
                    others_down |= {be for be in ("be1", "be3")
                                    if rows[be]["health"]["state"] != "up"}
                    if down_after is None and rows["be2"]["health"]["state"] == "down":
                        down_after = time.monotonic() - t0 - stopped
                        lab.log(f"be2 marked down {down_after:.2f} s after nginx stopped")
                time.sleep(0.2)
            out, _ = flood.communicate(timeout=10)
        finally:
            if flood.poll() is None:
                flood.kill()
                flood.wait()
        flood_s = time.monotonic() - t0
        after = t.stats()

        lab.log(f"hping3: {out.strip()[-300:]!r}")
        m = re.search(r"(\d+) packets transmitted", out)
        offered = int(m.group(1)) if m else 0
        delivered = after["kernel_delivered"] - before["kernel_delivered"]
        limited = after["drop_kernel_rate_limited"] - before["drop_kernel_rate_limited"]
        ring_full = after["drop_kernel_ring_full"] - before["drop_kernel_ring_full"]
        lab.log(f"flood {flood_s:.1f} s: offered {offered} ({offered / flood_s:.0f}/s), "
                f"to the kernel {delivered} ({delivered / flood_s:.0f}/s), rate-limited {limited}, "
                f"kernel ring full {ring_full}, kernel budget exhausted "
                f"{after['kernel_budget_exhausted'] - before['kernel_budget_exhausted']}")
        worst = max(latencies)
        lab.log(f"show stats: {len(latencies)} calls during the flood, max {worst * 1000:.0f} ms, "
                f"median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms")
        lab.check(len(latencies) >= 20, f"only {len(latencies)} show stats calls in the flood")
        lab.check(worst < API_LIMIT_S, f"show stats took {worst:.2f} s under the flood")
        lab.check(offered > 0, f"hping3 reported no packets: {out[-300:]!r}")
        lab.check(limited > 0, "drop_kernel_rate_limited did not move during the flood")
        lab.check(stopped is not None, "the flood ended before be2 was stopped")
        lab.check(down_after is not None and down_after <= BOUND + 1.0,
                  f"be2 not marked down within {BOUND + 1.0:.1f} s of nginx stopping "
                  f"(after {down_after})")
        lab.check(not others_down, f"healthy backends went down during the flood: {others_down}")

        time.sleep(1)
        out = lab.ns_run(lab.NS_CLIENT, ["python3", "-c", PING, "198.18.0.1"], timeout=20).stdout
        lab.log(f"ping after the flood: {out.strip()!r}")
        lab.check(out.count("reply") == 3, f"ICMP echo after the flood: {out!r}")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

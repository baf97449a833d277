#!/usr/bin/env python3
"""SIGTERM stops sluiced with status 0 within 5 s, and a second start right after forwards again."""
import lab


def http_ok(t: lab.Test, n: int) -> None:
    res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", str(n))
    lab.check(res["failed"] == 0, f"{res['failed']} of {n} requests failed: {res['errors']}")


def body(t: lab.Test) -> None:
    t.lab_up()
    cfg = t.config("lab.toml")
    with t.sluiced(cfg) as d:
        http_ok(t, 10)
        elapsed = d.stop(timeout=5)
        lab.check(elapsed <= 5, f"took {elapsed:.1f}s to stop")
        stats = d.final_stats()
        lab.check(stats is not None, "no final 'sluiced: stats {...}' line at exit")
        lab.log(f"final stats line: {stats}")
    with t.sluiced(cfg):  # ports, EAL runtime dir and telemetry socket were released
        http_ok(t, 10)
        lab.log(f"second run stats: {t.stats()}")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

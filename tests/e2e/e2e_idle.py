#!/usr/bin/env python3
"""A keep-alive HTTP connection idle for 15 s (< 900 s established timeout) serves a 2nd request."""
import lab


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab.toml")):
        res = t.client("idle", "--url", f"http://{lab.VIP}/", "--idle", "15", timeout=60)
        lab.log(f"idle: {res}")
        lab.check(res.get("ok") is True, f"second request on the idle connection failed: "
                  f"{res.get('error')} (statuses {res.get('first_status')}, {res.get('second_status')})")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

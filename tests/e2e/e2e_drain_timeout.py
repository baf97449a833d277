#!/usr/bin/env python3
"""drain --timeout 2 resets a held-open connection at the deadline (RST to both ends, counted); disable --reset does it at once; show flows lists them.

Six idle keep-alive connections are held open (two per backend, round-robin). `show flows`
lists all six, filtered by VIP and backend and truncated by --limit. `drain http X --timeout 2`:
one second later X is still `draining (2 flows left, reset in …)` with its connections open; by
the deadline plus a little both are gone: the client's sockets saw an RST (ECONNRESET), X's
kernel has no established connection left, and `flows_reset_drain_timeout` counts 2.
`disable http Y --reset` resets Y's two at once (`flows_reset_disabled`). The third backend's
two connections are untouched and still open at the end.
"""
import time

import lab

VIP = "http"
HELD = 6


def established_on_80(be: str) -> int:
    """Established TCP connections to port 80 in backend namespace `be` (its kernel's view)."""
    out = lab.ns_run(f"sluice-{be}", ["ss", "-Htn", "state", "established", "( sport = :80 )"])
    return len([ln for ln in out.stdout.splitlines() if ln.strip()])


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab.toml")):
        hold = t.client_start("hold", "--url", f"http://{lab.VIP}/", "--count", str(HELD),
                              "--hold", "90")
        held = hold.next_json(timeout=60)
        lab.log(f"hold: {held['open']} open, per backend {held['backends']}")
        lab.check(held["open"] == HELD, f"only {held['open']} of {HELD} connections opened")
        by_backend = held["ports_by_backend"]
        lab.check(sorted(by_backend) == sorted(lab.BACKENDS)
                  and all(len(p) == 2 for p in by_backend.values()),
                  f"round-robin should give each backend 2 held connections: {by_backend}")

        # show flows: all, by VIP, by backend, truncated.
        flows = t.sluicectl_json("show", "flows")
        lab.check(len(flows["flows"]) == HELD and not flows["truncated"],
                  f"show flows lists {len(flows['flows'])} flows, want {HELD}: {flows}")
        ports = sorted(int(f["client"].rsplit(":", 1)[1]) for f in flows["flows"])
        lab.check(ports == held["local_ports"],
                  f"show flows client ports {ports} != the held sockets' {held['local_ports']}")
        lab.check(all(f["state"] == "established" and f["vip"] == VIP for f in flows["flows"]),
                  f"held flows should be established on {VIP}: {flows['flows']}")
        x, y = lab.BACKENDS[0], lab.BACKENDS[1]
        x_addr, y_addr = lab.backend_addr(x), lab.backend_addr(y)
        only_x = t.sluicectl_json("show", "flows", "--vip", VIP, "--backend", x_addr)["flows"]
        lab.check(sorted(int(f["client"].rsplit(":", 1)[1]) for f in only_x) == by_backend[x],
                  f"show flows --backend {x_addr}: {only_x}, want the ports {by_backend[x]}")
        one = t.sluicectl_json("show", "flows", "--limit", "1")
        lab.check(len(one["flows"]) == 1 and one["truncated"],
                  f"show flows --limit 1 should list 1 flow and say truncated: {one}")
        text = t.sluicectl_ok("show", "flows", "--vip", VIP)
        lab.check(text.count("established") == HELD, f"show flows table:\n{text}")

        before = t.stats()
        lab.check(established_on_80(x) == 2, f"{x} should hold 2 established connections")
        t_drain = time.monotonic()
        t.sluicectl_ok("drain", VIP, x_addr, "--timeout", "2")
        time.sleep(1)
        row = t.backends(VIP)[x]
        lab.check(row["state"] == "draining" and row["active"] == 2
                  and row["drain_deadline_in"] is not None,
                  f"1 s into a 2 s drain {x} should still have its 2 flows: {row}")
        line = next(ln for ln in t.sluicectl_ok("show", "backends", VIP).splitlines()
                    if f"{x_addr}:80" in ln)
        lab.check("draining (2 flows left, reset in" in line, f"show backends row: {line!r}")
        lab.check(established_on_80(x) == 2, f"{x} lost connections before the deadline")

        t_end = time.monotonic() + 8
        while t.backends(VIP)[x]["state"] != "drained":
            lab.check(time.monotonic() < t_end, f"{x} not drained 8 s after the deadline")
            time.sleep(0.1)
        took = time.monotonic() - t_drain
        lab.log(f"{x} drained {took:.2f} s after drain --timeout 2")
        lab.check(took >= 1.9, f"{x} was reset after {took:.2f} s, before its 2 s deadline")
        lab.check(established_on_80(x) == 0,
                  f"{x}'s kernel still has established connections after the reset")
        after = t.stats()
        reset = after["flows_reset_drain_timeout"] - before["flows_reset_drain_timeout"]
        lab.check(reset == 2, f"flows_reset_drain_timeout moved by {reset}, want 2")
        sent = after["resets_sent"] - before["resets_sent"]
        lab.check(sent == 4, f"resets_sent moved by {sent}, want 4 (client and backend side each)")

        # disable --reset: Y's flows go at once.
        out = t.sluicectl_ok("disable", VIP, y_addr, "--reset")
        lab.check("flows reset" in out, f"disable --reset printed {out.strip()!r}")
        t_end = time.monotonic() + 3
        while t.backends(VIP)[y]["active"] + t.backends(VIP)[y]["inactive"] > 0:
            lab.check(time.monotonic() < t_end, f"{y}'s flows not reset 3 s after disable --reset")
            time.sleep(0.1)
        lab.check(established_on_80(y) == 0, f"{y}'s kernel still has established connections")
        after2 = t.stats()
        lab.check(after2["flows_reset_disabled"] - after["flows_reset_disabled"] == 2,
                  f"flows_reset_disabled moved by "
                  f"{after2['flows_reset_disabled'] - after['flows_reset_disabled']}, want 2")
        z = lab.BACKENDS[2]
        lab.check(established_on_80(z) == 2, f"{z}'s connections should be untouched")
        left = t.sluicectl_json("show", "flows", "--vip", VIP)["flows"]
        lab.check(len(left) == 2, f"after the resets 2 flows should remain: {left}")

        done = hold.finish()
        lab.log(f"hold: {done['reset_by_peer']} reset by peer, closed_by_peer "
                f"{done['closed_by_peer']}, reset ports {done['reset_local_ports']}")
        want_reset = sorted(by_backend[x] + by_backend[y])
        lab.check(done["reset_local_ports"] == want_reset,
                  f"the client saw RSTs on {done['reset_local_ports']}, want exactly "
                  f"{want_reset} (the drained and the disabled backend's)")
        lab.check(done["closed_by_peer"] == 4, f"{done['closed_by_peer']} closed, want 4")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

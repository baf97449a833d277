#!/usr/bin/env python3
"""lc: with be1 holding 20 established connections, 60 new GETs avoid be1 and split between be2/be3.

be1 gets the 20 idle keep-alive connections while be2 and be3 have weight 0 (no new flows); a
reload then gives all three weight 1. IPVS overhead is active x 256 + inactive, so be1's 20
established flows (5120) outweigh the short TIME_WAIT flows the GETs leave on be2 and be3.
"""
import lab

HELD = 20
REQUESTS = 60


def lc_vip(weights: dict[str, int]) -> str:
    return lab.vip_toml(name="http-lc", scheduler="lc",
                        backends=[{"address": lab.backend_addr(be), "weight": w}
                                  for be, w in weights.items()])


def body(t: lab.Test) -> None:
    t.lab_up()
    cfg = t.write_config("lc.toml", [lc_vip({"be1": 1, "be2": 0, "be3": 0})])
    with t.sluiced(cfg) as d:
        hold = t.client_start("hold", "--url", f"http://{lab.VIP}/", "--count", str(HELD),
                              "--hold", "120")
        held = hold.next_json(timeout=60)
        lab.log(f"hold: {held['open']} open, {held['failed']} failed in {held['connect_s']}s; "
                f"per backend {held['backends']}; errors {held['errors']}")
        lab.check(held["open"] == HELD, f"only {held['open']} of {HELD} connections opened: "
                                        f"{held['errors']}")
        lab.check(held["backends"] == {"be1": HELD},
                  f"with be2/be3 at weight 0 the held connections went to {held['backends']}")
        s = t.stats()
        lab.log(f"stats with {HELD} held: flows_active {s['flows_active']}, "
                f"flows_created {s['flows_created']}")

        t.write_config("lc.toml", [lc_vip({"be1": 1, "be2": 1, "be3": 1})])
        d.reload()

        res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", str(REQUESTS))
        lab.log(f"http: {res['ok']} ok, {res['failed']} failed in {res['elapsed_s']}s; "
                f"per backend {res['backends']}; errors {res['errors']}")

        done = hold.finish()
        lab.log(f"hold: closed {done['open']} connections after {done['held_s']}s "
                f"({done['closed_by_peer']} had been closed by the server)")

        lab.check(res["failed"] == 0,
                  f"{res['failed']} of {REQUESTS} requests failed: {res['errors']}")
        lab.check(set(res["backends"]) <= set(lab.BACKENDS),
                  f"answers from unexpected servers: {res['backends']}")
        lab.check(res["backends"].get("be1", 0) == 0,
                  f"be1 holds {HELD} established connections yet got new ones: {res['backends']}")
        for be in ("be2", "be3"):
            n = res["backends"].get(be, 0)
            lab.check(n >= 20, f"{be} got {n} of {REQUESTS} new connections (want >= 20): "
                               f"{res['backends']}")
        lab.check(done["closed_by_peer"] == 0,
                  f"{done['closed_by_peer']} of the held connections died during the test")
        lab.log(f"stats: {t.stats()}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""wrr with weights 1:2:3: 600 GETs over new connections all succeed, shares 1/6, 2/6, 3/6 (±5 pp)."""
import lab

WEIGHTS = {"be1": 1, "be2": 2, "be3": 3}
REQUESTS = 600


def body(t: lab.Test) -> None:
    t.lab_up()
    vip = lab.vip_toml(name="http-wrr", scheduler="wrr",
                       backends=[{"address": lab.backend_addr(be), "weight": w}
                                 for be, w in WEIGHTS.items()])
    with t.sluiced(t.write_config("wrr.toml", [vip])):
        res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", str(REQUESTS))
        lab.log(f"http: {res['ok']} ok, {res['failed']} failed in {res['elapsed_s']}s; "
                f"per backend {res['backends']}; errors {res['errors']}")
        lab.check(res["failed"] == 0,
                  f"{res['failed']} of {REQUESTS} requests failed: {res['errors']}")
        lab.check(set(res["backends"]) <= set(WEIGHTS),
                  f"answers from unexpected servers: {res['backends']}")
        total_w = sum(WEIGHTS.values())
        exact = {be: REQUESTS * w // total_w for be, w in WEIGHTS.items()}
        for be, w in WEIGHTS.items():
            n = res["backends"].get(be, 0)
            share, want = 100.0 * n / REQUESTS, 100.0 * w / total_w
            lab.log(f"{be}: weight {w}, {n} requests = {share:.1f}% (want {want:.1f}% ± 5)")
            lab.check(abs(share - want) <= 5.0,
                      f"{be} (weight {w}) served {n} of {REQUESTS} = {share:.1f}%, want "
                      f"{want:.1f}% ± 5: {res['backends']}")
        counts = {be: res["backends"].get(be, 0) for be in WEIGHTS}
        lab.log(f"smooth wrr {'is exact' if counts == exact else 'is NOT exact'}: "
                f"{counts} (exact would be {exact})")
        lab.log(f"stats: {t.stats()}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

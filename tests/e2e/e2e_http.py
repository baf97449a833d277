#!/usr/bin/env python3
"""1000 HTTP GETs to the VIP over new connections all succeed and each backend serves >= 20%."""
import lab


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab.toml")):
        res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "1000")
        lab.log(f"http: {res['ok']} ok, {res['failed']} failed in {res['elapsed_s']}s; "
                f"per backend {res['backends']}; errors {res['errors']}")
        lab.check(res["failed"] == 0, f"{res['failed']} of 1000 requests failed: {res['errors']}")
        for be in lab.BACKENDS:
            n = res["backends"].get(be, 0)
            lab.check(n >= 200, f"{be} served {n} of 1000 requests (< 20%): {res['backends']}")
        lab.check(set(res["backends"]) == set(lab.BACKENDS),
                  f"answers from unexpected servers: {res['backends']}")
        lab.log(f"stats: {t.stats()}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

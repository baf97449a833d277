#!/usr/bin/env python3
"""200 UDP exchanges with the VIP, each from a new source port, all get their echo from a backend."""
import lab


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab.toml")):
        res = t.client("udp", "--addr", lab.VIP, "--port", "9000", "--count", "200")
        lab.log(f"udp: {res['ok']} ok, {res['failed']} failed, {res['source_ports']} source ports; "
                f"per backend {res['backends']}; errors {res['errors']}")
        lab.check(res["source_ports"] == 200, f"only {res['source_ports']} distinct source ports")
        lab.check(res["failed"] == 0, f"{res['failed']} of 200 exchanges failed: {res['errors']}")
        for be in lab.BACKENDS:
            lab.check(res["backends"].get(be, 0) > 0, f"{be} answered none: {res['backends']}")
        lab.log(f"stats: {t.stats()}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

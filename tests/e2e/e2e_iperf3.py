#!/usr/bin/env python3
"""A 3 s iperf3 TCP run from the client to the VIP's port 5201 succeeds with > 0 bit/s."""
import json

import lab


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab.toml")):
        res = lab.ns_run(lab.NS_CLIENT, ["iperf3", "-c", lab.VIP, "-p", "5201", "-t", "3", "-J",
                                          "--connect-timeout", "5000"], timeout=60, check_rc=False)
        try:
            doc = json.loads(res.stdout)
        except ValueError:
            raise lab.Failure(f"iperf3 exit {res.returncode}, no JSON: {res.stdout[-1000:]} {res.stderr[-1000:]}")
        lab.check("error" not in doc, f"iperf3 error: {doc.get('error')}")
        lab.check(res.returncode == 0, f"iperf3 exit status {res.returncode}")
        recv = doc["end"]["sum_received"]["bits_per_second"]
        sent = doc["end"]["sum_sent"]
        lab.log(f"iperf3: received {recv / 1e6:.1f} Mbit/s, sent {sent['bytes']} bytes, "
                f"retransmits {sent.get('retransmits')}")
        lab.check(recv > 0, f"received {recv} bit/s")
        lab.log(f"stats: {t.stats()}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

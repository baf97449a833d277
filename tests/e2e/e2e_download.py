#!/usr/bin/env python3
"""A 50 MiB download of /big.bin through the VIP arrives intact (sha256 equals the lab's)."""
import lab


def body(t: lab.Test) -> None:
    t.lab_up()
    want = t.big_sha256()
    with t.sluiced(t.config("lab.toml")):
        res = t.client("download", "--url", f"http://{lab.VIP}/big.bin", "--sha256", want,
                       timeout=120)
        lab.log(f"download: status {res.get('status')}, {res['bytes']} bytes in "
                f"{res['elapsed_s']}s ({res['mbit_s']} Mbit/s), sha256 {res['sha256']}")
        lab.check("error" not in res, f"download failed after {res['bytes']} bytes: {res.get('error')}")
        lab.check(res.get("status") == 200, f"HTTP status {res.get('status')}")
        lab.check(res["bytes"] == 50 * 1024 * 1024, f"got {res['bytes']} bytes, want {50 << 20}")
        lab.check(res["sha256"] == want, f"sha256 {res['sha256']} != lab's {want}")
        lab.log(f"stats: {t.stats()}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

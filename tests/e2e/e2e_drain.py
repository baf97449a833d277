#!/usr/bin/env python3
"""sluicectl drain: the draining backend's running download completes intact while 300 new GETs avoid it; drained after, enable brings it back.

A 200 MiB download of /big.bin, read at 32 MiB/s (about 6 s), runs from backend X (the one
`show backends` shows with an active flow). `drain http X` while it runs: X is `draining` with
its flow left, the 300 GETs go to the two others, the download's sha256 is right. Short
[timeouts] (2 s after FIN/close) let X's flow leave soon after: X is then `drained`.
`enable http X` makes it take new connections again.
"""
import re
import time

import lab

VIP = "http"
REQUESTS = 300
BIG_MIB = 200
RATE_MIB = 32
TIMEOUTS = {"tcp_fin_wait": 2, "tcp_time_wait": 2, "tcp_close": 2}



def body(t: lab.Test) -> None:
    t.lab_up(big_mib=BIG_MIB)
    sha = t.big_sha256()
    with t.sluiced(t.config("lab.toml", {"timeouts": TIMEOUTS})):
        dl = t.client_start("download", "--url", f"http://{lab.VIP}/big.bin", "--sha256", sha,
                            "--rate-mib", str(RATE_MIB))
        x = None
        t_end = time.monotonic() + 5
        while x is None and time.monotonic() < t_end:
            rows = t.backends(VIP)
            busy = [be for be, r in rows.items() if r["active"] > 0]
            lab.check(len(busy) <= 1, f"more than one backend has active flows: {rows}")
            x = busy[0] if busy else None
            if x is None:
                time.sleep(0.1)
        lab.check(x is not None, "no backend showed the download's active flow within 5 s")
        x_addr = lab.backend_addr(x)
        others = [be for be in lab.BACKENDS if be != x]
        lab.log(f"the download runs from {x} ({x_addr}); draining it")

        out = t.sluicectl_ok("drain", VIP, x_addr)
        lab.check(f"{x_addr}:80: up -> draining" in out,
                  f"drain printed {out.strip()!r}, want '{x_addr}:80: up -> draining (...)'")
        row = t.backends(VIP)[x]
        lab.check(row["state"] == "draining" and row["active"] + row["inactive"] >= 1,
                  f"after drain {x} is {row}, want state draining with the download's flow")
        text = t.sluicectl_ok("show", "backends", VIP)
        line = next((ln for ln in text.splitlines() if f"{x_addr}:80" in ln), "")
        lab.check(re.search(r"\bdraining \([1-9][0-9]* flows? left\)", line) is not None,
                  f"show backends row of {x}: {line!r}, want 'draining (N flows left)'")

        res = t.http_gets(REQUESTS)
        lab.check(res["backends"].get(x, 0) == 0,
                  f"draining {x} got {res['backends'].get(x)} of {REQUESTS} new connections: "
                  f"{res['backends']}")
        for be in others:
            n = res["backends"].get(be, 0)
            lab.check(abs(n - REQUESTS // 2) <= 10,
                      f"{be} got {n} of {REQUESTS}, want {REQUESTS // 2} ± 10: {res['backends']}")

        lab.check(dl.proc.poll() is None,
                  f"the download ended before the {REQUESTS} GETs did: not a drain under load")
        row = t.backends(VIP)[x]
        lab.check(row["state"] == "draining" and row["active"] >= 1,
                  f"{x} while its download still runs: {row}, want draining with 1 active flow")

        done = dl.next_json(timeout=60)
        lab.log(f"download: ok={done['ok']} {done['bytes']} bytes in {done['elapsed_s']}s "
                f"({done['mbit_s']} Mbit/s) sha256 {done['sha256'][:12]}… "
                f"{done.get('error', '')}")
        lab.check(done["ok"] and done["sha256"] == sha,
                  f"download from draining {x} failed or is corrupt: {done}")
        lab.check(done["elapsed_s"] >= 5, f"the download took only {done['elapsed_s']}s (< 5 s)")

        t_end = time.monotonic() + 20
        while True:
            row = t.backends(VIP)[x]
            if row["state"] == "drained":
                break
            lab.check(time.monotonic() < t_end,
                      f"{x} not drained 20 s after its download ended: {row}")
            time.sleep(0.25)
        lab.check(row["active"] + row["inactive"] == 0, f"{x} drained with flows: {row}")
        lab.log(f"{x} drained: {row}")

        out = t.sluicectl_ok("enable", VIP, x_addr)
        lab.check(f"{x_addr}:80:" in out and "-> up" in out,
                  f"enable printed {out.strip()!r}, want '{x_addr}:80: drained -> up'")
        lab.check(t.backends(VIP)[x]["state"] == "up", f"{x} is not up after enable")
        res = t.http_gets(30)
        lab.check(res["backends"].get(x, 0) >= 8,
                  f"{x} enabled again got {res['backends'].get(x, 0)} of 30: {res['backends']}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

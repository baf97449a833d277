#!/usr/bin/env python3
"""With the SYN proxy off, a spoofed SYN flood of >= 5k SYN/s for 60 s costs no real connection: 500 requests spread over it all succeed and keep-alive connections opened before it keep working.

The lab's default config (dpdk-config/lab.toml: 64k flows, default half-open lifetime) with the
http VIP, syn_proxy off. tests/e2e/syn_flood.py sends 6,000 SYN/s from random sources in
198.18.128.0/17 (a [[route]] sends the backscatter back to the client segment) for 60 s; meanwhile
the client makes one GET on a new connection every 0.115 s (500 in all), and three keep-alive
connections opened before the flood make a GET every 5 s. Each half-open spoofed flow holds a
table entry: at 120 s of half-open lifetime and no early drop the table fills within ~11 s and
real SYNs are refused as flow_table_full (issue 13: 27 of 300 failed). Printed: the flood rate
achieved, the flows_active peak, early drops and table-full refusals.
"""
import threading
import time

import lab

URL = f"http://{lab.VIP}/"
FLOOD_PREFIX = "198.18.128.0/17"
ROUTE = f'[[route]]\nprefix = "{FLOOD_PREFIX}"\nvia = "198.18.0.2"\n'  # backscatter to the client
FLOOD_RATE = 6000
FLOOD_S = 60
REQUESTS = 500
KEEPALIVES = 3


def body(t: lab.Test) -> None:
    t.lab_up()
    vip = lab.vip_toml(name="http", scheduler="rr", syn_proxy="off",
                       backends=[lab.backend_addr(be) for be in lab.BACKENDS])
    cfg = t.write_config("syn-flood-noproxy.toml", [vip, ROUTE])
    with t.sluiced(cfg):
        t.http_gets(3)
        keep = [t.client_start("keepalive", "--url", URL, "--interval", "5", "--hold", "150")
                for _ in range(KEEPALIVES)]
        for k in keep:
            first = k.next_json(timeout=20)
            lab.check(first.get("ok") == 1, f"keep-alive connection did not open: {first}")
        base = t.stats()
        flood = t.client_start("--dst", lab.VIP, "--dport", "80", "--prefix", FLOOD_PREFIX,
                               "--count", str(FLOOD_RATE * FLOOD_S), "--duration", str(FLOOD_S),
                               "--rate", str(FLOOD_RATE), "--announce",
                               # every SYN a new tuple: each one opens a flow
                               "--variety", str(FLOOD_RATE * FLOOD_S), script="syn_flood.py")
        started = flood.next_json(timeout=120)  # the packets are built before the clock starts
        lab.check(started.get("event") == "started", f"syn_flood.py: {started}")
        peak = {"flows_active": 0}
        stop = threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak["flows_active"] = max(peak["flows_active"], t.stats()["flows_active"])
                stop.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        time.sleep(1)  # the flood is under way
        every = (FLOOD_S - 2.5) / REQUESTS
        res = t.client("paced", "--url", URL, "--every", f"{every:.4f}", "--duration",
                       str(FLOOD_S - 2.5), "--timeout", "3", timeout=FLOOD_S + 120)
        fl = flood.finish(timeout=FLOOD_S + 30)
        stop.set()
        sampler.join()
        s = t.stats()
        failures = [entry for entry in res["log"] if entry[2]]
        fig = {"flood_sent": fl["sent"], "flood_pps": fl["pps"], "flood_s": fl["seconds"],
               "flows_active_peak": peak["flows_active"],
               "flows_early_dropped": s.get("flows_early_dropped", 0)
               - base.get("flows_early_dropped", 0),
               "drop_flow_table_full": s["drop_flow_table_full"] - base["drop_flow_table_full"],
               "flows_created": s["flows_created"] - base["flows_created"]}
        lab.log(f"flood: {fig}")
        lab.log(f"requests: {res['ok']} ok, {res['failed']} failed of {res['requests']}; "
                f"first failures {failures[:5]}")
        time.sleep(5.5)  # every keep-alive connection makes one more GET after the flood
        kept = [k.finish(timeout=20) for k in keep]
        for k in kept:
            lab.log(f"keep-alive: {k['ok']} ok, {k['failed']} failed over {k['held_s']}s"
                    f"{', error ' + k['error'] if k.get('error') else ''}")
        lab.check(fig["flows_created"] >= 60000,
                  f"the flood opened only {fig['flows_created']} flows: not enough to fill the table")
        lab.check(fl["pps"] >= 5000 and fl["seconds"] >= FLOOD_S - 1,
                  f"the flood reached only {fl['pps']} SYN/s over {fl['seconds']} s")
        lab.check(res["requests"] >= REQUESTS - 5, f"only {res['requests']} requests were made")
        lab.check(res["failed"] == 0, f"{res['failed']} of {res['requests']} requests failed "
                  f"under the flood (drop_flow_table_full +{fig['drop_flow_table_full']}): "
                  f"{failures[:5]}")
        for k in kept:
            lab.check(k["failed"] == 0 and k["ok"] >= (FLOOD_S // 5),
                      f"a keep-alive connection stopped working: {k}")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""A full flow table evicts closed flows for new ones (early drop): with capacity = 1024, 40 held connections, then 1,000 + 1,500 + 100 short connections all succeed and the 40 held ones survive.

[flows] capacity = 1024 (one worker). 40 idle keep-alive connections are held open (established:
never evicted) and two more make a GET every 5 s; then 1,000 short connections, each leaving a TIME_WAIT flow for 120 s
([timeouts] tcp_time_wait default), fill the table; 1,500 more and 100 more must still succeed,
each new flow evicting a closed one (flows_early_dropped counts them). Before issue 13 a full
table evicted nothing: the 1,500 failed as flow_table_full, and so did 99 of the 100.
"""
import lab

URL = f"http://{lab.VIP}/"
CAPACITY = 1024
HELD = 40
CHUNK = 50


def batch(t: lab.Test, count: int, what: str) -> dict:
    """`count` GETs over new connections, in chunks of CHUNK; stops at the first chunk with a
    failure (a refused SYN costs a 2 s timeout: 1,500 of them would take 50 minutes)."""
    base = t.stats()
    fig = {"ok": 0, "failed": 0, "not_tried": 0, "elapsed_s": 0.0}
    errors: dict[str, int] = {}
    done = 0
    while done < count:
        n = min(CHUNK, count - done)
        res = t.client("http", "--url", URL, "--count", str(n), "--timeout", "2",
                       timeout=n * 3 + 30)
        done += n
        fig["ok"] += res["ok"]
        fig["failed"] += res["failed"]
        fig["elapsed_s"] = round(fig["elapsed_s"] + res["elapsed_s"], 3)
        for e, k in res["errors"].items():
            errors[e] = errors.get(e, 0) + k
        if res["failed"]:
            fig["not_tried"] = count - done
            break
    s = t.stats()
    fig.update(flows_early_dropped=s.get("flows_early_dropped", 0)
               - base.get("flows_early_dropped", 0),
               drop_flow_table_full=s["drop_flow_table_full"] - base["drop_flow_table_full"],
               flows_active=s["flows_active"])
    lab.log(f"{what}: {fig}; errors {errors}")
    return fig


def body(t: lab.Test) -> None:
    t.lab_up()
    vip = lab.vip_toml(name="http", scheduler="rr",
                       backends=[lab.backend_addr(be) for be in lab.BACKENDS])
    cfg = t.write_config("table-pressure.toml", [vip], {"flows": {"capacity": CAPACITY}})
    with t.sluiced(cfg):
        t.http_gets(3)
        hold = t.client_start("hold", "--url", URL, "--count", str(HELD), "--hold", "400")
        held = hold.next_json(timeout=60)
        lab.check(held["open"] == HELD, f"only {held['open']} of {HELD} held connections opened: "
                  f"{held['errors']}")
        # Two more that make a GET every 5 s: established flows under pressure keep working.
        active = [t.client_start("keepalive", "--url", URL, "--interval", "5", "--hold", "400")
                  for _ in range(2)]
        for k in active:
            lab.check(k.next_json(timeout=20).get("ok") == 1, "a keep-alive connection failed")
        figs = []
        for n in (1000, 1500, 100):
            figs.append(batch(t, n, f"{n} short connections"))
            if figs[-1]["failed"]:
                break  # the property failed; the next batches would only add 2 s timeouts
        done = hold.finish(timeout=30)
        kept = [k.finish(timeout=20) for k in active]
        for k in kept:
            lab.log(f"keep-alive: {k['ok']} ok, {k['failed']} failed over {k['held_s']}s"
                    f"{', error ' + k['error'] if k.get('error') else ''}")
        lab.log(f"held: {done['open']} open, {done['closed_by_peer']} closed by the peer after "
                f"{done['held_s']}s")
        failed = [f"{n}: {f['failed']} failed, {f['not_tried']} not tried after that "
                  f"(flow_table_full +{f['drop_flow_table_full']})"
                  for n, f in zip((1000, 1500, 100), figs) if f["failed"]]
        lab.check(not failed, "short connections failed under a full table: " + "; ".join(failed))
        lab.check(all(k["failed"] == 0 for k in kept), f"a keep-alive connection failed: {kept}")
        # (nginx closes idle keep-alive connections after 120 s: the test takes less when it passes)
        lab.check(done["closed_by_peer"] == 0,
                  f"{done['closed_by_peer']} of the {HELD} held connections died")
        evicted = sum(f["flows_early_dropped"] for f in figs)
        lab.check(evicted > 0, "flows_early_dropped did not move although the table was full")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

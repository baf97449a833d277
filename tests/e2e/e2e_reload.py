#!/usr/bin/env python3
"""sluicectl reload: adding be4 and removing be3 keeps a live keep-alive connection working, new connections reach be4 and never be3; a broken config is refused (exit 1, FILE:LINE:COLUMN) and the old one still serves.

The lab runs four backends (LAB_BACKENDS=4). The `http` VIP starts as rr over be1..be3; a
keep-alive connection to be1 (rr's first pick) sends a GET every second throughout. The config
file is rewritten to be1, be2, be4 and `sluicectl reload` applies it; later it is rewritten with
`weight = "x"` and the reload must be refused without touching what runs.
"""
import re
import time

import lab

VIP = "http"


def http_vip(backends: list[str], weight=None) -> str:
    return lab.vip_toml(name=VIP, scheduler="rr",
                        backends=[{"address": lab.backend_addr(be),
                                   **({"weight": weight} if weight is not None else {})}
                                  for be in backends])



def body(t: lab.Test) -> None:
    t.lab_up(backends=4)
    cfg = t.write_config("reload.toml", [http_vip(["be1", "be2", "be3"])])
    with t.sluiced(cfg):
        ka = t.client_start("keepalive", "--url", f"http://{lab.VIP}/", "--interval", "1",
                            "--hold", "120")
        first = ka.next_json(timeout=15)
        lab.check(first["backends"] == {"be1": 1},
                  f"the keep-alive connection's first answer came from {first['backends']}, "
                  f"want be1 (rr's first pick)")
        res = t.http_gets(30, {"be1", "be2", "be3"})
        lab.check(all(res["backends"].get(be, 0) >= 9 for be in ("be1", "be2", "be3")),
                  f"rr over be1..be3: {res['backends']}")

        t.write_config("reload.toml", [http_vip(["be1", "be2", "be4"])])
        rc, out, err = t.sluicectl("reload")
        lab.check(rc == 0, f"sluicectl reload of a good config: exit {rc}, stderr {err.strip()}")
        m = re.search(r"reloaded (\S+): generation (\d+)", out)
        lab.check(m is not None and m.group(1) == str(cfg),
                  f"reload printed {out.strip()!r}, want 'reloaded {cfg}: generation N'")
        generation = int(m.group(2))
        rows = t.backends(VIP)
        lab.check(sorted(rows) == ["be1", "be2", "be4"],
                  f"show backends after the reload: {sorted(rows)}, want be1 be2 be4")

        time.sleep(2)  # two more GETs on the long-lived connection after the reload
        lab.check(ka.proc.poll() is None, "the keep-alive client died at the reload")
        res = t.http_gets(60, {"be1", "be2", "be4"})
        lab.check(res["backends"].get("be4", 0) >= 18,
                  f"be4 got {res['backends'].get('be4', 0)} of 60 new connections (want >= 18): "
                  f"{res['backends']}")
        spread_ok = dict(res["backends"])

        t.write_config("reload.toml", [http_vip(["be1", "be2", "be4"], weight="x")])
        text = cfg.read_text()
        lab.check('weight = "x"' in text, "the broken config does not hold weight = \"x\"")
        rc, out, err = t.sluicectl("reload")
        lab.check(rc == 1, f"sluicectl reload of a broken config: exit {rc} (want 1); "
                           f"stdout {out.strip()!r} stderr {err.strip()!r}")
        where = re.findall(rf"{re.escape(str(cfg))}:(\d+):(\d+): ", err)
        lab.check(len(where) >= 1,
                  f"the refusal names no {cfg}:LINE:COLUMN: stderr {err.strip()!r}")
        lines = text.splitlines()
        for line_no, col in where:
            ln = int(line_no)
            lab.check(1 <= ln <= len(lines) and "weight" in lines[ln - 1],
                      f"{cfg}:{line_no}:{col} does not point at a weight line: "
                      f"{lines[ln - 1] if 1 <= ln <= len(lines) else '(no such line)'!r}")
        lab.check("weight" in err, f"the refusal does not mention the weight: {err.strip()!r}")

        rows = t.backends(VIP)
        lab.check(sorted(rows) == ["be1", "be2", "be4"] and
                  all(r["weight"] == 1 and r["state"] == "up" for r in rows.values()),
                  f"show backends after the refused reload: {rows}")
        res = t.http_gets(30, {"be1", "be2", "be4"})
        lab.check(all(res["backends"].get(be, 0) == 10 for be in ("be1", "be2", "be4")),
                  f"after the refused reload 30 GETs spread {res['backends']}, want 10 each "
                  f"(as before: {spread_ok})")

        t.write_config("reload.toml", [http_vip(["be1", "be2", "be4"])])
        out = t.sluicectl_ok("reload")
        m2 = re.search(r"generation (\d+)", out)
        lab.check(m2 is not None and int(m2.group(1)) == generation + 1,
                  f"a good reload after the refused one printed {out.strip()!r}; want "
                  f"generation {generation + 1} (the refused one must not count)")

        time.sleep(3)  # and a few more after the refused and the last reload
        done = ka.finish()
        lab.log(f"keep-alive: {done}")
        lab.check(done["failed"] == 0 and done["stopped_by"] == "stdin",
                  f"the long-lived connection failed: {done}")
        lab.check(done["backends"] == {"be1": done["ok"]} and done["ok"] >= 5,
                  f"the long-lived connection's answers: {done['backends']} ({done['ok']} GETs)")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

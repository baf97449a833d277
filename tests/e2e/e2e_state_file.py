#!/usr/bin/env python3
"""[control] state_file: a drain and a weight set with sluicectl survive a restart and a SIGHUP reload (the drained backend answers none of the new requests, the weight shapes the spread); a corrupted state file is logged and sluiced serves the configuration alone.

The `http` VIP is wrr over be1..be3 at weight 1 with a state file in the test's work directory.
`drain http be2` and `set weight http be3 3`: the file (mode 0600) holds both, `show state`
shows them. sluiced is stopped and started again on the same files: be2 is still drained (none
of 80 new GETs reach it) and be3 still has weight 3 (be1:be3 = 1:3 of the GETs); the same after
a SIGHUP. Then the state file is overwritten with garbage and sluiced started again: the log
names the file and the problem, every backend is up at weight 1 (GETs 1:1:1), `show state`
reports the problem and a reload leaves the garbage in place.
"""
import json
import os
import re
import stat

import lab

VIP = "http"
BE2 = lab.backend_addr("be2")
BE3 = lab.backend_addr("be3")
REQUESTS = 80
GARBAGE = '{"version": 1, "vips": [ this is not json\n'


def http_vip() -> str:
    return lab.vip_toml(name=VIP, scheduler="wrr",
                        backends=[lab.backend_addr(be) for be in lab.BACKENDS])


def check_spread(res: dict, want: dict[str, int], slack: int = 3) -> None:
    for be, n in want.items():
        got = res["backends"].get(be, 0)
        lab.check(abs(got - n) <= slack,
                  f"{be} answered {got} of {REQUESTS} GETs, want {n} ± {slack}: {res['backends']}")


def check_kept(t: lab.Test, when: str) -> None:
    """be2 drained and be3 at weight 3: in show backends and in where new GETs go."""
    rows = t.backends(VIP)
    lab.check(rows["be2"]["state"] in ("draining", "drained"),
              f"{when}: be2 is {rows['be2']['state']}, want drained")
    lab.check(rows["be3"]["weight"] == 3 and rows["be3"]["configured_weight"] == 3,
              f"{when}: be3 is {rows['be3']}, want weight 3")
    lab.check(rows["be1"]["weight"] == 1, f"{when}: be1 is {rows['be1']}, want weight 1")
    res = t.http_gets(REQUESTS, {"be1", "be3"})
    lab.check(res["backends"].get("be2", 0) == 0,
              f"{when}: drained be2 answered {res['backends'].get('be2')} GETs")
    check_spread(res, {"be1": REQUESTS // 4, "be3": REQUESTS * 3 // 4})


def check_file(path, when: str) -> dict:
    st = os.stat(path)
    lab.check(stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == os.geteuid(),
              f"{when}: {path} has mode {oct(stat.S_IMODE(st.st_mode))} uid {st.st_uid}, "
              f"want 0600 and {os.geteuid()}")
    state = json.loads(path.read_text())
    lab.check(state.get("version") == 1, f"{when}: state file version {state.get('version')}")
    backends = {b["address"]: b for v in state["vips"] if v.get("name") == VIP
                for b in v["backends"]}
    lab.check(backends.get(BE2, {}).get("admin") == "draining",
              f"{when}: the state file does not hold be2 draining: {state}")
    lab.check(backends.get(BE3, {}).get("weight") == 3,
              f"{when}: the state file does not hold be3 weight 3: {state}")
    return state


def body(t: lab.Test) -> None:
    t.lab_up()
    state_path = t.work_dir / "state.json"
    state_path.unlink(missing_ok=True)
    cfg = t.write_config("state.toml", [http_vip()],
                         tables={"control": {"state_file": str(state_path)}})

    with t.sluiced(cfg) as d:
        lab.check("does not exist yet" in d.log_text(),
                  "the first start did not log that there is no state file yet")
        res = t.http_gets(30)
        check_spread(res, {be: 10 for be in lab.BACKENDS}, slack=1)
        t.sluicectl_ok("drain", VIP, BE2)
        out = t.sluicectl_ok("set", "weight", VIP, BE3, "3")
        lab.check("weight 1 -> 3" in out, f"set weight printed {out.strip()!r}")
        written = check_file(state_path, "after the changes")
        text = t.sluicectl_ok("show", "state")
        lab.check(str(state_path) in text, f"show state does not name the file: {text!r}")
        lab.check(re.search(rf"{re.escape(VIP)}\s+{re.escape(BE2)}:80\s+draining", text),
                  f"show state has no 'http {BE2}:80 draining' row: {text!r}")
        lab.check(re.search(rf"{re.escape(VIP)}\s+{re.escape(BE3)}:80\s+up\s+3", text),
                  f"show state has no 'http {BE3}:80 up 3' row: {text!r}")
        shown = t.sluicectl_json("show", "state")
        lab.check(shown["file"] == str(state_path) and shown["state"]["vips"] == written["vips"],
                  f"show state --json {shown} differs from the file {written}")
        check_kept(t, "before the restart")

    with t.sluiced(cfg) as d:
        lab.check("state: applied" in d.log_text(), "the restart did not log 'state: applied'")
        check_kept(t, "after the restart")
        d.reload()
        check_kept(t, "after a SIGHUP reload")
        check_file(state_path, "after the reload")
        shown = t.sluicectl_json("show", "state")
        lab.check(shown["state"]["vips"] == written["vips"],
                  f"show state after restart and reload: {shown}, want {written['vips']}")

    state_path.write_text(GARBAGE)
    with t.sluiced(cfg) as d:
        log_text = d.log_text()
        line = next((ln for ln in log_text.splitlines() if f"state: {state_path}:" in ln), "")
        lab.check("not valid JSON" in line and "configuration alone" in line,
                  f"no clear log line about the corrupted {state_path}: {line!r}")
        rows = t.backends(VIP)
        lab.check(all(r["state"] == "up" and r["weight"] == 1 for r in rows.values()),
                  f"with a corrupted state file the backends are {rows}, want all up at 1")
        res = t.http_gets(60)
        check_spread(res, {be: 20 for be in lab.BACKENDS}, slack=1)
        shown = t.sluicectl_json("show", "state")
        lab.check("not valid JSON" in shown.get("problem", ""),
                  f"show state does not report the problem: {shown}")
        d.reload()
        lab.check(state_path.read_text() == GARBAGE,
                  "a reload overwrote the corrupted state file before any operator change")
    lab.check(state_path.read_text() == GARBAGE,
              "sluiced overwrote the corrupted state file without an operator change")
    t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

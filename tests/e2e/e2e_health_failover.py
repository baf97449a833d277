#!/usr/bin/env python3
"""Health checks: be2's nginx stopped at second 5 leaves scheduling within fall x interval + timeout, after which no request fails; restarted at second 12 it serves again after rise successes.

A client opens a new connection every 10 ms for 20 s to a VIP probed with HTTP GET /health
every 1 s (timeout 0.5 s, rise 2, fall 3). At second 5 nginx in sluice-be2 is stopped (its port
then refuses connections); the bound is fall x interval + timeout = 3.5 s: no connection after
5 + 3.5 s (plus 0.5 s for clocks and the control loop) may reach be2 or fail. At second 12 nginx
starts again: be2 answers again within rise x interval + interval + slack, and keeps getting its
share. `show backends` shows be2's health with the last check; the metrics count the two state
changes and the checks by result; sluiced logs one line per transition with the reason.
"""
import time

import lab

INTERVAL, TIMEOUT, RISE, FALL = 1.0, 0.5, 2, 3
STOP_AT, START_AT, DURATION = 5.0, 12.0, 20.0
SLACK = 0.5
BOUND = FALL * INTERVAL + TIMEOUT


def body(t: lab.Test) -> None:
    t.lab_up()
    health = {"type": "http", "http_path": "/health", "interval": "1s", "timeout": "500ms",
              "rise": RISE, "fall": FALL}
    cfg = t.write_config("health.toml", [lab.vip_toml(
        name="http", backends=[lab.backend_addr(be) for be in lab.BACKENDS], health=health)])
    with t.sluiced(cfg) as daemon:
        # Every backend up by its probes first (the first probes are spread over one interval).
        t_end = time.monotonic() + 10
        while True:
            rows = t.backends("http")
            if all(r["health"]["state"] == "up" and r["health"].get("last_result") == "ok"
                   for r in rows.values()):
                break
            lab.check(time.monotonic() < t_end, f"backends not all probed up within 10 s: {rows}")
            time.sleep(0.2)
        lab.log("all three backends probed up")

        paced = t.client_start("paced", "--url", f"http://{lab.VIP}/", "--every", "0.01",
                               "--duration", str(DURATION), "--timeout", "2")
        paced.next_json(timeout=10)
        t0 = time.monotonic()
        time.sleep(max(0.0, t0 + STOP_AT - time.monotonic()))
        t.stop_nginx("be2")
        stopped = time.monotonic() - t0
        time.sleep(max(0.0, t0 + STOP_AT + BOUND + 1 - time.monotonic()))
        row = t.backends("http")["be2"]
        lab.check(row["health"]["state"] == "down",
                  f"be2 not down {BOUND + 1:.1f} s after nginx stopped: {row['health']}")
        text = t.sluicectl_ok("show", "backends", "http")
        line = next(ln for ln in text.splitlines() if lab.backend_addr("be2") + ":80" in ln)
        lab.check(" down (" in line, f"show backends row of be2: {line!r}, want 'down (...)'")
        time.sleep(max(0.0, t0 + START_AT - time.monotonic()))
        t.start_nginx("be2")
        started = time.monotonic() - t0
        res = paced.finish(timeout=DURATION + 30)

        log = res["log"]
        lab.log(f"paced: {res['requests']} connections, {res['ok']} ok, {res['failed']} failed, "
                f"per backend {res['backends']}; nginx stopped at {stopped:.2f} s, "
                f"started at {started:.2f} s")
        lab.check(res["requests"] >= DURATION / 0.01 * 0.5,
                  f"only {res['requests']} connections in {DURATION} s")
        cutoff = stopped + BOUND + SLACK
        late_be2 = [e for e in log if cutoff <= e[0] < started and e[1] == "be2"]
        lab.check(not late_be2, f"be2 still got connections after {cutoff:.2f} s: {late_be2[:5]}")
        failures = [e for e in log if e[2]]
        late_failures = [e for e in failures if e[0] >= cutoff]
        lab.log(f"failures: {len(failures)}, first {failures[:1]}, last {failures[-1:]}")
        lab.check(not late_failures,
                  f"{len(late_failures)} requests failed after {cutoff:.2f} s: {late_failures[:5]}")
        back = [e for e in log if e[0] >= started and e[1] == "be2"]
        lab.check(bool(back), "be2 never served again after nginx restarted")
        rejoin = back[0][0] - started
        lab.log(f"be2 served again {rejoin:.2f} s after nginx started "
                f"(rise {RISE} x interval {INTERVAL} s)")
        lab.check(rejoin <= RISE * INTERVAL + INTERVAL + SLACK + TIMEOUT,
                  f"be2 rejoined only {rejoin:.2f} s after restarting")
        tail = [e for e in log if e[0] >= started + rejoin + 1]
        share = sum(1 for e in tail if e[1] == "be2") / max(1, len(tail))
        lab.check(share > 0.2, f"be2 got only {share:.0%} of the connections after rejoining")

        metrics, _ = lab.scrape_metrics()
        be2 = lab.backend_addr("be2") + ":80"
        changes = lab.metric_total(metrics, "sluice_backend_state_changes_total", vip="http",
                                   backend=be2)
        lab.check(changes == 2, f"sluice_backend_state_changes_total of be2 is {changes}, want 2")
        refused = lab.metric_total(metrics, "sluice_health_checks_total", vip="http",
                                   backend=be2, result="refused")
        lab.check(refused >= FALL, f"be2's refused checks: {refused}, want >= {FALL}")
        logtext = daemon.log_text()
        for want in ("up -> down (3 consecutive failures", "down -> up (2 consecutive"):
            lab.check(want in logtext, f"sluiced's log lacks {want!r}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""Sustained churn: 3 x 25 s of wrk with `Connection: close` at full rate, back to back, have zero errors, the last period at >= 80% of the first's rate and no refusal counter moving, with three backends (rr) and with one backend.

Each new connection takes a full-NAT (local address, local port, backend address, backend port)
tuple; with `Connection: close` the backend closes first and keeps the tuple in TIME_WAIT for 60 s.
A tuple reused before then meets a backend that refuses the new SYN (the client retries after
1 s, 3 s, ...): the rate collapses in the second period (issue 13: ~7,200/s, then 24/s).
`reuse_after` keeps a tuple resting that long, so the pool must hold rate × 60 s tuples per
backend: the lab's 16 addresses (dpdk-config/lab.toml) hold ~17,000 new connections/s per
backend, and a quiet 2-vCPU VM drives ~20,000/s to one backend, which then meets
`local_port_exhausted` by design (counted and alerted: SluiceLocalTuplesLow). The test sizes the
pool as an operator would for that rate — 64 IPv4 addresses, 198.18.1.128/26, ~68,000/s per
backend — so it judges the load balancer's steady state, not the lab's tuple budget. The one-backend VIP comes second, by reload (not a restart), so that the tuples of
the first run are still remembered: one backend sees the whole rate on one tuple space.
Per period: wrk's requests/s, its socket errors (connect, read, write, timeout) and non-2xx/3xx
answers, and the LB's refusal counters (drop_local_port_exhausted, drop_flow_table_full, ...).
"""
import os
import re
import time

import lab

URL = f"http://{lab.VIP}/"
PERIODS = 3
PERIOD_S = 25
CONNECTIONS = 16
REFUSALS = ("drop_local_port_exhausted", "drop_flow_table_full", "drop_no_local_address",
            "drop_exception_ring_full", "drop_ring_full", "drop_tx_full", "drop_syn_not_new")


def wrk_period() -> dict:
    """One wrk run of PERIOD_S seconds in the client namespace; its figures, parsed."""
    res = lab.ns_run(lab.NS_CLIENT, ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{PERIOD_S}s",
                                     "--timeout", "5s", "-H", "Connection: close", URL],
                     timeout=PERIOD_S + 30, check_rc=False)
    out = res.stdout
    lab.check(res.returncode == 0, f"wrk: exit {res.returncode}: {out[-1000:]} {res.stderr[-500:]}")
    m = re.search(r"(\d+) requests in", out)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    lab.check(m is not None and rate is not None, f"wrk printed no totals:\n{out}")
    fig = {"requests": int(m.group(1)), "rate": float(rate.group(1)),
           "connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        fig.update(connect=int(sock.group(1)), read=int(sock.group(2)),
                   write=int(sock.group(3)), timeout=int(sock.group(4)))
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non:
        fig["non2xx"] = int(non.group(1))
    return fig


def syn_retransmits() -> int:
    """The client kernel's SYN retransmissions (TcpExt TCPSynRetrans): a tuple collision at a
    backend shows as retransmitted SYNs; a busy machine as a lower rate without them."""
    lines = lab.ns_run(lab.NS_CLIENT, ["cat", "/proc/net/netstat"]).stdout.splitlines()
    for names, values in zip(lines[0::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split()[1:], values.split()[1:])).get("TCPSynRetrans", 0))
    return 0


def cpu_times() -> list[int]:
    """The machine's CPU time split (/proc/stat "cpu": user nice system idle iowait irq softirq
    steal), in clock ticks."""
    with open("/proc/stat") as f:
        return [int(v) for v in f.readline().split()[1:9]]


def time_wait(ns: str) -> int:
    """TIME_WAIT sockets in a namespace (the first line of `ss -s`'s TCP summary)."""
    out = lab.ns_run(ns, ["ss", "-s"]).stdout
    m = re.search(r"timewait (\d+)", out)
    return int(m.group(1)) if m else -1


def churn(t: lab.Test, what: str) -> tuple[list[str], bool]:
    """PERIODS wrk periods back to back; returns the problems found (empty: the property held)
    and whether any period showed a collision's signature (client SYN retransmits, wrk errors,
    refusals)."""
    problems, periods, signature = [], [], False
    for i in range(PERIODS):
        before, syn_before, cpu_before = t.stats(), syn_retransmits(), cpu_times()
        fig = wrk_period()
        s = t.stats()
        fig["syn_retransmits"] = syn_retransmits() - syn_before
        fig["load"] = os.getloadavg()[0]
        spent = [a - b for a, b in zip(cpu_times(), cpu_before)]
        fig["idle_pct"] = 100 * (spent[3] + spent[4]) / max(1, sum(spent))
        fig["steal_pct"] = 100 * spent[7] / max(1, sum(spent))
        fig["tw"] = [time_wait(f"sluice-{be}") for be in lab.BACKENDS] + [time_wait(lab.NS_CLIENT)]
        fig["refusals"] = {k: s.get(k, 0) - before.get(k, 0) for k in REFUSALS
                           if s.get(k, 0) != before.get(k, 0)}
        fig["early_dropped"] = s.get("flows_early_dropped", 0) - before.get("flows_early_dropped", 0)
        periods.append(fig)
        lab.log(f"{what}: period {i + 1}: {fig['rate']:.0f} conn/s ({fig['requests']} requests); "
                f"errors connect {fig['connect']} read {fig['read']} write {fig['write']} timeout "
                f"{fig['timeout']} non-2xx {fig['non2xx']}; refusals {fig['refusals'] or 0}; "
                f"early drops {fig['early_dropped']}; flows_active {s['flows_active']}; client SYN "
                f"retransmits {fig['syn_retransmits']}; load average {fig['load']:.1f}; CPU idle "
                f"{fig['idle_pct']:.0f} % steal {fig['steal_pct']:.0f} %; TIME_WAIT sockets "
                f"(backends, client) {fig['tw']}")
        errors = sum(fig[k] for k in ("connect", "read", "write", "timeout", "non2xx"))
        signature = signature or bool(errors or fig["refusals"] or fig["syn_retransmits"])
        if errors:
            problems.append(f"{what}: period {i + 1}: {errors} wrk errors")
        if fig["refusals"]:
            problems.append(f"{what}: period {i + 1}: refusals {fig['refusals']}")
    rates = [p["rate"] for p in periods]
    lab.log(f"{what}: rates per period (conn/s): {' | '.join(f'{r:.0f}' for r in rates)}")
    if rates[-1] < 0.8 * rates[0]:
        problems.append(f"{what}: last period {rates[-1]:.0f} conn/s < 80% of the first's "
                        f"{rates[0]:.0f}")
    return problems, signature


ATTEMPTS = 3


def judged_churn(t: lab.Test, what: str) -> list[str]:
    """churn(), judged. A rate that fell with no collision's signature at all is the shared VM
    (steal and CPU contention move these rates by 20-40 % from one minute to the next; CI saw a
    third period at 57 % of the first with 24 % steal, and 80 % with 11 %): the three periods run
    again, back to back (so the tuples' history only grows longer), up to ATTEMPTS times, and the
    property holds when one attempt holds. A collision cannot pass that way: it leaves SYN
    retransmits, errors or refusals (a signature ends the retries) and only gets worse with time.
    """
    problems: list[str] = []
    for attempt in range(ATTEMPTS):
        label = what if attempt == 0 else f"{what}, attempt {attempt + 1}"
        problems, signature = churn(t, label)
        if not problems or signature:
            return problems
        if attempt + 1 < ATTEMPTS:
            lab.log(f"{'; '.join(problems)} — without a SYN retransmit, error or refusal: "
                    f"measuring the three periods once more")
    return problems


def sized_pool(cfg):
    """The written config with the servers port's IPv4 pool widened from /28 to /26."""
    text = cfg.read_text()
    wider = text.replace('"198.18.1.128/28"', '"198.18.1.128/26"')
    lab.check(wider != text, "lab.toml's servers port has no 198.18.1.128/28 pool to widen")
    cfg.write_text(wider)
    return cfg


def body(t: lab.Test) -> None:
    t.lab_up()
    # dpdk-config/lab.toml's [[port]], [flows] and [timeouts] as shipped, its IPv4 local address
    # pool widened (sized_pool), with only the http VIP: first three backends, then one (same
    # file, reloaded).
    three = lab.vip_toml(name="http", scheduler="rr",
                         backends=[lab.backend_addr(be) for be in lab.BACKENDS])
    cfg = sized_pool(t.write_config("churn.toml", [three]))
    with t.sluiced(cfg) as d:
        lab.log("config [[port]] servers: " + " ".join(
            ln.strip() for ln in cfg.read_text().splitlines() if "local_addresses" in ln))
        t.http_gets(3)  # neighbours learned before the clock starts
        problems = judged_churn(t, "three backends (rr)")
        # One backend: the same address and port (one VIP) reloaded with be1 only.
        sized_pool(t.write_config("churn.toml", [lab.vip_toml(
            name="http", scheduler="rr", backends=[lab.backend_addr("be1")])]))
        d.reload()
        time.sleep(0.5)
        problems += judged_churn(t, "one backend (be1)")
    lab.check(not problems, "; ".join(problems))


if __name__ == "__main__":
    lab.run_test(__doc__, body)

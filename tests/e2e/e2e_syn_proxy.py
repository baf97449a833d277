#!/usr/bin/env python3
"""SYN proxy: with syn_proxy = "on" a spoofed SYN flood reaches no backend and fills no flow table while 500 real requests all succeed; "off" shows the difference; "auto" engages under the flood.

1. syn_proxy = "on" for the http and iperf3 VIPs: 500 GETs, a 50 MiB download (sha256) and a
   3 s iperf3 run go through the proxy intact (cookies, splice, sequence/timestamp translation,
   window scaling); the kernels count no bad segment.
2. A bounded spoofed SYN flood (tests/e2e/syn_flood.py: random sources in 198.18.128.0/17,
   at most 5 s) at the VIP while the client makes 500 GETs: every GET succeeds, no backend ever
   holds more than a handful of SYN_RECV sockets (only the proxy's own, completed handshakes),
   and flows are created only for real connections; no SYN of the real client (which reuses
   the ports of its finished proxied connections) is judged a replay (drop_syn_not_new 0).
   Bare ACKs with forged cookies are dropped (drop_bad_cookie) and open nothing.
3. The same with syn_proxy = "off" (reload): figures logged side by side; the backends' SYN_RECV
   queues and the flow table fill with spoofed entries.
4. syn_proxy = "auto" (syn_rate_threshold 2000/s): the flood engages the proxy (metrics, log),
   the GETs keep working, and it disengages after the flood.
"""
import json
import threading
import time

import lab

URL = f"http://{lab.VIP}/"
FLOOD_PREFIX = "198.18.128.0/17"
ROUTE = f'[[route]]\nprefix = "{FLOOD_PREFIX}"\nvia = "198.18.0.2"\n'  # backscatter to the client


def vips(mode: str | dict) -> list[str]:
    backends = [lab.backend_addr(be) for be in lab.BACKENDS]
    proxy = {"syn_proxy": mode} if isinstance(mode, str) else {}
    tables = {"syn_proxy": mode} if isinstance(mode, dict) else None
    return [lab.vip_toml(name="http", scheduler="rr", backends=backends, tables=tables, **proxy),
            # iperf3's control and data connections must meet the same server: hash the source.
            lab.vip_toml(name="iperf3", port=5201, scheduler="maglev", hash="src-ip",
                         backends=backends, tables=tables, **proxy),
            ROUTE]


def syn_recv(be: str) -> int:
    out = lab.ns_run(f"sluice-{be}", ["ss", "-Htn", "state", "syn-recv"]).stdout
    return len([line for line in out.splitlines() if line.strip()])


def under_flood(t: lab.Test, what: str, requests: int = 500) -> dict:
    """Floods for up to 5 s while the client makes `requests` GETs; samples the backends'
    SYN_RECV sockets and the LB's flow counters meanwhile."""
    base = t.stats()
    flood = t.client_start("--dst", lab.VIP, "--dport", "80", "--prefix", FLOOD_PREFIX,
                           "--count", "300000", "--duration", "5", "--variety", "60000",
                           script="syn_flood.py")
    peak = {"syn_recv": 0, "flows_active": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["syn_recv"] = max(peak["syn_recv"], max(syn_recv(be) for be in lab.BACKENDS))
            peak["flows_active"] = max(peak["flows_active"], t.stats()["flows_active"])
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    time.sleep(0.5)  # the flood is under way
    res = t.client("http", "--url", URL, "--count", str(requests), "--timeout", "2")
    flood_res = flood.finish(timeout=30)
    stop.set()
    sampler.join()
    s = t.stats()
    fig = {
        "ok": res["ok"], "failed": res["failed"], "elapsed_s": res["elapsed_s"],
        "flood_sent": flood_res["sent"], "flood_pps": flood_res["pps"],
        "backend_syn_recv_peak": peak["syn_recv"], "flows_active_peak": peak["flows_active"],
        "flows_created": s["flows_created"] - base["flows_created"],
        "syn_cookies_sent": s["syn_cookies_sent"] - base["syn_cookies_sent"],
        "drop_flow_table_full": s["drop_flow_table_full"] - base["drop_flow_table_full"],
        # The real client reuses ports of its finished connections: their SYNs must be new.
        "drop_syn_not_new": s["drop_syn_not_new"] - base["drop_syn_not_new"],
        "client_rx_missed": s["port_client_rx_missed"] - base["port_client_rx_missed"],
    }
    lab.log(f"{what}: {fig}; errors {res['errors']}")
    return fig


def body(t: lab.Test) -> None:
    t.lab_up()
    cfg = t.write_config("syn-proxy.toml", vips("on"))
    with t.sluiced(cfg) as d:
        t.client("http", "--url", URL, "--count", "1")  # learns the client's MAC
        base = t.stats()
        t.http_gets(500)
        s = t.stats()
        spliced = s["syn_proxy_spliced"] - base["syn_proxy_spliced"]
        lab.log(f"500 GETs: cookies {s['syn_cookies_sent'] - base['syn_cookies_sent']}, accepted "
                f"{s['syn_proxy_accepted'] - base['syn_proxy_accepted']}, spliced {spliced}")
        lab.check(spliced >= 500, f"only {spliced} of 500 connections were spliced by the proxy")

        want = t.big_sha256()
        dl = t.client("download", "--url", f"http://{lab.VIP}/big.bin", "--sha256", want,
                      "--timeout", "20")
        lab.log(f"download: {dl.get('bytes')} bytes in {dl.get('elapsed_s')}s "
                f"({dl.get('mbit_s')} Mbit/s), sha256 ok: {dl.get('sha256') == want}")
        lab.check(dl.get("sha256") == want, f"download through the proxy corrupted: {dl}")
        res = lab.ns_run(lab.NS_CLIENT, ["iperf3", "-c", lab.VIP, "-p", "5201", "-t", "3", "-J"],
                         timeout=30, check_rc=False)
        lab.check(res.returncode == 0, f"iperf3 through the proxy: exit {res.returncode}, "
                  f"{res.stdout[-500:]} {res.stderr[-500:]}")
        doc = json.loads(res.stdout)
        recv = doc["end"]["sum_received"]["bits_per_second"]
        retr = doc["end"]["sum_sent"].get("retransmits")
        lab.log(f"iperf3 through the proxy: {recv / 1e6:.0f} Mbit/s, {retr} retransmits")
        lab.check(recv > 0, "iperf3 moved nothing through the proxy")
        t.check_kernels_accepted_everything()

        on = under_flood(t, "syn_proxy on")
        lab.check(on["failed"] == 0, f"{on['failed']} of 500 GETs failed under the flood with the "
                  f"SYN proxy on")
        lab.check(on["drop_syn_not_new"] == 0, f"{on['drop_syn_not_new']} SYNs of the real client "
                  f"judged not new on the tuple of its own finished proxied connection")
        lab.check(on["flood_sent"] >= 10000, f"the flood sent only {on['flood_sent']} SYNs")
        lab.check(on["backend_syn_recv_peak"] <= 10,
                  f"a backend held {on['backend_syn_recv_peak']} SYN_RECV sockets with the proxy on")
        lab.check(on["flows_created"] <= 500 + 10,
                  f"{on['flows_created']} flows created for 500 real connections: spoofed SYNs "
                  f"made flows")
        lab.check(on["syn_cookies_sent"] >= on["flood_sent"] // 4,
                  f"only {on['syn_cookies_sent']} cookies for {on['flood_sent']} spoofed SYNs")

        # Forged answers: bare ACKs with random acknowledgement numbers are dropped and counted,
        # and open nothing.
        base = t.stats()
        forged = t.client("--dst", lab.VIP, "--dport", "80", "--prefix", FLOOD_PREFIX, "--count",
                          "2000", "--duration", "5", "--ack", script="syn_flood.py")
        time.sleep(0.5)
        s = t.stats()
        bad = s["drop_bad_cookie"] - base["drop_bad_cookie"]
        lab.log(f"forged ACKs: sent {forged['sent']}, drop_bad_cookie +{bad}, flows created "
                f"+{s['flows_created'] - base['flows_created']}")
        lab.check(bad >= forged["sent"] * 0.9, f"only {bad} of {forged['sent']} forged ACKs "
                  f"counted as bad cookies")
        lab.check(s["flows_created"] == base["flows_created"], "a forged ACK created a flow")

        t.write_config("syn-proxy.toml", vips("off"))
        d.reload()
        time.sleep(1)
        off = under_flood(t, "syn_proxy off")
        lab.log("side by side (on | off): " + ", ".join(
            f"{k} {on[k]} | {off[k]}" for k in on))
        lab.check(off["flows_created"] > 10 * on["flows_created"],
                  f"without the proxy the flood made only {off['flows_created']} flows")

        # auto: engages under the flood, releases afterwards.
        # The SYN rate alone decides here: the off run left thousands of half-open flows.
        t.write_config("syn-proxy.toml", vips({"mode": "auto", "syn_rate_threshold": 2000,
                                              "half_open_threshold": 10000000}))
        d.reload()
        time.sleep(4)  # flows of the unproxied flood leave SYN_SENT (embryonic timeout 5 s)
        auto = under_flood(t, "syn_proxy auto")
        text, _ = lab.scrape_metrics()
        engagements = lab.metric_total(text, "sluice_syn_proxy_engagements_total", vip="http")
        lab.log(f"auto: engaged {engagements} time(s)")
        lab.check(engagements >= 1, "the flood did not engage the auto SYN proxy")
        lab.check(auto["failed"] == 0, f"{auto['failed']} GETs failed under the flood in auto")
        lab.check(auto["drop_syn_not_new"] == 0, f"{auto['drop_syn_not_new']} SYNs judged not new "
                  f"in auto")
        lab.check(auto["syn_cookies_sent"] > 0, "auto mode sent no cookies under the flood")
        lab.check(auto["flows_created"] < off["flows_created"],
                  f"auto let {auto['flows_created']} flows be created, off {off['flows_created']}")
        lab.check("SYN proxy engaged" in d.log_text(), "no log line says the proxy engaged")
        time.sleep(1.5)
        t.http_gets(5)  # SYNs in a quiet tick: the workers look again and release
        text, _ = lab.scrape_metrics()
        engaged = lab.metric_total(text, "sluice_syn_proxy_engaged", vip="http")
        lab.check(engaged == 0, f"the auto proxy is still engaged on {engaged} worker(s) after "
                  f"the flood")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

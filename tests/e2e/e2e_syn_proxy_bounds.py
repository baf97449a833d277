#!/usr/bin/env python3
"""SYN proxy bounds: a backend that drops the first SYN still greets the client (timer retransmission), and a silent proxied backend under ~1000 conn/s neither exhausts mbufs nor disturbs another VIP.

1. A server-first, SMTP-like greeter (tests/e2e/banner_server.py) on be1 port 2525 behind a
   VIP with syn_proxy = "on"; nftables in be1's namespace drops the first SYN to that port
   (a quota rule: only the first ~60 bytes match). The client completes its handshake with the
   load balancer and sends nothing; the greeting still arrives, after the LB re-sent its SYN on
   the timer (syn_proxy_syn_retransmits moves). Before this change the client got an RST at the
   embryonic timeout.
2. A silent backend: be2 port 2526 behind a proxied VIP, every SYN to it dropped by nftables.
   ~1000 connections/s for 4 s (each completes its handshake with the LB and sends a line) while
   the client makes 300 GETs on the unproxied http VIP: every GET succeeds, the mbufs in use
   stay below the pool, and the held-segment cap shows (drop_proxy_held_limit).
"""
import subprocess
import sys
import threading
import time

import lab

GREETER_PORT = 2525
SILENT_PORT = 2526
HERE = lab.HERE


def nft(be: str, script: str) -> None:
    proc = subprocess.run(["ip", "netns", "exec", f"sluice-{be}", "nft", "-f", "-"],
                          input=script, capture_output=True, text=True, timeout=20)
    if proc.returncode != 0:
        raise lab.Failure(f"nft in {be}: {proc.stderr.strip()}")


def nft_counter(be: str, table: str) -> str:
    return lab.ns_run(f"sluice-{be}", ["nft", "list", "table", "inet", table]).stdout


def start_greeter(be: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(["ip", "netns", "exec", f"sluice-{be}", sys.executable,
                             str(HERE / "banner_server.py"), "--bind", lab.backend_addr(be),
                             "--port", str(port), "--name", be, "--lifetime", "240"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    lab.check("listening" in line, f"greeter on {be} did not start: {line!r}")
    return proc


def proxy_client(t: lab.Test, *argv: str, timeout: float = 60) -> dict:
    return t.client(*argv, timeout=timeout, script="proxy_clients.py")


def first_syn_dropped(t: lab.Test) -> None:
    # Quota: the first SYN (60 bytes with options) fits in 100 bytes, the second exceeds it.
    nft("be1", f"""
table inet sluice_first_syn {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport {GREETER_PORT} tcp flags & (syn | ack) == syn quota until 100 bytes counter drop
  }}
}}
""")
    base = t.stats()
    res = proxy_client(t, "banner", "--addr", lab.VIP, "--port", str(GREETER_PORT),
                       "--timeout", "8")
    s = t.stats()
    retransmits = s["syn_proxy_syn_retransmits"] - base["syn_proxy_syn_retransmits"]
    lab.log(f"greeter behind a lost first SYN: {res}; syn_proxy_syn_retransmits +{retransmits}; "
            f"nft: {' '.join(nft_counter('be1', 'sluice_first_syn').split())[:300]}")
    lab.check(res["ok"], f"no greeting through the proxy when the first SYN was lost: {res}")
    lab.check(retransmits >= 1, "the greeting arrived but no SYN was retransmitted (was the "
              "first SYN dropped at all?)")
    lab.check(res["elapsed_s"] >= 0.8, f"greeting after {res['elapsed_s']} s: the first SYN "
              f"was not dropped")


def silent_backend(t: lab.Test) -> None:
    nft("be2", f"""
table inet sluice_silent {{
  chain input {{
    type filter hook input priority 0; policy accept;
    tcp dport {SILENT_PORT} tcp flags & (syn | ack) == syn counter drop
  }}
}}
""")
    quiet = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "100")
    lab.log(f"baseline without load: {quiet['ok']} of 100 GETs in {quiet['elapsed_s']} s")
    base = t.stats()
    peak = {"mbufs_in_use": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["mbufs_in_use"] = max(peak["mbufs_in_use"], t.stats()["mbufs_in_use"])
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    load = t.client_start("churn", "--addr", lab.VIP, "--port", str(SILENT_PORT), "--rate",
                          "1000", "--duration", "4", script="proxy_clients.py")
    time.sleep(1.5)  # the held segments pile up
    gets = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "300", "--timeout", "5")
    churn = load.next_json(timeout=30)
    stop.set()
    sampler.join()
    s = t.stats()
    fig = {
        "churn": churn, "gets_ok": gets["ok"], "gets_failed": gets["failed"],
        "gets_elapsed_s": gets["elapsed_s"],
        "mbufs_in_use_peak": peak["mbufs_in_use"], "mbufs_total": s["mbufs_total"],
        "drop_proxy_held_limit": s["drop_proxy_held_limit"] - base["drop_proxy_held_limit"],
        "drop_proxy_pending": s["drop_proxy_pending"] - base["drop_proxy_pending"],
        "drop_no_mbuf": s["drop_no_mbuf"] - base["drop_no_mbuf"],
        "syn_proxy_accepted": s["syn_proxy_accepted"] - base["syn_proxy_accepted"],
        "syn_proxy_syn_retransmits":
            s["syn_proxy_syn_retransmits"] - base["syn_proxy_syn_retransmits"],
    }
    lab.log(f"silent backend under churn: {fig}; GET errors {gets['errors']}")
    lab.check(churn["connected"] >= churn["attempted"] * 0.9,
              f"only {churn['connected']} of {churn['attempted']} handshakes completed")
    lab.check(gets["failed"] == 0, f"{gets['failed']} of 300 GETs on the other VIP failed "
              f"while a silent backend was proxied: {gets['errors']}")
    lab.check(fig["drop_proxy_held_limit"] > 0, "the held-segment cap never engaged")
    lab.check(fig["mbufs_in_use_peak"] < fig["mbufs_total"] * 0.9,
              f"mbufs nearly exhausted: {fig['mbufs_in_use_peak']} of {fig['mbufs_total']}")


def body(t: lab.Test) -> None:
    t.lab_up()
    backends = [lab.backend_addr(be) for be in lab.BACKENDS]
    cfg = t.write_config("syn-proxy-bounds.toml", [
        lab.vip_toml(name="http", scheduler="rr", backends=backends),
        lab.vip_toml(name="greeter", port=GREETER_PORT, syn_proxy="on",
                     backends=[{"address": lab.backend_addr("be1"), "port": GREETER_PORT}]),
        lab.vip_toml(name="silent", port=SILENT_PORT, syn_proxy="on",
                     backends=[{"address": lab.backend_addr("be2"), "port": SILENT_PORT}]),
    ])
    greeter = start_greeter("be1", GREETER_PORT)
    try:
        with t.sluiced(cfg):
            t.client("http", "--url", f"http://{lab.VIP}/", "--count", "1")  # the client's MAC
            first_syn_dropped(t)
            silent_backend(t)
    finally:
        greeter.kill()
        greeter.wait(timeout=10)


if __name__ == "__main__":
    lab.run_test(__doc__, body)

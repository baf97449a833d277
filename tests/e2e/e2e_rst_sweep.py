#!/usr/bin/env python3
"""Spoofed RSTs with random sequence numbers (source = the backend, destination = the flow's local address and port) do not kill idle keep-alive connections: each still answers a GET 15 s later, and the counters show the refused RSTs.

Three keep-alive connections through the http VIP (rr: one per backend) make one GET, go idle,
and make the next GET 60 s after the first. Meanwhile tests/e2e/rst_sweep.py (scapy) sends, for
each connection, RSTs with random sequence numbers whose source is its backend's address and
port 80 and whose destination is its flow's local address and port (`sluicectl show flows`):
  (a) 8,000 from the client segment: they arrive on the wrong port (drop_reply_wrong_port);
  (b) 8,000 from the backend's namespace: the right port, but out of window
      (drop_rst_out_of_window);
  (c) a sweep of 8,000 over the local ports around the flow's, from the backend's namespace.
Before issue 13 any RST moved the flow to CLOSE and was forwarded to the client: the connection
died. The last sweep ends >= 15 s before the next GET.
"""
import json
import time

import lab

URL = f"http://{lab.VIP}/"
INTERVAL = 60
COUNT = 8000
SWEEP_SPAN = 4000  # ports on each side of the flow's local port


def sweep(ns: str, src: str, dst: str, lo: int, hi: int) -> dict:
    res = lab.ns_run(ns, ["/usr/bin/python3", str(lab.HERE / "rst_sweep.py"), "--src", src,
                          "--sport", "80", "--dst", dst, "--dport-min", str(lo),
                          "--dport-max", str(hi), "--count", str(COUNT), "--rate", "4000"],
                     timeout=90)
    out = json.loads(res.stdout.strip().splitlines()[-1])
    lab.log(f"{ns}: {out['sent']} RSTs {src}:80 -> {dst}:{lo}..{hi} in {out['seconds']}s")
    return out


def body(t: lab.Test) -> None:
    t.lab_up()
    vip = lab.vip_toml(name="http", scheduler="rr",
                       backends=[lab.backend_addr(be) for be in lab.BACKENDS])
    cfg = t.write_config("rst-sweep.toml", [vip])
    with t.sluiced(cfg):
        t.http_gets(3)
        conns = []
        for _ in lab.BACKENDS:
            k = t.client_start("keepalive", "--url", URL, "--interval", str(INTERVAL),
                               "--hold", str(INTERVAL + 10))
            first = k.next_json(timeout=20)
            lab.check(first.get("ok") == 1, f"keep-alive connection did not open: {first}")
            conns.append((k, first["local_port"], time.monotonic()))
        flows = t.sluicectl_json("show", "flows")["flows"]
        by_client_port = {int(f["client"].rsplit(":", 1)[1]): f for f in flows}
        targets = []
        for k, port, t_conn in conns:
            f = by_client_port.get(port)
            lab.check(f is not None, f"no flow for client port {port}: {flows}")
            backend = f["backend"].rsplit(":", 1)[0]
            local, lport = f["local"].rsplit(":", 1)
            targets.append((k, t_conn, backend, local, int(lport)))
            lab.log(f"connection {port}: backend {f['backend']}, local {f['local']}, "
                    f"state {f['state']}")
        lab.check(len({b for _, _, b, _, _ in targets}) == len(targets),
                  f"rr should put the connections on different backends: {targets}")
        base = t.stats()
        (_, _, be_a, loc_a, p_a), (_, _, be_b, loc_b, p_b), (_, _, be_c, loc_c, p_c) = targets
        sent_a = sweep(lab.NS_CLIENT, be_a, loc_a, p_a, p_a)["sent"]
        mid = t.stats()
        sent_b = sweep(f"sluice-{lab.backend_name(be_b)}", be_b, loc_b, p_b, p_b)["sent"]
        lo, hi = max(1024, p_c - SWEEP_SPAN), min(65535, p_c + SWEEP_SPAN)
        sweep(f"sluice-{lab.backend_name(be_c)}", be_c, loc_c, lo, hi)
        sweep_end = time.monotonic()
        s = t.stats()
        wrong = s.get("drop_reply_wrong_port", 0) - base.get("drop_reply_wrong_port", 0)
        window = s.get("drop_rst_out_of_window", 0) - mid.get("drop_rst_out_of_window", 0)
        lab.log(f"counters: drop_reply_wrong_port +{wrong} (of {sent_a} from the client "
                f"segment), drop_rst_out_of_window +{window} (of {sent_b} + the sweep's hit), "
                f"rst_in_window +{s.get('rst_in_window', 0) - base.get('rst_in_window', 0)}, "
                f"rst_accepted +{s.get('rst_accepted', 0) - base.get('rst_accepted', 0)}")
        margin = min(t_conn for _, t_conn, _, _, _ in targets) + INTERVAL - sweep_end
        lab.check(margin >= 15, f"test timing: the sweeps ended only {margin:.1f}s before the "
                  f"next GET (want >= 15 s)")
        time.sleep(max(0.0, max(t_conn for _, t_conn, _, _, _ in targets) + INTERVAL + 2
                       - time.monotonic()))
        problems = []
        for (k, _, backend, local, lport), what in zip(targets, ("a: client segment",
                                                                 "b: backend, exact port",
                                                                 "c: backend, port sweep")):
            r = k.finish(timeout=20)
            lab.log(f"({what}) {local}:{lport} -> {backend}: {r['ok']} ok, {r['failed']} failed"
                    f"{', error ' + r['error'] if r.get('error') else ''} after {r['held_s']}s")
            if r["failed"] or r["ok"] < 2:
                problems.append(f"({what}) connection killed: {r.get('error')}")
        lab.check(not problems, "; ".join(problems))
        lab.check(wrong >= 0.9 * sent_a, f"drop_reply_wrong_port +{wrong} for {sent_a} RSTs from "
                  f"the client segment")
        lab.check(window >= 0.9 * sent_b, f"drop_rst_out_of_window +{window} for {sent_b} RSTs "
                  f"from the backend side")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

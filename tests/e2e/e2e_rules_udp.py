#!/usr/bin/env python3
"""UDP payload rule: a real client's datagram matching the rule gets no echo, one that does not is echoed.

A UDP VIP on :9000 (the lab backends' UDP echo) with one [[vip.rule]] `^GET /admin` (drop). 20
exchanges whose payload does not start with it (10 plain, 10 with `GET /admin` later in the
payload, which the anchored pattern does not match) all get their echo; 10 whose payload starts
with `GET /admin` get none (each from its own source port: each is the first datagram of its
flow). sluice_rule_matches_total and drop_rule_match count exactly those 10, and the kernels saw
no bad checksum.
"""
import lab

RULES = [{"name": "admin", "pattern": "^GET /admin", "action": "drop"}]


def body(t: lab.Test) -> None:
    t.lab_up()
    vip = lab.vip_toml(name="guarded-udp", port=9000, protocol="udp", scheduler="rr",
                       backends=[lab.backend_addr(be) for be in lab.BACKENDS], rules=RULES)
    cfg = t.write_config("rules_udp.toml", [vip])
    with t.sluiced(cfg) as d:
        t.client("udp", "--count", "1")  # learns the client's MAC
        base = t.stats()
        ok = t.client("udp", "--count", "10")
        ok_later = t.client("udp", "--count", "10", "--prefix", "hello GET /admin ")
        lab.log(f"plain: {ok['ok']} ok, {ok['errors']}; 'GET /admin' later: {ok_later['ok']} ok, "
                f"{ok_later['errors']}")
        lab.check(ok["failed"] == 0 and ok_later["failed"] == 0,
                  f"datagrams no rule matches got no echo: {ok['errors']} {ok_later['errors']}")

        bad = t.client("udp", "--count", "10", "--prefix", "GET /admin ", "--timeout", "1.5")
        lab.log(f"'GET /admin' first: {bad['ok']} echoed, {bad['failed']} failed {bad['errors']}")
        lab.check(bad["ok"] == 0 and bad["failed"] == 10,
                  f"matching datagrams were echoed: {bad['backends']}")
        lab.check(all("timed out" in e or "timeout" in e.lower() for e in bad["errors"]),
                  f"matching datagrams failed otherwise than by silence: {bad['errors']}")

        s = t.stats()
        dropped = s["drop_rule_match"] - base["drop_rule_match"]
        text, _ = lab.scrape_metrics()
        matches = lab.metric_total(text, "sluice_rule_matches_total", vip="guarded-udp",
                                   rule="admin")
        lab.log(f"rule matches: admin {matches}; drop_rule_match +{dropped}")
        lab.check(matches == 10, f"sluice_rule_matches_total admin = {matches}, want 10")
        lab.check(dropped == 10, f"drop_rule_match grew by {dropped}, want 10")
        lab.check(d.running(), "sluiced stopped")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

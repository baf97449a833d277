#!/usr/bin/env python3
"""Payload rules: requests whose first payload matches `GET /admin` (drop) or `GET /private` (reset) fail, others succeed; a bad regex is refused naming the rule.

A VIP with two [[vip.rule]]s. 20 GETs of / and 10 of /?page=admin (the pattern is not in them)
all succeed; 5 GETs of /admin get no answer at all (the client times out; the backend's half of
the connection is reset); 5 GETs of /private are reset. sluice_rule_matches_total counts 5 per
rule and drop_rule_match 10. Then a reload with an invalid pattern is refused with the rule's
name and Hyperscan's reason, and the old rules keep working.
"""
import lab

URL = f"http://{lab.VIP}"
RULES = [{"name": "admin", "pattern": "GET /admin", "action": "drop"},
         {"name": "private", "pattern": "^GET /private", "action": "reset"}]


def vip(rules: list[dict]) -> str:
    return lab.vip_toml(name="guarded", scheduler="rr",
                        backends=[lab.backend_addr(be) for be in lab.BACKENDS], rules=rules)


def matches(rule: str) -> float:
    text, _ = lab.scrape_metrics()
    return lab.metric_total(text, "sluice_rule_matches_total", vip="guarded", rule=rule)


def body(t: lab.Test) -> None:
    t.lab_up()
    cfg = t.write_config("rules.toml", [vip(RULES)])
    with t.sluiced(cfg) as d:
        t.client("http", "--url", URL + "/", "--count", "1")  # learns the client's MAC
        base = t.stats()
        ok = t.client("http", "--url", URL + "/", "--count", "20")
        ok_args = t.client("http", "--url", URL + "/?page=admin", "--count", "10")
        lab.log(f"/: {ok['ok']} ok, {ok['errors']}; /?page=admin: {ok_args['ok']} ok, "
                f"{ok_args['errors']}")
        lab.check(ok["failed"] == 0 and ok_args["failed"] == 0,
                  f"requests no rule matches failed: {ok['errors']} {ok_args['errors']}")

        admin = t.client("http", "--url", URL + "/admin", "--count", "5", "--timeout", "1.5")
        private = t.client("http", "--url", URL + "/private", "--count", "5")
        lab.log(f"/admin: {admin['failed']} failed {admin['errors']}; /private: "
                f"{private['failed']} failed {private['errors']}")
        lab.check(admin["failed"] == 5 and private["failed"] == 5,
                  f"matched requests got through: /admin {admin['backends']}, /private "
                  f"{private['backends']}")
        lab.check(all("timed out" in e for e in admin["errors"]),
                  f"/admin (drop) failed otherwise than by silence: {admin['errors']}")
        lab.check(all("reset" in e.lower() for e in private["errors"]),
                  f"/private (reset) failed otherwise than by a reset: {private['errors']}")

        s = t.stats()
        dropped = s["drop_rule_match"] - base["drop_rule_match"]
        lab.log(f"rule matches: admin {matches('admin')}, private {matches('private')}; "
                f"drop_rule_match +{dropped}")
        lab.check(matches("admin") == 5 and matches("private") == 5,
                  f"rule counters: admin {matches('admin')}, private {matches('private')}")
        # Every matched first payload is dropped; a retransmission of it finds no flow.
        lab.check(dropped == 10, f"drop_rule_match grew by {dropped}, want 10")
        shown = t.sluicectl_ok("show", "protection", "guarded")
        lab.log("show protection:\n" + shown)
        lab.check("GET /admin" in shown and "private" in shown,
                  "show protection does not list the rules")

        # A bad pattern: the reload is refused naming the rule, the running rules stay.
        t.write_config("rules.toml", [vip(RULES + [{"name": "broken", "pattern": "GET (/x"}])])
        rc, _, err = t.sluicectl("reload")
        lab.check(rc == 1 and "rule" in err and ("broken" in err or "GET (/x" in err),
                  f"reload with a bad regex: exit {rc}, {err!r}")
        again = t.client("http", "--url", URL + "/admin", "--count", "1", "--timeout", "1.5")
        lab.check(again["failed"] == 1, "after a refused reload /admin got through")
        still = t.client("http", "--url", URL + "/", "--count", "5")
        lab.check(still["failed"] == 0, f"after a refused reload / failed: {still['errors']}")
        lab.check(d.running(), "sluiced stopped after a refused reload")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

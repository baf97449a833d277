#!/usr/bin/env python3
"""maglev src-ip: one client address sticks to one backend; removing be3 moves only be3's clients.

(a) 100 new connections from the client's main address all reach one backend. (b) 30 extra
client addresses (198.18.0.100-129): each address's GETs all reach one backend, and every backend
serves some address. (c) A reload that removes be3: every address that was on be1 or be2 stays
there, the ones that were on be3 move to be1 or be2.
"""
import lab

EXTRA = [f"198.18.0.{i}" for i in range(100, 130)]
PER_ADDRESS = 3
# The LB learns a new client address's MAC by ARP when its first SYN arrives, so that SYN may be
# dropped and retransmitted ~1 s later: 5 s socket timeouts leave room for that, and every address
# is warmed up once (all at the same time, so the waits overlap) before anything is measured.
TIMEOUT = "5"


def maglev_vip(backends: tuple[str, ...]) -> str:
    return lab.vip_toml(name="http-maglev", scheduler="maglev", hash="src-ip",
                        backends=[lab.backend_addr(be) for be in backends])


def per_address(res: dict) -> dict[str, str]:
    """{address: backend} from an http --bind result; fails if an address saw two backends."""
    out = {}
    for addr in EXTRA:
        seen = res.get("by_source", {}).get(addr, {})
        lab.check(len(seen) == 1, f"{addr}: requests went to {seen or 'no backend'} (want one)")
        out[addr] = next(iter(seen))
    return out


def body(t: lab.Test) -> None:
    t.lab_up()
    cfg = t.write_config("maglev.toml", [maglev_vip(lab.BACKENDS)])
    url = f"http://{lab.VIP}/"
    with t.sluiced(cfg) as d:
        # (a) one address, 100 connections (new source ports), one backend
        res = t.client("http", "--url", url, "--count", "100", "--timeout", TIMEOUT)
        lab.log(f"(a) main address: {res['ok']} ok, {res['failed']} failed; "
                f"per backend {res['backends']}; errors {res['errors']}")
        lab.check(res["failed"] == 0, f"(a) {res['failed']} of 100 requests failed: {res['errors']}")
        lab.check(len(res["backends"]) == 1,
                  f"(a) one client address reached several backends: {res['backends']}")

        # (b) 30 more client addresses
        for addr in EXTRA:
            lab.ns_run(lab.NS_CLIENT, ["ip", "addr", "add", f"{addr}/24", "dev", "eth0"])
        binds = ",".join(EXTRA)
        warm = t.client("http", "--url", url, "--bind", binds, "--parallel", "--count", "1",
                        "--timeout", TIMEOUT)
        lab.log(f"(b) warm-up, one GET per address: {warm['ok']} ok, {warm['failed']} failed "
                f"in {warm['elapsed_s']}s; errors {warm['errors']}")
        res = t.client("http", "--url", url, "--bind", binds, "--count", str(PER_ADDRESS),
                       "--timeout", TIMEOUT)
        lab.log(f"(b) {PER_ADDRESS} GETs per address: {res['ok']} ok, {res['failed']} failed in "
                f"{res['elapsed_s']}s; per backend {res['backends']}; errors {res['errors']}")
        lab.check(res["failed"] == 0,
                  f"(b) {res['failed']} of {res['requests']} requests failed: {res['errors']}")
        before = per_address(res)
        spread = {be: sorted(a for a, b in before.items() if b == be) for be in lab.BACKENDS}
        lab.log("(b) addresses per backend: "
                + "; ".join(f"{be}: {len(a)}" for be, a in spread.items()))
        for be, addrs in spread.items():
            lab.check(len(addrs) >= 1, f"(b) {be} serves none of the {len(EXTRA)} addresses: "
                                       f"{before}")

        # (c) remove be3
        t.write_config("maglev.toml", [maglev_vip(("be1", "be2"))])
        d.reload()
        res = t.client("http", "--url", url, "--bind", binds, "--count", "1",
                       "--timeout", TIMEOUT)
        lab.log(f"(c) after removing be3, one GET per address: {res['ok']} ok, {res['failed']} "
                f"failed; per backend {res['backends']}; errors {res['errors']}")
        lab.check(res["failed"] == 0,
                  f"(c) {res['failed']} of {res['requests']} requests failed: {res['errors']}")
        after = per_address(res)
        lab.log("(c) mapping before -> after:")
        for addr in EXTRA:
            mark = "" if before[addr] == after[addr] else "   (moved)"
            lab.log(f"      {addr:14s} {before[addr]} -> {after[addr]}{mark}")
        stayed = [a for a in EXTRA if before[a] != "be3" and after[a] == before[a]]
        wrong = {a: (before[a], after[a]) for a in EXTRA
                 if (before[a] != "be3" and after[a] != before[a])
                 or (before[a] == "be3" and after[a] not in ("be1", "be2"))}
        lab.log(f"(c) {len(stayed)} addresses stayed on be1/be2, "
                f"{len(spread['be3'])} moved off be3")
        lab.check(not wrong, f"(c) addresses remapped wrongly (before, after): {wrong}")
        lab.log(f"stats: {t.stats()}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

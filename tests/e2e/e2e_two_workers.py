#!/usr/bin/env python3
"""With 2 workers, 400 HTTP GETs over new connections and 100 UDP exchanges all succeed, both
workers carry flows and replies that land on the other worker's queue are handed over to it;
show ports says each af_packet device's replies go through the handoff ring, with the reason
rte_flow steering was not installed (the driver has no flow API: nothing left half-installed)."""
import lab


def per_worker() -> list[dict]:
    """Each worker's counters from the /sluice/workers telemetry command, by worker index."""
    workers = lab.telemetry("/sluice/workers")
    return [workers[k] for k in sorted(workers, key=int)]


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config("lab-2workers.toml")):
        http = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "400")
        lab.log(f"http: {http['ok']} ok, {http['failed']} failed; {http['backends']}")
        udp = t.client("udp", "--addr", lab.VIP, "--port", "9000", "--count", "100")
        lab.log(f"udp: {udp['ok']} ok, {udp['failed']} failed; {udp['backends']}")
        lab.check(http["failed"] == 0, f"{http['failed']} of 400 requests failed: {http['errors']}")
        lab.check(udp["failed"] == 0, f"{udp['failed']} of 100 exchanges failed: {udp['errors']}")
        lab.log(f"stats: {t.stats()}")
        workers = per_worker()
        for i, w in enumerate(workers):
            lab.log(f"worker {i}: flows_created {w['flows_created']}, rx {w['rx_packets']}, "
                    f"handoff sent {w['handoff_sent']} received {w['handoff_received']}")
        lab.check(len(workers) == 2, f"expected 2 workers in /sluice/workers, got {len(workers)}")
        for i, w in enumerate(workers):
            lab.check(w["flows_created"] > 0, f"worker {i} created no flow: {w}")
        sent = sum(w["handoff_sent"] for w in workers)
        received = sum(w["handoff_received"] for w in workers)
        lab.check(sent > 0, "no packet was handed over between the workers")
        lab.check(received == sent, f"handoff: {sent} sent but {received} received")
        for p in t.sluicectl_json("show", "ports"):
            nic = p["nic"]
            lab.log(f"port {p['name']}: steering {nic['steering']!r}, "
                    f"{nic['steering_rules']} rules")
            lab.check(nic["steering"].startswith("handoff ring (rte_flow: ")
                      and nic["steering_rules"] == 0,
                      f"port {p['name']}: steering {nic['steering']!r}, "
                      f"{nic['steering_rules']} rules; want the handoff ring and the driver's reason")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

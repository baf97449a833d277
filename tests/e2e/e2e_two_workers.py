#!/usr/bin/env python3
"""With 2 workers, 400 HTTP GETs over new connections and 100 UDP exchanges all succeed."""
import lab


def per_worker(t: lab.Test) -> dict | None:
    """Per-worker figures, if the daemon exposes a telemetry command for them."""
    try:
        commands = lab.telemetry("/")
    except lab.Failure:
        return None
    names = [c for c in commands if c.startswith("/sluice/") and "worker" in c]
    for c in names:
        try:
            return {c: lab.telemetry(c)}
        except lab.Failure:
            continue
    return None


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
        workers = per_worker(t)
        if workers is None:
            lab.log("no per-worker telemetry command: checked success only")
        else:
            lab.log(f"per-worker: {workers}")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""Hostile control-socket input never takes sluiced down or grows it: after invalid UTF-8, a 1 MiB line, 100 idle clients, a client that never reads, and reloads of /dev/zero, a FIFO, a directory and an oversized file, sluiced answers the next well-formed request and its config is unchanged.

sluiced runs on a copy of lab.toml whose path is not UTF-8 (byte 0xff), and a SIGHUP reload of it
must be applied (the answer quoting that path used to abort sluiced). Then, on the control socket
(/run/sluice/sluiced.sock, raw JSON lines):
  * `ff` and JSON with a non-UTF-8 string: an error answer naming UTF-8; the same connection
    then gets answers to well-formed requests;
  * a 1 MiB line: the error "longer than 65536 bytes", then the connection is closed;
  * 100 idle connections: 64 are served (each answers a request), the other 36 get one error
    line and are closed; a second later `sluicectl show vips` still works (it displaces the
    connection idle longest);
  * a client that pipelines requests and never reads: sluiced stops reading it (the bytes it
    could send are bounded), its resident memory grows by less than 16 MiB, others are served,
    and it is closed after the 30 s idle limit;
  * reload of /dev/zero, of a FIFO with no writer, of a directory and of a 17 MiB file: each
    refused within 1 s with an error naming the file; the config generation stays and the
    reload failure counter counts each.
"""
import os
import socket
import time

import lab

SOCKET = "/run/sluice/sluiced.sock"
MAX_REQUEST = 65536
MAX_CLIENTS = 64
IDLE_LIMIT_S = 30


def connect(timeout: float = 5) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(SOCKET)
    return s


def read_line(s: socket.socket, timeout: float = 5) -> bytes | None:
    """One answer line (without '\\n'); None if the connection ends first."""
    s.settimeout(timeout)
    buf = b""
    while b"\n" not in buf:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return None
        buf += chunk
    return buf.split(b"\n", 1)[0]


def ask(s: socket.socket, request: bytes, timeout: float = 5) -> dict:
    """Sends one raw request line, returns the parsed answer (which must be a JSON object)."""
    s.sendall(request + b"\n")
    line = read_line(s, timeout)
    lab.check(line is not None, f"no answer to {request[:60]!r}: connection closed")
    try:
        doc = lab.json.loads(line)
    except ValueError:
        raise lab.Failure(f"answer to {request[:60]!r} is not JSON: {line[:200]!r}") from None
    lab.check(isinstance(doc, dict) and isinstance(doc.get("ok"), bool),
              f"answer to {request[:60]!r} has no boolean ok: {line[:200]!r}")
    return doc


def ask_new(request: bytes, timeout: float = 5) -> dict:
    with connect() as s:
        return ask(s, request, timeout)


def vip_names() -> list[str]:
    doc = ask_new(b'{"cmd":"show_vips"}')
    lab.check(doc["ok"], f"show_vips refused: {doc}")
    return sorted(v["name"] for v in doc["result"])


def generation_and_failures() -> tuple[float, float]:
    text, _ = lab.scrape_metrics()
    return (lab.metric_total(text, "sluice_config_generation"),
            lab.metric_total(text, "sluice_config_reloads_total", result="error"))


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise lab.Failure(f"/proc/{pid}/status has no VmRSS")


def still_serving(d: lab.Sluiced, names: list[str], after: str) -> None:
    lab.check(d.running(), f"sluiced died after {after}")
    got = vip_names()
    lab.check(got == names, f"after {after}: show_vips lists {got}, want {names}")
    lab.log(f"after {after}: sluiced answers show_vips ({', '.join(got)})")


def check_utf8(d: lab.Sluiced, names: list[str]) -> None:
    with connect() as s:
        for bad in (b"\xff", b'{"cmd":"show_vips","x":"\xc3\x28"}', b'{"cmd":"reload","file":"\xff"}'):
            doc = ask(s, bad)
            lab.log(f"{bad!r} -> {doc}")
            lab.check(not doc["ok"] and "UTF-8" in doc.get("error", ""),
                      f"{bad!r}: answer {doc}, want an error naming UTF-8")
        doc = ask(s, b'{"cmd":"show_vips"}')
        lab.check(doc["ok"], f"show_vips on the same connection after invalid UTF-8: {doc}")
    still_serving(d, names, "invalid UTF-8")


def check_long_line(d: lab.Sluiced, names: list[str]) -> None:
    with connect() as s:
        try:
            s.sendall(b"x" * (1 << 20) + b"\n")
        except (BrokenPipeError, ConnectionResetError, socket.timeout) as e:
            lab.log(f"1 MiB line: send stopped after the server closed ({type(e).__name__})")
        line = read_line(s)
        lab.log(f"1 MiB line -> {line!r}")
        lab.check(line is not None and b'"ok":false' in line
                  and f"longer than {MAX_REQUEST} bytes".encode() in line,
                  f"1 MiB line: answer {line!r}, want an error 'longer than {MAX_REQUEST} bytes'")
        lab.check(read_line(s) is None, "the connection stayed open after the over-long line")
    still_serving(d, names, "a 1 MiB line")


def check_idle_crowd(t: lab.Test, d: lab.Sluiced, names: list[str]) -> None:
    time.sleep(0.2)  # the connections of the previous checks are gone
    crowd = [connect() for _ in range(100)]
    try:
        time.sleep(0.5)
        refused, held = [], []
        for s in crowd:
            s.setblocking(False)
            try:
                data = s.recv(4096)
            except BlockingIOError:
                held.append(s)
                continue
            refused.append(data)
        lab.log(f"100 idle connections: {len(held)} held, {len(refused)} refused "
                f"({refused[0][:100] if refused else b''!r})")
        lab.check(len(held) == MAX_CLIENTS and len(refused) == 100 - MAX_CLIENTS,
                  f"100 idle connections: {len(held)} held and {len(refused)} refused, want "
                  f"{MAX_CLIENTS} and {100 - MAX_CLIENTS}")
        lab.check(all(b"too many control connections" in r for r in refused),
                  f"a refused connection got {refused[:1]!r}, want 'too many control connections'")
        doc = ask(held[-1], b'{"cmd":"show_stats"}')  # a held one is a served one
        lab.check(doc["ok"], f"show_stats on a held connection: {doc}")
        time.sleep(1.2)  # the crowd has now been idle for over a second: one may be displaced
        rc, _, err = t.sluicectl("show", "vips")
        lab.check(rc == 0, f"sluicectl show vips with {MAX_CLIENTS} idle connections: exit {rc} "
                           f"{err.strip()}")
        still_serving(d, names, f"{MAX_CLIENTS} idle connections held")
    finally:
        for s in crowd:
            s.close()


def start_never_reader(d: lab.Sluiced) -> tuple[socket.socket, int]:
    """Pipelines show_stats requests and reads nothing; returns the socket and bytes it sent."""
    rss0 = rss_kib(d.proc.pid)
    s = connect()
    s.setblocking(False)
    request = b'{"cmd":"show_stats"}\n' * 256
    sent, t_end = 0, time.monotonic() + 5
    while time.monotonic() < t_end and sent < (64 << 20):
        try:
            sent += s.send(request)
        except BlockingIOError:
            time.sleep(0.05)
    rss1 = rss_kib(d.proc.pid)
    lab.log(f"never-reading client: sent {sent} bytes of requests in 5 s; sluiced RSS "
            f"{rss0} -> {rss1} KiB")
    lab.check(sent < (16 << 20),
              f"sluiced took {sent} bytes of requests from a client that reads no answers")
    lab.check(rss1 - rss0 < 16 << 10,
              f"sluiced grew by {rss1 - rss0} KiB for a client that reads no answers")
    return s, sent


def check_never_reader_closed(s: socket.socket, started: float) -> None:
    """The never-reading client is closed once idle for the limit: draining its socket ends in EOF."""
    wait = started + IDLE_LIMIT_S + 3 - time.monotonic()
    if wait > 0:
        lab.log(f"waiting {wait:.0f}s for the idle limit")
        time.sleep(wait)
    s.setblocking(True)
    s.settimeout(5)
    got = 0
    while True:
        try:
            chunk = s.recv(1 << 16)
        except socket.timeout:
            raise lab.Failure(f"the never-reading client is still open {IDLE_LIMIT_S + 3}s on "
                              f"(read {got} bytes of answers, then nothing)") from None
        except ConnectionResetError:
            break
        if not chunk:
            break
        got += len(chunk)
    lab.log(f"never-reading client: closed by sluiced ({got} bytes of answers were queued)")
    s.close()


def check_bad_reloads(t: lab.Test, d: lab.Sluiced, names: list[str]) -> None:
    fifo = t.work_dir / "reload.fifo"
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    big = t.work_dir / "big.toml"
    with open(big, "wb") as f:
        f.truncate(17 << 20)
    cases = [("/dev/zero", "a character device, not a regular file"),
             (str(fifo), "a FIFO, not a regular file"),
             (str(t.work_dir), "a directory, not a regular file"),
             (str(big), f"{17 << 20} bytes, over the 16 MiB limit")]
    gen0, fail0 = generation_and_failures()
    for n, (path, why) in enumerate(cases, 1):
        request = lab.json.dumps({"cmd": "reload", "file": path}).encode()
        t0 = time.monotonic()
        doc = ask_new(request, timeout=10)
        took = time.monotonic() - t0
        lab.log(f"reload {path} -> {doc} in {took * 1000:.0f} ms")
        details = " ".join(doc.get("details", []))
        lab.check(not doc["ok"] and f"{path}: cannot read: {why}" in details,
                  f"reload {path}: answer {doc}, want a refusal '{path}: cannot read: {why}'")
        lab.check(took < 1.0, f"reload {path} took {took:.2f}s, want < 1 s")
        gen, fail = generation_and_failures()
        lab.check(gen == gen0 and fail == fail0 + n,
                  f"after reload {path}: generation {gen} (was {gen0}), reload failures {fail} "
                  f"(want {fail0 + n})")
        still_serving(d, names, f"reload of {path}")
    fifo.unlink()
    big.unlink()


def body(t: lab.Test) -> None:
    t.lab_up()
    odd = t.work_dir / "lab-\udcff.toml"  # the file name's byte 0xff (surrogateescape)
    odd.write_text(t.config().read_text())
    with t.sluiced(odd) as d:
        d.reload()  # SIGHUP: the answer quotes the non-UTF-8 path
        names = vip_names()
        lab.check(names == ["echo", "echo6", "http", "http6", "iperf3", "iperf3-6"],
                  f"show_vips lists {names}, want lab.toml's six (IPv4 and IPv6)")
        doc = ask_new(b'{"cmd":"reload"}')
        lab.log(f"reload of the non-UTF-8 path over the socket -> {doc}")
        lab.check(doc["ok"] and "\ufffd" in doc["result"]["file"],
                  f"reload of {odd!s:.80}: {doc}, want ok with U+FFFD for the byte 0xff")
        still_serving(d, names, "reloads of a non-UTF-8 config path")

        check_utf8(d, names)
        check_long_line(d, names)
        check_idle_crowd(t, d, names)
        never_reader, _ = start_never_reader(d)
        started = time.monotonic()
        still_serving(d, names, "a client that never reads")
        check_bad_reloads(t, d, names)
        check_never_reader_closed(never_reader, started)
        still_serving(d, names, "the never-reading client was closed")
        res = t.http_gets(20)
        lab.log(f"traffic still flows: {res['backends']}")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""A server-first, SMTP-like greeter for the e2e tests (runs in a backend namespace): every
accepted connection gets "220 <name> ESMTP sluice-test" at once, then one reply per line read
("221 bye" to QUIT, else "250 ok") until QUIT, EOF or 10 s of silence. Bounded: it exits after
--lifetime seconds. Python 3 standard library only."""
import argparse
import socket
import threading
import time


def serve(conn: socket.socket, name: str) -> None:
    with conn:
        conn.settimeout(10)
        try:
            conn.sendall(f"220 {name} ESMTP sluice-test\r\n".encode())
            buf = b""
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip().upper() == b"QUIT":
                        conn.sendall(b"221 bye\r\n")
                        return
                    conn.sendall(b"250 ok\r\n")
        except OSError:
            return


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--name", default="greeter")
    p.add_argument("--lifetime", type=float, default=300)
    args = p.parse_args()
    family = socket.AF_INET6 if ":" in args.bind else socket.AF_INET  # a backend's IPv6 address
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((args.bind, args.port))
    s.listen(1024)
    s.settimeout(0.5)
    print(f"listening on {args.bind}:{args.port}", flush=True)
    end = time.monotonic() + args.lifetime
    while time.monotonic() < end:
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        threading.Thread(target=serve, args=(conn, args.name), daemon=True).start()


if __name__ == "__main__":
    main()

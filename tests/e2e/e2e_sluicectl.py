#!/usr/bin/env python3
"""sluicectl against a running sluiced: misuse is refused clearly with nothing changed, the socket is root-only, show outputs parse and count the traffic; no daemon means exit 3.

Misuse: unknown VIP or backend (exit 1, refused by sluiced), malformed weight or address and an
unknown command (exit 2, refused before sending), a drain deadline beyond a day and `show flows`
of an unknown VIP or backend (exit 1). After each, `show backends` is unchanged. The control socket is
/run/sluice/sluiced.sock, a socket of mode 0600 owned by root. `show vips`, `show stats`,
`show backends` (text and --json) list the lab's VIPs and their counters move with 100 GETs.
With sluiced stopped, every command exits 3 saying "is sluiced running?".
"""
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import lab

SOCKET = "/run/sluice/sluiced.sock"
BE2 = lab.backend_addr("be2")

# dpdk-config/lab.toml's VIPs (dual-stack: each service on 198.18.0.10 and on 2001:2::10), as
# `show vips` writes them.
LAB_VIPS = {"http": "198.18.0.10:80/tcp", "iperf3": "198.18.0.10:5201/tcp",
            "echo": "198.18.0.10:9000/udp", "http6": "[2001:2::10]:80/tcp",
            "iperf3-6": "[2001:2::10]:5201/tcp", "echo6": "[2001:2::10]:9000/udp"}

# (argv, exit status, text the message must contain)
MISUSE = [
    (["set", "weight", "nope", f"{BE2}:80", "0"], 1, "unknown VIP 'nope'"),
    (["show", "backends", "nope"], 1, "unknown VIP 'nope'"),
    (["set", "weight", "http", "198.18.1.99:80", "0"], 1, "198.18.1.99"),
    (["drain", "http", "198.18.1.99"], 1, "198.18.1.99"),
    (["enable", "http", f"{BE2}:81"], 1, f"{BE2}:81"),
    (["set", "weight", "http", BE2, "abc"], 2,
     "WEIGHT: must be an integer from 0 to 65535, got 'abc'"),
    (["set", "weight", "http", BE2, "70000"], 2,
     "WEIGHT: must be an integer from 0 to 65535, got '70000'"),
    (["set", "weight", "http", BE2, "-1"], 2, "WEIGHT"),
    (["add", "backend", "http", "198.18.1.300:80"], 2, "'198.18.1.300' is not an IPv4 address"),
    (["drain", "http", "198.18.1.1234"], 2, "198.18.1.1234"),
    (["frobnicate"], 2, "frobnicate"),
    (["drain", "http", BE2, "--timeout", "100000"], 1, "'timeout' must be a number of seconds"),
    (["show", "flows", "--vip", "nope"], 1, "unknown VIP 'nope'"),
    (["show", "flows", "--vip", "http", "--backend", "198.18.1.99"], 1, "198.18.1.99"),
]


def admin_view(t: lab.Test) -> list[tuple]:
    """What a refused command must not change: every backend's VIP, address, state, weights."""
    rows = t.sluicectl_json("show", "backends")
    return sorted((r["vip"], r["backend"], r["state"], r["weight"], r["configured_weight"],
                   r["max_connections"]) for r in rows)


def totals(t: lab.Test) -> dict:
    doc = t.sluicectl_json("show", "stats")
    lab.check(isinstance(doc, dict) and isinstance(doc.get("totals"), dict)
              and isinstance(doc.get("workers"), list),
              f"--json show stats is not {{totals, workers}}: {str(doc)[:300]}")
    return doc


def body(t: lab.Test) -> None:
    t.lab_up()
    with t.sluiced(t.config()):
        # -- the socket
        st = os.stat(SOCKET)
        lab.log(f"{SOCKET}: mode {stat.filemode(st.st_mode)} uid {st.st_uid} gid {st.st_gid}")
        lab.check(stat.S_ISSOCK(st.st_mode), f"{SOCKET} is not a socket")
        lab.check(stat.S_IMODE(st.st_mode) == 0o600,
                  f"{SOCKET} has mode {oct(stat.S_IMODE(st.st_mode))}, want 0600")
        lab.check(st.st_uid == 0, f"{SOCKET} is owned by uid {st.st_uid}, want root")
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            nobody = None
        if nobody is not None and os.access(t.sluicectl_exe, os.X_OK):
            # A copy nobody can execute: the build tree may sit under a directory only root
            # may enter (a checkout in /root, mode 0700).
            bin_dir = Path(tempfile.mkdtemp(prefix="sluicectl-"))
            try:
                os.chmod(bin_dir, 0o755)
                exe = bin_dir / "sluicectl"
                shutil.copyfile(t.sluicectl_exe, exe)
                os.chmod(exe, 0o755)
                res = subprocess.run([str(exe), "show", "vips"], capture_output=True,
                                     text=True, timeout=15, user=nobody.pw_uid,
                                     group=nobody.pw_gid, extra_groups=[])
            finally:
                shutil.rmtree(bin_dir)
            lab.log(f"as nobody: sluicectl show vips -> exit {res.returncode}: "
                    f"{res.stderr.strip()}")
            lab.check(res.returncode == 3 and "root" in res.stderr,
                      f"as nobody: exit {res.returncode} {res.stderr.strip()!r}, want 3 "
                      f"and a root-only message")

        # -- show, before and after traffic
        vips = t.sluicectl_json("show", "vips", quiet=False)
        names = {v["name"]: v for v in vips}
        lab.check(set(names) == set(LAB_VIPS),
                  f"--json show vips lists {sorted(names)}, want {' '.join(sorted(LAB_VIPS))}")
        for name, want in (("http", ("198.18.0.10", 80, "tcp", "rr")),
                           ("http6", ("2001:2::10", 80, "tcp", "rr"))):
            vip = names[name]
            lab.check((vip["address"], vip["port"], vip["protocol"], vip["scheduler"]) == want,
                      f"show vips: {name} is {vip}")
        text = t.sluicectl_ok("show", "vips")
        for name, addr in LAB_VIPS.items():
            lab.check(any(ln.split()[:2] == [name, addr] for ln in text.splitlines()),
                      f"show vips has no row '{name} {addr}':\n{text}")
        rc, out, err = t.sluicectl("show", "vips", "--json", quiet=True)
        lab.check(rc == 0 and {v["name"] for v in lab.json.loads(out)} == set(names),
                  f"'show vips --json' (option after the command): exit {rc} {err.strip()}")

        s0 = totals(t)
        b0 = t.backends("http")
        res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "100")
        lab.check(res["failed"] == 0, f"{res['failed']} of 100 GETs failed: {res['errors']}")
        s1 = totals(t)
        b1 = t.backends("http")
        t0, t1 = s0["totals"], s1["totals"]
        lab.log(f"show stats totals moved: " + ", ".join(
            f"{k} +{t1[k] - t0[k]}" for k in ("rx_packets", "tx_packets", "flows_created")))
        lab.check(t1["flows_created"] - t0["flows_created"] == 100,
                  f"flows_created moved by {t1['flows_created'] - t0['flows_created']}, want 100")
        lab.check(t1["rx_packets"] - t0["rx_packets"] >= 100 * 8,
                  f"rx_packets moved by {t1['rx_packets'] - t0['rx_packets']} for 100 GETs")
        lab.check(len(s1["workers"]) == 1, f"show stats: {len(s1['workers'])} workers, want 1")
        moved = {be: b1[be]["connections_total"] - b0[be]["connections_total"] for be in b1}
        lab.check(moved == {be: res["backends"].get(be, 0) for be in lab.BACKENDS},
                  f"connections_total moved {moved}, the client saw {res['backends']}")
        w1 = s1["workers"][0]
        lab.check(w1.get("flows_created", 0) == t1["flows_created"],
                  f"--json show stats: the only worker's flows_created is "
                  f"{w1.get('flows_created')}, the total {t1['flows_created']}")
        text = t.sluicectl_ok("show", "stats")
        lab.check("totals:" in text and "workers:" in text and "rx_packets" in text
                  and "flows_created" in text, f"show stats text:\n{text}")
        worker_rows = text.split("workers:\n", 1)[-1].strip().splitlines()
        lab.check(len(worker_rows) == 2 and worker_rows[0].split()[0] == "WORKER",
                  f"show stats: want a WORKER header and one row under 'workers:', got "
                  f"{worker_rows}")
        text = t.sluicectl_ok("show", "backends")
        lab.check(sum(1 for ln in text.splitlines() if ln.split()[:1] == ["http"]) == 3,
                  f"show backends does not list http's 3 backends:\n{text}")

        # -- misuse
        before = admin_view(t)
        for argv, want_rc, want_msg in MISUSE:
            rc, out, err = t.sluicectl(*argv)
            lab.check(rc == want_rc, f"sluicectl {' '.join(argv)}: exit {rc}, want {want_rc}; "
                                     f"stderr {err.strip()!r}")
            lab.check(want_msg in err and err.startswith("sluicectl: "),
                      f"sluicectl {' '.join(argv)}: stderr {err.strip()!r} does not say "
                      f"'sluicectl: ...{want_msg}...'")
            lab.check(out.strip() == "", f"sluicectl {' '.join(argv)} printed {out.strip()!r}")
            after = admin_view(t)
            lab.check(after == before, f"sluicectl {' '.join(argv)} changed show backends:\n"
                                       f"before {before}\nafter  {after}")
        res = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "30")
        lab.check(res["failed"] == 0 and res["backends"] == {"be1": 10, "be2": 10, "be3": 10},
                  f"30 GETs after the refused commands: {res}")
        t.check_kernels_accepted_everything()

    # -- no daemon
    for argv in (["show", "vips"], ["set", "weight", "http", BE2, "0"]):
        rc, out, err = t.sluicectl(*argv)
        lab.check(rc == 3 and "is sluiced running?" in err,
                  f"sluicectl {' '.join(argv)} without sluiced: exit {rc}, stderr "
                  f"{err.strip()!r}; want 3 and 'is sluiced running?'")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

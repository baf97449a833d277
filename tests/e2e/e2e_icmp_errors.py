#!/usr/bin/env python3
"""A backend's port unreachable reaches the client from the VIP: connected UDP sockets get ECONNREFUSED (IPv4, IPv6, and through NAT64 / NAT46 where the error is translated between ICMPv4 and ICMPv6)."""
import json
import sys

import lab

REFUSE_PORT = 9001  # a VIP per family whose backends (be1..3) have nothing on the port
# The same over the backends' addresses of the other family: the IPv6 VIP over their IPv4
# addresses (NAT64), the IPv4 VIP over their IPv6 ones (NAT46).
REFUSE_TRANSLATED_PORT = 9002

# Run inside sluice-client: one connected UDP socket per target, up to `tries` datagrams each
# (the first may be lost while the LB resolves a backend's MAC), each answered within `wait`
# seconds by an echo or an error. With IP_RECVERR / IPV6_RECVERR the kernel also queues the ICMP
# error itself: its type, code and sender (the "offender", which must be the VIP). One JSON line.
PROBE = r"""
import json, socket, struct, sys, time
targets, tries, wait = json.loads(sys.argv[1]), 3, 2.0
out = []
for addr, port in targets:
    v6 = ":" in addr
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(41 if v6 else 0, 25 if v6 else 11, 1)  # IPV6_RECVERR / IP_RECVERR
    s.connect((addr, port))
    s.settimeout(wait)
    r = {"target": f"[{addr}]:{port}" if v6 else f"{addr}:{port}", "v6": v6, "attempts": []}
    for i in range(tries):
        t0 = time.monotonic()
        s.send(b"probe %d" % i)
        try:
            data = s.recv(2048)
            r["attempts"].append("echo")
            r["result"], r["echo"] = "echo", data.decode(errors="replace")
        except ConnectionRefusedError:
            r["attempts"].append("refused")
            r["result"] = "refused"
            try:
                _, anc, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE)
                for _level, _type, d in anc:
                    errno_, origin, typ, code, _pad, info, _data = struct.unpack_from("=IBBBBII", d)
                    off = d[16 + 8:16 + 24] if v6 else d[16 + 4:16 + 8]
                    r["icmp"] = {"errno": errno_, "origin": origin, "type": typ, "code": code,
                                 "from": socket.inet_ntop(socket.AF_INET6 if v6 else socket.AF_INET, off)}
            except OSError as e:
                r["icmp"] = {"error": str(e)}
        except socket.timeout:
            r["attempts"].append("timeout")
            continue
        r["seconds"] = round(time.monotonic() - t0, 3)
        break
    s.close()
    out.append(r)
print(json.dumps(out))
"""


def probe(targets: list[tuple[str, int]]) -> list[dict]:
    """PROBE in the client namespace (≤ 3 × 2 s per target, bounded by the ns_run timeout)."""
    res = lab.ns_run(lab.NS_CLIENT, [sys.executable, "-c", PROBE, json.dumps(targets)],
                     timeout=10 + 7 * len(targets))
    results = json.loads(res.stdout.strip().splitlines()[-1])
    for r in results:
        lab.log(f"  {r['target']}: {r.get('result', 'no answer')} after {r['attempts']}"
                f"{' in ' + str(r['seconds']) + ' s' if 'seconds' in r else ''}"
                f"{', echo ' + repr(r['echo']) if 'echo' in r else ''}"
                f"{', icmp ' + str(r['icmp']) if 'icmp' in r else ''}")
    return results


def icmp_in(ns: str) -> dict[str, int]:
    """The namespace's ICMP/ICMPv6 input counters of interest (/proc/net/snmp and snmp6)."""
    out = {}
    lines = lab.ns_run(ns, ["cat", "/proc/net/snmp"]).stdout.splitlines()
    for names, values in zip(lines[0::2], lines[1::2]):
        if names.startswith("Icmp:"):
            d = dict(zip(names.split()[1:], values.split()[1:]))
            out.update({f"Icmp{k}": int(d[k]) for k in ("InErrors", "InCsumErrors",
                                                          "InDestUnreachs")})
    for line in lab.ns_run(ns, ["cat", "/proc/net/snmp6"]).stdout.splitlines():
        parts = line.split()  # "Icmp6InErrors   0"
        if len(parts) == 2 and parts[0] in ("Icmp6InErrors", "Icmp6InCsumErrors",
                                            "Icmp6InDestUnreachs"):
            out[parts[0]] = int(parts[1])
    return out


def body(t: lab.Test) -> None:
    t.lab_up()
    vips = [lab.vip_toml(address=a, port=REFUSE_PORT, protocol="udp", name=n,
                         backends=[f(be) for be in lab.BACKENDS])
            for a, n, f in ((lab.VIP, "refused", lab.backend_addr),
                            (lab.VIP6, "refused6", lab.backend_addr6))]
    vips += [lab.vip_toml(address=a, port=REFUSE_TRANSLATED_PORT, protocol="udp", name=n,
                          backends=[f(be) for be in lab.BACKENDS])
             for a, n, f in ((lab.VIP, "refused46", lab.backend_addr6),
                             (lab.VIP6, "refused64", lab.backend_addr))]
    config = t.work_dir / "icmp-errors.toml"
    config.write_text((t.source_dir / "dpdk-config" / "lab.toml").read_text() + "\n"
                      + "\n".join(vips))
    lab.log(f"wrote {config}: lab.toml with udp/{REFUSE_PORT} VIPs {lab.VIP} and {lab.VIP6} "
            f"(backends be1..3:{REFUSE_PORT}, nothing listens there) and the same on "
            f"udp/{REFUSE_TRANSLATED_PORT} over the backends' other family")
    with t.sluiced(config):
        # Three connected sockets per family: rr sends them to be1, be2 and be3 in turn.
        lab.log("udp/9000 (echo servers): every socket gets its echo")
        echo = [(a, 9000) for a in (lab.VIP, lab.VIP6) for _ in lab.BACKENDS]
        for r in probe(echo):
            lab.check(r.get("result") == "echo" and r["echo"].split()[0] in lab.BACKENDS,
                      f"{r['target']}: no echo from a backend ({r['attempts']})")
        before = t.stats()
        lab.log(f"udp/{REFUSE_PORT} and udp/{REFUSE_TRANSLATED_PORT} (nothing listens): every "
                f"socket gets ECONNREFUSED")
        refused = [(a, p) for p in (REFUSE_PORT, REFUSE_TRANSLATED_PORT)
                   for a in (lab.VIP, lab.VIP6) for _ in lab.BACKENDS]
        results = probe(refused)
        for r in results:
            lab.check(r.get("result") == "refused",
                      f"{r['target']}: no ECONNREFUSED within 2 s in {len(r['attempts'])} "
                      f"tries ({r['attempts']})")
            # Port unreachable: ICMP type 3 code 3 (origin 2), ICMPv6 type 1 code 4 (origin 3),
            # sent (as far as the client can tell) by the VIP it talked to.
            want = {"errno": 111, "origin": 3, "type": 1, "code": 4, "from": lab.VIP6} if r["v6"] \
                else {"errno": 111, "origin": 2, "type": 3, "code": 3, "from": lab.VIP}
            lab.check(r.get("icmp") == want, f"{r['target']}: queued error {r.get('icmp')}, "
                      f"want {want}")
        after = t.stats()
        delta = {k: after[k] - before[k] for k in ("icmp_errors_translated", "drop_icmp_no_flow",
                                                   "drop_bad_icmp", "drop_untranslatable")}
        lab.log(f"stats: {delta} during the refused probes; icmp_errors_translated "
                f"{after['icmp_errors_translated']} in all")
        lab.check(after["icmp_errors_translated"] >= 2 and
                  delta["icmp_errors_translated"] >= len(results),
                  f"icmp_errors_translated rose by {delta['icmp_errors_translated']}, want ≥ "
                  f"{len(results)} (one per refused socket)")
        lab.check(after["drop_icmp_no_flow"] == 0 and after["drop_bad_icmp"] == 0 and
                  after["drop_untranslatable"] == 0,
                  f"ICMP errors dropped: icmp_no_flow {after['drop_icmp_no_flow']}, "
                  f"bad_icmp {after['drop_bad_icmp']}, untranslatable "
                  f"{after['drop_untranslatable']}")
        lab.log("udp/9000 still echoes after the refusals")
        for r in probe([(lab.VIP, 9000), (lab.VIP6, 9000)]):
            lab.check(r.get("result") == "echo", f"{r['target']}: no echo ({r['attempts']})")
        icmp = icmp_in(lab.NS_CLIENT)
        lab.log(f"client kernel: {icmp}")
        lab.check(icmp["IcmpInErrors"] == 0 and icmp["IcmpInCsumErrors"] == 0 and
                  icmp["Icmp6InErrors"] == 0 and icmp["Icmp6InCsumErrors"] == 0,
                  f"the client's kernel rejected ICMP errors: {icmp}")
        t.check_kernels_accepted_everything()


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""Path MTU through the LB: uploads to a backend behind a 1280-byte hop complete; the client learns MTU 1280 from the router's ICMP (IPv4, IPv6), and through NAT64 / NAT46 the MTU of its own family (1300 / 1260: the router's less or plus the 20-byte header difference)."""
import hashlib
import os
import re

import lab

RBE, RBE6 = "198.18.9.2", "2001:2:0:9::2"  # scripts/lab.sh LAB_ROUTER=1: sluice-rbe behind sluice-rt
ROUTER, ROUTER6 = "198.18.1.254", "2001:2:0:1::fe"  # the router's leg on br-srv
PORT = 8080  # the VIPs' port for the routed backend's nginx :80
# VIPs of their own for the translated cases (a client caches path MTUs per destination): the
# IPv6 one over the routed backend's IPv4 address (NAT64), the IPv4 one over its IPv6 address.
NAT_VIP, NAT_VIP6 = "198.18.0.20", "2001:2::20"
SMALL_MTU = 1280
UPLOAD_BYTES = 4 << 20


def cached_mtu(vip: str) -> int | None:
    """The path MTU the client's kernel has cached for `vip` (`ip route get`), None if none."""
    out = lab.ns_run(lab.NS_CLIENT, ["ip", *(["-6"] if ":" in vip else []), "route", "get", vip],
                     timeout=10).stdout
    m = re.search(r"\bmtu (\d+)", out)
    lab.log(f"client: ip route get {vip}: {' '.join(out.split())}")
    return int(m.group(1)) if m else None


def one_family(t: lab.Test, vip: str, upload: bytes, translated: bool = False) -> None:
    v6 = ":" in vip
    backend_v6 = v6 != translated
    fam = ("NAT64" if v6 else "NAT46") if translated else ("IPv6" if v6 else "IPv4")
    errors = "Icmp6OutPktTooBigs" if backend_v6 else "IcmpOutDestUnreachs"
    received = "Icmp6InPktTooBigs" if v6 else "IcmpInDestUnreachs"
    # The router's MTU in the client's family: an IPv6 header is 20 bytes larger.
    want_mtu = SMALL_MTU + (0 if not translated else 20 if v6 else -20)
    lab.check(cached_mtu(vip) is None, f"{fam}: the client has a path MTU for {vip} already")

    # Download: the backend's segments fit its own 1280-byte link; this checks the route.
    want = t.big_sha256()
    res = t.client("download", "--url", lab.http_url(vip, "/big.bin", PORT), "--sha256", want,
                   timeout=120)
    lab.log(f"{fam} download: status {res.get('status')}, {res['bytes']} bytes in "
            f"{res['elapsed_s']}s ({res['mbit_s']} Mbit/s)")
    lab.check("error" not in res and res.get("status") == 200,
              f"{fam}: download failed after {res['bytes']} bytes: {res.get('error')} "
              f"(status {res.get('status')})")
    lab.check(res["sha256"] == want, f"{fam}: /big.bin sha256 {res['sha256']} != lab's {want}")
    lab.check(cached_mtu(vip) is None, f"{fam}: a download alone lowered the path MTU")

    # Upload: the client's segments are MSS 1460/1440 (advmss of the routed backend), 1500-byte
    # packets the router cannot forward into the 1280 hop; its ICMP goes to the LB's local
    # address and must reach the client, or the upload stalls.
    before_lb, before_rt, before_cl = t.stats(), lab.snmp("sluice-rt"), lab.snmp(lab.NS_CLIENT)
    name = f"up-{fam.lower()}.bin"
    src = t.work_dir / name
    src.write_bytes(upload)
    url = lab.http_url(vip, f"/upload/{name}", PORT)
    res = lab.ns_run(lab.NS_CLIENT, ["curl", "-gsS", "--connect-timeout", "5", "-m", "30", "-T",
                                     str(src), "-o", "/dev/null", "-w",
                                     "%{http_code} %{size_upload} %{time_total}", url],
                     timeout=40, check_rc=False)
    lab.log(f"{fam} upload: curl -T {name} {url}: exit {res.returncode}, {res.stdout.strip()} "
            f"(HTTP status, bytes sent, seconds) {res.stderr.strip()}")
    after_lb, after_rt, after_cl = t.stats(), lab.snmp("sluice-rt"), lab.snmp(lab.NS_CLIENT)
    sent = after_rt[errors] - before_rt[errors]
    got = after_cl[received] - before_cl[received]
    translated = after_lb["icmp_errors_translated"] - before_lb["icmp_errors_translated"]
    lab.log(f"{fam}: router sent {sent} ({errors}), sluiced translated {translated}, client "
            f"received {got} ({received}); drops icmp_no_flow "
            f"{after_lb['drop_icmp_no_flow']}, bad_icmp {after_lb['drop_bad_icmp']}")
    lab.check(sent >= 1, f"{fam}: the router sent no {errors}: the upload never exceeded the "
              f"{SMALL_MTU}-byte hop, nothing was tested")
    lab.check(res.returncode == 0 and res.stdout.split()[:2] == ["201", str(len(upload))],
              f"{fam}: upload failed: curl exit {res.returncode}, {res.stdout.strip()} "
              f"{res.stderr.strip()}")
    stored = lab.LAB_STATE_DIR / "rbe" / "www" / "upload" / name
    digest = hashlib.sha256(stored.read_bytes()).hexdigest() if stored.exists() else "missing"
    lab.check(digest == hashlib.sha256(upload).hexdigest(),
              f"{fam}: the backend stored {name} with sha256 {digest}, not the upload's")
    lab.check(translated >= 1 and got >= 1,
              f"{fam}: the router's errors did not reach the client: translated {translated}, "
              f"client received {got}")
    lab.check(after_lb["drop_icmp_no_flow"] == 0 and after_lb["drop_bad_icmp"] == 0,
              f"{fam}: sluiced dropped ICMP errors: icmp_no_flow {after_lb['drop_icmp_no_flow']}, "
              f"bad_icmp {after_lb['drop_bad_icmp']}")
    mtu = cached_mtu(vip)
    lab.check(mtu == want_mtu, f"{fam}: the client cached path MTU {mtu} for {vip}, want "
              f"{want_mtu}")
    lab.log(f"{fam}: upload intact, the client's path MTU to {vip} is {mtu}")


def body(t: lab.Test) -> None:
    t.lab_is_up = True
    t.lab("up", {"LAB_ROUTER": "1"})
    extra = [
        f'[[route]]\nprefix = "198.18.9.0/24"\nvia = "{ROUTER}"\n',
        f'[[route]]\nprefix = "2001:2:0:9::/64"\nvia = "{ROUTER6}"\n',
        lab.vip_toml(address=lab.VIP, port=PORT, name="routed",
                     backends=[{"address": RBE, "port": 80}]),
        lab.vip_toml(address=lab.VIP6, port=PORT, name="routed6",
                     backends=[{"address": RBE6, "port": 80}]),
        lab.vip_toml(address=NAT_VIP, port=PORT, name="routed46",
                     backends=[{"address": RBE6, "port": 80}]),
        lab.vip_toml(address=NAT_VIP6, port=PORT, name="routed64",
                     backends=[{"address": RBE, "port": 80}]),
    ]
    config = t.work_dir / "pmtu.toml"
    config.write_text((t.source_dir / "dpdk-config" / "lab.toml").read_text() + "\n"
                      + "\n".join(extra))
    lab.log(f"wrote {config}: lab.toml with routes via {ROUTER}, {ROUTER6} and tcp/{PORT} VIPs "
            f"to {lab.host_port(RBE, 80)}, {lab.host_port(RBE6, 80)}")
    upload = os.urandom(UPLOAD_BYTES)
    with t.sluiced(config) as d:
        for vip in (lab.VIP, lab.VIP6):
            one_family(t, vip, upload)
        for vip in (NAT_VIP6, NAT_VIP):
            one_family(t, vip, upload, translated=True)
        total = t.stats()["icmp_errors_translated"]
        lab.log(f"icmp_errors_translated {total} in all")
        t.check_kernels_accepted_everything()
        rbe = lab.snmp("sluice-rbe")
        bad = {k: rbe[k] for k in ("IpInHdrErrors", "IpInAddrErrors", "TcpInCsumErrors",
                                   "TcpInErrs", "Ip6InHdrErrors", "Ip6InAddrErrors") if rbe[k]}
        lab.check(not bad, f"sluice-rbe's kernel rejected packets: {bad}")
        lab.log("sluice-rbe: no IP header or TCP checksum errors either")
    stats = d.final_stats() or {}
    lab.check(stats.get("icmp_errors_translated", 0) >= 2,
              f"final counters: icmp_errors_translated {stats.get('icmp_errors_translated')}")


if __name__ == "__main__":
    lab.run_test(__doc__, body)

#!/usr/bin/env python3
"""sluicectl show ports/info report each device's driver, queues, descriptors, offloads and link
with its NIC counters after real traffic; a link that goes down and up is seen within seconds,
logged and counted; fewer RX queues than workers on a virtual device are refused; with two
workers, net_tap's refusal of the reply-steering rules is shown with its reason and
flow_steering = false is honoured."""
import re
import subprocess
import time

import lab

TAP_NS = "sluice-nic"


def lab_with_nic_keys(t: lab.Test):
    """lab.toml with descriptor counts on the servers port and RX checksum offload off on the
    client port: what show ports must reflect."""
    text = (t.source_dir / "dpdk-config" / "lab.toml").read_text()
    text, n1 = re.subn(r'(name = "servers"\n)', r'\1rx_descriptors = 512\ntx_descriptors = 256\n',
                       text, count=1)
    text, n2 = re.subn(r'(name = "client"\n)', r'\1rx_checksum_offload = false\n', text, count=1)
    lab.check(n1 == 1 and n2 == 1, "lab.toml has no client and servers ports")
    out = t.work_dir / "lab-nic-keys.toml"
    out.write_text(text)
    return out


def tap_config(t: lab.Test, workers: str = "[1]", a_extra: tuple[str, ...] = ()):
    """Two net_tap ports in a namespace of their own: drivers with RX checksum offload and a link
    whose state the test can change (ip link set down/up)."""
    text = "\n".join([
        "[dataplane]",
        'eal_args = ["--no-huge", "-m", "256", "--no-shconf", "--no-pci",'
        ' "--file-prefix=sluice-nic", "--log-level=lib.eal:notice"]',
        "control_cpu = 0", f"worker_cpus = {workers}", f'netns = "{TAP_NS}"', 'idle = "backoff"',
        "mbufs = 4095", "kernel_interfaces = false",
        "[[port]]", 'name = "tap-a"', 'device = "net_tap0,iface=sltapa"',
        'addresses = ["198.18.40.1/24"]', *a_extra,
        "[[port]]", 'name = "tap-b"', 'device = "net_tap1,iface=sltapb"',
        'addresses = ["198.18.41.1/24"]', ""])
    out = t.work_dir / f"nic-tap-{len(a_extra)}.toml"
    out.write_text(text)
    lab.log(f"wrote {out}:\n{text}")
    return out


def ports_by_name(t: lab.Test) -> dict[str, dict]:
    return {p["name"]: p for p in t.sluicectl_json("show", "ports")}


def lab_ports(t: lab.Test) -> None:
    """The lab's af_packet ports as show ports and /metrics report them after real traffic."""
    with t.sluiced(lab_with_nic_keys(t)):
        http = t.client("http", "--url", f"http://{lab.VIP}/", "--count", "50")
        lab.check(http["failed"] == 0, f"{http['failed']} of 50 requests failed")
        ports = ports_by_name(t)
        lab.log(f"show ports: {ports}")
        lab.check(set(ports) == {"client", "servers"}, f"ports {sorted(ports)}")
        for name, p in ports.items():
            nic = p["nic"]
            lab.check(nic["driver"] == "net_af_packet", f"{name}: driver {nic['driver']}")
            lab.check(nic["rx_queues"] == 1 and nic["tx_queues"] == 1, f"{name}: queues {nic}")
            lab.check(nic["rx_descriptors"] > 0 and nic["tx_descriptors"] > 0, f"{name}: {nic}")
            lab.check(nic["rss"] == "off", f"{name}: one queue but RSS {nic['rss']}")
            lab.check(p["link_up"] and "up" in p["link"].lower(), f"{name}: link {p['link']}")
            lab.check(p["counters"]["rx_packets"] >= 50, f"{name}: {p['counters']}")
            lab.check(p["counters"]["tx_packets"] >= 50, f"{name}: {p['counters']}")
        servers = ports["servers"]["nic"]
        lab.check((servers["rx_descriptors"], servers["tx_descriptors"]) == (512, 256),
                  f"servers descriptors: {servers}")
        lab.check(not ports["client"]["nic"]["rx_checksum_offload"], f"client: {ports['client']}")
        human = t.sluicectl_ok("show", "ports")
        lab.check("port client (net_af_packet0" in human and "link changes" in human,
                  f"show ports text:\n{human}")
        info = t.sluicectl_json("show", "info")
        lab.log(f"show info: {info}")
        lab.check(info["workers"] == 1 and info["ports"] == 2, f"show info: {info}")
        lab.check(info["dpdk"].startswith("DPDK"), f"show info dpdk: {info['dpdk']}")
        lab.check(info["version"] != "" and info["uptime_s"] < 600, f"show info: {info}")
        lab.check(info["mbuf_pools"] == 1 and info["mbufs_total"] > 0, f"show info: {info}")
        text, _ = lab.scrape_metrics()
        lab.check(lab.metric_total(text, "sluice_port_link_changes_total", port="client") == 0,
                  "client link changes in /metrics")
        lab.check(lab.metric_total(text, "sluice_port_link_up", port="servers") == 1,
                  "servers link up in /metrics")


def fewer_queues_refused(t: lab.Test) -> None:
    """queues = 1 with 2 workers on the lab's af_packet port is refused before anything starts:
    the kernel would still give the second queue pair its share of the frames."""
    text = (t.source_dir / "dpdk-config" / "lab-2workers.toml").read_text()
    text, n = re.subn(r'(name = "client"\n)', r'\1queues = 1\n', text, count=1)
    lab.check(n == 1, "lab-2workers.toml has no client port")
    cfg = t.work_dir / "lab-2workers-queues-1.toml"
    cfg.write_text(text)
    r = subprocess.run([str(t.sluiced_exe), "--check", "--config", str(cfg)],
                       capture_output=True, text=True, timeout=30)
    lab.log(f"sluiced --check: {r.returncode}: {r.stderr.strip()}")
    lab.check(r.returncode == 2, f"--check exit {r.returncode}, want 2 (invalid)")
    lab.check(re.search(r"lab-2workers-queues-1\.toml:\d+:\d+: port\[0\]\.queues: 1 RX queues "
                        r"for 2 workers needs a PCI NIC", r.stderr) is not None,
              f"no positioned refusal in: {r.stderr}")


def wait_link(t: lab.Test, port: str, up: bool, changes: int, timeout: float = 5) -> float:
    start = time.monotonic()
    while True:
        p = ports_by_name(t)[port]
        if p["link_up"] == up and p["counters"]["link_changes"] == changes:
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise lab.Failure(f"{port}: link_up {p['link_up']}, changes "
                              f"{p['counters']['link_changes']} after {timeout}s; want {up}, "
                              f"{changes}")
        time.sleep(0.2)


def tap_link(t: lab.Test) -> None:
    """net_tap: offloads as the driver offers them, and the link followed down and up."""
    subprocess.run(["ip", "netns", "add", TAP_NS], check=True)
    try:
        with t.sluiced(tap_config(t)) as d:
            ports = ports_by_name(t)
            lab.log(f"show ports: {ports}")
            a = ports["tap-a"]
            lab.check(a["nic"]["driver"] == "net_tap", f"tap-a: {a['nic']}")
            lab.check(a["link_up"], f"tap-a link at start: {a['link']}")
            lab.check(a["counters"]["link_changes"] == 0, f"tap-a: {a['counters']}")
            subprocess.run(["ip", "-n", TAP_NS, "link", "set", "sltapa", "down"], check=True)
            took = wait_link(t, "tap-a", False, 1)
            lab.log(f"link down seen after {took:.1f}s")
            lab.check(ports_by_name(t)["tap-b"]["link_up"], "tap-b went down with tap-a")
            subprocess.run(["ip", "-n", TAP_NS, "link", "set", "sltapa", "up"], check=True)
            took = wait_link(t, "tap-a", True, 2)
            lab.log(f"link up seen after {took:.1f}s")
            lab.check("port tap-a: link down" in d.log_text(), "no 'link down' log line")
            lab.check("port tap-a: link up" in d.log_text(), "no 'link up' log line")
    finally:
        subprocess.run(["ip", "netns", "del", TAP_NS], check=False)


def tap_steering(t: lab.Test) -> None:
    """net_tap with two workers: the driver's flow engine (TC flower, absent from this kernel)
    refuses the reply-steering rules, the port says so with the driver's reason and holds no
    rule; flow_steering = false on the other port is reported as such."""
    subprocess.run(["ip", "netns", "add", TAP_NS], check=True)
    try:
        with t.sluiced(tap_config(t, "[1, 1]", ("flow_steering = false",))):
            ports = ports_by_name(t)
            a, b = ports["tap-a"]["nic"], ports["tap-b"]["nic"]
            lab.log(f"tap-a steering {a['steering']!r}; tap-b steering {b['steering']!r}, "
                    f"{b['steering_rules']} rules, {b['rx_queues']} RX queues")
            lab.check(a["steering"] == "handoff ring (flow_steering = false)", f"tap-a: {a}")
            lab.check(b["rx_queues"] == 2 and b["steering"].startswith("handoff ring (rte_flow: ")
                      and b["steering_rules"] == 0, f"tap-b: {b}")
    finally:
        subprocess.run(["ip", "netns", "del", TAP_NS], check=False)


def body(t: lab.Test) -> None:
    t.lab_up()
    fewer_queues_refused(t)
    lab_ports(t)
    tap_link(t)
    tap_steering(t)


if __name__ == "__main__":
    lab.run_test(__doc__, body)

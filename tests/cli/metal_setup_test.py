#!/usr/bin/python3
"""scripts/metal-setup.sh on a fake host tree (SLUICE_METAL_ROOT): preflight verdicts, dry runs that
change nothing, usage errors, undo from a state file, and an --apply round trip with stub commands.

The fake host: two Intel NICs (0000:03:00.0, 0000:04:00.0) on i40e, NUMA node 0, interfaces down;
two nodes (CPUs 0-3, 4-7); workers 2,3 isolated; IOMMU on; no hugepages reserved yet; hugetlbfs
mounted at /dev/hugepages. Stub modprobe, dpdk-devbind.py and dpdk-hugepages.py come first on PATH:
they log every call, so a dry run that ran anything is caught, and under --apply they change the fake
tree the way the real tools change /sys."""
import argparse
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

failures: list[str] = []
SCRIPT = ""
NIC1, NIC2, MLX = "0000:03:00.0", "0000:04:00.0", "0000:05:00.0"

CONFIG = """\
[dataplane]
eal_args = ["--huge-dir=/dev/hugepages", "--file-prefix=sluice"]
control_cpu = 0
worker_cpus = [2,
               3]   # a multi-line array

[[port]]
name = "uplink"
device = "0000:03:00.0"
addresses = ["198.18.0.2/24"]

[[port]]
name = "servers"
device = "04:00.0"          # the short form means 0000:04:00.0
addresses = ["198.19.0.1/24"]

[[port]]
name = "servers-v200"       # a VLAN sub-port of the same device: bound once
device = "0000:04:00.0"
vlan = 200
addresses = ["198.19.200.1/24"]

[[port]]
name = "tap"
device = "net_tap0,iface=sl-test"   # a virtual device: nothing to bind
addresses = ["198.20.0.1/24"]
"""

# The stubs. Each logs "NAME ARGS" to $STUB_LOG; under --apply (SLUICE_METAL_ALLOW_APPLY=1) the
# devbind and hugepages stubs edit the fake tree as the real tools edit /sys and /proc/mounts.
STUB = """#!/usr/bin/python3
import os, sys
from pathlib import Path
name = Path(sys.argv[0]).name
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(" ".join([name] + args) + "\\n")
root = Path(os.environ.get("SLUICE_METAL_ROOT", "/nonexistent"))
if os.environ.get("SLUICE_METAL_ALLOW_APPLY") != "1":
    sys.exit(0)
if name == "dpdk-devbind.py":
    if args[0] == "-b":
        drv, bdf = args[1], args[-1]
        link = root / "sys/bus/pci/devices" / bdf / "driver"
        (root / "sys/bus/pci/drivers" / drv).mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to("../../drivers/" + drv)
    elif args[0] == "-u":
        link = root / "sys/bus/pci/devices" / args[1] / "driver"
        if link.is_symlink():
            link.unlink()
elif name == "dpdk-hugepages.py":
    kb = {"2M": 2048, "1G": 1048576}
    def size_kb(s):
        n, unit = int(s[:-1]), s[-1]
        return n * {"K": 1, "M": 1024, "G": 1048576}[unit]
    if "-r" in args:
        page = kb[args[args.index("-p") + 1]]
        node = args[args.index("-n") + 1]
        f = root / f"sys/devices/system/node/node{node}/hugepages/hugepages-{page}kB/nr_hugepages"
        f.write_text(f"{size_kb(args[args.index('-r') + 1]) // page}\\n")
    if "-m" in args:
        with open(root / "proc/mounts", "a") as m:
            m.write("nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\\n")
    if "-u" in args:
        mounts = root / "proc/mounts"
        mounts.write_text("".join(l for l in mounts.read_text().splitlines(True)
                                  if " /dev/hugepages " not in l))
"""


def check(cond: bool, msg: str) -> bool:
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", flush=True)
    return cond


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def add_nic(root: Path, bdf: str, iface: str, *, vendor="0x8086", device="0x1572", node=0,
            driver="i40e", operstate="down", pci_class="0x020000", net="net") -> None:
    d = root / "sys/bus/pci/devices" / bdf
    write(d / "class", pci_class + "\n")
    write(d / "vendor", vendor + "\n")
    write(d / "device", device + "\n")
    write(d / "numa_node", f"{node}\n")
    (root / "sys/bus/pci/drivers" / driver).mkdir(parents=True, exist_ok=True)
    (d / "driver").symlink_to("../../drivers/" + driver)
    write(d / net / iface / "operstate", operstate + "\n")
    write(d / net / iface / "flags", ("0x1003" if operstate == "up" else "0x1002") + "\n")


def make_host(base: Path, *, cmdline_extra="isolcpus=2-3 nohz_full=2-3 rcu_nocbs=2-3",
              isolated="2-3") -> Path:
    """A good host: everything preflight checks is right or fixable by the script."""
    root = base / "host"
    write(root / "proc/cmdline",
          "BOOT_IMAGE=/boot/vmlinuz-6.1.0-18-amd64 root=/dev/sda1 ro quiet intel_iommu=on iommu=pt "
          f"{cmdline_extra}\n")
    flags = ("fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx "
             "fxsr sse sse2 ht syscall nx pdpe1gb rdtscp lm constant_tsc nonstop_tsc pni ssse3 "
             "sse4_1 sse4_2 popcnt aes avx f16c rdrand avx2 bmi1 bmi2")
    write(root / "proc/cpuinfo", "".join(
        f"processor\t: {i}\nmodel name\t: Fake Xeon\nflags\t\t: {flags}\n\n" for i in range(8)))
    write(root / "proc/meminfo",
          "MemTotal:       65843012 kB\nMemFree:        60000000 kB\nHugePages_Total:       0\n"
          "Hugepagesize:       2048 kB\n")
    write(root / "proc/mounts",
          "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
          "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n")
    write(root / "proc/net/route",
          "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
          "eno1\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
          "eno1\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
    write(root / "proc/net/if_inet6",
          "20010db8000000000000000000000001 02 40 00 80     eno1\n"
          "fe800000000000000000000000000001 02 40 20 80     eno1\n")
    (root / "sys/class/iommu/dmar0").mkdir(parents=True)
    (root / "sys/module/vfio_pci").mkdir(parents=True)
    (root / "sys/bus/pci/drivers/vfio-pci").mkdir(parents=True)
    write(root / "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N\n")
    add_nic(root, NIC1, "enp3s0f0")
    add_nic(root, NIC2, "enp4s0f0")
    for node, cpus in ((0, "0-3"), (1, "4-7")):
        nd = root / f"sys/devices/system/node/node{node}"
        write(nd / "cpulist", cpus + "\n")
        for size in (2048, 1048576):
            write(nd / f"hugepages/hugepages-{size}kB/nr_hugepages", "0\n")
            write(nd / f"hugepages/hugepages-{size}kB/free_hugepages", "0\n")
    for size in (2048, 1048576):
        write(root / f"sys/kernel/mm/hugepages/hugepages-{size}kB/nr_hugepages", "0\n")
        write(root / f"sys/kernel/mm/hugepages/hugepages-{size}kB/free_hugepages", "0\n")
    write(root / "sys/devices/system/cpu/online", "0-7\n")
    write(root / "sys/devices/system/cpu/isolated", isolated + "\n")
    return root


def snapshot(root: Path) -> dict:
    """Every entry of the tree: type, mode and bytes (or link target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            rel = str(p.relative_to(root))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", st.st_mode)
            else:
                out[rel] = ("file", st.st_mode, p.read_bytes())
    return out


class Env:
    def __init__(self, base: Path):
        self.base = base
        self.stubs = base / "stubs"
        self.stubs.mkdir()
        for name in ("modprobe", "dpdk-devbind.py", "dpdk-hugepages.py"):
            (self.stubs / name).write_text(STUB)
            (self.stubs / name).chmod(0o755)
        self.log = base / "stub.log"
        self.log.write_text("")
        self.config = base / "sluice.toml"
        self.config.write_text(CONFIG)
        self.state = base / "state" / "metal-setup.state"

    def run(self, root, *args, extra_env=None, config=True, state=True):
        env = dict(os.environ)
        env.pop("SLUICE_METAL_ALLOW_APPLY", None)
        env["PATH"] = f"{self.stubs}:{env.get('PATH', '/usr/bin:/bin')}"
        env["STUB_LOG"] = str(self.log)
        env["SLUICE_METAL_ROOT"] = str(root)
        env.update(extra_env or {})
        argv = ["bash", SCRIPT, *args]
        if config:
            argv += ["--config", str(self.config)]
        if state:
            argv += ["--state", str(self.state)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env,
                              stdin=subprocess.DEVNULL)

    def calls(self) -> list[str]:
        return [l for l in self.log.read_text().splitlines() if l]


def lines(res, prefix: str) -> list[str]:
    return [l for l in res.stdout.splitlines() if l.startswith(prefix)]


def show(res) -> str:
    return f"exit {res.returncode}\n--- stdout\n{res.stdout}--- stderr\n{res.stderr}"


def test_good_host(env: Env, tmp: Path) -> None:
    print("- preflight passes (exit 0, no fail line) on a good host and reports each NIC", flush=True)
    root = make_host(tmp / "good")
    for args in ((), ("preflight",)):
        res = env.run(root, *args)
        check(res.returncode == 0 and not lines(res, "fail:"), f"good host {args}: {show(res)}")
    out = res.stdout
    check(f"ok: NIC {NIC1} — 8086:1572 (i40e), driver i40e, interface enp3s0f0" in out,
          f"NIC 1 identity line missing:\n{out}")
    check(f"ok: NIC {NIC2} NUMA node — node 0, like the worker CPUs (2,3)" in out,
          f"NIC 2 NUMA line missing:\n{out}")
    check("ok: worker CPUs isolated — 2,3 in isolcpus" in out, f"isolation line missing:\n{out}")
    check("ok: IOMMU — on (dmar0)" in out, f"IOMMU line missing:\n{out}")
    check("ok: virtual devices — net_tap0,iface=sl-test" in out, f"vdev line missing:\n{out}")
    check("warn: hugepages 2048 kB — 0 reserved" in out, f"no-hugepages warning missing:\n{out}")
    check(len([l for l in out.splitlines() if l.startswith(f"ok: NIC {NIC2} — ")]) == 1,
          f"0000:04:00.0 (three [[port]] spellings) not reported exactly once:\n{out}")
    check(env.calls() == [], f"preflight ran commands: {env.calls()}")


def test_interface_up(env: Env, tmp: Path) -> None:
    print("- preflight fails (exit 1) naming the NIC whose interface is UP or has routes; "
          "--force makes it a warning", flush=True)
    root = make_host(tmp / "up")
    write(root / f"sys/bus/pci/devices/{NIC1}/net/enp3s0f0/operstate", "up\n")
    res = env.run(root, "preflight")
    bad = [l for l in lines(res, "fail:") if NIC1 in l]
    check(res.returncode == 1 and bad and "enp3s0f0 is UP" in bad[0], f"UP interface: {show(res)}")
    check(not any(NIC2 in l for l in lines(res, "fail:")), f"the idle NIC failed too: {show(res)}")
    res = env.run(root, "preflight", "--force")
    check(res.returncode == 0 and any(NIC1 in l and "--force" in l for l in lines(res, "warn:")),
          f"--force: {show(res)}")

    root = make_host(tmp / "routed")
    with open(root / "proc/net/route", "a") as f:
        f.write("enp4s0f0\t0012C6C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n")
    res = env.run(root)
    bad = [l for l in lines(res, "fail:") if NIC2 in l]
    check(res.returncode == 1 and bad and "IPv4 route" in bad[0], f"routed interface: {show(res)}")


def test_numa_and_isolation(env: Env, tmp: Path) -> None:
    print("- preflight warns when the NIC sits on another NUMA node than the workers", flush=True)
    root = make_host(tmp / "numa")
    write(root / f"sys/bus/pci/devices/{NIC2}/numa_node", "1\n")
    res = env.run(root)
    warn = [l for l in lines(res, "warn:") if f"NIC {NIC2} NUMA node" in l]
    check(res.returncode == 0 and warn and "NIC on node 1" in warn[0] and "2(node 0)" in warn[0]
          and "4-7" in warn[0], f"NUMA mismatch: {show(res)}")

    print("- preflight warns when the worker CPUs are not isolated", flush=True)
    root = make_host(tmp / "noiso", cmdline_extra="", isolated="")
    res = env.run(root)
    warn = [l for l in lines(res, "warn:") if l.startswith("warn: worker CPUs isolated")]
    check(res.returncode == 0 and warn and "2,3 not isolated" in warn[0] and "isolcpus=2,3" in warn[0],
          f"non-isolated workers: {show(res)}")
    check(any(l.startswith("warn: worker CPUs tickless") for l in lines(res, "warn:")),
          f"no nohz_full/rcu_nocbs warning: {show(res)}")


def test_dry_run_all(env: Env, tmp: Path) -> None:
    print("- `all` (dry run by default) prints the hugepages and devbind commands and changes "
          "nothing: tree byte for byte, no command run, no state file", flush=True)
    root = make_host(tmp / "dry")
    before = snapshot(root)
    for args in (("all",), ("all", "--dry-run")):
        res = env.run(root, *args)
        would = lines(res, "would run: ")
        expected = ["would run: dpdk-hugepages.py -p 2M -n 0 -r 2048M",
                    "would run: modprobe vfio-pci",
                    f"would run: dpdk-devbind.py -b vfio-pci {NIC1}",
                    f"would run: dpdk-devbind.py -b vfio-pci {NIC2}"]
        check(res.returncode == 0 and would == expected,
              f"{args}: commands {would} != {expected}\n{show(res)}")
        check(f"would record: nic_previous_driver.{NIC1}=i40e" in res.stdout and
              "would record: hugepages_previous.node0.2048kB=0" in res.stdout,
              f"{args}: the records undo needs are not announced:\n{res.stdout}")
    check(snapshot(root) == before, "a dry run changed the fake host tree")
    check(env.calls() == [], f"a dry run executed commands: {env.calls()}")
    check(not env.state.exists(), "a dry run wrote the state file")

    res = env.run(root, "hugepages", "--hugepages", "512", "--hugepage-size", "1G")
    check(res.returncode == 0 and lines(res, "would run: ") ==
          ["would run: dpdk-hugepages.py -p 1G -n 0 -r 512G"],
          f"1G pages: {show(res)}")


def test_mlx5(env: Env, tmp: Path) -> None:
    print("- bind leaves an mlx5 NIC on mlx5_core (bifurcated) and binds the Intel one", flush=True)
    root = make_host(tmp / "mlx")
    add_nic(root, MLX, "enp5s0f0np0", vendor="0x15b3", device="0x1017", driver="mlx5_core",
            operstate="up")
    res = env.run(root, "bind", "--pci", MLX, "--pci", "03:00.0")
    check(res.returncode == 0 and lines(res, "would run: ") ==
          ["would run: modprobe vfio-pci", f"would run: dpdk-devbind.py -b vfio-pci {NIC1}"] and
          f"ok: bind {MLX} — mlx5 (bifurcated): stays on mlx5_core" in res.stdout,
          f"mlx5: {show(res)}")


def test_ice_ddp(env: Env, tmp: Path) -> None:
    print("- preflight fails an E810 (ice) NIC while no DDP package is installed, passes it with one",
          flush=True)
    root = make_host(tmp / "ice")
    add_nic(root, "0000:06:00.0", "ens6f0", device="0x159b", driver="ice")
    res = env.run(root, "--pci", "0000:06:00.0")
    check(res.returncode == 1 and any("0000:06:00.0 DDP package" in l for l in lines(res, "fail:")),
          f"ice without DDP: {show(res)}")
    write(root / "lib/firmware/intel/ice/ddp/ice.pkg", "fake package\n")
    res = env.run(root, "--pci", "0000:06:00.0")
    check(res.returncode == 0 and "DDP" not in res.stdout, f"ice with DDP: {show(res)}")


def test_not_a_nic(env: Env, tmp: Path) -> None:
    print("- a virtio NIC's live interface (virtioN/net/) and a device that is not a network "
          "controller (the disk) are refused, by preflight and by bind", flush=True)
    root = make_host(tmp / "virtio")
    add_nic(root, "0000:00:03.0", "eth0", vendor="0x1af4", device="0x1041", driver="virtio-pci",
            operstate="up", net="virtio1/net")
    add_nic(root, "0000:00:02.0", "unused", vendor="0x1af4", device="0x1042", driver="virtio-pci",
            pci_class="0x018000")
    res = env.run(root, "all", "--pci", "0000:00:03.0", "--pci", "0000:00:02.0")
    fails = lines(res, "fail:")
    check(res.returncode == 1 and
          any("0000:00:03.0" in l and "eth0 is UP" in l for l in fails) and
          any("0000:00:02.0" in l and "PCI class 0x018000 is not a network controller" in l
              for l in fails) and
          not any("dpdk-devbind.py" in l for l in lines(res, "would run: ")),
          f"virtio NIC / disk: {show(res)}")


def test_usage_errors(env: Env, tmp: Path) -> None:
    print("- bad arguments exit 2 with a message naming the argument", flush=True)
    root = make_host(tmp / "usage")
    bad_toml = tmp / "bad.toml"
    bad_toml.write_text("[dataplane\nworker_cpus = [1]\n")
    cases = [
        (("--pci", "zz:1"), "--pci: 'zz:1'"),
        (("--pci",), "--pci needs a value"),
        (("--pci", "--force"), "--pci needs a value (got the option '--force')"),
        (("--hugepages", "0"), "--hugepages: '0'"),
        (("--hugepages=lots",), "--hugepages: 'lots'"),
        (("--hugepage-size", "3M"), "--hugepage-size: '3M'"),
        (("--driver", "igb_uio"), "--driver: 'igb_uio'"),
        (("--frobnicate",), "unknown option '--frobnicate'"),
        (("explode",), "unknown subcommand 'explode'"),
        (("bind", "undo"), "one subcommand at a time"),
        (("--apply", "--dry-run"), "--apply and --dry-run"),
        (("--dry-run=yes",), "--dry-run takes no value"),
        (("--config", str(tmp / "missing.toml")), "--config: "),
        (("--config", str(bad_toml)), f"--config: '{bad_toml}'"),
        (("undo", "--state", str(tmp / "no-state")), "--state: "),
    ]
    for args, needle in cases:
        last = args[-1] == "--pci"  # nothing may follow it
        res = env.run(root, *args, config="--config" not in args and not last,
                      state="--state" not in args and not last)
        check(res.returncode == 2 and needle in res.stderr and "usage:" in res.stderr,
              f"{args}: expected exit 2 naming {needle!r}: {show(res)}")
    res = env.run(root, "all", "--apply")
    check(res.returncode == 2 and "SLUICE_METAL_ROOT" in res.stderr,
          f"--apply on a fake root without SLUICE_METAL_ALLOW_APPLY: {show(res)}")
    res = env.run(tmp / "no-such-root", "preflight")
    check(res.returncode == 2 and "SLUICE_METAL_ROOT" in res.stderr, f"missing root: {show(res)}")
    check(env.calls() == [], f"usage errors ran commands: {env.calls()}")


def test_undo_dry_run(env: Env, tmp: Path) -> None:
    print("- `undo` (dry run) of a hand-written state file prints the rebind to each previous "
          "driver, the unmount and the hugepage restore, and changes nothing", flush=True)
    root = make_host(tmp / "undo")
    for bdf in (NIC1, NIC2):
        link = root / "sys/bus/pci/devices" / bdf / "driver"
        link.unlink()
        (root / "sys/bus/pci/drivers/vfio-pci").mkdir(parents=True, exist_ok=True)
        link.symlink_to("../../drivers/vfio-pci")
    write(root / "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages", "1024\n")
    state = tmp / "hand.state"
    state.write_text(
        "# hand-written\n"
        f"nic_previous_driver.{NIC1}=i40e\n"
        f"nic_bound_driver.{NIC1}=vfio-pci\n"
        f"nic_previous_driver.{NIC2}=none\n"
        "hugepages_previous.node0.2048kB=16\n"
        "hugepages_reserved.node0.2048kB=1024\n"
        "hugepages_mounted=/dev/hugepages\n")
    before, state_before = snapshot(root), state.read_bytes()
    res = env.run(root, "undo", "--state", str(state), config=False, state=False)
    expected = [f"would run: dpdk-devbind.py -b i40e {NIC1}",
                f"would run: dpdk-devbind.py -u {NIC2}",
                "would run: dpdk-hugepages.py -u -d /dev/hugepages",
                "would run: dpdk-hugepages.py -p 2M -n 0 -r 32M"]
    check(res.returncode == 0 and lines(res, "would run: ") == expected,
          f"undo commands {lines(res, 'would run: ')} != {expected}\n{show(res)}")
    check(f"would remove: {state}" in res.stdout, f"undo does not say it drops the state:\n{res.stdout}")
    check(snapshot(root) == before and state.read_bytes() == state_before and env.calls() == [],
          "undo --dry-run changed something")
    state.write_text("nic_previous_driver.0000:03:00.0\n")
    res = env.run(root, "undo", "--state", str(state), config=False, state=False)
    check(res.returncode == 1 and "not key=value" in res.stdout, f"malformed state: {show(res)}")


def test_apply_round_trip(env: Env, tmp: Path) -> None:
    if os.geteuid() != 0:
        print("- SKIP --apply round trip (needs root)", flush=True)
        return
    print("- `all --apply` (stub tools) binds, reserves and records the previous state; "
          "`undo --apply` puts it all back and removes the state file; a failed check stops "
          "--apply before any command", flush=True)
    allow = {"SLUICE_METAL_ALLOW_APPLY": "1"}
    root = make_host(tmp / "apply-up")
    write(root / f"sys/bus/pci/devices/{NIC1}/net/enp3s0f0/operstate", "up\n")
    res = env.run(root, "all", "--apply", extra_env=allow)
    check(res.returncode == 1 and "nothing changed" in res.stderr and env.calls() == []
          and not env.state.exists(), f"--apply with a failed check: {show(res)}")

    root = make_host(tmp / "apply")
    (root / "proc/mounts").write_text("sysfs /sys sysfs rw 0 0\n")
    original = snapshot(root)
    res = env.run(root, "all", "--apply", extra_env=allow)
    check(res.returncode == 0, f"all --apply: {show(res)}")
    check(env.calls() == ["dpdk-hugepages.py -p 2M -n 0 -r 2048M", "dpdk-hugepages.py -p 2M -m",
                          "modprobe vfio-pci", f"dpdk-devbind.py -b vfio-pci {NIC1}",
                          f"dpdk-devbind.py -b vfio-pci {NIC2}"],
          f"all --apply ran {env.calls()}")
    recorded = env.state.read_text() if env.state.exists() else ""
    for line in (f"nic_previous_driver.{NIC1}=i40e", f"nic_previous_driver.{NIC2}=i40e",
                 "hugepages_previous.node0.2048kB=0", "hugepages_mounted=/dev/hugepages"):
        check(line in recorded.splitlines(), f"state file lacks {line!r}:\n{recorded}")
    check(os.readlink(root / f"sys/bus/pci/devices/{NIC1}/driver").endswith("vfio-pci"),
          "NIC 1 not on vfio-pci after --apply")
    env.log.write_text("")
    res = env.run(root, "all", "--apply", extra_env=allow)
    check(res.returncode == 0 and env.calls() == [] and env.state.read_text() == recorded,
          f"a second all --apply was not a no-op: {env.calls()}\n{show(res)}")
    res = env.run(root, "undo", "--apply", extra_env=allow, config=False)
    check(res.returncode == 0, f"undo --apply: {show(res)}")
    check(env.calls() == [f"dpdk-devbind.py -b i40e {NIC1}", f"dpdk-devbind.py -b i40e {NIC2}",
                          "dpdk-hugepages.py -u -d /dev/hugepages",
                          "dpdk-hugepages.py -p 2M -n 0 -r 0M"], f"undo --apply ran {env.calls()}")
    check(not env.state.exists(), "undo --apply left the state file")
    check(snapshot(root) == original, "undo --apply did not restore the fake host tree")
    env.log.write_text("")


def main() -> int:
    global SCRIPT
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--script", required=True, help="scripts/metal-setup.sh")
    SCRIPT = ap.parse_args().script
    print(__doc__.strip().splitlines()[0], flush=True)
    with tempfile.TemporaryDirectory(prefix="metal-setup-test.") as t:
        tmp = Path(t)
        env = Env(tmp)
        for test in (test_good_host, test_interface_up, test_numa_and_isolation, test_dry_run_all,
                     test_mlx5, test_ice_ddp, test_not_a_nic, test_usage_errors, test_undo_dry_run, test_apply_round_trip):
            env.log.write_text("")
            test(env, tmp)
    if failures:
        print(f"{len(failures)} check(s) failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""perf/compare-peers.sh's helper: parses wrk/iperf3/sluiced output and /proc/stat snapshots into
results lines (peer <TAB> key <TAB> value) and renders the tables. Called as
`report.py COMMAND ARGS...` (see the end of this file); Debian's Python 3.11 (tomllib)."""
import json, math, os, re, sys

def ms(text):
    """wrk latency '655.00us' / '1.23ms' / '1.02s' -> milliseconds."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        return None
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]

def emit(peer, key, value):
    print(f"{peer}\t{key}\t{value}")

def wrk(peer, prefix, path):
    text = open(path, errors="replace").read()
    m = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M)
    if not m:
        emit(peer, "note", f"{prefix}: wrk printed no rate")
        return
    emit(peer, prefix + "_rps", m.group(1))
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        if m and ms(m.group(1)) is not None:
            emit(peer, f"{prefix}_p{pct}", "%.3f" % ms(m.group(1)))
    m = re.search(r"^\s+(\d+) requests in", text, re.M)
    total = int(m.group(1)) if m else 0
    if m:
        emit(peer, prefix + "_requests", total)
    errs = []
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errs += [f"{n} {k}" for k, n in zip(("connect", "read", "write", "timeout"),
                                             map(int, m.groups())) if n]
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errs.append(f"{m.group(1)} non-2xx")
    if errs:
        emit(peer, "note", f"{prefix}: {', '.join(errs)} errors in {total} requests")

def iperf3(peer, path):
    try:
        d = json.load(open(path))
    except (OSError, ValueError):
        emit(peer, "note", "iperf3: no JSON output")
        return
    if d.get("error"):
        emit(peer, "note", f"iperf3: {d['error']}")
    end = d.get("end", {})
    recv = end.get("sum_received", {}).get("bits_per_second")
    if recv:
        emit(peer, "ip_gbps", "%.3f" % (recv / 1e9))
        emit(peer, "ip_retr", end.get("sum_sent", {}).get("retransmits", 0))

def proc_ticks(pid):
    """(ppid, utime + stime in clock ticks) of a process, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return int(fields[1]), int(fields[11]) + int(fields[12])

def snap(path, lb_pids):
    """/proc/stat, the CPU time of the load balancer's processes (`lbproc`), and of every other
    user-space process of the root network namespace (`other PID TICKS`): jobs that are not part
    of the lab (a concurrent compile, say) and compete for the same two cores."""
    import os
    root_ns = os.readlink("/proc/self/ns/net")  # ours: the root namespace (pid 1 may deny it)
    lb = set(map(int, lb_pids))
    lines, lb_ticks, lb_found = [open("/proc/stat").read()], 0, 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            ppid, ticks = proc_ticks(pid)
            if pid in lb:
                lb_ticks += ticks
                lb_found += 1
            elif pid != 2 and ppid != 2 and pid != os.getpid() and \
                    os.readlink(f"/proc/{pid}/ns/net") == root_ns:  # not kthreads, not the lab
                lines.append(f"other {pid} {ticks}\n")
        except (OSError, IndexError, ValueError):
            continue  # exited meanwhile
    if lb and lb_found == len(lb):  # not when one has exited (its time would be missing)
        lines.append(f"lbproc {lb_ticks}\n")
    open(path, "w").write("".join(lines))

def cpu(peer, prefix, before, after, lb_cpu, gen_cpu):
    """Between two snapshots (see snap): how busy the LB core and the other core were, the LB
    core's share in softirq (the kernel's packet work), the CPU time of the load balancer's own
    processes, and that of processes outside the lab, all in % of the LB core's elapsed time
    (that is, of one core). Tick-based accounting (this kernel has no IRQ_TIME_ACCOUNTING):
    a softirq that runs while a process is on the CPU is counted both as softirq and in that
    process's system time."""
    def read(path):
        out = {"other": {}}
        for line in open(path):
            f = line.split()
            if re.fullmatch(r"cpu\d+", f[0]):
                v = list(map(int, f[1:9]))  # user nice system idle iowait irq softirq steal
                out[f[0]] = (sum(v), v[3] + v[4], v[6], v[7])
            elif f[0] == "lbproc":
                out["lbproc"] = int(f[1])
            elif f[0] == "other":
                out["other"][int(f[1])] = int(f[2])
        return out
    b, a = read(before), read(after)
    k = f"cpu{lb_cpu}"
    elapsed = a[k][0] - b[k][0]
    if elapsed <= 0:
        return
    pct = lambda x: "%.0f" % (100.0 * x / elapsed)
    busy = elapsed - (a[k][1] - b[k][1])
    emit(peer, f"{prefix}_cpu_lb", pct(busy))
    # The CPU seconds the LB core spent working (user, nice, system, irq, softirq: all but idle,
    # iowait and steal, the hypervisor's time for other guests), the divisor of the efficiency
    # column.
    work = busy - (a[k][3] - b[k][3])
    emit(peer, f"{prefix}_lb_busy_s", "%.3f" % (work / os.sysconf("SC_CLK_TCK")))
    emit(peer, f"{prefix}_cpu_softirq", pct(a[k][2] - b[k][2]))
    if "lbproc" in a and "lbproc" in b:
        emit(peer, f"{prefix}_cpu_proc", pct(a["lbproc"] - b["lbproc"]))
    # Processes that ended during the load are missed: a lower bound.
    other = sum(t - b["other"].get(pid, 0) for pid, t in a["other"].items())
    emit(peer, f"{prefix}_cpu_other", pct(max(other, 0)))
    g = f"cpu{gen_cpu}"
    gt = a[g][0] - b[g][0]
    if gt > 0:
        emit(peer, f"{prefix}_cpu_gen", "%.0f" % (100.0 * (gt - (a[g][1] - b[g][1])) / gt))

def sluiced_drops(peer, log_path, key="drops"):
    """Non-zero drop counters of the last `sluiced: stats {...}` line (printed at exit)."""
    stats = None
    for line in open(log_path, errors="replace"):
        m = re.search(r"sluiced: stats (\{.*\})", line)
        if m:
            try:
                stats = json.loads(m.group(1))
            except ValueError:
                pass
    if stats is None:
        return
    def walk(d):  # counters may be nested per worker/port; sum by name
        if isinstance(d, dict):
            for k, v in d.items():
                if isinstance(v, (int, float)) and k.startswith("drop_") and v:
                    yield k, v
                else:
                    yield from walk(v)
        elif isinstance(d, list):
            for v in d:
                yield from walk(v)
    sums = {}
    for k, v in walk(stats):
        sums[k] = sums.get(k, 0) + v
    if sums:
        emit(peer, key, ", ".join(f"{k[5:]} {int(v)}" for k, v in sorted(sums.items())))

CHURN_PERIODS = ("ch1", "ch2", "ch3")
CHURN_HOLDS = 0.80  # the last period's rate at >= 80 % of the first's: the churn held


def read_results(results, peers):
    rows = {p: {"note": []} for p in peers}
    for line in open(results):
        peer, key, value = line.rstrip("\n").split("\t", 2)
        r = rows.setdefault(peer, {"note": []})
        if key == "note":
            r["note"].append(value)
        else:
            r[key] = value
    return rows


def churn_ratio(r):
    """The last churn period's rate over the first's, or None."""
    first, last = r.get("ch1_rps"), r.get(CHURN_PERIODS[-1] + "_rps")
    if first is None or last is None or float(first) <= 0:
        return None
    return float(last) / float(first)


def pct_down(ratio):
    """A ratio in whole per cent, rounded down: 0.798 is 79 %, not a misleading 80 %."""
    return math.floor(100 * ratio + 1e-9)


def churn_cell(r):
    """'3,259 → 522 → 3,283 (101 %)': each period's connections/s, the last in % of the first."""
    rates = [r.get(p + "_rps") for p in CHURN_PERIODS]
    if all(x is None for x in rates):
        return "—"
    text = " → ".join("{:,.0f}".format(float(x)) if x is not None else "–" for x in rates)
    ratio = churn_ratio(r)
    return text + (" (%d %%)" % pct_down(ratio) if ratio is not None else "")


def efficiency(r, prefixes):
    """Requests completed per CPU second of the LB core, summed over the given loads."""
    if not all(f"{p}_requests" in r and f"{p}_lb_busy_s" in r for p in prefixes):
        return None
    busy = sum(float(r[f"{p}_lb_busy_s"]) for p in prefixes)
    return sum(int(r[f"{p}_requests"]) for p in prefixes) / busy if busy > 0 else None


def efficiency_cell(r, churn):
    loads = [("ka",), ("cl",)] + ([CHURN_PERIODS] if churn else [])
    return "/".join("{:,.0f}".format(e) if (e := efficiency(r, ps)) is not None else "–"
                    for ps in loads)


def main_rows(rows, peers, churn):
    cols = ["peer", "keep-alive req/s", "close req/s (new conn/s)", "close p50 ms",
            "close p99 ms", "iperf3 Gbit/s"]
    if churn:
        cols.append("sustained churn conn/s (last/first)")
    cols += ["req per LB-core-s: ka/close" + ("/churn" if churn else ""), "notes"]
    num = lambda r, k, fmt: fmt % float(r[k]) if k in r else "—"
    body = []
    for p in peers:
        r = rows[p]
        notes = list(r["note"])
        if "ip_retr" in r:
            notes.append(f"iperf3 retransmits {r['ip_retr']}")
        cells = [p, num(r, "ka_rps", "%.0f"), num(r, "cl_rps", "%.0f"),
                 num(r, "cl_p50", "%.2f"), num(r, "cl_p99", "%.2f"), num(r, "ip_gbps", "%.2f")]
        if churn:
            cells.append(churn_cell(r))
        body.append(cells + [efficiency_cell(r, churn), "; ".join(notes) or "—"])
    return cols, body


def cpu_rows(rows, peers, churn):
    loads = ("ka", "cl", "ip") + (("ch1", "ch3") if churn else ())
    names = "ka/close/iperf3" + ("/churn 1st/churn last" if churn else "")
    def cpu_lb(r, p):  # busy / softirq / LB processes, % of the LB core
        if p + "_cpu_lb" not in r:
            return "—"
        return "/".join(r.get(f"{p}_cpu_{k}", "–") for k in ("lb", "softirq", "proc"))
    per_load = lambda r, key: "/".join(r.get(f"{p}_cpu_{key}", "–") for p in loads)
    cols = ["peer", "keep-alive p50/p99 ms",
            "LB core %: busy/softirq/LB process, keep-alive", "close", "iperf3"]
    cols += ["churn 1st", "churn last"] if churn else []
    cols += [f"other core busy %: {names}", "jobs outside the lab, % of a core",
             "sluiced drop counters"]
    body = []
    for p in peers:
        r = rows[p]
        ka = (f"{float(r['ka_p50']):.2f}/{float(r['ka_p99']):.2f}"
              if "ka_p50" in r and "ka_p99" in r else "—")
        body.append([p, ka] + [cpu_lb(r, x) for x in loads] +
                    [per_load(r, "gen"), per_load(r, "other"),
                     drops_cell(r) if p.startswith("sluiced") else ""])
    return cols, body


def drops_cell(r):
    cell = r.get("drops", "—")
    return cell + (f"; churn run: {r['ch_drops']}" if "ch_drops" in r else "")


def held_lines(rows, peers):
    """One line per peer: did its sustained churn hold (last period >= 80 % of the first)?"""
    out = []
    for p in peers:
        ratio = churn_ratio(rows[p])
        if ratio is None:
            out.append(f"{p}: not measured")
        else:
            verdict = "held" if ratio >= CHURN_HOLDS else "did NOT hold"
            text = f"{p}: {verdict}, last period at {pct_down(ratio)} % of the first"
            rates = [float(rows[p][k + "_rps"]) for k in CHURN_PERIODS if k + "_rps" in rows[p]]
            low = min(rates)
            if low < CHURN_HOLDS * rates[0]:
                text += f" (lowest period at {pct_down(low / rates[0])} %)"
            out.append(text)
    return out


def table(results, peers, out_md, header, churn):
    rows = read_results(results, peers)
    churn = churn == "1"
    cols, body = main_rows(rows, peers, churn)
    cols2, body2 = cpu_rows(rows, peers, churn)
    held = held_lines(rows, peers) if churn else []
    # Plain text for the terminal: the notes go below the table, one line each.
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(cols[:-1])]
    line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(cols[:-1]))
    for b in body:
        print(line(b[:-1]))
    for b in body:
        if b[-1] != "—":
            print(f"  {b[0]}: {b[-1]}")
    widths2 = [max(len(c), *(len(b[i]) for b in body2)) for i, c in enumerate(cols2)]
    print()
    for cells in [cols2] + body2:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths2)).rstrip())
    if held:
        print("\nSustained churn (held: the last period at >= 80 % of the first's rate; % rounded down):")
        print("".join(f"  {h}\n" for h in held), end="")
    if out_md:
        write_md(out_md, header, (cols, body), (cols2, body2), held)


def write_md(out_md, header, *tables_and_held):
    md = lambda cells: "| " + " | ".join(c.replace("|", "/") for c in cells) + " |"
    *tables, held = tables_and_held
    with open(out_md, "w") as f:
        f.write(header.rstrip("\n") + "\n")
        for cols, body in tables:
            f.write("\n" + md(cols) + "\n" + md(["---"] * len(cols)) + "\n")
            f.writelines(md(b) + "\n" for b in body)
        if held:
            f.write("\nSustained churn (last period ≥ 80 % of the first):\n\n")
            f.writelines(f"- {h}\n" for h in held)


cmd = sys.argv[1]
if cmd == "wrk":
    wrk(*sys.argv[2:5])
elif cmd == "iperf3":
    iperf3(*sys.argv[2:4])
elif cmd == "snap":
    snap(sys.argv[2], sys.argv[3:])
elif cmd == "cpu":
    cpu(*sys.argv[2:6], int(sys.argv[6]), int(sys.argv[7]))
elif cmd == "drops":
    sluiced_drops(*sys.argv[2:5])
elif cmd == "worker-cpu":
    import tomllib
    print(tomllib.load(open(sys.argv[2], "rb"))["dataplane"]["worker_cpus"][0])
elif cmd == "table":
    table(sys.argv[2], sys.argv[3].split(","), sys.argv[4], sys.argv[5], sys.argv[6])

#!/usr/bin/env python3
"""dist/prometheus/alerts.yml and dist/grafana/sluice.json are valid and every sluice_ metric their queries name exists in a live sluiced's /metrics.

Static (before the lab): `promtool check rules` accepts the alert rules; `promtool test rules`
runs tests/e2e/alerts_test.yml (each alert fires on its series with the expected labels) against
a copy of the rules without annotations; every rule has a severity label and a summary. The
dashboard parses as JSON, has schemaVersion >= 36 and a ${DS_PROMETHEUS} input, unique panel ids,
only built-in panel types, and every panel but rows has targets with a PromQL expression on that
datasource; each expression (Grafana variables substituted) passes `promtool check rules` as a
recording rule. Live: the lab's sluiced (dpdk-config/lab.toml) serves /metrics; every identifier
`sluice_…` in an alert expression, a panel target, a variable query or an annotation query is a
series name of a family announced there (counter `F` or `F_total`, histogram `F_bucket`/`_sum`/
`_count`, summary `F`/`_sum`/`_count`, gauge `F`); every label a selector matches on appears on
that metric's samples, and literal values of the reason/direction/event/cause/result/state labels
(which the exposition lists in full, zeros included) are among its values. sluice_build_info
carries meson.build's version and sluice_start_time_seconds the daemon's start.
"""
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import yaml  # python3-yaml

import lab

NAME_RE = re.compile(r"(?<![A-Za-z0-9_:])sluice_[A-Za-z0-9_:]*")
# A selector with matchers: name{label op "value", …}
SELECTOR_RE = re.compile(r"(?<![A-Za-z0-9_:])(sluice_[A-Za-z0-9_:]*)\s*\{([^}]*)\}")
MATCHER_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
TYPE_RE = re.compile(r"^# TYPE (\S+) (\S+)$")
SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+\S+(?:\s+\S+)?$")
LABEL_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')
# Labels whose every value the exposition lists (counter-table members, every drop reason).
ENUMERATED = {"reason", "direction", "event", "cause", "result", "state"}
BUILTIN_PANELS = {"row", "timeseries", "stat", "table", "gauge", "bargauge", "state-timeline",
                  "status-history", "heatmap", "text", "piechart", "barchart"}
# Grafana variables in panel queries, replaced to check the PromQL with promtool.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__interval": "1m", "$__range": "1h",
                "$instance": ".*", "$vip": ".*"}


def promtool() -> str:
    path = shutil.which("promtool")
    lab.check(path is not None, "promtool not found (Debian package prometheus, "
                                "scripts/install-deps.sh)")
    return path


def run_promtool(*args: str, cwd: Path | None = None) -> None:
    res = subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=60,
                         cwd=cwd)
    out = (res.stdout + res.stderr).strip()
    lab.log(f"promtool {' '.join(args)} -> exit {res.returncode}: "
            f"{out.splitlines()[-1] if out else ''}")
    lab.check(res.returncode == 0, f"promtool {' '.join(args)} failed:\n{out[-4000:]}")


# -- alert rules ------------------------------------------------------------------------------
def alert_queries(t: lab.Test, rules_path: Path) -> dict[str, str]:
    """Checks the rules; returns {"alert NAME[i]": expr}."""
    run_promtool("check", "rules", str(rules_path))
    doc = yaml.safe_load(rules_path.read_text())
    queries: dict[str, str] = {}
    for group in doc["groups"]:
        for i, rule in enumerate(group["rules"]):
            name = rule.get("alert") or rule.get("record")
            where = f"{group['name']}/{name}[{i}]"
            if "alert" in rule:
                lab.check(rule.get("labels", {}).get("severity") in ("critical", "warning",
                                                                     "info"),
                          f"{where}: severity label missing or not critical|warning|info")
                lab.check(bool(rule.get("annotations", {}).get("summary")),
                          f"{where}: no summary annotation")
            queries[f"alert {where}"] = rule["expr"]
            rule.pop("annotations", None)
    # promtool test rules compares annotations too; the tests pin labels and timing only.
    work = t.work_dir / "alerts-test"
    work.mkdir(exist_ok=True)
    (work / "rules.yml").write_text(yaml.safe_dump(doc))
    shutil.copy(t.source_dir / "tests" / "e2e" / "alerts_test.yml", work / "alerts_test.yml")
    run_promtool("test", "rules", "alerts_test.yml", cwd=work)
    return queries


# -- dashboard --------------------------------------------------------------------------------
def all_panels(panels: list[dict]) -> list[dict]:
    out = []
    for p in panels:
        out.append(p)
        out.extend(all_panels(p.get("panels", [])))  # collapsed rows hold their panels
    return out


def dashboard_queries(t: lab.Test, path: Path) -> dict[str, str]:
    """Checks the dashboard's structure; returns {"panel TITLE/REF": expr, …}."""
    try:
        dash = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise lab.Failure(f"{path}: not JSON: {e}") from e
    lab.check(dash.get("schemaVersion", 0) >= 36, f"schemaVersion {dash.get('schemaVersion')}")
    inputs = {i.get("name"): i for i in dash.get("__inputs", [])}
    lab.check(inputs.get("DS_PROMETHEUS", {}).get("pluginId") == "prometheus",
              f"no DS_PROMETHEUS datasource input: {list(inputs)}")
    panels = all_panels(dash.get("panels", []))
    ids = [p.get("id") for p in panels]
    lab.check(len(ids) == len(set(ids)), f"duplicate panel ids: {ids}")
    queries: dict[str, str] = {}
    for p in panels:
        title = p.get("title", "?")
        lab.check(p.get("type") in BUILTIN_PANELS, f"panel {title!r}: type {p.get('type')!r} "
                                                   f"is not a built-in panel")
        lab.check("gridPos" in p, f"panel {title!r} has no gridPos")
        if p["type"] == "row":
            continue
        targets = p.get("targets") or []
        lab.check(len(targets) > 0, f"panel {title!r} has no targets")
        for tg in targets:
            expr = tg.get("expr", "")
            lab.check(expr.strip() != "", f"panel {title!r} target {tg.get('refId')} has no expr")
            ds = tg.get("datasource") or p.get("datasource") or {}
            lab.check(ds.get("uid") == "${DS_PROMETHEUS}",
                      f"panel {title!r} target {tg.get('refId')}: datasource {ds}")
            queries[f"panel {title}/{tg.get('refId')}"] = expr
    for var in dash.get("templating", {}).get("list", []):
        q = var.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        if q:
            queries[f"variable ${var.get('name')}"] = q
    for ann in dash.get("annotations", {}).get("list", []):
        if ann.get("expr"):
            queries[f"annotation {ann.get('name')}"] = ann["expr"]
    lab.log(f"{path.name}: {len(panels)} panels, {len(queries)} queries")

    # The PromQL of panels and annotations as recording rules: promtool parses each one.
    rules = []
    for i, (where, expr) in enumerate(queries.items()):
        if where.startswith("variable "):
            continue  # label_values(…) is Grafana's, not PromQL
        for var, value in GRAFANA_VARS.items():
            expr = expr.replace(var, value)
        lab.check("$" not in expr, f"{where}: unknown Grafana variable in {expr}")
        rules.append({"record": f"dashboard:query_{i}", "expr": expr})
    rules_path = t.work_dir / "dashboard-queries.yml"
    rules_path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    run_promtool("check", "rules", str(rules_path))
    return queries


# -- the live exposition ----------------------------------------------------------------------
def exposition(text: str) -> tuple[dict[str, str], dict[str, list[dict[str, str]]]]:
    """({family: type}, {series name: [label dicts]})."""
    families: dict[str, str] = {}
    samples: dict[str, list[dict[str, str]]] = {}
    for line in text.splitlines():
        m = TYPE_RE.match(line)
        if m:
            families[m.group(1)] = m.group(2)
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if m:
            samples.setdefault(m.group(1), []).append(dict(LABEL_RE.findall(m.group(2) or "")))
    return families, samples


def series_names(families: dict[str, str]) -> set[str]:
    """Every series name the announced families may have."""
    names = set()
    for f, kind in families.items():
        if kind == "counter":
            names.add(f if f.endswith("_total") else f + "_total")
        elif kind == "histogram":
            names.update({f + "_bucket", f + "_sum", f + "_count"})
        elif kind == "summary":
            names.update({f, f + "_sum", f + "_count"})
        else:
            names.add(f)
    return names


def check_names(queries: dict[str, str], text: str) -> None:
    families, samples = exposition(text)
    known = series_names(families) | set(samples)
    lab.log(f"/metrics: {len(families)} families, {sum(map(len, samples.values()))} samples")
    missing, used = [], set()
    for where, expr in queries.items():
        for name in NAME_RE.findall(expr):
            used.add(name)
            if name not in known:
                missing.append(f"{name} ({where})")
        for name, matchers in SELECTOR_RE.findall(expr):
            have = samples.get(name, [])
            if not have:
                continue  # a family without series here (no VIP with that feature in the lab)
            for label, op, value in MATCHER_RE.findall(matchers):
                if label in ("instance", "job"):
                    continue  # Prometheus' target labels
                values = {s.get(label) for s in have} - {None}
                if not values:
                    missing.append(f"label {label} of {name} ({where})")
                elif (label in ENUMERATED and op in ("=", "=~") and "$" not in value
                      and not (name == "sluice_backend_state" and label == "state")):
                    for alt in value.split("|") if op == "=~" else [value]:
                        if re.fullmatch(r"[A-Za-z0-9_]+", alt) and alt not in values:
                            missing.append(f'{name}{{{label}="{alt}"}} ({where})')
    lab.log(f"{len(used)} distinct sluice_ names in {len(queries)} queries: "
            f"{' '.join(sorted(used))}")
    lab.check(len(used) >= 20, f"only {len(used)} sluice_ names found: the extractor is broken")
    lab.check(not missing, "not in the live /metrics: " + "; ".join(sorted(set(missing))))


def check_process(t: lab.Test, text: str, started: float) -> None:
    m = re.search(r"^\s*version\s*:\s*'([^']+)'", (t.source_dir / "meson.build").read_text(),
                  re.M)
    lab.check(m is not None, "no version in meson.build")
    version = m.group(1)
    got = lab.metric_total(text, "sluice_build_info", version=version)
    lab.check(got == 1, f"sluice_build_info{{version=\"{version}\"}} is {got:g}, want 1")
    start = lab.metric_total(text, "sluice_start_time_seconds")
    lab.log(f"sluice_build_info{{version=\"{version}\"}} 1; sluice_start_time_seconds {start:g} "
            f"(sluiced started {started:.0f})")
    lab.check(started - 2 <= start <= time.time() + 1,
              f"sluice_start_time_seconds {start:g} not between the start of sluiced "
              f"({started:.0f}) and now")


def body(t: lab.Test) -> None:
    queries = alert_queries(t, t.source_dir / "dist" / "prometheus" / "alerts.yml")
    queries.update(dashboard_queries(t, t.source_dir / "dist" / "grafana" / "sluice.json"))
    t.lab_up()
    started = time.time()
    with t.sluiced(t.config()):
        text, _ = lab.scrape_metrics()
        check_names(queries, text)
        check_process(t, text, started)


if __name__ == "__main__":
    lab.run_test(__doc__, body)

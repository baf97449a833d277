#!/usr/bin/env python3
"""Status page: /status in headless Chromium lists every VIP and backend and, without reloading, shows connections move, a drained backend draining then drained, and a backend failing its health checks in a distinct down state.

The metrics listener (127.0.0.1:9273, root namespace) serves /status; Chromium (Debian's
`chromium`, driven by `chromium-driver` through python3-selenium, headless, no sandbox as root)
opens it once and the page's script re-renders it from /status.json every second. Checked in the
live DOM: sections for the VIPs `http` (198.18.0.10:80/tcp, rr, HTTP health checks every 1 s,
fall 2) and `echo` (UDP) with a row per backend, all `state-up`; 9 connections held open show as
active connections and 60 GETs raise the connection totals by 60 with a new-connections rate;
`sluicectl drain http be1` turns be1's row `state-draining` ("draining (N flows left)") within
5 s, and `state-drained` once its flows are gone; be3's nginx stopped turns its row `state-down`
(health "down (refused …)") within fall x interval + timeout + 3 s, and back `state-up` after
it restarts. The three states have different background colours than an up row. A marker set
in the page's window survives throughout (the page never reloaded). /status.json is JSON, the
server-rendered fallback carries the same states, POST answers 405 and /status/x 404.
Skipped (exit 77) with the reason when Chromium, chromedriver or Selenium is missing.
"""
import contextlib
import json
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import lab

BASE = "http://127.0.0.1:9273"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INTERVAL, TIMEOUT, RISE, FALL = 1.0, 0.5, 2, 2
TIMEOUTS = {"tcp_fin_wait": 2, "tcp_time_wait": 2, "tcp_close": 2}
HELD = 9

# Every backend row of the live part, read in one go (the script replaces the DOM every second).
ROWS_JS = """
const out = [];
for (const sec of document.querySelectorAll('#live section.vip')) {
  const h2 = sec.querySelector('h2');
  for (const tr of sec.querySelectorAll('tr.backend')) {
    const cell = (c) => { const td = tr.querySelector('td.' + c); return td ? td.textContent : null; };
    out.push({vip: sec.dataset.vip, title: h2 ? h2.textContent : '', backend: tr.dataset.backend,
              cls: tr.className, state: cell('state'), health: cell('health'),
              active: cell('active'), inactive: cell('inactive'), total: cell('total'),
              rates: Array.from(tr.querySelectorAll('td.num')).map((td) => td.textContent),
              background: getComputedStyle(tr).backgroundColor});
  }
}
return {rows: out, marker: window.__status_marker || null,
        updated: document.getElementById('updated').textContent,
        hidden: document.getElementById('live').hidden};
"""


def browser_missing() -> str | None:
    """Why the browser test cannot run here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} not installed (Debian: chromium, chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return f"python3-selenium not installed for {sys.executable}"
    return None


@contextlib.contextmanager
def chromium(work_dir: Path):
    """Headless Chromium under chromedriver, with a throw-away profile; always quit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="sluice-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-extensions", "--disable-background-networking",
                f"--user-data-dir={profile}", "--window-size=1400,1000"):
        opts.add_argument(arg)
    service = Service(CHROMEDRIVER, log_path=str(work_dir / "chromedriver.log"))
    t0 = time.monotonic()
    driver = webdriver.Chrome(service=service, options=opts)
    lab.log(f"chromium {driver.capabilities.get('browserVersion')} started in "
            f"{time.monotonic() - t0:.1f}s")
    try:
        driver.set_page_load_timeout(20)
        driver.set_script_timeout(10)
        yield driver
    finally:
        try:
            driver.quit()
        finally:
            shutil.rmtree(profile, ignore_errors=True)


class Page:
    """The open /status page: reads its live rows, waits for conditions on them."""

    def __init__(self, driver, work_dir: Path):
        self.driver = driver
        self.work_dir = work_dir
        self.last: dict = {}

    def read(self) -> dict:
        self.last = self.driver.execute_script(ROWS_JS)
        return self.last

    def rows(self, vip: str) -> dict[str, dict]:
        """The live rows of `vip`, keyed by lab name (be1 …)."""
        out = {}
        for r in self.read()["rows"]:
            if r["vip"] == vip:
                out[lab.backend_name(lab.split_host_port(r["backend"])[0])] = r
        return out

    def wait(self, what: str, cond, timeout: float) -> dict[str, dict]:
        """Polls the http VIP's rows until cond(rows) holds; fails after `timeout` seconds."""
        t0 = time.monotonic()
        while True:
            rows = self.rows("http")
            if cond(rows):
                lab.log(f"page: {what} after {time.monotonic() - t0:.1f}s")
                return rows
            if time.monotonic() - t0 > timeout:
                self.driver.save_screenshot(str(self.work_dir / "status-failure.png"))
                raise lab.Failure(f"page: not {what} within {timeout}s; rows "
                                  f"{json.dumps(rows, indent=1)}; updated {self.last['updated']!r}")
            time.sleep(0.25)

    def check_not_reloaded(self) -> None:
        lab.check(self.read()["marker"] == "set", "the page reloaded (its window marker is gone)")


def total(rows: dict[str, dict], key: str) -> int:
    return sum(int(r[key]) for r in rows.values())


def http_get(path: str, method: str = "GET") -> tuple[int, str, str]:
    """(status, Content-Type, body) of one request to the metrics listener."""
    req = urllib.request.Request(BASE + path, method=method,
                                 data=b"x" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def check_plain_http() -> None:
    """/status.json, the server-rendered fallback and the refusals, without a browser."""
    status, ctype, body = http_get("/status.json")
    lab.check(status == 200 and ctype == "application/json", f"/status.json: {status} {ctype}")
    doc = json.loads(body)
    names = [v["name"] for v in doc["vips"]]
    lab.check(names == ["http", "echo"], f"/status.json VIPs {names}")
    status, ctype, body = http_get("/status")
    lab.check(status == 200 and ctype.startswith("text/html"), f"/status: {status} {ctype}")
    lab.check('<tr class="backend state-drained" data-backend="198.18.1.11:80">' in body
              and '<tr class="backend state-down" data-backend="198.18.1.13:80">' in body,
              "the server-rendered fallback lacks be1 drained or be3 down")
    for method, path, want in (("POST", "/status", 405), ("GET", "/status/x", 404),
                               ("POST", "/status.json", 405), ("HEAD", "/status", 200)):
        got = http_get(path, method)[0]
        lab.log(f"{method} {path} -> {got}")
        lab.check(got == want, f"{method} {path} answered {got}, want {want}")


def check_traffic(t: lab.Test, page: Page) -> lab.BackgroundClient:
    """Held connections show as active, 60 GETs raise the totals; returns the holding client."""
    before = page.rows("http")
    hold = t.client_start("hold", "--url", f"http://{lab.VIP}/", "--count", str(HELD),
                          "--hold", "120")
    held = hold.next_json(timeout=30)
    lab.check(held["open"] == HELD, f"only {held['open']} of {HELD} connections opened")
    page.wait(f"{HELD} active connections", lambda r: total(r, "active") >= HELD, 5)
    t.http_gets(60)
    n0 = total(before, "total")
    # td.num cells: weight, active, inactive, conn/s, pkts/s, bytes/s, total.
    rows = page.wait("60 more connections and a connection rate",
                     lambda r: total(r, "total") >= n0 + HELD + 60
                     and any(x["rates"][3] not in ("\u2013", "0.0") for x in r.values()), 6)
    lab.log(f"connections total {n0} -> {total(rows, 'total')}, active {total(rows, 'active')}, "
            f"conn/s {[x['rates'][3] for x in rows.values()]}")
    return hold


def check_drain(t: lab.Test, page: Page, hold: lab.BackgroundClient) -> dict:
    be1 = lab.backend_addr("be1")
    t.sluicectl_ok("drain", "http", be1)
    rows = page.wait("be1 draining", lambda r: "state-draining" in r["be1"]["cls"]
                     and r["be1"]["state"].startswith("draining ("), 5)
    lab.log(f"be1 row: class {rows['be1']['cls']!r}, state {rows['be1']['state']!r}")
    draining = rows["be1"]
    hold.finish()
    rows = page.wait("be1 drained", lambda r: "state-drained" in r["be1"]["cls"]
                     and r["be1"]["state"] == "drained", 15)
    return {"draining": draining, "drained": rows["be1"]}


def check_down(t: lab.Test, page: Page) -> dict:
    t.stop_nginx("be3")
    bound = FALL * INTERVAL + TIMEOUT + INTERVAL + 3
    rows = page.wait("be3 down", lambda r: "state-down" in r["be3"]["cls"]
                     and r["be3"]["state"] == "down" and r["be3"]["health"].startswith("down"),
                     bound)
    lab.log(f"be3 row: class {rows['be3']['cls']!r}, health {rows['be3']['health']!r}")
    return rows["be3"]


def body(t: lab.Test) -> None:
    t.lab_up()
    health = {"type": "http", "http_path": "/health", "interval": "1s", "timeout": "500ms",
              "rise": RISE, "fall": FALL}
    cfg = t.write_config("status.toml", [
        lab.vip_toml(name="http", backends=[lab.backend_addr(be) for be in lab.BACKENDS],
                     health=health),
        lab.vip_toml(name="echo", port=9000, protocol="udp", scheduler="wrr",
                     backends=[lab.backend_addr(be) for be in lab.BACKENDS])],
        tables={"timeouts": TIMEOUTS})
    with t.sluiced(cfg), chromium(t.work_dir) as driver:
        driver.get(BASE + "/status")
        lab.check(driver.title == "Sluice status", f"page title {driver.title!r}")
        driver.execute_script("window.__status_marker = 'set';")
        page = Page(driver, t.work_dir)
        rows = page.wait("every backend probed up", lambda r: set(r) == set(lab.BACKENDS) and all(
            "state-up" in x["cls"] and x["health"].startswith("up (ok") for x in r.values()), 15)
        first = next(iter(rows.values()))
        lab.check("198.18.0.10:80/tcp" in first["title"], f"VIP heading {first['title']!r}")
        echo = page.rows("echo")
        lab.check(set(echo) == set(lab.BACKENDS), f"echo VIP rows {sorted(echo)}")
        up_background = rows["be2"]["background"]

        hold = check_traffic(t, page)
        drain = check_drain(t, page, hold)
        down = check_down(t, page)
        colours = {"up": up_background, "draining": drain["draining"]["background"],
                   "drained": drain["drained"]["background"], "down": down["background"]}
        lab.log(f"row backgrounds: {colours}")
        lab.check(len(set(colours.values())) == 4, f"states share a background: {colours}")
        driver.save_screenshot(str(t.work_dir / "status.png"))
        check_plain_http()
        t.start_nginx("be3")
        page.wait("be3 up again", lambda r: "state-up" in r["be3"]["cls"], RISE * INTERVAL + 5)
        page.check_not_reloaded()
        lab.log(f"screenshot {t.work_dir / 'status.png'}")


if __name__ == "__main__":
    missing = browser_missing()
    if missing:
        print(f"SKIP e2e_status_page: {missing}", flush=True)
        sys.exit(lab.SKIP)
    lab.run_test(__doc__, body)

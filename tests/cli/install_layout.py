#!/usr/bin/env python3
"""`meson install --destdir` lays out a working service: sluiced in sbindir, sluicectl in bindir,
the systemd unit naming those paths, /etc/sluice/sluice.toml that the installed sluiced --check
accepts, man pages groff reads without a warning, a bash completion that completes commands, and
sbin/sluice-metal-setup running the bare-metal script from its installed directory.

Exit 77 (skipped) without meson on PATH."""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SKIP = 77
failures: list[str] = []


def check(cond: bool, msg: str) -> None:
    if not cond:
        failures.append(msg)
        print(f"FAIL: {msg}", flush=True)


def under(destdir: Path, path: str) -> Path:
    return destdir / path.lstrip("/")


def check_man(page: Path) -> None:
    if shutil.which("groff"):
        res = subprocess.run(["groff", "-man", "-z", "-ww", str(page)], capture_output=True,
                             text=True, timeout=30)
        check(res.returncode == 0 and not res.stderr.strip(),
              f"groff -man -z -ww {page.name}: exit {res.returncode}: {res.stderr.strip()}")
    if shutil.which("man"):
        res = subprocess.run(["man", "--warnings", "-l", str(page)], capture_output=True,
                             text=True, timeout=30, env=dict(os.environ, MANPAGER="cat",
                                                             PAGER="cat", MANWIDTH="100"))
        check(res.returncode == 0 and not res.stderr.strip(),
              f"man --warnings -l {page.name}: exit {res.returncode}: {res.stderr.strip()}")
        check("NAME" in res.stdout and "SEE ALSO" in res.stdout,
              f"man -l {page.name} renders without NAME or SEE ALSO")


def complete(script: Path, line: str) -> list[str]:
    """The words bash completion offers for `line` (the cursor at its end)."""
    framework = Path("/usr/share/bash-completion/bash_completion")
    words = line.split(" ")
    program = f"""
source {framework}
source {script}
COMP_WORDS=({' '.join(repr(w) for w in words)})
COMP_CWORD={len(words) - 1}
COMP_LINE={line!r}
COMP_POINT={len(line)}
_sluicectl sluicectl {words[-1]!r} {words[-2]!r}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    res = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30,
                         env=dict(os.environ, PATH="/nonexistent:/usr/bin:/bin"))
    return [w for w in res.stdout.split("\n") if w]


def check_completion(script: Path) -> None:
    res = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    check(res.returncode == 0, f"bash -n {script}: {res.stderr.strip()}")
    if not Path("/usr/share/bash-completion/bash_completion").exists():
        print("bash-completion not installed: completions not exercised")
        return
    cases = {"sluicectl ": {"show", "set", "drain", "enable", "disable", "add", "remove",
                            "reload"},
             "sluicectl sh": {"show"},
             "sluicectl show ": {"vips", "backends", "stats", "ports", "info", "flows",
                                 "protection", "state"},
             "sluicectl --json show f": {"flows"},
             "sluicectl set limit web ": {"new_connections", "packets",
                                          "source_new_connections"},
             "sluicectl disable web 198.19.0.11:80 --r": {"--reset"},
             "sluicectl add ": {"backend"}}
    for line, want in cases.items():
        got = set(complete(script, line))
        check(got == want, f"completion of {line!r}: {sorted(got)}, want {sorted(want)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    for name in ("build-root", "sbindir", "bindir", "sysconfdir", "mandir", "unitdir",
                 "completionsdir"):
        ap.add_argument(f"--{name}", required=True)
    args = ap.parse_args()
    print(__doc__.strip().splitlines()[0], flush=True)
    meson = shutil.which("meson")
    if not meson:
        print("SKIP: meson not on PATH")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="sluice-install-") as tmp:
        dest = Path(tmp)
        res = subprocess.run([meson, "install", "-C", args.build_root, "--destdir", str(dest),
                              "--no-rebuild", "--quiet"], capture_output=True, text=True,
                             timeout=300)
        if res.returncode != 0:
            print(f"FAIL: meson install: exit {res.returncode}\n{res.stdout}{res.stderr}")
            return 1
        sluiced = under(dest, f"{args.sbindir}/sluiced")
        sluicectl = under(dest, f"{args.bindir}/sluicectl")
        unit = under(dest, f"{args.unitdir}/sluiced.service")
        config = under(dest, f"{args.sysconfdir}/sluice/sluice.toml")
        pages = [under(dest, f"{args.mandir}/{p}")
                 for p in ("man8/sluiced.8", "man8/sluicectl.8", "man5/sluice.toml.5",
                           "man8/sluice-metal-setup.8")]
        completion = under(dest, f"{args.completionsdir}/sluicectl")
        for path in [sluiced, sluicectl, unit, config, completion, *pages]:
            check(path.is_file(), f"{path.relative_to(dest)} not installed")
        if failures:
            print("installed:\n  " + "\n  ".join(str(p.relative_to(dest))
                                                 for p in sorted(dest.rglob("*")) if p.is_file()))
            return 1
        check(os.access(sluiced, os.X_OK) and os.access(sluicectl, os.X_OK),
              "installed binaries are not executable")
        check(not under(dest, f"{args.bindir}/sluiced").exists(), "sluiced also in bindir")
        check(not under(dest, f"{args.sbindir}/sluicectl").exists(), "sluicectl also in sbindir")
        text = unit.read_text()
        want_cfg = f"{args.sysconfdir}/sluice/sluice.toml"
        check(f"ExecStart={args.sbindir}/sluiced --config {want_cfg}\n" in text,
              f"the installed unit does not start {args.sbindir}/sluiced with {want_cfg}")
        check(f"ExecReload={args.bindir}/sluicectl reload\n" in text,
              f"the installed unit does not reload with {args.bindir}/sluicectl")
        res = subprocess.run([str(sluiced), "--check", "--config", str(config)],
                             capture_output=True, text=True, timeout=60)
        check(res.returncode == 0 and "configuration is valid" in res.stdout,
              f"installed sluiced --check rejects the installed config: exit {res.returncode}\n"
              f"{res.stdout}{res.stderr}")
        for page in pages:
            check_man(page)
        metal = under(dest, f"{args.sbindir}/sluice-metal-setup")
        check(metal.is_symlink(), f"{metal.relative_to(dest)} is not a symlink")
        res = subprocess.run([str(metal), "--help"], capture_output=True, text=True, timeout=60)
        check(res.returncode == 0 and "preflight" in res.stdout,
              f"installed sluice-metal-setup --help: exit {res.returncode}\n"
              f"{res.stdout[-500:]}{res.stderr[-500:]}")
        check_completion(completion)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

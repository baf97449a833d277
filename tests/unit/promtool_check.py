#!/usr/bin/env python3
"""promtool accepts format_prometheus's text of a representative view without any complaint.

Runs metrics_sample (which prints the text of tests/unit/metrics_sample_view.hpp's view) and pipes
it to `promtool check metrics`; fails on a non-zero exit or any output (lint findings included).
"""
import argparse
import subprocess
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promtool", required=True)
    parser.add_argument("--sample", required=True, help="the metrics_sample binary")
    args = parser.parse_args()

    sample = subprocess.run([args.sample], capture_output=True, timeout=30)
    if sample.returncode != 0 or not sample.stdout:
        print(f"metrics_sample failed (exit {sample.returncode}): {sample.stderr.decode()}")
        return 1
    check = subprocess.run([args.promtool, "check", "metrics"], input=sample.stdout,
                           capture_output=True, timeout=30)
    complaints = (check.stdout + check.stderr).decode().strip()
    if check.returncode != 0 or complaints:
        print(f"promtool check metrics: exit {check.returncode}")
        print(complaints)
        return 1
    lines = sample.stdout.decode().count("\n")
    print(f"promtool check metrics: {lines} lines, no complaints")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Queries sluiced's DPDK telemetry socket: telemetry.py [--prefix P] [COMMAND ...], pretty JSON.

Default command /sluice/stats; '/' lists every command. Python 3 standard library only.
"""
import argparse
import json
import sys

import lab


def compact(stats: dict) -> str:
    """Non-zero counters, drops last; the zero ones only counted (they are the good news)."""
    nonzero = {k: v for k, v in stats.items() if v}
    zeros = sorted(k for k, v in stats.items() if not v)
    order = sorted(nonzero, key=lambda k: (k.startswith("drop_"), k))
    width = max((len(k) for k in order), default=0)
    lines = [f"  {k:<{width}}  {nonzero[k]}" for k in order]
    zero_drops = [k for k in zeros if k.startswith("drop_")]
    lines.append(f"  ({len(zeros)} counters at 0, of which {len(zero_drops)} drop reasons)")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prefix", default=lab.EAL_FILE_PREFIX, help="EAL file prefix")
    ap.add_argument("--compact", action="store_true",
                    help="a flat dict: one 'name value' line per non-zero counter, zeros summed up")
    ap.add_argument("commands", nargs="*", default=["/sluice/stats"])
    args = ap.parse_args()
    try:
        for c in args.commands:
            reply = lab.telemetry(c, prefix=args.prefix)
            if args.compact and isinstance(reply, dict):
                print(compact(reply))
            else:
                print(json.dumps({c: reply}, indent=2, sort_keys=True))
    except lab.Failure as e:
        print(f"telemetry: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

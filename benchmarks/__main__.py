"""`python -m benchmarks` (what `make bench` runs): the in-process table.

python -m benchmarks                 # in-process table, 15 interleaved rounds
python -m benchmarks --rounds 5      # quicker, noisier
python -m benchmarks --load          # also the uvicorn + wrk load test
python -m benchmarks --load-only     # only the load test
python -m benchmarks --before 0dd2e98             # that revision and the working tree
python -m benchmarks --before 0dd2e98 --after HEAD --after main~1  # revisions, same rounds
python -m benchmarks --cases b,d+ --clock wall    # some cases; wall-clock time
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

from .versions import Version, current, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (in-process)")
    parser.add_argument("--budget", type=float, default=0.08, help="seconds per variant per round")
    parser.add_argument(
        "--before", metavar="REV|DIR", help="also measure this revision (or src folder)"
    )
    parser.add_argument(
        "--after",
        metavar="REV|DIR",
        action="append",
        help="with --before: this instead of the working tree (repeat for several)",
    )
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: this process's CPU time (steady on a shared machine); wall: elapsed time",
    )
    parser.add_argument(
        "--cases", default="", help="comma-separated subset: a,b,c,d,d+,d' (default: all)"
    )
    parser.add_argument("--load", action="store_true", help="also run the uvicorn + wrk load test")
    parser.add_argument("--load-only", action="store_true", help="only the load test")
    parser.add_argument("--duration", default="5s", help="wrk -d per run (load test)")
    parser.add_argument("--load-rounds", type=int, default=3, help="interleaved wrk rounds")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c (load test)")
    args = parser.parse_args(argv)

    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    missed = errors = False
    if not args.load_only:
        from . import inprocess, report

        measured = _versions(args.before, args.after or [])
        for version in measured:
            print(f"{version.label or 'package'}: {version.source}")
        print(f"clock: {args.clock} time")
        rows = inprocess.run(
            rounds=args.rounds,
            budget=args.budget,
            versions=measured,
            clock=args.clock,
            cases=[c for c in args.cases.split(",") if c],
        )
        print(report.format_table(rows, args.rounds))
        for version in measured[1:]:
            print()
            print(report.format_comparison(rows, measured[0].label, version.label))
        newest = measured[-1].label
        missed = any(r.met is False for r in rows if r.version == newest)
        print("targets: " + ("some missed, see benchmarks/README.md" if missed else "all met"))
        print()
    if args.load or args.load_only:
        from . import loadtest

        results = loadtest.run(
            duration=args.duration, rounds=args.load_rounds, connections=args.connections
        )
        print(loadtest.format_table(results))
        errors = any(r.errors for r in results)
        print("load test: " + ("ERRORS seen" if errors else "zero errors"))
    print(f"load average now {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 1 if errors else 0


def _versions(before: str | None, after: list[str]) -> list[Version]:
    """The working tree alone; or `before` first, then each `after` (the working tree when
    none is named), each imported under its own name."""
    if not before:
        return [current()]
    if not after:
        newest = current()
        newest.label = "after"
        return [load(before, "before"), newest]
    labels = ["after"] if len(after) == 1 else [f"after{i}" for i in range(1, len(after) + 1)]
    newer = [load(spec, label) for spec, label in zip(after, labels, strict=True)]
    return [load(before, "before"), *newer]


if __name__ == "__main__":
    sys.exit(main())

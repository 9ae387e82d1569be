"""`python -m benchmarks` (what `make bench` runs): the in-process table.

python -m benchmarks                 # in-process table, 15 interleaved rounds
python -m benchmarks --rounds 5      # quicker, noisier
python -m benchmarks --load          # also the uvicorn + wrk load test
python -m benchmarks --load-only     # only the load test
"""

from __future__ import annotations

import argparse
import os
import platform
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (in-process)")
    parser.add_argument("--budget", type=float, default=0.08, help="seconds per variant per round")
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
        from . import inprocess

        rows = inprocess.run(rounds=args.rounds, budget=args.budget)
        print(inprocess.format_table(rows, args.rounds))
        missed = any(r.met is False for r in rows)
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


if __name__ == "__main__":
    sys.exit(main())

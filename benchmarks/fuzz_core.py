"""The compiled scanner core against the pure-Python scanner, for a while (`make fuzz`).

    python benchmarks/fuzz_core.py                 # FUZZ_SECONDS (default 120)
    python benchmarks/fuzz_core.py --seconds 600   # longer
    python benchmarks/fuzz_core.py --seed 1234     # replay one seed

tests/test_compiled_core.py's comparisons, long: random markup through each primitive
the core replaces (skim run, tag end, attributes) against its Python reference, and
pages of the adversarial grammar through the middleware for every visitor, whole and in
two random chunkings, on both paths: the output must be byte for byte the same. A
mismatch prints its seed and what differed; exit status 1 when anything was found, 2
when the core is not built.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the differential helpers; asgi_consent is installed

import core_differential as differential  # noqa: E402


def check(seed: int) -> list[str]:
    core = differential.compiled_core()
    assert core is not None
    rng = random.Random(seed)
    wrong = differential.primitive_mismatches(core, differential.random_markup(rng, 200), rng, 20)
    page, chunkings = differential.generated_page(seed)
    return wrong + differential.page_mismatches(core, page, chunkings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", 120)))
    parser.add_argument("--seed", type=int, help="replay this seed only")
    args = parser.parse_args(argv)
    if differential.compiled_core() is None:
        print("the C core is not built (pip install -e . with a C compiler)")
        return 2
    if args.seed is not None:
        wrong = check(args.seed)
        print("\n".join(wrong) or f"seed {args.seed}: the same on both paths")
        return 1 if wrong else 0
    started, seeds, pages, failures = time.monotonic(), random.SystemRandom(), 0, 0
    while time.monotonic() - started < args.seconds:
        seed = seeds.randrange(2**64)
        wrong = check(seed)
        pages += 1
        if wrong:
            failures += 1
            print(f"seed {seed}:\n  " + "\n  ".join(wrong[:3]), flush=True)
    print(f"done: {pages} seeds (3 visitors x 3 chunkings each), {failures} with a difference")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

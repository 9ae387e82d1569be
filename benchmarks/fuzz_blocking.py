"""Generate adversarial pages for a while and judge them as a browser would (`make fuzz`).

    python benchmarks/fuzz_blocking.py                 # FUZZ_SECONDS (default 120) of pages
    python benchmarks/fuzz_blocking.py --seconds 600   # longer
    python benchmarks/fuzz_blocking.py --seed 1234     # replay one seed, all three visitors

The same grammar, visitors and oracle as tests/adversarial/test_differential.py: each
page goes through the public middleware in random chunks as a visitor with no choice,
after reject and after accept-all. A failing page is shrunk (pieces dropped while it still
fails) and written to .cache/fuzz-findings/<visitor>-<seed>.html with a .txt beside it
saying what went wrong. To keep one as a regression test, copy the .html file into
tests/adversarial/findings/ (every file there is replayed, whole and in chunks).

Exit status 1 when anything was found.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the adversarial package; asgi_consent is installed

from adversarial import grammar, visitors  # noqa: E402

FINDINGS = ROOT / ".cache" / "fuzz-findings"


def check(seed: int, counts: Counter[str]) -> bool:
    """Judge one seed for every visitor; save what fails. True if all passed."""
    document = grammar.document(random.Random(seed))
    page = document.render()
    passed = True
    for visitor in visitors.VISITORS:
        counts["cases"] += 1
        if not visitors.problems(page, visitor, visitors.chunks_for(seed, visitor, page)):
            continue
        passed = False
        counts[f"failed:{visitor}"] += 1
        save(seed, visitor, document)
    return passed


def save(seed: int, visitor: visitors.Visitor, document: grammar.Document) -> None:
    def failing(pieces: list[str]) -> bool:
        page = grammar.Document(pieces).render()
        return bool(visitors.problems(page, visitor, visitors.chunks_for(seed, visitor, page)))

    pieces = visitors.shrink(list(document.pieces), failing)
    FINDINGS.mkdir(parents=True, exist_ok=True)
    stem = FINDINGS / f"{visitor}-{seed}"
    stem.with_suffix(".html").write_bytes(grammar.Document(pieces).render())
    shrunk = grammar.Document(pieces)
    stem.with_suffix(".txt").write_text(visitors.report(seed, visitor, shrunk) + "\n")
    print(f"  found: {stem.with_suffix('.html')}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("FUZZ_SECONDS", 120)))
    parser.add_argument("--seed", type=int, help="replay this seed only")
    args = parser.parse_args(argv)
    counts: Counter[str] = Counter()
    if args.seed is not None:
        ok = check(args.seed, counts)
        print(f"seed {args.seed}: {'passed' if ok else 'FAILED (see ' + str(FINDINGS) + ')'}")
        return 0 if ok else 1
    started = time.monotonic()
    next_report = started + 10
    seeds = random.SystemRandom()
    pages = 0
    while time.monotonic() - started < args.seconds:
        check(seeds.randrange(2**64), counts)
        pages += 1
        if time.monotonic() >= next_report:
            next_report += 10
            print(f"{time.monotonic() - started:6.0f} s  {pages} pages  {dict(counts)}", flush=True)
    failures = sum(n for key, n in counts.items() if key.startswith("failed:"))
    print(
        f"done: {pages} pages, {counts['cases']} cases, {failures} failing; findings in {FINDINGS}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

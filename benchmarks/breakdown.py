"""Where a page request's added time goes: the whole request, then with parts of our
work replaced by their answer, in the same interleaved rounds (CPU time).

    python -m benchmarks.breakdown [--rounds 7] [--budget 0.3] [--case b|c]

For one page (b: the 20 KB news page, every category granted; c: the same page before
a choice), each variant runs the middleware around the benchmark's Starlette app:

- bare: the app alone;
- wrapped: the app behind `ConsentMiddleware`, as in `python -m benchmarks`;
- no rewrite: the page's body passed on as it came (the plan is still made);
- no rewrite, no plan: and the plan of the first request given again;
- no plan: only the plan given again (the rewrite runs).

The differences between neighbours are the shares of the rewrite and the plan inside a
real request (cold caches and all), which timing each function in a loop of its own
understates. Only the working tree's package is measured; nothing is changed in it
(the variants replace two attributes of their own middleware instance).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from . import inprocess
from .inprocess import Variant, asgi_variant, build_bare, make_scope, measure, request_headers
from .report import spread


def _middleware(app: Any) -> Any:
    from asgi_consent import ConsentMiddleware

    while not isinstance(app, ConsentMiddleware):
        app = app.app
    return app


def _variants(loop: asyncio.AbstractEventLoop, case: str) -> list[Variant]:
    cookie = inprocess.granted_cookie() if case == "b" else None
    scope = make_scope("/news", request_headers(cookie=cookie))

    def wrapped(name: str, *, rewrite: bool = True, plan: bool = True) -> Variant:
        app = inprocess.build_wrapped()
        ours = _middleware(app)
        if not rewrite:
            ours._page = (lambda plan, body: body, ours._page[1])
        if not plan:
            first: list[Any] = []
            make = ours._plan

            def same_plan(scope: Any, consent: Any, headers: Any) -> Any:
                if not first:
                    first.append(make(scope, consent, headers))
                return first[0]

            ours._plan = same_plan
        return asgi_variant(loop, name, app, scope)

    return [
        asgi_variant(loop, "bare", build_bare(), scope),
        wrapped("wrapped"),
        wrapped("no rewrite", rewrite=False),
        wrapped("no rewrite, no plan", rewrite=False, plan=False),
        wrapped("no plan", plan=False),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--budget", type=float, default=0.3, help="seconds per variant per round")
    parser.add_argument("--case", choices=("b", "c"), default="b")
    args = parser.parse_args()
    loop = asyncio.new_event_loop()
    variants = _variants(loop, args.case)
    measure(variants, rounds=args.rounds, budget=args.budget)
    bare = variants[0].times
    print(
        f"case {args.case}, {args.rounds} interleaved rounds, CPU time; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'variant':<22} {'us/request (min/med/max)':>26} {'added over bare (med)':>22}")
    for variant in variants:
        lo, med, hi = (value * 1e6 for value in spread(variant.times))
        added = [t - b for t, b in zip(variant.times, bare, strict=True)]
        print(
            f"{variant.name:<22} {lo:>8.1f} /{med:>7.1f} /{hi:>7.1f} "
            f"{spread(added)[1] * 1e6:>22.1f}"
        )
    loop.close()


if __name__ == "__main__":
    main()

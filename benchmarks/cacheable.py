"""`python -m benchmarks.cacheable`: what `cacheable_html` costs and saves.

1. In-process, interleaved rounds (the method of `benchmarks/README.md`): a repeated
   one-piece page through the per-visitor mode (no choice; everything granted) and
   through `cacheable_html` (its rewrite remembered; and with the memo bypassed, to see
   the memo's share), each against the bare app in the same round.
2. With `--wrk` (needs wrk and nginx): wrk through nginx with proxy_cache in front of
   uvicorn, a third of the requests each without a choice, accepted and rejected, over
   `--articles` URLs; the cache's hit ratio from its access log, and requests/s, for
   `cacheable_html` and for the per-visitor mode (whose private pages nginx never keeps).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from asgi_consent import ConsentMiddleware
from asgi_consent.cacheable import rewrite_whole

from . import pages
from .inprocess import asgi_variant, make_scope, measure, micros, request_headers
from .loadtest import parse_wrk, start_server
from .versions import SECRET

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"20 KB": pages.NEWS_SIZE, "200 KB": 200_000}
CACHING = {"Cache-Control": "public, max-age=300"}


def site(size: int) -> Starlette:
    async def article(request: Request) -> Response:
        number = request.path_params.get("number", 0)
        body = pages.news_page(size).replace(b"<title>", f"<title>#{number} ".encode(), 1)
        return HTMLResponse(body, headers=CACHING)

    return Starlette(routes=[Route("/news", article), Route("/article/{number:int}", article)])


def shared(size: int = pages.NEWS_SIZE) -> ConsentMiddleware:
    return ConsentMiddleware(site(size), secret_key=SECRET, cacheable_html=True)


def per_visitor(size: int = pages.NEWS_SIZE) -> ConsentMiddleware:
    return ConsentMiddleware(site(size), secret_key=SECRET)


def cookies(app: ConsentMiddleware) -> dict[str, str]:
    return {
        "accepted": app.codec.encode(("analytics", "marketing", "media")),
        "rejected": app.codec.encode(()),
    }


# -- 1. in-process ----------------------------------------------------------------------


def in_process(rounds: int, budget: float) -> str:
    loop = asyncio.new_event_loop()
    lines = [
        "in-process: µs per request, min / median / max over rounds; "
        "ratio = that variant's added time / the per-visitor no-choice added time, per round",
        "",
        "| page | variant | µs per request | added µs (median) | ratio (median) |",
        "|---|---|---|---|---|",
    ]
    try:
        for label, size in SIZES.items():
            private, cached, unremembered = per_visitor(size), shared(size), shared(size)
            unremembered._page = (rewrite_whole, unremembered._page[1])  # the memo bypassed
            granted = cookies(private)["accepted"]
            no_cookie = make_scope("/news", request_headers(cookie=None, gzip=False))
            with_cookie = make_scope("/news", request_headers(cookie=granted, gzip=False))
            variants = [
                asgi_variant(loop, "bare Starlette", site(size), no_cookie),
                asgi_variant(loop, "per-visitor, no choice", private, no_cookie),
                asgi_variant(loop, "per-visitor, all granted", private, with_cookie),
                asgi_variant(loop, "cacheable_html (memo)", cached, with_cookie),
                asgi_variant(loop, "cacheable_html, memo bypassed", unremembered, with_cookie),
            ]
            measure(variants, rounds=rounds, budget=budget)
            bare, reference = variants[0], variants[1]
            base = [r - b for r, b in zip(reference.times, bare.times, strict=True)]
            for variant in variants:
                added = [v - b for v, b in zip(variant.times, bare.times, strict=True)]
                ratio = [a / r for a, r in zip(added, base, strict=True)]
                lo, med, hi = micros(variant.times)
                lines.append(
                    f"| {label} | {variant.name} | {lo:.0f} / {med:.0f} / {hi:.0f} | "
                    f"{statistics.median(added) * 1e6:.0f} | "
                    f"{'' if variant is bare else f'{statistics.median(ratio):.3f}'} |"
                )
    finally:
        loop.close()
    return "\n".join(lines)


# -- 2. wrk through nginx -----------------------------------------------------------------

WRK_SCRIPT = """
local cookies = {{"", "asgi_consent={accepted}", "asgi_consent={rejected}"}}
request = function()
  local headers = {{}}
  local cookie = cookies[math.random(3)]
  if cookie ~= "" then headers["Cookie"] = cookie end
  return wrk.format("GET", "/article/" .. math.random({articles}), headers)
end
"""


def through_nginx(duration: str, connections: int, articles: int) -> str:
    sys.path.insert(0, str(ROOT / "tests"))
    from nginx_proxy import NginxCache  # the tests' nginx: one config for both

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    lines = [
        f"wrk -t2 -c{connections} -d{duration} through nginx proxy_cache, {articles} URLs of "
        "20 KB, a third each: no choice, accepted, rejected",
        "",
        "| mode | requests/s | p99 ms | requests | cache HIT / MISS / other | hit ratio |",
        "|---|---|---|---|---|---|",
    ]
    for mode, factory in (
        ("cacheable_html", "benchmarks.cacheable:shared"),
        ("per-visitor", "benchmarks.cacheable:per_visitor"),
    ):
        server, port = start_server(factory)
        cache = NginxCache(port)
        try:
            cache.start()
            with tempfile.TemporaryDirectory() as folder:
                script = Path(folder) / "mix.lua"
                script.write_text(WRK_SCRIPT.format(articles=articles, **cookies(per_visitor())))
                command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency"]
                output = subprocess.run(
                    [*command, "-s", str(script), cache.url],
                    check=True,
                    capture_output=True,
                    text=True,
                    timeout=600,
                ).stdout
            run = parse_wrk(output)
            statuses = Counter(line.split(" ", 1)[0] for line in cache.log().splitlines())
        finally:
            cache.stop()
            server.terminate()
            server.wait(10)
        total = sum(statuses.values())
        other = total - statuses["HIT"] - statuses["MISS"]
        lines.append(
            f"| {mode} | {run.rps:.0f} | {run.p99_ms:.1f} | {run.requests} | "
            f"{statuses['HIT']} / {statuses['MISS']} / {other} | "
            f"{statuses['HIT'] / max(total, 1):.3f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cacheable", description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--budget", type=float, default=0.08)
    parser.add_argument("--wrk", action="store_true", help="also wrk through nginx")
    parser.add_argument("--duration", default="10s")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args(argv)
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
    )
    print(in_process(args.rounds, args.budget))
    if args.wrk:
        print()
        print(through_nginx(args.duration, args.connections, args.articles))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

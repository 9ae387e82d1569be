"""In-process benchmark: hand-built ASGI scopes around a small Starlette app.

Every case runs its variants (bare app, app + ConsentMiddleware, app + GZipMiddleware,
peers) in the same round, in rotating order, many rounds; a ratio is computed inside
each round and we report min / median / max over the rounds. The machine is shared,
so medians matter and the spread is printed next to them. Given two versions of the
package (`--before`), both run in the same rounds, each against the same bare app.
"""

from __future__ import annotations

import asyncio
import gc
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from . import pages
from .report import Row, spread
from .versions import ASGIApp, Version, current

STREAM_CHUNK = 64 * 1024
# What a variant's time is read from: this process's CPU time by default. Every variant
# runs in this one thread, so it is the work done; elapsed time on a shared machine also
# counts the other processes that had the CPU (see `run(clock=...)`).
CLOCKS: dict[str, Callable[[], float]] = {"cpu": time.process_time, "wall": time.perf_counter}
_now = CLOCKS["cpu"]
HTML = "text/html; charset=utf-8"
Message = dict[str, Any]
Loop = asyncio.AbstractEventLoop

# -- the app under test ------------------------------------------------------------


async def api_status(request: Request) -> Response:
    return JSONResponse({"status": "ok", "items": [1, 2, 3], "region": "eu-west"})


async def news(request: Request) -> Response:
    return HTMLResponse(pages.news_page())


async def _chunks(data: bytes) -> Any:
    for at in range(0, len(data), STREAM_CHUNK):
        yield data[at : at + STREAM_CHUNK]


def _streamed(page: Callable[[], bytes]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return StreamingResponse(_chunks(page()), media_type=HTML)

    return endpoint


def build_bare() -> Starlette:
    """The site without us (also the `uvicorn --factory` target of the load test)."""
    return Starlette(
        routes=[
            Route("/api/status", api_status),
            Route("/news", news),
            Route("/archive", _streamed(pages.archive_page)),
            Route("/front", _streamed(pages.front_page)),
            Route("/long-read", _streamed(pages.long_read_page)),
        ]
    )


def build_wrapped() -> Any:
    return current().wrap(build_bare())


def build_gzip() -> GZipMiddleware:
    return GZipMiddleware(build_bare())


def granted_cookie() -> str:
    """A valid consent cookie value (working tree's package) that grants every category."""
    return current().granted_cookie


def request_headers(*, cookie: str | None, gzip: bool = True) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"host", b"news.example"),
        (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        (b"accept", b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        (b"accept-language", b"en-GB,en;q=0.7,de;q=0.3"),
    ]
    if gzip:
        headers.append((b"accept-encoding", b"gzip, deflate, br, zstd"))
    other = b"_ga=GA1.1.123456789.1700000000; session=abc123def456"
    if cookie is not None:
        headers.append((b"cookie", other + b"; asgi_consent=" + cookie.encode()))
    else:
        headers.append((b"cookie", other))
    return headers


def make_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        # 2.4: a StreamingResponse does not start a disconnect listener per request.
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: Message) -> None:
    return None


async def call(app: ASGIApp, scope: dict[str, Any]) -> tuple[Message, bytes]:
    """One request; returns the start message and the joined body (for checks, not timing)."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(dict(scope), _receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0], body


def rewrite_stream(version: Version, plan: Any, data: bytes) -> list[bytes]:
    """The rewriter as the middleware drives it: chunk in, chunk out (not joined: the
    middleware sends each piece on, and joining 2 MB would be the harness's cost)."""
    rewriter = version.rewriter(plan)
    out = [rewriter.feed(data[at : at + STREAM_CHUNK]) for at in range(0, len(data), STREAM_CHUNK)]
    out.append(rewriter.finish())
    return out


def parse_selectolax(data: bytes) -> bytes:
    from selectolax.lexbor import LexborHTMLParser

    return (LexborHTMLParser(data).html or "").encode("utf-8")


def parse_lxml(data: bytes) -> bytes:
    import lxml.html

    result: bytes = lxml.html.tostring(
        lxml.html.document_fromstring(data), doctype="<!doctype html>"
    )
    return result


# -- the measuring machinery ---------------------------------------------------------


@dataclass
class Variant:
    name: str
    run: Callable[[int], float]  # runs n iterations, returns seconds
    size: int = 0  # bytes per iteration, for MB/s
    times: list[float] = field(default_factory=list)  # seconds per iteration, per round


def asgi_variant(
    loop: Loop, name: str, app: ASGIApp, scope: dict[str, Any], size: int = 0
) -> Variant:
    async def many(n: int) -> float:
        start = _now()
        for _ in range(n):
            await app(dict(scope), _receive, _discard)
        return _now() - start

    return Variant(name, lambda n: loop.run_until_complete(many(n)), size)


def sync_variant(name: str, work: Callable[[], object], size: int = 0) -> Variant:
    def many(n: int) -> float:
        start = _now()
        for _ in range(n):
            work()
        return _now() - start

    return Variant(name, many, size)


def calibrate(variant: Variant, budget: float) -> int:
    """Iterations that take about `budget` seconds (at least one)."""
    n = 1
    while True:
        elapsed = variant.run(n)
        if elapsed >= budget / 4 or n >= 1 << 20:
            return max(1, int(n * budget / max(elapsed, 1e-9)))
        n *= 4


def measure(variants: list[Variant], *, rounds: int, budget: float) -> None:
    """Interleaved rounds: every variant once per round, order rotated each round."""
    counts = [calibrate(v, budget) for v in variants]
    for v, n in zip(variants, counts, strict=True):
        v.run(max(1, n // 10))  # warm-up
    for r in range(rounds):
        order = list(range(len(variants)))
        order = order[r % len(order) :] + order[: r % len(order)]
        for index in order:
            gc.collect()
            variants[index].times.append(variants[index].run(counts[index]) / counts[index])


def per_request(v: Variant) -> tuple[float, float, float]:
    return micros(v.times)


def mbps(v: Variant) -> tuple[float, float, float]:
    lo, med, hi = spread(v.times)
    return v.size / hi / 1e6, v.size / med / 1e6, v.size / lo / 1e6


def micros(seconds: list[float]) -> tuple[float, float, float]:
    lo, med, hi = spread(seconds)
    return lo * 1e6, med * 1e6, hi * 1e6


def timing_row(case: str, v: Variant, *, note: str = "", version: str = "") -> Row:
    return Row(
        case, v.name, per_request(v), mbps(v) if v.size else None, note=note, version=version
    )


def ratio_row(
    case: str,
    v: Variant,
    values: list[float],
    target: str,
    met: Callable[[float], bool],
    *,
    version: str,
    note: str = "",
    cost: tuple[float, float, float] | None = None,
) -> Row:
    """A row judged against a target on the median of per-round ratios."""
    return Row(
        case,
        v.name,
        cost or per_request(v),
        mbps(v) if v.size else None,
        spread(values),
        target,
        met(statistics.median(values)),
        note,
        version,
        values,
    )


# -- the cases ------------------------------------------------------------------------


@dataclass
class Setup:
    loop: Loop
    versions: list[Version]
    rounds: int
    budget: float
    bare: Starlette = field(default_factory=build_bare)
    gzipped: GZipMiddleware = field(default_factory=build_gzip)

    def wrapped(self) -> list[Any]:
        return [v.wrap(build_bare()) for v in self.versions]


def run(
    *,
    rounds: int = 15,
    budget: float = 0.08,
    versions: list[Version] | None = None,
    clock: str = "cpu",
    cases: list[str] | None = None,
) -> list[Row]:
    """Every case (or those named in `cases`: "a", "b", "c", "d", "d+", "d'"), each
    version's variants in the same interleaved rounds."""
    global _now
    _now = CLOCKS[clock]
    wanted = set(cases or ("a", "b", "c", "d", "d+", "d'"))
    loop = asyncio.new_event_loop()
    try:
        setup = Setup(loop, versions or [current()], rounds, budget)
        _sanity(setup)
        rows: list[Row] = []
        for key, case in (("a", case_json), ("b", case_granted), ("c", case_no_choice)):
            if key in wanted:
                rows += case(setup)
        for key, label, page, path in (
            ("d", "d 2 MB archive, no choice", pages.archive_page(), "/archive"),
            ("d+", "d+ 2 MB front page, no choice", pages.front_page(), "/front"),
            ("d'", "d' 2 MB long read, no choice", pages.long_read_page(), "/long-read"),
        ):
            if key in wanted:
                rows += case_big_page(setup, label, page, path)
        return rows
    finally:
        loop.close()


def _sanity(setup: Setup) -> None:
    """The wrapped app really does its work in each case (not timed)."""
    loop = setup.loop
    for version, wrapped in zip(setup.versions, setup.wrapped(), strict=True):
        no_cookie = make_scope("/news", request_headers(cookie=None))
        _, body = loop.run_until_complete(call(wrapped, no_cookie))
        assert b'id="asgi-consent"' in body and b'type="text/plain"' in body, version.source
        granted = make_scope("/news", request_headers(cookie=version.granted_cookie))
        _, body = loop.run_until_complete(call(wrapped, granted))
        assert b'id="asgi-consent"' not in body and b"data-consent-src" not in body
    start, _ = loop.run_until_complete(
        call(setup.gzipped, make_scope("/news", request_headers(cookie=None)))
    )
    assert (b"content-encoding", b"gzip") in start["headers"]


def _over_bare(case: str, setup: Setup, path: str, target: float, size: int = 0) -> list[Row]:
    """Cases a and b: each version's wrapped app against the bare one, with its cookie."""
    loop, versions = setup.loop, setup.versions
    scopes = [make_scope(path, request_headers(cookie=v.granted_cookie)) for v in versions]
    bare = asgi_variant(loop, "bare Starlette", setup.bare, scopes[-1], size)
    ours = [
        asgi_variant(loop, v.tag("+ ConsentMiddleware"), w, s, size)
        for v, w, s in zip(versions, setup.wrapped(), scopes, strict=True)
    ]
    measure([bare, *ours], rounds=setup.rounds, budget=setup.budget)
    rows = [timing_row(case, bare)]
    for version, variant in zip(versions, ours, strict=True):
        values = [b / w for b, w in zip(bare.times, variant.times, strict=True)]
        rows.append(
            ratio_row(
                case,
                variant,
                values,
                f"wrapped/bare >= {target:.2f}",
                lambda m: m >= target,
                version=version.label,
            )
        )
    return rows


def case_json(setup: Setup) -> list[Row]:
    """(a) JSON route, visitor with a valid consent cookie."""
    return _over_bare("a JSON, cookie", setup, "/api/status", 0.88)


def case_granted(setup: Setup) -> list[Row]:
    """(b) 20 KB news page, everything granted."""
    return _over_bare("b 20 KB, all granted", setup, "/news", 0.60, len(pages.news_page()))


def case_no_choice(setup: Setup) -> list[Row]:
    """(c) the news page before a choice: rewrite + banner, against gzip's added cost."""
    loop, versions, page = setup.loop, setup.versions, pages.news_page()
    label, size = "c 20 KB, no choice", len(page)
    scope = make_scope("/news", request_headers(cookie=None))
    bare = asgi_variant(loop, "bare Starlette", setup.bare, scope, size)
    gzipped = asgi_variant(loop, "+ GZipMiddleware level 9 (added)", setup.gzipped, scope, size)
    ours = [
        asgi_variant(loop, v.tag("+ ConsentMiddleware (added)"), w, scope, size)
        for v, w in zip(versions, setup.wrapped(), strict=True)
    ]
    alone = [_rewriter_variant(v, scope, page, "HtmlRewriter alone") for v in versions]
    peers = _peers(page)
    measure([bare, gzipped, *ours, *alone, *peers], rounds=setup.rounds, budget=setup.budget)
    gzip_added = [g - b for b, g in zip(bare.times, gzipped.times, strict=True)]
    rows = [timing_row(label, bare)]
    for version, variant in zip(versions, ours, strict=True):
        added = [w - b for b, w in zip(bare.times, variant.times, strict=True)]
        rows.append(
            ratio_row(
                label,
                variant,
                [o / g for o, g in zip(added, gzip_added, strict=True)],
                "added <= 0.30x gzip's",
                lambda m: m <= 0.30,
                cost=micros(added),
                note="ratio = our added time / gzip's added time",
                version=version.label,
            )
        )
    rows.append(
        Row(label, gzipped.name, micros(gzip_added), note="peer; output is gzip, not byte-exact")
    )
    rows += [timing_row(label, a, version=v.label) for v, a in zip(versions, alone, strict=True)]
    return rows + _peer_rows(label, page, peers)


def case_big_page(setup: Setup, label: str, page: bytes, path: str) -> list[Row]:
    """(d) a 2 MB page before a choice: the rewriter against one bytes.find pass."""
    loop, versions, size = setup.loop, setup.versions, len(page)
    scope = make_scope(path, request_headers(cookie=None))
    # The baseline scans the whole buffer: the first "</body>" is in the last 1%.
    assert page.find(b"</body>") > size * 0.99
    find = sync_variant('bytes.find(b"</body>"), whole buffer', lambda: page.find(b"</body>"), size)
    alone = [_rewriter_variant(v, scope, page, "HtmlRewriter, 64 KB chunks") for v in versions]
    bare = asgi_variant(loop, "bare Starlette, streamed", setup.bare, scope, size)
    ours = [
        asgi_variant(loop, v.tag("+ ConsentMiddleware"), w, scope, size)
        for v, w in zip(versions, setup.wrapped(), strict=True)
    ]
    gzipped = asgi_variant(loop, "+ GZipMiddleware level 9", setup.gzipped, scope, size)
    peers = _peers(page)
    measure(
        [find, *alone, bare, *ours, gzipped, *peers], rounds=setup.rounds, budget=setup.budget * 2
    )
    rows = [timing_row(label, find)]
    for version, variant in zip(versions, alone, strict=True):
        rows.append(
            ratio_row(
                label,
                variant,
                [f / r for f, r in zip(find.times, variant.times, strict=True)],
                "rewriter/find >= 0.25",
                lambda m: m >= 0.25,
                note=f"{tags_per_mb(page):.0f} tags that matter per MB",
                version=version.label,
            )
        )
    rows.append(timing_row(label, bare))
    rows += [timing_row(label, o, version=v.label) for v, o in zip(versions, ours, strict=True)]
    rows.append(timing_row(label, gzipped))
    return rows + _peer_rows(label, page, peers)


def _rewriter_variant(version: Version, scope: dict[str, Any], page: bytes, name: str) -> Variant:
    plan = version.plan(scope, granted=False)
    return sync_variant(version.tag(name), lambda: rewrite_stream(version, plan, page), len(page))


def _peers(page: bytes) -> list[Variant]:
    """selectolax and lxml when installed (benchmarks/requirements.txt); left out if not."""
    peers = []
    for name, parse in (("selectolax", parse_selectolax), ("lxml", parse_lxml)):
        try:
            parse(b"<p>")
        except ImportError:
            print(f"{name} not installed: its peer row is left out")
            continue
        peers.append(sync_variant(f"{name} parse+serialise", partial(parse, page), len(page)))
    return peers


def _peer_rows(label: str, page: bytes, peers: list[Variant]) -> list[Row]:
    parsers = {"selectolax": parse_selectolax, "lxml": parse_lxml}
    return [
        timing_row(label, p, note=f"byte-exact: {parsers[p.name.split()[0]](page) == page}")
        for p in peers
    ]


# Start tags of elements that fetch, switch the tokenizer or shape the page, and comments.
_MATTERS = re.compile(
    rb"<(?:!--|/?(?:script|style|iframe|frame|img|image|source|video|audio|track|embed"
    rb"|object|input|link|meta|base|noscript|svg|math|body|head|textarea|title|xmp)[\s/>])"
)


def tags_per_mb(page: bytes) -> float:
    return len(_MATTERS.findall(page.lower())) / (len(page) / 1e6)

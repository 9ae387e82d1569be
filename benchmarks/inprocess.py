"""In-process benchmark: hand-built ASGI scopes around a small Starlette app.

Every case runs its variants (bare app, app + ConsentMiddleware, app + GZipMiddleware,
peers) in the same round, in rotating order, many rounds; a ratio is computed inside
each round and we report min / median / max over the rounds. The machine is shared,
so medians matter and the spread is printed next to them.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from asgi_consent import ConsentMiddleware
from asgi_consent.cookie import NO_CHOICE
from asgi_consent.rewrite import HtmlRewriter, RewritePlan

from . import pages

SECRET = "benchmark-secret-key-0123456789abcdef"
ALL_CATEGORIES = ("analytics", "marketing", "media")
STREAM_CHUNK = 64 * 1024
HTML = "text/html; charset=utf-8"
Message = dict[str, Any]
ASGIApp = Callable[..., Awaitable[None]]

# -- the app under test ------------------------------------------------------------


async def api_status(request: Request) -> Response:
    return JSONResponse({"status": "ok", "items": [1, 2, 3], "region": "eu-west"})


async def news(request: Request) -> Response:
    return HTMLResponse(pages.news_page())


async def _chunks(data: bytes) -> Any:
    for at in range(0, len(data), STREAM_CHUNK):
        yield data[at : at + STREAM_CHUNK]


async def archive(request: Request) -> Response:
    return StreamingResponse(_chunks(pages.archive_page()), media_type=HTML)


async def long_read(request: Request) -> Response:
    return StreamingResponse(_chunks(pages.long_read_page()), media_type=HTML)


def build_bare() -> Starlette:
    """The site without us (also the `uvicorn --factory` target of the load test)."""
    return Starlette(
        routes=[
            Route("/api/status", api_status),
            Route("/news", news),
            Route("/archive", archive),
            Route("/long-read", long_read),
        ]
    )


def build_wrapped() -> ConsentMiddleware:
    return ConsentMiddleware(build_bare(), secret_key=SECRET, policy_url="/privacy")


def build_gzip() -> GZipMiddleware:
    return GZipMiddleware(build_bare())


def granted_cookie() -> str:
    """A valid consent cookie value that grants every category."""
    return build_wrapped().codec.encode(ALL_CATEGORIES)


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


# -- the measuring machinery ---------------------------------------------------------


@dataclass
class Variant:
    name: str
    run: Callable[[int], float]  # runs n iterations, returns seconds
    size: int = 0  # bytes per iteration, for MB/s
    times: list[float] = field(default_factory=list)  # seconds per iteration, per round

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def asgi_variant(
    loop: asyncio.AbstractEventLoop, name: str, app: ASGIApp, scope: dict[str, Any], size: int = 0
) -> Variant:
    async def many(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            await app(dict(scope), _receive, _discard)
        return time.perf_counter() - start

    return Variant(name, lambda n: loop.run_until_complete(many(n)), size)


def sync_variant(name: str, work: Callable[[], object], size: int = 0) -> Variant:
    def many(n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            work()
        return time.perf_counter() - start

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


def spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


# -- the cases ------------------------------------------------------------------------


@dataclass
class Row:
    case: str
    what: str
    per_request: tuple[float, float, float] | None = None  # microseconds
    throughput: tuple[float, float, float] | None = None  # MB/s
    ratio: tuple[float, float, float] | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


def _per_request(v: Variant) -> tuple[float, float, float]:
    lo, med, hi = spread(v.times)
    return lo * 1e6, med * 1e6, hi * 1e6


def _mbps(v: Variant) -> tuple[float, float, float]:
    lo, med, hi = spread(v.times)
    return v.size / hi / 1e6, v.size / med / 1e6, v.size / lo / 1e6


def _ratio_rows(values: list[float]) -> tuple[float, float, float]:
    return spread(values)


def rewrite_plan(consent_granted: bool) -> RewritePlan:
    """The plan the middleware builds for /archive (no choice, or everything granted)."""
    from starlette.datastructures import MutableHeaders

    mw = build_wrapped()
    consent = mw.codec.decode(granted_cookie()) if consent_granted else NO_CHOICE
    scope = make_scope("/archive", request_headers(cookie=None))
    return mw.plan_for(scope, consent, MutableHeaders(raw=[]))


def rewrite_stream(plan: RewritePlan, data: bytes, chunk: int = STREAM_CHUNK) -> list[bytes]:
    """The rewriter as the middleware drives it: chunk in, chunk out (not joined: the
    middleware sends each piece on, and joining 2 MB would be the harness's cost)."""
    rewriter = HtmlRewriter(plan)
    out = [rewriter.feed(data[at : at + chunk]) for at in range(0, len(data), chunk)]
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


def run(*, rounds: int = 15, budget: float = 0.08) -> list[Row]:
    loop = asyncio.new_event_loop()
    try:
        return _run(loop, rounds=rounds, budget=budget)
    finally:
        loop.close()


def _run(loop: asyncio.AbstractEventLoop, *, rounds: int, budget: float) -> list[Row]:  # noqa: C901
    bare, wrapped, gzipped = build_bare(), build_wrapped(), build_gzip()
    cookie = granted_cookie()
    with_cookie = request_headers(cookie=cookie)
    no_cookie = request_headers(cookie=None)
    news_page, archive_page = pages.news_page(), pages.archive_page()
    rows: list[Row] = []

    # Sanity: the wrapped app really does its work in each case (not timed).
    _, body = loop.run_until_complete(call(wrapped, make_scope("/news", no_cookie)))
    assert b'id="asgi-consent"' in body and b'type="text/plain"' in body
    _, body = loop.run_until_complete(call(wrapped, make_scope("/news", with_cookie)))
    assert b'id="asgi-consent"' not in body and b"data-consent-src" not in body
    start, _ = loop.run_until_complete(call(gzipped, make_scope("/news", no_cookie)))
    assert (b"content-encoding", b"gzip") in start["headers"]

    # (a) JSON route, visitor with a valid consent cookie.
    scope = make_scope("/api/status", with_cookie)
    a = [asgi_variant(loop, "bare", bare, scope), asgi_variant(loop, "+ours", wrapped, scope)]
    measure(a, rounds=rounds, budget=budget)
    ratio = [b / w for b, w in zip(a[0].times, a[1].times, strict=True)]
    rows.append(Row("a JSON, cookie", "bare Starlette", _per_request(a[0])))
    rows.append(
        Row(
            "a JSON, cookie",
            "+ ConsentMiddleware",
            _per_request(a[1]),
            ratio=spread(ratio),
            target="wrapped/bare >= 0.90",
            met=statistics.median(ratio) >= 0.90,
        )
    )

    # (b) 20 KB news page, everything granted.
    scope = make_scope("/news", with_cookie)
    size = len(news_page)
    b = [
        asgi_variant(loop, "bare", bare, scope, size),
        asgi_variant(loop, "+ours", wrapped, scope, size),
    ]
    measure(b, rounds=rounds, budget=budget)
    ratio = [x / y for x, y in zip(b[0].times, b[1].times, strict=True)]
    rows.append(Row("b 20 KB, all granted", "bare Starlette", _per_request(b[0]), _mbps(b[0])))
    rows.append(
        Row(
            "b 20 KB, all granted",
            "+ ConsentMiddleware",
            _per_request(b[1]),
            _mbps(b[1]),
            spread(ratio),
            "wrapped/bare >= 0.80",
            statistics.median(ratio) >= 0.80,
        )
    )

    # (c) the same page before a choice: rewrite + banner, against gzip's added cost.
    scope = make_scope("/news", no_cookie)
    rewrite_only = rewrite_plan(False)
    c = [
        asgi_variant(loop, "bare", bare, scope, size),
        asgi_variant(loop, "+ours", wrapped, scope, size),
        asgi_variant(loop, "+gzip", gzipped, scope, size),
        sync_variant("rewriter", lambda: rewrite_stream(rewrite_only, news_page), size),
        sync_variant("selectolax", lambda: parse_selectolax(news_page), size),
        sync_variant("lxml", lambda: parse_lxml(news_page), size),
    ]
    measure(c, rounds=rounds, budget=budget)
    ours_added = [w - x for x, w in zip(c[0].times, c[1].times, strict=True)]
    gzip_added = [g - x for x, g in zip(c[0].times, c[2].times, strict=True)]
    ratio = [o / g for o, g in zip(ours_added, gzip_added, strict=True)]
    label = "c 20 KB, no choice"
    rows.append(Row(label, "bare Starlette", _per_request(c[0]), _mbps(c[0])))
    rows.append(
        Row(
            label,
            "+ ConsentMiddleware (added cost)",
            tuple(x * 1e6 for x in spread(ours_added)),  # type: ignore[arg-type]
            ratio=spread(ratio),
            target="added <= 0.5x gzip's",
            met=statistics.median(ratio) <= 0.5,
            note="ratio = our added time / gzip's added time",
        )
    )
    rows.append(
        Row(
            label,
            "+ GZipMiddleware level 9 (added)",
            tuple(x * 1e6 for x in spread(gzip_added)),  # type: ignore[arg-type]
            note="peer; output is gzip, not byte-exact by design",
        )
    )
    rows.append(Row(label, "HtmlRewriter alone", _per_request(c[3]), _mbps(c[3])))
    exact = parse_selectolax(news_page) == news_page
    rows.append(
        Row(
            label,
            "selectolax parse+serialise",
            _per_request(c[4]),
            _mbps(c[4]),
            note=f"byte-exact: {exact}",
        )
    )
    exact = parse_lxml(news_page) == news_page
    rows.append(
        Row(
            label,
            "lxml parse+serialise",
            _per_request(c[5]),
            _mbps(c[5]),
            note=f"byte-exact: {exact}",
        )
    )

    # (d) 2 MB pages before a choice: the rewriter against one bytes.find pass.
    for label, page, path in (
        ("d 2 MB archive, no choice", archive_page, "/archive"),
        ("d' 2 MB long read, no choice", pages.long_read_page(), "/long-read"),
    ):
        size = len(page)
        scope = make_scope(path, no_cookie)
        # The baseline scans the whole buffer: the first "</body>" is in the last 1%.
        assert page.find(b"</body>") > size * 0.99
        d = [
            sync_variant("bytes.find", lambda page=page: page.find(b"</body>"), size),
            sync_variant("rewriter", lambda page=page: rewrite_stream(rewrite_only, page), size),
            asgi_variant(loop, "bare", bare, scope, size),
            asgi_variant(loop, "+ours", wrapped, scope, size),
            asgi_variant(loop, "+gzip", gzipped, scope, size),
            sync_variant("selectolax", lambda page=page: parse_selectolax(page), size),
            sync_variant("lxml", lambda page=page: parse_lxml(page), size),
        ]
        measure(d, rounds=rounds, budget=budget * 2)
        ratio = [f / r for f, r in zip(d[0].times, d[1].times, strict=True)]
        rows.append(
            Row(label, 'bytes.find(b"</body>"), whole buffer', _per_request(d[0]), _mbps(d[0]))
        )
        rows.append(
            Row(
                label,
                "HtmlRewriter, 64 KB chunks",
                _per_request(d[1]),
                _mbps(d[1]),
                spread(ratio),
                "rewriter/find >= 0.20",
                statistics.median(ratio) >= 0.20,
                note=f"{_tags_per_mb(page):.0f} tags that matter per MB",
            )
        )
        rows.append(Row(label, "bare Starlette, streamed", _per_request(d[2]), _mbps(d[2])))
        rows.append(Row(label, "+ ConsentMiddleware", _per_request(d[3]), _mbps(d[3])))
        rows.append(Row(label, "+ GZipMiddleware level 9", _per_request(d[4]), _mbps(d[4])))
        exact = parse_selectolax(page) == page
        rows.append(
            Row(
                label,
                "selectolax parse+serialise",
                _per_request(d[5]),
                _mbps(d[5]),
                note=f"byte-exact: {exact}",
            )
        )
        exact = parse_lxml(page) == page
        rows.append(
            Row(
                label,
                "lxml parse+serialise",
                _per_request(d[6]),
                _mbps(d[6]),
                note=f"byte-exact: {exact}",
            )
        )
    return rows


def _tags_per_mb(page: bytes) -> float:
    import re

    found = re.findall(
        rb"<(?:!--|/?(?:script|iframe|img|noscript|link|body|head|style|textarea|title|xmp)[\s/>])",
        page.lower(),
    )
    return len(found) / (len(page) / 1e6)


def format_table(rows: list[Row], rounds: int) -> str:
    def triple(values: tuple[float, float, float] | None, digits: int) -> str:
        if values is None:
            return ""
        return " / ".join(f"{v:.{digits}f}" for v in values)

    header = (
        "case",
        "variant",
        "us per request (min/med/max)",
        "MB/s (min/med/max)",
        "ratio (min/med/max)",
        "target",
        "met",
        "note",
    )
    table = [header]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        table.append(
            (
                r.case,
                r.what,
                triple(r.per_request, 1),
                triple(r.throughput, 1),
                triple(r.ratio, 3),
                r.target,
                met,
                r.note,
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [f"In-process benchmark: {rounds} interleaved rounds; medians decide the targets."]
    for index, row in enumerate(table):
        lines.append(
            " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        )
        if index == 0:
            lines.append("-+-".join("-" * w for w in widths))
    return "\n".join(lines)

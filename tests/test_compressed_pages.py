"""Pages compressed inside the app (gzip, deflate) are read, rewritten and compressed again.

Before, a compressed page passed through untouched, without banner or blocking: every
tracker in it ran, for a setup as common as Django's GZipMiddleware in MIDDLEWARE or a
GZipMiddleware added inside ours. The output is judged as a browser reads it: decoded
with the coding it is sent with, then parsed by html5lib (scripting on and off).
"""

from __future__ import annotations

import gzip
import logging
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import brotli  # type: ignore[import-untyped]
import pytest
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from adversarial import oracle, visitors
from asgi_consent import ConsentMiddleware
from helpers import make_scope, require_chromium, run_asgi

REFUSED = frozenset(visitors.CATEGORIES)
PAGE = (
    b"<!doctype html><html><head><title>t</title>"
    b'<script async src="https://www.googletagmanager.com/gtag/js?id=G-1"></script></head>'
    b"<body><p>" + b"Hello, compressed world. " * 200 + b"</p>"
    b'<img src="https://www.facebook.com/tr?id=1&amp;ev=PageView"></body></html>'
)
HTML = (b"content-type", b"text/html; charset=utf-8")


def _deflate(data: bytes, raw: bool = False) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15 if raw else 15)
    return packer.compress(data) + packer.flush()


def _gzip_chunks(data: bytes, size: int) -> list[bytes]:
    """`data` compressed as a streaming GZip middleware sends it: flushed per chunk."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    pieces = [data[at : at + size] for at in range(0, len(data), size)]
    out = [packer.compress(piece) + packer.flush(zlib.Z_SYNC_FLUSH) for piece in pieces]
    return [*out, packer.flush()]


def _brotli_chunks(data: bytes, size: int) -> list[bytes]:
    packer = brotli.Compressor(quality=9)
    pieces = [data[at : at + size] for at in range(0, len(data), size)]
    return [*(packer.process(piece) + packer.flush() for piece in pieces), packer.finish()]


def _decoded(coding: bytes, body: bytes) -> bytes:
    if coding == b"br":
        decoded: bytes = brotli.decompress(body)
        return decoded
    if coding in (b"gzip", b"x-gzip"):
        return gzip.decompress(body)
    try:
        return zlib.decompress(body)
    except zlib.error:
        return zlib.decompress(body, -15)


def _app(chunks: list[bytes], coding: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [HTML, (b"content-encoding", coding), (b"vary", b"Accept-Encoding")]
        if len(chunks) == 1:
            headers.append((b"content-length", str(len(chunks[0])).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for index, chunk in enumerate(chunks):
            more = index < len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": more})

    return ConsentMiddleware(app, secret_key=visitors.SECRET)


async def _serve(chunks: list[bytes], coding: bytes, visitor: visitors.Visitor) -> Any:
    cookie = visitors.COOKIES[visitor]
    headers = [(b"cookie", cookie)] if cookie else []

    return await run_asgi(_app(chunks, coding), make_scope(headers=headers))


BODIES = {
    "gzip": (b"gzip", [gzip.compress(PAGE)]),
    "x-gzip": (b"x-gzip", [gzip.compress(PAGE)]),
    "deflate": (b"deflate", [_deflate(PAGE)]),
    "raw-deflate": (b"deflate", [_deflate(PAGE, raw=True)]),
    "gzip-streamed": (b"gzip", _gzip_chunks(PAGE, 700)),
    "gzip-cut-anywhere": (b"gzip", [(z := gzip.compress(PAGE))[:1], z[1:7], z[7:100], z[100:]]),
    "brotli": (b"br", [brotli.compress(PAGE)]),
    "brotli-streamed": (b"br", _brotli_chunks(PAGE, 700)),
}


@pytest.mark.anyio
@pytest.mark.parametrize("visitor", ["none", "reject"])
@pytest.mark.parametrize("name", list(BODIES))
async def test_a_compressed_page_is_rewritten_and_sent_in_its_coding(
    name: str, visitor: visitors.Visitor
) -> None:
    coding, chunks = BODIES[name]
    assert oracle.find_leaks(PAGE, REFUSED), "the page fetches no tracker: no proof"
    start, *bodies = await _serve(chunks, coding, visitor)
    sent = dict(start["headers"])
    assert sent[b"content-encoding"] == coding and b"content-length" not in sent
    page = _decoded(coding, b"".join(m["body"] for m in bodies))
    assert oracle.find_leaks(page, REFUSED) == []
    ours = b'id="asgi-consent"' if visitor == "none" else b'id="asgi-consent-settings"'
    assert ours in page and b"Hello, compressed world." in page


@pytest.mark.anyio
async def test_a_visitor_who_accepted_gets_the_page_with_our_insertion_only() -> None:
    coding, chunks = BODIES["gzip-streamed"]
    start, *bodies = await _serve(chunks, coding, "accept")
    page = _decoded(coding, b"".join(m["body"] for m in bodies))
    assert visitors.accepted_unchanged(PAGE, page)
    assert len(bodies) > 1  # still streamed, each message flushed


@pytest.mark.anyio
@pytest.mark.parametrize("coding", [b"zstd", b"gzip, gzip", b"br, gzip"])
async def test_a_coding_we_cannot_decode_passes_untouched_and_is_logged_once(
    coding: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    app = _app([b"\x1f\x8b compressed bytes"], coding)

    with caplog.at_level(logging.ERROR, logger="asgi_consent"):
        for _ in range(2):
            start, body = await run_asgi(app, make_scope())
            assert body["body"] == b"\x1f\x8b compressed bytes"
    assert [r.getMessage().count("cannot decode") for r in caplog.records] == [1]


@pytest.mark.anyio
async def test_without_its_package_a_brotli_page_passes_untouched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from asgi_consent import contentcoding

    monkeypatch.setattr(contentcoding, "READABLE", {**contentcoding.READABLE})
    del contentcoding.READABLE[b"br"]
    body = brotli.compress(PAGE)
    start, sent = await run_asgi(_app([body], b"br"), make_scope())
    assert sent["body"] == body


@pytest.mark.anyio
async def test_a_corrupt_body_ends_the_page_without_an_error() -> None:
    broken = gzip.compress(PAGE)[:200] + b"\x00garbage\xff" * 10
    start, *bodies = await _serve([broken], b"gzip", "none")
    assert start["status"] == 200
    page = zlib.decompressobj(31).decompress(b"".join(m["body"] for m in bodies))
    assert oracle.find_leaks(page, REFUSED) == []


# -- the setup this is for: GZipMiddleware inside ConsentMiddleware, in Chromium ----------


async def _page(request: Request) -> Response:
    return HTMLResponse(PAGE)


def _misordered() -> Any:
    """/page/x: GZipMiddleware inside ConsentMiddleware; /raw/x: GZipMiddleware alone."""
    routes = [Route("/page/{name}", _page), Route("/raw/{name}", _page)]
    inner = GZipMiddleware(Starlette(routes=routes), minimum_size=10)
    guarded = ConsentMiddleware(inner, secret_key=visitors.SECRET)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        raw = scope["type"] == "http" and scope["path"].startswith("/raw/")
        await (inner if raw else guarded)(scope, receive, send)

    return app


@pytest.fixture(scope="module")
def chromium_requests() -> Iterator[Callable[[], dict[str, list[str]]]]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    from redteam.harness import ARGS, Server, fake, is_tracker

    with Server(_misordered()) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)

        def load() -> dict[str, list[str]]:
            seen: dict[str, list[str]] = {}
            for visitor in ("raw", "none", "reject"):
                context = browser.new_context()
                context.route("**/*", fake)
                if visitor == "reject":
                    context.request.post(
                        base + "/_consent/choice",
                        form={"choice": "reject"},
                        headers={"Origin": base},
                        max_redirects=0,
                    )
                page = context.new_page()
                requests: list[str] = []
                page.on("request", lambda request, seen=requests: seen.append(request.url))
                page.goto(base + ("/raw/x" if visitor == "raw" else "/page/x"))
                page.wait_for_load_state("load")
                page.wait_for_timeout(500)
                ours = page.locator("#asgi-consent, #asgi-consent-settings").count()
                requests.append(f"our markup: {ours}")
                seen[visitor] = [url for url in requests if is_tracker(url) or " " in url]
                context.close()
            return seen

        try:
            yield load
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.server
def test_chromium_requests_no_tracker_with_gzip_inside_the_middleware(
    chromium_requests: Callable[[], dict[str, list[str]]],
) -> None:
    seen = chromium_requests()
    raw = seen.pop("raw")
    assert any("googletagmanager" in url for url in raw), f"no proof: {raw}"
    assert any("facebook" in url for url in raw), f"no proof: {raw}"
    assert seen == {"none": ["our markup: 1"], "reject": ["our markup: 1"]}

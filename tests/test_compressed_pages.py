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


# -- in Chromium: each coding as the browser decodes it -------------------------------------

# What a GZipMiddleware inside ours sends (and a streamed brotli page, and deflate).
CHROMIUM_PAGES = {
    f"compressed-{name}": (chunks, [HTML, (b"content-encoding", BODIES[name][0])])
    for name in ("gzip-streamed", "deflate", "brotli-streamed")
    for chunks in [BODIES[name][1]]
}


@pytest.fixture(scope="module")
def tracker_chromium() -> Iterator[Callable[..., dict[str, list[str]]]]:
    require_chromium()
    from redteam.harness import chromium as open_chromium

    with open_chromium(CHROMIUM_PAGES) as load:
        yield load


@pytest.mark.browser
@pytest.mark.server
@pytest.mark.parametrize("name", list(CHROMIUM_PAGES))
def test_chromium_requests_no_tracker_from_a_compressed_page(
    tracker_chromium: Callable[..., dict[str, list[str]]], name: str
) -> None:
    seen = tracker_chromium(name)
    raw = [url for url in seen["raw"] if not url.startswith("ERROR")]
    assert any("googletagmanager" in url for url in raw), f"no proof: {seen['raw']}"
    assert any("facebook" in url for url in raw), f"no proof: {seen['raw']}"
    assert seen["none"] == [] and seen["reject"] == []

"""Reliability: bounded memory on huge pages, slow and vanishing clients, no cross-talk.

Raw ASGI collectors drive the middleware directly (bodies counted, not kept); the
concurrency test goes through a real uvicorn server on loopback.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import random
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from asgi_consent import ConsentMiddleware
from helpers import SECRET, Message, body_of, html_app, make_scope, run_asgi, wrap

pytestmark = pytest.mark.anyio

KITCHEN_SINK = (Path(__file__).parent / "fixtures" / "pages" / "kitchen_sink.html").read_bytes()
CHUNK = 64 * 1024
BANNER = b'id="asgi-consent"'
HTML_HEADERS = [(b"content-type", b"text/html; charset=utf-8")]


def _filler_chunk() -> bytes:
    """64 KB of page body: a few tags that matter to the rewriter (a YouTube embed, an
    image, scripts, a comment, a textarea holding "</body>"), then paragraphs of text.

    Text-heavy on purpose: tracemalloc makes every small allocation slow, and this test
    is about memory, not speed (benchmarks/ measures tag-dense pages)."""
    embeds = (
        b'<figure><iframe src="https://www.youtube.com/embed/XXXXXXXXXXX" title="v"></iframe>'
        b'<img src="/static/img/ferry.jpg" alt=""></figure><!-- teaser -->'
        b'<script src="/static/app.js" defer></script><script>var n = 1;</script>'
        b"<textarea>a </body> in text</textarea>\n"
    )
    paragraph = b"<p>The ferry leaves at <a href='/times'>23:40</a>, every night but one.</p>\n"
    body = embeds + paragraph * ((CHUNK - len(embeds)) // len(paragraph))
    return body + b" " * (CHUNK - len(body))


def _tasks_left(before: set[asyncio.Task[Any]]) -> set[asyncio.Task[Any]]:
    """Tasks started since `before` that are still running."""
    return {t for t in asyncio.all_tasks() - before if not t.done()}


def _our_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("asgi_consent")]


# -- streaming a huge page --------------------------------------------------------------


async def test_a_100_mb_page_streams_through_in_bounded_memory_before_a_choice() -> None:
    filler = _filler_chunk()
    assert len(filler) == CHUNK
    head = b"<!doctype html><html><head><title>Archive</title></head><body>"
    count = 100 * 1024 * 1024 // CHUNK
    progress = {"sent": 0, "first_out_after": -1}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML_HEADERS})
        await send({"type": "http.response.body", "body": head, "more_body": True})
        for _ in range(count):
            progress["sent"] += 1
            await send({"type": "http.response.body", "body": filler, "more_body": True})
        await send({"type": "http.response.body", "body": b"</body></html>"})

    received = 0
    tail = b""

    async def collect(message: Message) -> None:
        nonlocal received, tail
        body = message.get("body", b"")
        if body and progress["first_out_after"] < 0:
            progress["first_out_after"] = progress["sent"]
        received += len(body)
        tail = (tail + body)[-8192:]

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    middleware = wrap(app)
    # Warm caches (banner templates, rules) before we start counting.
    await run_asgi(wrap(html_app([KITCHEN_SINK])), make_scope())
    gc.collect()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await middleware(make_scope("/archive"), receive, collect)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    sent_total = len(head) + count * CHUNK + len(b"</body></html>")
    assert sent_total >= 100 * 1024 * 1024
    assert received > sent_total  # the banner (and placeholders) were added
    assert tail.endswith(b"</body></html>") and BANNER in tail
    assert peak < 5 * 1024 * 1024, f"peak memory growth {peak / 1e6:.1f} MB"
    # The first bytes left while the app had sent at most the first filler chunk.
    assert 0 <= progress["first_out_after"] <= 1


# -- slow and vanishing clients ----------------------------------------------------------


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[at : at + size] for at in range(0, len(data), size)]


async def test_a_slow_client_gets_the_same_page_as_a_fast_one() -> None:
    before = asyncio.all_tasks()
    pieces = _pieces(KITCHEN_SINK, 700)
    expected = body_of(await run_asgi(wrap(html_app([KITCHEN_SINK])), make_scope()))
    sent: list[Message] = []

    async def slow_send(message: Message) -> None:
        await asyncio.sleep(0.002)
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await wrap(html_app(pieces))(make_scope(), receive, slow_send)
    assert body_of(sent) == expected
    assert BANNER in expected
    assert sent[-1].get("more_body", False) is False
    assert not _tasks_left(before)


async def test_a_send_that_fails_mid_response_raises_the_servers_own_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = asyncio.all_tasks()
    raised = OSError("connection reset by peer")
    closed = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML_HEADERS})
        try:
            for piece in _pieces(KITCHEN_SINK, 500) * 50:
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            closed.append(True)

    messages = 0

    async def send(message: Message) -> None:
        nonlocal messages
        messages += 1
        if messages == 4:
            raise raised

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    with pytest.raises(OSError) as caught:
        await wrap(app)(make_scope(), receive, send)
    assert caught.value is raised
    assert closed == [True]
    assert not _our_errors(caplog)
    assert not _tasks_left(before)


async def test_a_client_that_disconnects_mid_stream_ends_the_response_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = asyncio.all_tasks()
    generator_closed = threading.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            yield b"<!doctype html><html><head></head><body>"
            while True:
                await asyncio.sleep(0)
                yield KITCHEN_SINK[2000:6000]
        finally:
            generator_closed.set()

    async def page(request: Request) -> Response:
        return StreamingResponse(endless(), media_type="text/html")

    app = wrap(Starlette(routes=[Route("/", page)]))
    scope = make_scope()
    scope["asgi"]["spec_version"] = "2.3"  # Starlette listens for http.disconnect
    bodies = 0
    disconnected = asyncio.Event()

    async def send(message: Message) -> None:
        nonlocal bodies
        if message["type"] == "http.response.body":
            bodies += 1
            if bodies == 5:
                disconnected.set()

    first = True

    async def receive() -> Message:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()
        return {"type": "http.disconnect"}

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    gc.collect()
    for _ in range(3):  # let asyncio's async-generator finaliser run
        await asyncio.sleep(0)
    assert generator_closed.is_set()
    assert not _our_errors(caplog)
    assert not _tasks_left(before)


# -- 1,000 concurrent visitors through uvicorn -------------------------------------------

GA4 = b"https://www.googletagmanager.com/gtag/js?id=G-TEST000000"
PAGE_TEMPLATE = (
    b"<!doctype html><html><head><title>Echo</title>"
    b'<script async src="' + GA4 + b'"></script>'
    b"<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
    b"gtag('js',new Date());gtag('config','G-TEST000000');</script>"
    b"<script>!function(f,b,e,v,n,t,s){if(f.fbq)return;}(window,document,'script',"
    b"'https://connect.facebook.net/en_US/fbevents.js');fbq('init','0');</script>"
    b"</head><body>"
    b'<p id="echo">%s</p>'
    b'<iframe src="https://www.youtube.com/embed/XXXXXXXXXXX" title="video"></iframe>'
    b"<p>%s</p></body></html>"
)


async def _echo_page(request: Request) -> Response:
    consent = request.state.consent
    # Yield to the loop between awaits so that responses interleave.
    await asyncio.sleep(random.random() * 0.01)
    echo = (
        f"rid={request.query_params['rid']} decided={int(consent.decided)} "
        f"categories={'.'.join(sorted(consent.categories))}"
    ).encode()
    page = PAGE_TEMPLATE % (echo, b"filler " * 100)

    async def pieces() -> AsyncIterator[bytes]:
        for piece in _pieces(page, 400):
            yield piece
            await asyncio.sleep(0)

    response = StreamingResponse(pieces(), media_type="text/html; charset=utf-8")
    response.set_cookie("_ga", "GA1.1.1.1")
    response.set_cookie("session", "s")
    return response


_endless = {"opened": 0, "closed": 0}  # in the server process


async def _endless_page(request: Request) -> Response:
    async def pieces() -> AsyncIterator[bytes]:
        try:
            yield b"<!doctype html><html><head></head><body>"
            while True:
                yield KITCHEN_SINK[2000:6000]
                await asyncio.sleep(0.001)
        finally:
            _endless["closed"] += 1

    _endless["opened"] += 1
    return StreamingResponse(pieces(), media_type="text/html")


async def _endless_status(request: Request) -> Response:
    return JSONResponse(_endless)


def build_server_app() -> ConsentMiddleware:
    """The app the uvicorn subprocess serves (`--factory test_reliability:build_server_app`)."""
    routes = [
        Route("/page", _echo_page),
        Route("/endless", _endless_page),
        Route("/endless-status", _endless_status),
    ]
    return ConsentMiddleware(Starlette(routes=routes), secret_key=SECRET)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """uvicorn (httptools) in its own process: client and server each get a core, and
    no GIL convoy between a server thread and the client's event loop."""
    log = tmp_path_factory.mktemp("uvicorn") / "server.log"
    port = _free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "test_reliability:build_server_app",
        "--app-dir", str(Path(__file__).parent), "--host", "127.0.0.1", "--port", str(port),
        "--http", "httptools", "--ws", "none", "--lifespan", "off", "--no-access-log",
        "--backlog", "2048", "--timeout-keep-alive", "30", "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "uvicorn did not start"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()


STATES: dict[str, tuple[str, ...] | None] = {
    "none": None,
    "accepted": ("analytics", "marketing", "media"),
    "rejected": (),
    "analytics-only": ("analytics",),
}


def _check_response(response: httpx.Response, rid: int, granted: tuple[str, ...] | None) -> None:
    body = response.content
    assert response.status_code == 200
    decided = granted is not None
    allowed = set(granted or ())
    categories = ".".join(sorted(allowed | {"necessary"}))
    assert f"rid={rid} decided={int(decided)} categories={categories}".encode() in body
    assert (BANNER in body) is (not decided)
    # Each tracker is live exactly when its category is granted.
    assert (b'<script async src="' + GA4 in body) is ("analytics" in allowed)
    assert (b'type="text/plain" data-consent="analytics"' in body) is ("analytics" not in allowed)
    assert (b'type="text/plain" data-consent="marketing"' in body) is ("marketing" not in allowed)
    assert (b' src="https://www.youtube.com/embed/' in body) is ("media" in allowed)
    # Set-Cookie for the app's own session always, for _ga only with analytics.
    names = {c.split("=", 1)[0] for c in response.headers.get_list("set-cookie")}
    assert "session" in names
    assert ("_ga" in names) is ("analytics" in allowed)
    assert "cookie" in response.headers.get("vary", "").lower()


@pytest.mark.server
async def test_a_thousand_concurrent_visitors_each_get_their_own_consent(
    server: tuple[str, Path],
) -> None:
    base, log = server
    middleware = build_server_app()
    cookies = {
        name: None if granted is None else middleware.codec.encode(granted)
        for name, granted in STATES.items()
    }
    rng = random.Random(7)
    plan = [rng.choice(list(STATES)) for _ in range(1000)]
    errors: list[BaseException] = []
    # 20 clients of 50 connections: all 1,000 requests in flight at once, without the
    # quadratic bookkeeping of one httpcore pool holding 1,000 connections.
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=50)
    clients = [httpx.AsyncClient(limits=limits, timeout=60) for _ in range(20)]

    async def visit(rid: int, state: str) -> None:
        cookie = cookies[state]
        headers = {"cookie": f"asgi_consent={cookie}; other=1"} if cookie else {}
        try:
            client = clients[rid % len(clients)]
            response = await client.get(f"{base}/page?rid={rid}", headers=headers)
            _check_response(response, rid, STATES[state])
        except BaseException as error:  # collected: one failure must not hide others
            errors.append(error)

    try:
        await asyncio.gather(*(visit(rid, state) for rid, state in enumerate(plan)))
    finally:
        for client in clients:
            await client.aclose()
    assert not errors, f"{len(errors)} of 1000 failed; first: {errors[0]!r}"
    assert set(plan) == set(STATES)
    assert "Traceback" not in log.read_text()


@pytest.mark.server
async def test_a_real_client_that_hangs_up_mid_page_leaves_nothing_running(
    server: tuple[str, Path],
) -> None:
    base, log = server
    received = 0
    async with httpx.AsyncClient(timeout=30) as client:
        before = (await client.get(f"{base}/endless-status")).json()
        async with client.stream("GET", f"{base}/endless") as response:
            async for piece in response.aiter_raw():
                received += len(piece)
                if received > 100_000:
                    break  # hang up in the middle of an endless page
        deadline = time.monotonic() + 10
        while True:
            status = (await client.get(f"{base}/endless-status")).json()
            if status["closed"] > before["closed"] or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
    assert status["opened"] == before["opened"] + 1
    assert status["closed"] == before["closed"] + 1, "the server kept streaming to nobody"
    assert "Traceback" not in log.read_text()


# -- regressions: bugs found while benchmarking and fuzzing (fixed in src since) ----------


async def test_inert_markup_comes_out_the_same_however_the_page_is_chunked() -> None:
    # Was: the granted-visitor fast path looked for b"text/plain" per chunk, so a
    # 'type="text/pl' | 'ain"' cut left the script inert.
    page = (
        b'<html><body><script type="text/plain" data-category="analytics">ga()</script>'
        b"<p>x</p></body></html>"
    )
    middleware = wrap(html_app([page]))
    cookie = middleware.codec.encode(["analytics", "marketing", "media"])
    scope = make_scope(headers=[(b"cookie", b"asgi_consent=" + cookie.encode())])
    whole = body_of(await run_asgi(middleware, scope))
    # everything granted: left as written for consent.js, whatever the chunking
    assert b'<script type="text/plain" data-category="analytics">' in whole
    cut = page.index(b"plain") - 2  # ... type="text/pl | ain" ...
    chunked = body_of(await run_asgi(wrap(html_app([page[:cut], page[cut:]])), scope))
    assert chunked == whole


_BEFORE_BODY_END, _, _AFTER_BODY_END = KITCHEN_SINK.rpartition(b"</body>")


@pytest.mark.parametrize(
    "pieces",
    [
        # kitchen_sink.html cut after its </body>: "</html>\n<!-- page generated ... -->"
        [_BEFORE_BODY_END + b"</body>", _AFTER_BODY_END],
        # found by benchmarks/fuzz.py (crash-0343348d...), reduced by hand
        [b"<html><body><p>x</p></body>", b"<script>late()</script></html>"],
        [b"<html><body><p>x</p></body>", b"</html><!-- cache HIT -->"],
    ],
    ids=["kitchen-sink-trailing-comment", "fuzz-trailing-script", "trailing-comment"],
)
async def test_the_settings_control_survives_markup_after_body_in_its_own_chunk(
    pieces: list[bytes],
) -> None:
    # Was: a chunk ending at </body> followed by a chunk with a complete comment or
    # script made the fast path flush the held </body>: the settings control was lost.
    page = b"".join(pieces)
    middleware = wrap(html_app([page]))
    cookie = middleware.codec.encode(["analytics", "marketing", "media"])
    scope = make_scope(headers=[(b"cookie", b"asgi_consent=" + cookie.encode())])
    whole = body_of(await run_asgi(middleware, scope))
    assert b'id="asgi-consent-settings"' in whole
    chunked = body_of(await run_asgi(wrap(html_app(pieces)), scope))
    assert chunked == whole


@pytest.mark.parametrize(
    ("page", "before"),
    [
        (
            b'<html><head></head><body><div class="lazy" data-embed=\'<iframe '
            b'src="https://www.youtube.com/embed/XXXXXXXXXXX"></iframe>\'>'
            b"<button>Play</button></div></body></html>",
            b"<iframe",
        ),
        # found by benchmarks/fuzz.py (crash-64e473ba...), reduced: consent mode on,
        # "<head" is an attribute name of the unfinished <html> tag, not a tag
        (b'<html lan\x03<head>\n<meta charset="utf-8"></head><body></body></html>', b"head>"),
    ],
    ids=["marker-in-attribute-value", "fuzz-head-in-html-tag"],
)
async def test_markup_inside_an_attribute_stays_text_however_the_page_is_chunked(
    page: bytes, before: bytes
) -> None:
    options = {"consent_mode": True}
    whole = body_of(await run_asgi(wrap(html_app([page]), **options), make_scope()))
    cut = page.index(before)
    chunked = body_of(
        await run_asgi(wrap(html_app([page[:cut], page[cut:]]), **options), make_scope())
    )
    assert chunked == whole

"""Builders the tests share: tiny ASGI apps, scopes, a raw `send` collector, the
middleware around an app, and an httpx client for it.

httpx's ASGITransport joins body chunks; tests of streaming and chunk boundaries
drive the middleware with `run_asgi` and look at each message.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from asgi_consent import ConsentMiddleware

SECRET = "test-secret-key-0123456789abcdef"
Message = dict[str, Any]
PAGE = b"<html><body><p>Hello</p></body></html>"


def html_app(
    chunks: Sequence[bytes],
    *,
    status: int = 200,
    headers: Sequence[tuple[bytes, bytes]] = ((b"content-type", b"text/html; charset=utf-8"),),
) -> Callable[..., Awaitable[None]]:
    """An ASGI app that answers every request with `chunks` as separate body messages."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": list(headers)})
        for index, chunk in enumerate(chunks):
            await send(
                {
                    "type": "http.response.body",
                    "body": chunk,
                    "more_body": index < len(chunks) - 1,
                }
            )

    return app


def wrap(app: Callable[..., Awaitable[None]], **options: Any) -> ConsentMiddleware:
    """`app` behind the middleware, with the test secret unless `options` name one.

    The run-time guard (on by default) is left out unless asked for: it is one script
    first in <head>, tested in test_runtime_guard.py and by the browser tests, and the
    byte-exact tests of the rewriter read pages without it."""
    options.setdefault("secret_key", SECRET)
    options.setdefault("runtime_guard", False)
    return ConsentMiddleware(app, **options)


def app_with(**options: Any) -> ConsentMiddleware:
    """The middleware with `options` around an app that serves `PAGE`."""
    return wrap(html_app([PAGE]), **options)


def client(app: Any, base_url: str = "http://testserver") -> httpx.AsyncClient:
    """An httpx client that calls `app` in process."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base_url)


def make_scope(
    path: str = "/",
    *,
    method: str = "GET",
    headers: Sequence[tuple[bytes, bytes]] = (),
    query_string: bytes = b"",
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query_string,
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def run_asgi(
    app: Callable[..., Awaitable[None]],
    scope: dict[str, Any],
    body: bytes = b"",
) -> list[Message]:
    """Run one request through `app`; return every message it sent, in order."""
    sent: list[Message] = []
    received = False

    async def receive() -> Message:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def body_of(messages: Sequence[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


class LoopbackServer:
    """uvicorn in a background thread on 127.0.0.1, on a port the OS picked: `start()`
    and `stop()`, or `with LoopbackServer(app) as url:`."""

    def __init__(self, app: Any, **options: Any) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", **options)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start on 127.0.0.1")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> str:
        self.start()
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fastest_in_turns(
    run: Callable[[int], object], sizes: Sequence[int], rounds: int = 5
) -> list[float]:
    """The shortest of `rounds` timings of `run(size)` for each of `sizes`, taken in turns
    so that a busy moment on the machine spoils one round, not one size (the tests of
    linear time compare the sizes)."""
    best = [math.inf] * len(sizes)
    for _ in range(rounds):
        for index, size in enumerate(sizes):
            start = time.perf_counter()
            run(size)
            best[index] = min(best[index], time.perf_counter() - start)
    return best


CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    """Skip a browser test where Debian's Chromium is missing; under CI, fail instead."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}: the browser tests must run in CI")
        pytest.skip(reason=reason)

"""Builders the tests share: tiny ASGI apps, scopes, a raw `send` collector, the
middleware around an app, and an httpx client for it.

httpx's ASGITransport joins body chunks; tests of streaming and chunk boundaries
drive the middleware with `run_asgi` and look at each message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

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
    """`app` behind the middleware, with the test secret unless `options` name one."""
    options.setdefault("secret_key", SECRET)
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

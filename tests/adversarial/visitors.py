"""A page through the public middleware, as one of three visitors, in given chunks.

    serve([b"<p>", b"hi</p>"], "reject")    # the body the visitor's browser receives

The app behind the middleware sends each chunk as its own `http.response.body` message,
as a streaming template would. The visitors' cookies come from the consent endpoint
itself (a form post of "reject" or "accept"), not from the cookie codec.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import MutableMapping, Sequence
from typing import Any, Literal

from starlette.types import Receive, Scope, Send

from asgi_consent import ConsentMiddleware

from . import grammar, oracle

SECRET = "adversarial-secret-0123456789abcdef"
DOCUMENT_URL = "http://testserver/"
CATEGORIES = frozenset({"analytics", "marketing", "media"})
Visitor = Literal["none", "reject", "accept"]
VISITORS: tuple[Visitor, ...] = ("none", "reject", "accept")
Message = dict[str, Any]


class TooSlow(Exception):
    """The middleware took longer than a timing test was willing to wait."""


HTML = b"text/html; charset=utf-8"


async def page_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Sends the chunks the scope carries, each as one body message; gives up with
    `TooSlow` once past the scope's deadline (a timing test need not wait for the end)."""
    chunks: Sequence[bytes] = scope["adversarial.chunks"]
    deadline: float = scope.get("adversarial.deadline", math.inf)
    headers = [(b"content-type", scope.get("adversarial.type", HTML))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    for index, chunk in enumerate(chunks):
        if time.process_time() > deadline:
            raise TooSlow(f"gave up after {index} of {len(chunks)} chunks")
        more = index < len(chunks) - 1
        await send({"type": "http.response.body", "body": chunk, "more_body": more})


MIDDLEWARE = ConsentMiddleware(page_app, secret_key=SECRET)


def _scope(path: str, method: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _run(
    scope: dict[str, Any], body: bytes = b"", middleware: ConsentMiddleware = MIDDLEWARE
) -> list[Message]:
    sent: list[Message] = []
    requests = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return requests.pop() if requests else {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await middleware(scope, receive, send)
    return sent


def _choice_cookie(choice: str) -> bytes:
    headers = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"origin", DOCUMENT_URL.rstrip("/").encode()),
    ]
    sent = asyncio.run(
        _run(_scope("/_consent/choice", "POST", headers), f"choice={choice}".encode())
    )
    for key, value in sent[0]["headers"]:
        if key.lower() == b"set-cookie" and value.startswith(b"asgi_consent="):
            return bytes(value).split(b";")[0]
    raise AssertionError(f"the consent endpoint set no cookie for choice={choice}")


COOKIES: dict[Visitor, bytes | None] = {
    "none": None,
    "reject": _choice_cookie("reject"),
    "accept": _choice_cookie("accept"),
}


def serve(
    chunks: Sequence[bytes],
    visitor: Visitor,
    headers: Sequence[tuple[bytes, bytes]] = (),
    middleware: ConsentMiddleware = MIDDLEWARE,
    deadline: float = math.inf,
    content_type: bytes = HTML,
) -> bytes:
    """The body `middleware` sends for a page sent as `chunks` (of `content_type`), to
    `visitor` (whose cookie goes before any Cookie header in `headers`). Past `deadline`
    (a `time.process_time()` value: CPU time, which others' load does not stretch)
    the app raises `TooSlow` before its next chunk."""
    cookie = COOKIES[visitor]
    scope = _scope("/", "GET", [*([(b"cookie", cookie)] if cookie else []), *headers])
    scope["adversarial.chunks"] = list(chunks) or [b""]
    scope["adversarial.deadline"] = deadline
    scope["adversarial.type"] = content_type
    sent = asyncio.run(_run(scope, middleware=middleware))
    return b"".join(bytes(m.get("body", b"")) for m in sent if m["type"] == "http.response.body")


# -- what the middleware adds for a granted visitor -------------------------------------

_REFERENCE_HEAD = b"<!doctype html><html><head><title>t</title></head><body><p>x</p>"


def _insertion(page: bytes, at: int) -> bytes:
    out = serve([page], "accept")
    added = len(out) - len(page)
    if added < 0 or out[:at] != page[:at] or out[at + added :] != page[at:]:
        raise AssertionError(
            "a granted visitor's reference page changed elsewhere than one insertion: "
            f"{page!r} -> {out!r}"
        )
    return out[at : at + added]


# A <base href> on another host: our insertion's URLs are pinned to the page's host.
_REFERENCE_BASE = _REFERENCE_HEAD.replace(
    b"<title>", b'<base href="https://static.elsewhere.example/"><title>'
)
# Before </body>, and at the end of a page that has none; either form of our URLs.
INSERTIONS = {
    _insertion(reference + b"</body></html>", len(reference))
    for reference in (_REFERENCE_HEAD, _REFERENCE_BASE)
} | {_insertion(reference, len(reference)) for reference in (_REFERENCE_HEAD, _REFERENCE_BASE)}
INSERTIONS -= {b""}


def _insertion_point(page: bytes, at: int) -> bool:
    return at == len(page) or page[at : at + 6].lower() == b"</body"


def accepted_unchanged(page: bytes, out: bytes) -> bool:
    """Whether `out` is `page` byte for byte, but for our one insertion before a </body>
    or at the end. A page with a UTF-16 byte order mark may come back as UTF-8: the
    browser reads the same text (the mark wins over the header's charset)."""
    if out == page:
        return True
    if page.startswith((b"\xff\xfe", b"\xfe\xff")):
        page = oracle.browser_text(page).encode("utf-8")
        out = oracle.browser_text(out).encode("utf-8")
        if out == page:
            return True
    for insertion in INSERTIONS:
        at = out.find(insertion)
        while at >= 0:
            if out[:at] + out[at + len(insertion) :] == page and _insertion_point(page, at):
                return True
            at = out.find(insertion, at + 1)
    return False


# -- one generated case ----------------------------------------------------------------


def chunks_for(seed: int | str, visitor: Visitor, page: bytes) -> list[bytes]:
    return grammar.split(random.Random(f"{seed}-{visitor}"), page)


def problems(page: bytes, visitor: Visitor, chunks: Sequence[bytes]) -> list[str]:
    """What is wrong with the middleware's output for this visitor (empty: nothing)."""
    out = serve(chunks, visitor)
    if visitor == "accept":
        return [] if accepted_unchanged(page, out) else ["a granted visitor got a changed page"]
    return [str(leak) for leak in oracle.find_leaks(out, CATEGORIES, DOCUMENT_URL)]


def shrink(pieces: list[str], failing: Any) -> list[str]:
    """Drop pieces while `failing(pieces)` stays true: a short page to show in a report."""
    index = 0
    while index < len(pieces) and len(pieces) > 1:
        candidate = pieces[:index] + pieces[index + 1 :]
        if failing(candidate):
            pieces = candidate
        else:
            index += 1
    return pieces


def report(seed: int | str, visitor: Visitor, document: grammar.Document) -> str:
    """A failure message: the shrunk page, how it was cut, and what went wrong."""

    def render(pieces: list[str]) -> bytes:
        return grammar.Document(pieces).render()

    def failing(pieces: list[str]) -> bool:
        page = render(pieces)
        return bool(problems(page, visitor, chunks_for(seed, visitor, page)))

    pieces = shrink(list(document.pieces), failing)
    page = render(pieces)
    chunks = chunks_for(seed, visitor, page)
    found = problems(page, visitor, chunks)
    shown = page if len(page) < 4000 else page[:2000] + b" [...] " + page[-1500:]
    return (
        f"seed {seed}, visitor {visitor!r}, {len(chunks)} chunk(s) of sizes "
        f"{[len(c) for c in chunks][:20]}\npage (shrunk to {len(pieces)} pieces, "
        f"{len(page)} bytes): {shown!r}\n" + "\n".join(found[:10])
    )

"""A HEAD request for a page gets the headers its GET gets (RFC 9110 9.3.2).

Before, HEAD passed through untouched: the app's ETag (a validator of the app's bytes,
not of the page we send), the app's Content-Length (of a shorter page), and no
`Vary`/`Cache-Control: private`, so what a cache learnt from a HEAD did not describe
the page a GET returns. The body is never there to rewrite, so Content-Length, which
depends on it, is left out (allowed for HEAD).
"""

from __future__ import annotations

from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from helpers import SECRET, client

PAGE = b"<!doctype html><html><head><title>t</title></head><body><p>x</p></body></html>"
_ROUTE_METHODS = ["GET", "HEAD"]


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE, headers={"etag": '"v1"', "cache-control": "max-age=60"})


async def data(request: Request) -> Response:
    return JSONResponse({"a": 1}, headers={"etag": '"d1"'})


def _app(**options: Any) -> Any:
    from asgi_consent import ConsentMiddleware

    routes = [
        Route("/", page, methods=_ROUTE_METHODS),
        Route("/data", data, methods=_ROUTE_METHODS),
    ]
    return ConsentMiddleware(Starlette(routes=routes), secret_key=SECRET, **options)


_SAME = ("etag", "vary", "cache-control", "content-type")


@pytest.mark.anyio
@pytest.mark.parametrize("cacheable", [False, True], ids=["per-visitor", "cacheable_html"])
async def test_a_head_request_for_a_page_gets_the_headers_of_its_get(cacheable: bool) -> None:
    async with client(_app(cacheable_html=cacheable)) as http:
        got = await http.get("/")
        head = await http.head("/")
    assert len(got.content) > len(PAGE)  # the GET was rewritten
    assert head.content == b""
    assert {name: head.headers.get(name) for name in _SAME} == {
        name: got.headers.get(name) for name in _SAME
    }
    assert "content-length" not in head.headers  # the app's was of its own, shorter page
    if cacheable:
        assert head.headers["etag"].startswith('"v1-ac')
    else:
        assert "etag" not in head.headers and "private" in head.headers["cache-control"]


@pytest.mark.anyio
async def test_a_head_request_for_json_is_left_alone() -> None:
    async with client(_app()) as http:
        head = await http.head("/data")
    assert head.headers["etag"] == '"d1"' and head.headers["content-length"] == "7"
    assert "vary" not in head.headers

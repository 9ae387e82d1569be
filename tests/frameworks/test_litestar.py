"""Litestar: wrap the app, `ConsentMiddleware(Litestar(...), ...)`; consent in `request.state`.

Two Litestar facts shape the recipe (both asserted below):

- Litestar runs `middleware=[...]` only for requests that match one of its routes, so
  with `DefineMiddleware(ConsentMiddleware, ...)` the consent endpoints under
  `/_consent` answer 404 and the banner's buttons do nothing. Wrap the app instead.
- `compression_config=` compresses inside every Litestar middleware, so ours would
  only ever see gzip and step aside. Wrap ours in Litestar's `CompressionMiddleware`
  instead, outside.
"""

from __future__ import annotations

import pytest
from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import Cookie
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.types import ASGIApp

from asgi_consent import ConsentMiddleware
from conftest import SECRET

from . import contract
from .contract import BANNER, client_for

pytestmark = pytest.mark.anyio

PAGE = (
    "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>"
    + "<p>Fresh bread every morning.</p>" * 20
    + "</body></html>"
)


@get("/", media_type=MediaType.HTML)
async def page() -> str:
    return PAGE


@get("/api")
async def api() -> dict[str, object]:
    return {"items": [1, 2, 3], "html": "<body></body>"}


@get("/whoami", media_type=MediaType.TEXT)
async def whoami(request: Request) -> str:
    consent = request.state.consent
    assert consent is request.scope["state"]["consent"]
    return f"decided={consent.decided} analytics={consent.allows('analytics')}"


@get("/cart", media_type=MediaType.HTML)
async def cart(request: Request) -> Response[str]:
    visits = request.session.get("visits", 0) + 1
    request.set_session({"visits": visits})
    body = PAGE.replace("Shop</h1>", f"Shop {visits}</h1>")
    # a tracker cookie: held back before consent
    return Response(body, media_type=MediaType.HTML, cookies=[Cookie("_ga", "GA1.1.123.456")])


HANDLERS = [page, api, whoami, cart]
# Server-side sessions in the default memory store (cookie sessions need `cryptography`).
session_config = ServerSideSessionConfig()


def build_app() -> ASGIApp:
    return ConsentMiddleware(Litestar(HANDLERS), secret_key=SECRET)


def build_full_app() -> ASGIApp:
    app = Litestar(HANDLERS, middleware=[session_config.middleware])
    return CompressionMiddleware(
        app=ConsentMiddleware(app, secret_key=SECRET),
        config=CompressionConfig(backend="gzip"),
    )


async def test_banner_appears_on_an_html_page() -> None:
    await contract.banner_appears(build_app())


async def test_accept_through_the_form_sets_the_cookie_and_removes_the_banner() -> None:
    await contract.accept_removes_the_banner(build_app())


async def test_consent_is_readable_in_a_handler_as_request_state_consent() -> None:
    await contract.consent_is_readable_in_a_handler(build_app())


async def test_json_route_passes_byte_for_byte() -> None:
    await contract.passes_byte_for_byte(Litestar(HANDLERS), build_app())


async def test_inside_compression_the_page_gets_the_banner_and_is_compressed() -> None:
    await contract.compressed_page_has_the_banner(build_full_app())


async def test_session_cookie_and_consent_cookie_coexist() -> None:
    await contract.session_and_consent_cookies_coexist(build_full_app(), "session")


async def test_compression_config_is_inside_us_so_gzip_pages_pass_through_untouched() -> None:
    app = ConsentMiddleware(
        Litestar(HANDLERS, compression_config=CompressionConfig(backend="gzip")),
        secret_key=SECRET,
    )
    async with client_for(app) as client:
        compressed = await client.get("/", headers={"Accept-Encoding": "gzip"})
        identity = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.text == PAGE
    assert BANNER in identity.text


async def test_define_middleware_never_sees_the_consent_endpoints() -> None:
    app = Litestar(HANDLERS, middleware=[DefineMiddleware(ConsentMiddleware, secret_key=SECRET)])
    async with client_for(app) as client:
        page_ = await client.get("/")
        choice = await client.post(
            "/_consent/choice",
            data={"choice": "accept", "next": "/"},
            headers={"Origin": "http://testserver"},
        )
        whoami_ = await client.get("/whoami")
    assert BANNER in page_.text  # routed pages are rewritten ...
    assert choice.status_code == 404  # ... but Litestar answers /_consent itself
    assert "set-cookie" not in choice.headers
    assert whoami_.text == "decided=False analytics=False"

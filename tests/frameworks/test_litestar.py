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

import gzip

import httpx
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

pytestmark = pytest.mark.anyio

BANNER = "data-consent-banner"
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


def client_for(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def accept_all(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/_consent/choice",
        data={"choice": "accept", "next": "/"},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert response.headers["set-cookie"].startswith("asgi_consent=")


async def test_banner_appears_on_an_html_page() -> None:
    async with client_for(build_app()) as client:
        response = await client.get("/")
    assert response.status_code == 200
    assert BANNER in response.text


async def test_accept_through_the_form_sets_the_cookie_and_removes_the_banner() -> None:
    async with client_for(build_app()) as client:
        await accept_all(client)
        response = await client.get("/")
    assert BANNER not in response.text
    assert 'id="asgi-consent-settings"' in response.text


async def test_consent_is_readable_in_a_handler_as_request_state_consent() -> None:
    async with client_for(build_app()) as client:
        before = await client.get("/whoami")
        await accept_all(client)
        after = await client.get("/whoami")
    assert before.text == "decided=False analytics=False"
    assert after.text == "decided=True analytics=True"


async def test_json_route_passes_byte_for_byte() -> None:
    async with client_for(Litestar(HANDLERS)) as client:
        bare = await client.get("/api")
    async with client_for(build_app()) as client:
        wrapped = await client.get("/api")
    assert wrapped.status_code == bare.status_code == 200
    assert wrapped.content == bare.content
    assert wrapped.headers.raw == bare.headers.raw


async def test_inside_compression_the_page_gets_the_banner_and_is_compressed() -> None:
    async with client_for(build_full_app()) as client:
        async with client.stream("GET", "/", headers={"Accept-Encoding": "gzip"}) as response:
            wire = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == "gzip"
    assert BANNER.encode() in gzip.decompress(wire)


async def test_session_cookie_and_consent_cookie_coexist() -> None:
    async with client_for(build_full_app()) as client:
        first = await client.get("/cart")
        assert [c.split("=", 1)[0] for c in first.headers.get_list("set-cookie")] == ["session"]
        await accept_all(client)
        second = await client.get("/cart")
        whoami = await client.get("/whoami")
    assert set(client.cookies) >= {"session", "asgi_consent"}
    assert "Shop 2</h1>" in second.text
    assert sorted(c.split("=", 1)[0] for c in second.headers.get_list("set-cookie")) == [
        "_ga",
        "session",
    ]
    assert whoami.text == "decided=True analytics=True"


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

"""FastAPI: `app.add_middleware(ConsentMiddleware, ...)`, consent through a dependency.

The recipe in docs/frameworks.md is the code of `build_app` and `build_full_app`.
"""

from __future__ import annotations

import gzip
from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.middleware.sessions import SessionMiddleware

from asgi_consent import Consent, ConsentMiddleware
from conftest import SECRET

pytestmark = pytest.mark.anyio

BANNER = "data-consent-banner"
PAGE = (
    "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>"
    + "<p>Fresh bread every morning.</p>" * 20
    + "</body></html>"
)


def get_consent(request: Request) -> Consent:
    return request.state.consent  # type: ignore[no-any-return]


def add_routes(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE

    @app.get("/api")
    async def api() -> dict[str, object]:
        return {"items": [1, 2, 3], "html": "<body></body>"}

    @app.get("/whoami", response_class=PlainTextResponse)
    async def whoami(consent: Annotated[Consent, Depends(get_consent)]) -> str:
        return f"decided={consent.decided} analytics={consent.allows('analytics')}"

    @app.get("/state", response_class=PlainTextResponse)
    async def state(request: Request) -> str:
        return f"decided={request.state.consent.decided}"

    @app.get("/cart")
    async def cart(request: Request) -> HTMLResponse:
        request.session["visits"] = request.session.get("visits", 0) + 1
        response = HTMLResponse(PAGE.replace("Shop</h1>", f"Shop {request.session['visits']}</h1>"))
        response.set_cookie("_ga", "GA1.1.123.456")  # a tracker cookie: held back before consent
        return response


def build_app(*, consent: bool = True) -> FastAPI:
    app = FastAPI()
    add_routes(app)
    if consent:
        app.add_middleware(ConsentMiddleware, secret_key=SECRET)
    return app


def build_full_app() -> FastAPI:
    app = FastAPI()
    add_routes(app)
    # The last added is the outermost: ours first, so it sits inside GZip.
    app.add_middleware(ConsentMiddleware, secret_key=SECRET)
    app.add_middleware(SessionMiddleware, secret_key="session-secret-0123456789")
    app.add_middleware(GZipMiddleware)
    return app


def build_app_consent_outside_gzip() -> FastAPI:
    app = FastAPI()
    add_routes(app)
    app.add_middleware(GZipMiddleware)
    app.add_middleware(ConsentMiddleware, secret_key=SECRET)  # wrong: outside GZip
    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
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


async def test_consent_is_readable_through_a_dependency_and_request_state() -> None:
    async with client_for(build_app()) as client:
        before = await client.get("/whoami")
        await accept_all(client)
        after = await client.get("/whoami")
        state = await client.get("/state")
    assert before.text == "decided=False analytics=False"
    assert after.text == "decided=True analytics=True"
    assert state.text == "decided=True"


async def test_json_route_passes_byte_for_byte() -> None:
    async with client_for(build_app(consent=False)) as client:
        bare = await client.get("/api")
    async with client_for(build_app()) as client:
        wrapped = await client.get("/api")
    assert wrapped.status_code == bare.status_code == 200
    assert wrapped.content == bare.content
    assert wrapped.headers.raw == bare.headers.raw


async def test_openapi_schema_passes_byte_for_byte() -> None:
    async with client_for(build_app(consent=False)) as client:
        bare = await client.get("/openapi.json")
    async with client_for(build_app()) as client:
        wrapped = await client.get("/openapi.json")
    assert wrapped.content == bare.content


async def test_inside_gzip_the_page_gets_the_banner_and_is_compressed() -> None:
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
    assert [c.split("=", 1)[0] for c in second.headers.get_list("set-cookie")] == [
        "_ga",
        "session",
    ]
    assert whoami.text == "decided=True analytics=True"


async def test_outside_gzip_the_compressed_page_passes_through_untouched() -> None:
    async with client_for(build_app_consent_outside_gzip()) as client:
        compressed = await client.get("/", headers={"Accept-Encoding": "gzip"})
        identity = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert compressed.text == PAGE
    assert BANNER in identity.text


async def test_the_docs_pages_get_the_banner_like_any_html_page() -> None:
    async with client_for(build_app()) as client:
        docs = await client.get("/docs")
    assert docs.status_code == 200
    assert BANNER in docs.text

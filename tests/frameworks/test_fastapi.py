"""FastAPI: `app.add_middleware(ConsentMiddleware, ...)`, consent through a dependency.

The recipe in docs/frameworks.md is the code of `build_app` and `build_full_app`.
"""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.middleware.sessions import SessionMiddleware

from asgi_consent import Consent, ConsentMiddleware
from helpers import SECRET

from . import contract
from .contract import BANNER, accept_all, client_for

pytestmark = pytest.mark.anyio

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


async def test_banner_appears_on_an_html_page() -> None:
    await contract.banner_appears(build_app())


async def test_accept_through_the_form_sets_the_cookie_and_removes_the_banner() -> None:
    await contract.accept_removes_the_banner(build_app())


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
    await contract.passes_byte_for_byte(build_app(consent=False), build_app())


async def test_openapi_schema_passes_byte_for_byte() -> None:
    await contract.passes_byte_for_byte(build_app(consent=False), build_app(), "/openapi.json")


async def test_inside_gzip_the_page_gets_the_banner_and_is_compressed() -> None:
    await contract.compressed_page_has_the_banner(build_full_app())


async def test_session_cookie_and_consent_cookie_coexist() -> None:
    await contract.session_and_consent_cookies_coexist(build_full_app(), "session")


async def test_outside_gzip_the_compressed_page_is_rewritten() -> None:
    await contract.compressed_before_us_is_rewritten(build_app_consent_outside_gzip(), PAGE)


async def test_the_docs_pages_get_the_banner_like_any_html_page() -> None:
    async with client_for(build_app()) as client:
        docs = await client.get("/docs")
    assert docs.status_code == 200
    assert BANNER in docs.text

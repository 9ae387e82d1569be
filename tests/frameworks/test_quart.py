"""Quart: wrap `app.asgi_app`; consent in `request.scope["state"]["consent"]`.

Quart has no compression of its own; compose with any ASGI gzip middleware around
ours (Starlette's here, already installed with asgi-consent).
"""

from __future__ import annotations

import pytest
from quart import Quart, g, request, session
from starlette.middleware.gzip import GZipMiddleware

from asgi_consent import ConsentMiddleware
from helpers import SECRET

from . import contract
from .contract import BANNER, client_for

pytestmark = pytest.mark.anyio

PAGE = (
    "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>"
    + "<p>Fresh bread every morning.</p>" * 20
    + "</body></html>"
)


def create_app() -> Quart:
    app = Quart(__name__)
    app.secret_key = "session-secret-0123456789"

    @app.get("/")
    async def page() -> str:
        return PAGE

    @app.get("/api")
    async def api() -> dict[str, object]:
        return {"items": [1, 2, 3], "html": "<body></body>"}

    @app.get("/whoami")
    async def whoami() -> tuple[str, dict[str, str]]:
        consent = request.scope["state"]["consent"]
        assert g.consent is consent
        body = f"decided={consent.decided} analytics={consent.allows('analytics')}"
        return body, {"content-type": "text/plain; charset=utf-8"}

    @app.get("/cart")
    async def cart() -> object:
        session["visits"] = session.get("visits", 0) + 1
        response = await app.make_response(
            PAGE.replace("Shop</h1>", f"Shop {session['visits']}</h1>")
        )
        response.set_cookie("_ga", "GA1.1.123.456")  # a tracker cookie: held back before consent
        return response

    return app


async def load_consent() -> None:
    g.consent = request.scope["state"]["consent"]


def build_app() -> Quart:
    app = create_app()
    app.before_request(load_consent)
    app.asgi_app = ConsentMiddleware(app.asgi_app, secret_key=SECRET)  # type: ignore[method-assign]
    return app


def build_full_app() -> Quart:
    app = create_app()
    app.before_request(load_consent)
    # GZip outside, ours inside it: we see the page before it is compressed.
    app.asgi_app = GZipMiddleware(ConsentMiddleware(app.asgi_app, secret_key=SECRET))  # type: ignore[method-assign]
    return app


async def test_banner_appears_on_an_html_page() -> None:
    await contract.banner_appears(build_app())


async def test_accept_through_the_form_sets_the_cookie_and_removes_the_banner() -> None:
    await contract.accept_removes_the_banner(build_app())


async def test_consent_is_readable_in_a_handler_from_request_scope() -> None:
    await contract.consent_is_readable_in_a_handler(build_app())


async def test_json_route_passes_byte_for_byte() -> None:
    await contract.passes_byte_for_byte(create_app(), build_app())


async def test_inside_gzip_the_page_gets_the_banner_and_is_compressed() -> None:
    await contract.compressed_page_has_the_banner(build_full_app())


async def test_session_cookie_and_consent_cookie_coexist() -> None:
    await contract.session_and_consent_cookies_coexist(build_full_app(), "session")


async def test_outside_gzip_the_compressed_page_is_rewritten() -> None:
    app = create_app()
    app.asgi_app = ConsentMiddleware(GZipMiddleware(app.asgi_app), secret_key=SECRET)  # type: ignore[method-assign]
    async with client_for(app) as client:
        compressed = await client.get("/", headers={"Accept-Encoding": "gzip"})
        identity = await client.get("/", headers={"Accept-Encoding": "identity"})
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert BANNER in compressed.text and BANNER in identity.text  # decoded, rewritten

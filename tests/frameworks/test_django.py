"""Django under ASGI: wrap `get_asgi_application()`; consent in `request.scope["state"]`.

Django's middleware (MIDDLEWARE) runs inside `get_asgi_application()`, so always inside
ConsentMiddleware. Its GZipMiddleware would hand us compressed pages, which pass through
untouched (no banner): compress outside ours instead, with any ASGI gzip middleware
(Starlette's here) or at the reverse proxy.
"""

from __future__ import annotations

from typing import Any

import django
import pytest
from django.conf import settings
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Send

from asgi_consent import ConsentMiddleware
from helpers import SECRET

from . import contract
from .contract import BANNER, accept_all, client_for
from .django_project.settings import SETTINGS

if not settings.configured:
    settings.configure(**SETTINGS)
    django.setup()
elif settings.ROOT_URLCONF != SETTINGS["ROOT_URLCONF"]:  # pragma: no cover
    raise RuntimeError("Django is already configured for another project in this process")

from django.core.asgi import get_asgi_application  # noqa: E402 - after settings
from django.test import override_settings  # noqa: E402

from .django_project.urls import PAGE  # noqa: E402

pytestmark = pytest.mark.anyio


# Django's ASGI handler sends response header names as written (b"Content-Type",
# b"Set-Cookie"); the middleware compares them with lower-case names only.
def build_app() -> ASGIApp:
    return ConsentMiddleware(get_asgi_application(), secret_key=SECRET)


def build_full_app() -> ASGIApp:
    # GZip outside, ours inside it: we see the page before it is compressed.
    return GZipMiddleware(ConsentMiddleware(get_asgi_application(), secret_key=SECRET))


async def test_banner_appears_on_an_html_page() -> None:
    await contract.banner_appears(build_app())


async def test_accept_through_the_form_sets_the_cookie_and_removes_the_banner() -> None:
    await contract.accept_removes_the_banner(build_app())


async def test_consent_is_readable_in_a_view_from_request_scope() -> None:
    await contract.consent_is_readable_in_a_handler(build_app())


async def test_json_route_passes_byte_for_byte() -> None:
    await contract.passes_byte_for_byte(get_asgi_application(), build_app())


async def test_inside_gzip_the_page_gets_the_banner_and_is_compressed() -> None:
    await contract.compressed_page_has_the_banner(build_full_app())


async def test_session_cookie_and_consent_cookie_coexist() -> None:
    await contract.session_and_consent_cookies_coexist(build_full_app(), "sessionid")


async def test_django_gzip_middleware_is_inside_us_and_gzip_pages_are_rewritten() -> None:
    middleware = ["django.middleware.gzip.GZipMiddleware", *SETTINGS["MIDDLEWARE"]]
    with override_settings(MIDDLEWARE=middleware):
        app = build_app()  # Django reads MIDDLEWARE when the handler is built
    async with client_for(app) as client:
        compressed = await client.get("/", headers={"Accept-Encoding": "gzip"})
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert BANNER in compressed.text  # decoded, rewritten, compressed again


async def test_django_template_marked_scripts_are_neutralised_before_a_choice() -> None:
    async with client_for(build_app()) as client:
        before = await client.get("/templated")
        await accept_all(client)
        after = await client.get("/templated")
    assert before.text.count('<script type="text/plain"') == 2
    assert BANNER in before.text
    assert '<script data-consent="analytics">window.statsQueue = [];</script>' in after.text
    assert 'type="text/plain"' not in after.text
    assert '<a href="/_consent/preferences" data-consent-open>Cookie settings</a>' in after.text


async def test_mixed_case_response_header_names_are_understood() -> None:
    # The bug without Django: any ASGI app may send header names in any case.
    async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers = [
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Content-Length", str(len(PAGE)).encode()),
            (b"Set-Cookie", b"_ga=GA1.1.123.456; Path=/"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": PAGE.encode()})

    async with client_for(ConsentMiddleware(app, secret_key=SECRET)) as client:
        response = await client.get("/")
    assert BANNER in response.text
    assert "set-cookie" not in response.headers
    assert [k.lower() for k, _ in response.headers.raw].count(b"content-length") == 1
    assert int(response.headers["content-length"]) == len(response.content)

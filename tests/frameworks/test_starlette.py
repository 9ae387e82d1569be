"""Starlette: `app.add_middleware(ConsentMiddleware, ...)`, consent in `request.state`.

The recipe in docs/frameworks.md is the code of `build_app` and `build_full_app`.
"""

from __future__ import annotations

import pytest
from jinja2 import DictLoader, Environment
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from asgi_consent import ConsentMiddleware
from helpers import SECRET

from . import contract
from .contract import BANNER, accept_all, client_for

pytestmark = pytest.mark.anyio

# Long enough for GZipMiddleware's default minimum_size (500 bytes) without the banner.
PAGE = (
    "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>"
    + "<p>Fresh bread every morning.</p>" * 20
    + "</body></html>"
)
TEMPLATES = {
    "page.html": (
        "<!doctype html><html><head><title>{{ title }}</title>\n"
        '<script src="https://stats.example.com/script.js" data-consent="analytics" defer>'
        "</script>\n"
        '<script data-consent="analytics">window.statsQueue = [];</script>\n'
        '<script type="text/plain" data-consent="analytics">startStats();</script>\n'
        "</head><body><h1>{{ title }}</h1>\n"
        '<footer><a href="/_consent/preferences" data-consent-open>Cookie settings</a>'
        "</footer>\n</body></html>"
    )
}
templates = Jinja2Templates(env=Environment(loader=DictLoader(TEMPLATES), autoescape=True))


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE)


async def api(request: Request) -> Response:
    return JSONResponse({"items": [1, 2, 3], "html": "<body></body>"})


async def whoami(request: Request) -> Response:
    consent = request.state.consent
    return PlainTextResponse(f"decided={consent.decided} analytics={consent.allows('analytics')}")


async def cart(request: Request) -> Response:
    request.session["visits"] = request.session.get("visits", 0) + 1
    response = HTMLResponse(PAGE.replace("Shop</h1>", f"Shop {request.session['visits']}</h1>"))
    response.set_cookie("_ga", "GA1.1.123.456")  # a tracker cookie: held back before consent
    return response


async def templated(request: Request) -> Response:
    return templates.TemplateResponse(request, "page.html", {"title": "Templated"})


ROUTES = [
    Route("/", page),
    Route("/api", api),
    Route("/whoami", whoami),
    Route("/cart", cart),
    Route("/templated", templated),
]


def build_app(*, consent: bool = True) -> Starlette:
    app = Starlette(routes=ROUTES)
    if consent:
        app.add_middleware(ConsentMiddleware, secret_key=SECRET)
    return app


def build_full_app() -> Starlette:
    app = Starlette(routes=ROUTES)
    # add_middleware wraps what was added before: add ours first so that it sits
    # innermost, inside GZip, and sees the page before it is compressed.
    app.add_middleware(ConsentMiddleware, secret_key=SECRET)
    app.add_middleware(SessionMiddleware, secret_key="session-secret-0123456789")
    app.add_middleware(GZipMiddleware)
    return app


def build_app_consent_outside_gzip() -> Starlette:
    app = Starlette(routes=ROUTES)
    app.add_middleware(GZipMiddleware)
    app.add_middleware(ConsentMiddleware, secret_key=SECRET)  # wrong: outside GZip
    return app


async def test_banner_appears_on_an_html_page() -> None:
    await contract.banner_appears(build_app())


async def test_accept_through_the_form_sets_the_cookie_and_removes_the_banner() -> None:
    await contract.accept_removes_the_banner(build_app())


async def test_consent_is_readable_in_a_handler_as_request_state_consent() -> None:
    await contract.consent_is_readable_in_a_handler(build_app())


async def test_json_route_passes_byte_for_byte() -> None:
    await contract.passes_byte_for_byte(build_app(consent=False), build_app())


async def test_inside_gzip_the_page_gets_the_banner_and_is_compressed() -> None:
    await contract.compressed_page_has_the_banner(build_full_app())


async def test_session_cookie_and_consent_cookie_coexist() -> None:
    await contract.session_and_consent_cookies_coexist(build_full_app(), "session")


async def test_outside_gzip_the_compressed_page_is_rewritten() -> None:
    await contract.compressed_before_us_is_rewritten(build_app_consent_outside_gzip(), PAGE)


async def test_jinja2_marked_scripts_are_neutralised_before_a_choice() -> None:
    async with client_for(build_app()) as client:
        before = await client.get("/templated")
        await accept_all(client)
        after = await client.get("/templated")
    rendered = templates.get_template("page.html").render(title="Templated")
    assert before.text.count('type="text/plain"') == 3
    assert '<script data-consent="analytics">' not in before.text
    assert BANNER in before.text
    # After accept the page is as the template wrote it: the two live scripts run, and
    # the inert one is left for consent.js, which wakes up the granted categories on load.
    assert '<script data-consent="analytics">window.statsQueue = [];</script>' in after.text
    assert 'src="https://stats.example.com/script.js" data-consent="analytics" defer>' in (
        after.text
    )
    assert after.text.count('type="text/plain"') == 1
    assert 'data-granted="analytics marketing media necessary"' in after.text
    assert after.text.startswith(rendered.split("<script type=")[0])


async def test_cookie_settings_link_works_without_javascript() -> None:
    async with client_for(build_app()) as client:
        page_ = await client.get("/templated")
        preferences = await client.get("/_consent/preferences")
        back = await client.get("/_consent/preferences", params={"next": "/templated"})
        saved = await client.post(
            "/_consent/choice",
            data={"choice": "save", "category": "analytics", "next": "/templated"},
            headers={"Origin": "http://testserver"},
        )
    assert '<a href="/_consent/preferences" data-consent-open>Cookie settings</a>' in page_.text
    assert preferences.status_code == 200
    assert preferences.headers["content-type"].startswith("text/html")
    assert 'action="/_consent/choice"' in preferences.text
    assert '<input type="hidden" name="next" value="/"/>' in preferences.text
    assert '<input type="hidden" name="next" value="/templated"/>' in back.text
    assert saved.status_code == 303
    assert saved.headers["location"] == "/templated"

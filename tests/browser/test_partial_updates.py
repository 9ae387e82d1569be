"""Partial page updates in a real browser (issue 15), with the real libraries: htmx
(npm `htmx.org` 2.x) and Turbo (npm `@hotwired/turbo`), installed by `make` into
.cache/npm and served by a small Starlette app behind the middleware.

A page loads fragments carrying a gtag snippet, a Meta Pixel and a YouTube iframe, by
`hx-get` and by a Turbo Frame. Every request is recorded; tracker hosts are answered
by the local fakes of conftest.py (nothing leaves the machine).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from demo.pages import GA4_SNIPPET, META_PIXEL_SNIPPET, YOUTUBE_EMBED
from playwright.sync_api import Browser, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from asgi_consent import ConsentMiddleware

from .conftest import SECRET, Visitor, _fake_network, _ServerThread

pytestmark = pytest.mark.browser

Visit = Callable[..., Visitor]
NPM = Path(__file__).resolve().parents[2] / ".cache" / "npm" / "node_modules"
LIBRARIES = {
    "htmx": NPM / "htmx.org" / "dist" / "htmx.min.js",
    "turbo": NPM / "@hotwired" / "turbo" / "dist" / "turbo.es2017-umd.js",
}
BANNER = "#asgi-consent[data-consent-banner]"
SETTINGS = "#asgi-consent-settings"
OUR_SCRIPT = 'script[src*="/_consent/static/consent."]'
TRACKERS = (
    '<div id="trackers"><p id="fragment-loaded">Fragment</p>'
    + GA4_SNIPPET
    + META_PIXEL_SNIPPET
    + YOUTUBE_EMBED
    + "</div>"
)
TRACKERS_RAN = "window.__fake_ga === 1 && window.__fake_fb === 1"
LOADERS = ["htmx", "turbo"]


def _page(title: str, library: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'<script src="/vendor/{library}.js"></script></head><body>'
        f'<h1 id="heading">{title}</h1>{body}</body></html>'
    )


def _htmx_page(title: str) -> str:
    return _page(
        title,
        "htmx",
        '<button type="button" id="load" hx-get="/fragments/trackers" hx-target="#slot">'
        'Load the fragment</button> <a id="boosted" href="/htmx/second" hx-boost="true">'
        'Second page</a><div id="slot"></div>',
    )


def _turbo_page(extra: str = "") -> str:
    return _page(
        "Turbo page",
        "turbo",
        extra + '<turbo-frame id="slot"><a id="load" href="/frames/trackers">Load the frame'
        '</a></turbo-frame><form id="signup" method="post" action="/turbo/signup">'
        '<button type="submit">Sign up</button></form><form id="stream" method="post" '
        'action="/turbo/stream"><button type="submit">Stream it</button></form>'
        '<div id="stream-slot"></div>',
    )


def create_app(libraries: dict[str, bytes]) -> ConsentMiddleware:
    """The test site: two htmx pages, a Turbo page, and the fragments they load."""

    def vendor(request: Request) -> Response:
        return Response(libraries[request.path_params["name"]], media_type="text/javascript")

    def htmx_home(request: Request) -> HTMLResponse:
        return HTMLResponse(_htmx_page("htmx page"))

    def htmx_second(request: Request) -> HTMLResponse:
        return HTMLResponse(_htmx_page("Second htmx page"))

    def turbo_home(request: Request) -> HTMLResponse:
        return HTMLResponse(_turbo_page())

    def fragment(request: Request) -> HTMLResponse:
        return HTMLResponse(TRACKERS)

    def frame(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<turbo-frame id="slot">{TRACKERS}</turbo-frame>')

    def signup(request: Request) -> HTMLResponse:
        # Turbo Drive renders a form's HTML answer as a whole new page.
        error = '<p id="signup-error">Your name is missing.</p>'
        return HTMLResponse(_turbo_page(error), status_code=422)

    def stream(request: Request) -> Response:
        body = (
            '<turbo-stream action="update" target="stream-slot"><template>'
            f"{TRACKERS}</template></turbo-stream>"
        )
        return Response(body, media_type="text/vnd.turbo-stream.html")

    routes = [
        Route("/vendor/{name}.js", vendor),
        Route("/htmx", htmx_home),
        Route("/htmx/second", htmx_second),
        Route("/turbo", turbo_home),
        Route("/turbo/signup", signup, methods=["POST"]),
        Route("/turbo/stream", stream, methods=["POST"]),
        Route("/fragments/trackers", fragment),
        Route("/frames/trackers", frame),
    ]
    return ConsentMiddleware(Starlette(routes=routes), secret_key=SECRET)


def _missing(reason: str) -> None:
    # CI must have everything; a developer machine without npm skips with the reason.
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def partial_site() -> Iterator[str]:
    """The test site with the real htmx and Turbo, served by uvicorn on loopback."""
    for name, path in LIBRARIES.items():
        if not path.exists():
            _missing(f"{name} is not installed at {path} (run make, which needs npm)")
    server = _ServerThread(create_app({k: v.read_bytes() for k, v in LIBRARIES.items()}))
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.fixture
def visit(browser: Browser, partial_site: str) -> Iterator[Visit]:
    """`visit()`: a fresh context on the test site; every request it makes is recorded."""
    contexts = []

    def open_visitor() -> Visitor:
        context = browser.new_context()
        context.set_default_timeout(10_000)
        context.route("**/*", _fake_network)
        contexts.append(context)
        visitor = Visitor(context.new_page(), partial_site)
        visitor.page.on("request", lambda request: visitor.requests.append(request.url))
        return visitor

    yield open_visitor
    for context in contexts:
        context.close()


def load_fragment(page: Page) -> None:
    """Click the page's loader (hx-get button or Turbo Frame link); wait for the answer."""
    page.locator("#load").click()
    expect(page.locator("#slot #fragment-loaded")).to_be_visible()


def settle(visitor: Visitor, still: float = 0.5) -> None:
    """Give anything that could start a request time to do it: wait until the page has
    tried no new request for `still` seconds. (Not wait_for_load_state("networkidle"):
    after the page's load it returns at once, whatever a fragment starts later.)"""
    deadline = time.monotonic() + 15
    seen, since = len(visitor.requests), time.monotonic()
    while time.monotonic() - since < still:
        assert time.monotonic() < deadline, "the page kept making requests for 15 s"
        visitor.page.wait_for_timeout(50)
        if len(visitor.requests) != seen:
            seen, since = len(visitor.requests), time.monotonic()


def choose(page: Page, button: str) -> None:
    page.get_by_role("button", name=button).click()
    expect(page.locator(BANNER)).to_have_count(0)


def expect_trackers_ran(visitor: Visitor, where: str) -> None:
    page = visitor.page
    page.wait_for_function(TRACKERS_RAN)
    video = page.frame_locator(f"{where} iframe[title='YouTube video player']")
    expect(video.locator("#fake-youtube")).to_have_text("fake YouTube player")


# -- before a choice ------------------------------------------------------------------


@pytest.mark.parametrize("library", LOADERS)
def test_fragment_before_a_choice_loads_no_tracker_and_brings_no_banner(
    visit: Visit, library: str
) -> None:
    visitor = visit()
    visitor.goto(f"/{library}")
    page = visitor.page

    load_fragment(page)
    settle(visitor)

    assert visitor.tracker_requests() == []
    expect(page.locator(BANNER)).to_have_count(1)
    expect(page.locator(f"#slot {BANNER}")).to_have_count(0)
    expect(page.locator(f"#slot {OUR_SCRIPT}")).to_have_count(0)
    expect(page.locator(OUR_SCRIPT)).to_have_count(1)
    placeholder = page.locator('#slot [data-consent-placeholder="media"]')
    expect(placeholder).to_be_visible()
    # Its no-JavaScript form returns to the page, not to the fragment's URL.
    expect(placeholder.locator('input[name="next"]')).to_have_value(f"/{library}")


# -- after a choice made in the page --------------------------------------------------


@pytest.mark.parametrize("library", LOADERS)
def test_accept_then_load_a_fragment_runs_its_trackers_without_a_reload(
    visit: Visit, library: str
) -> None:
    visitor = visit()
    visitor.goto(f"/{library}")
    page = visitor.page
    page.evaluate("window.__same_document = 'still here'")

    choose(page, "Accept all")
    assert visitor.tracker_requests() == []
    load_fragment(page)

    expect_trackers_ran(visitor, "#slot")
    assert page.evaluate("window.__same_document") == "still here"
    expect(page.locator("#slot .asgi-consent-placeholder")).to_have_count(0)


@pytest.mark.parametrize("library", LOADERS)
def test_reject_then_load_a_fragment_loads_no_tracker(visit: Visit, library: str) -> None:
    visitor = visit()
    visitor.goto(f"/{library}")
    page = visitor.page

    choose(page, "Reject all")
    load_fragment(page)
    settle(visitor)

    assert visitor.tracker_requests() == []
    assert page.evaluate("window.__fake_ga || window.__fake_fb") is None
    expect(page.locator('#slot [data-consent-placeholder="media"]')).to_be_visible()


# -- navigation by swapping the body --------------------------------------------------


def test_hx_boost_navigation_keeps_exactly_one_banner(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/htmx")
    page = visitor.page
    page.evaluate("window.__same_document = 'still here'")

    page.locator("#boosted").click()
    page.wait_for_url(visitor.url("/htmx/second"))
    expect(page.locator("#heading")).to_have_text("Second htmx page")

    assert page.evaluate("window.__same_document") == "still here"  # swapped, not loaded
    expect(page.locator(BANNER)).to_have_count(1)
    expect(page.locator(OUR_SCRIPT)).to_have_count(1)
    # and it still works: the choice is recorded without a reload
    choose(page, "Accept all")
    assert visitor.status()["decided"] is True
    assert page.evaluate("window.__same_document") == "still here"


def test_hx_boost_navigation_after_a_choice_keeps_exactly_one_settings_control(
    visit: Visit,
) -> None:
    visitor = visit()
    visitor.goto("/htmx")
    page = visitor.page
    choose(page, "Reject all")
    expect(page.locator(SETTINGS)).to_have_count(1)

    page.locator("#boosted").click()
    expect(page.locator("#heading")).to_have_text("Second htmx page")

    expect(page.locator(SETTINGS)).to_have_count(1)
    expect(page.locator(BANNER)).to_have_count(0)
    expect(page.locator(OUR_SCRIPT)).to_have_count(1)


def test_turbo_drive_form_answered_with_a_whole_page_keeps_exactly_one_banner(
    visit: Visit,
) -> None:
    # Turbo Drive asks for streams with every form; an HTML answer is still a whole page.
    visitor = visit()
    visitor.goto("/turbo")
    page = visitor.page

    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#signup-error")).to_be_visible()

    expect(page.locator(BANNER)).to_have_count(1)
    expect(page.locator(OUR_SCRIPT)).to_have_count(1)


def test_turbo_stream_before_a_choice_loads_no_tracker(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/turbo")
    page = visitor.page

    page.get_by_role("button", name="Stream it").click()
    expect(page.locator("#stream-slot #fragment-loaded")).to_be_visible()
    settle(visitor)

    assert visitor.tracker_requests() == []
    expect(page.locator(BANNER)).to_have_count(1)


# -- markup held before a choice, swapped in after it (consent.js wakes it) -----------


def _fetch_held_fragment(page: Page) -> str:
    """The fragment as htmx would get it now, before a choice: trackers held back."""
    held: str = page.evaluate(
        """() => fetch("/fragments/trackers", {headers: {"HX-Request": "true",
                 "HX-Current-URL": location.href}}).then((r) => r.text())"""
    )
    assert 'data-consent-src="https://www.youtube.com/embed/' in held
    return held


def test_held_fragment_swapped_in_after_accept_wakes_without_a_reload(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/htmx")
    page = visitor.page
    held = _fetch_held_fragment(page)

    choose(page, "Accept all")
    page.evaluate("(html) => htmx.swap('#slot', html, {swapStyle: 'innerHTML'})", held)

    expect_trackers_ran(visitor, "#slot")
    expect(page.locator("#slot .asgi-consent-placeholder")).to_have_count(0)


def test_held_fragment_swapped_in_after_reject_stays_inert(visit: Visit) -> None:
    visitor = visit()
    visitor.goto("/htmx")
    page = visitor.page
    held = _fetch_held_fragment(page)

    choose(page, "Reject all")
    page.evaluate("(html) => htmx.swap('#slot', html, {swapStyle: 'innerHTML'})", held)
    expect(page.locator("#slot #fragment-loaded")).to_be_visible()
    settle(visitor)

    assert visitor.tracker_requests() == []
    expect(page.locator('#slot [data-consent-placeholder="media"]')).to_be_visible()

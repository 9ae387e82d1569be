"""RED-TEAM FINDINGS (wip-redteam), in Chromium: failing tests for leaks in
`cacheable_html`. Each fails until the lead fixes the cause in src/."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route as Path

from asgi_consent import ConsentMiddleware
from helpers import LoopbackServer
from nginx_proxy import NginxCache

from .conftest import SECRET, Visitor, _fake_network, is_tracker

pytestmark = pytest.mark.browser

STORY = """<!doctype html><html><head><meta charset="utf-8"><title>Story</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-STORY"></script>
</head><body><h1>Story</h1>
<turbo-frame id="comments"><a href="/story">Comments</a></turbo-frame></body></html>"""


async def _story(request: Request) -> Response:
    # The same bytes whatever the request says, as a page that a frame also links to:
    # Turbo takes the matching <turbo-frame> out of a whole page.
    return HTMLResponse(STORY, headers={"Cache-Control": "public, max-age=300"})


@pytest.fixture(scope="module")
def cache() -> Iterator[str]:
    app = ConsentMiddleware(
        Starlette(routes=[Path("/story", _story), Path("/other", _story)]),
        secret_key=SECRET,
        cacheable_html=True,
    )
    server = LoopbackServer(app)
    server.start()
    try:
        with NginxCache(server.port) as url:
            yield url
    finally:
        server.stop()


@pytest.fixture
def visitor(browser: Browser, cache: str) -> Iterator[Visitor]:
    context = browser.new_context()
    context.set_default_timeout(10_000)
    context.route("**/*", _fake_network)
    page = context.new_page()
    visitor = Visitor(page, cache)
    page.on("request", lambda request: visitor.requests.append(request.url))
    yield visitor
    context.close()


def _quiet(page: Page, asked: list[str], still: float = 0.5) -> None:
    """Wait until the page has tried no new request for `still` seconds, before an
    assertion that something was not requested ("load" is no bound for run-time code)."""
    deadline = time.monotonic() + 15
    seen, since = len(asked), time.monotonic()
    while time.monotonic() - since < still:
        assert time.monotonic() < deadline, "the page kept making requests for 15 s"
        page.wait_for_timeout(25)
        if len(asked) != seen:
            seen, since = len(asked), time.monotonic()


def _settle(visitor: Visitor, expression: str) -> bool:
    """Whether `expression` becomes true within 10 s (it may never: that is the finding)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if visitor.page.evaluate(expression):
            return True
        time.sleep(0.05)
    return False


def test_redteam_one_turbo_frame_request_strips_the_banner_from_the_cached_page(
    cache: str, visitor: Visitor
) -> None:
    """RED-TEAM FINDING 2 in a browser: one frame navigation (`Turbo-Frame: comments`,
    as Turbo sends it, or anyone) is answered without banner and consent.js, with the
    app's public Cache-Control and no Vary; nginx keeps it under the URL. The next
    visitor who has not chosen gets no banner at all, and one who accepted gets no
    trackers woken."""
    with httpx.Client(base_url=cache) as http:
        poisoned = http.get("/story", headers={"Turbo-Frame": "comments"})
        assert poisoned.headers["x-cache-status"] == "MISS"
    visitor.page.goto(visitor.url("/story"))
    assert visitor.page.locator("h1").inner_text() == "Story"
    assert _settle(visitor, "window.asgiConsent !== undefined")  # consent.js ran
    assert visitor.page.locator("#asgi-consent").is_visible()  # the banner asks


def test_redteam_an_accepting_visitor_gets_no_trackers_on_a_poisoned_page(
    cache: str, visitor: Visitor
) -> None:
    with httpx.Client(base_url=cache) as http:
        http.get("/other", headers={"HX-Request": "true"})
    visitor.page.goto(visitor.url("/other?fresh"))  # an unpoisoned URL: choose there
    assert _settle(visitor, "window.asgiConsent !== undefined")
    visitor.page.locator('#asgi-consent > form [data-choice="accept"]').click()
    assert _settle(visitor, "window.__fake_ga === 1")
    visitor.page.goto(visitor.url("/other"))
    assert _settle(visitor, "window.__fake_ga === 1")  # the accepted tracker woke


BASED = """<!doctype html><html><head><meta charset="utf-8">
<base href="https://static.example.com/"><title>Based</title></head>
<body><h1>Based</h1></body></html>"""


async def _based(request: Request) -> Response:
    return HTMLResponse(BASED, headers={"Cache-Control": "public, max-age=300"})


@pytest.fixture(scope="module")
def based_cache() -> Iterator[str]:
    app = ConsentMiddleware(
        Starlette(routes=[Path("/based", _based)]), secret_key=SECRET, cacheable_html=True
    )
    server = LoopbackServer(app)
    server.start()
    try:
        with NginxCache(server.port) as url:
            yield url
    finally:
        server.stop()


def test_redteam_one_request_with_another_host_serves_everyone_our_script_from_it(
    based_cache: str, browser: Browser
) -> None:
    """RED-TEAM FINDING 3 in a browser: a request with `Host: attacker.test` to a page
    with <base href> elsewhere is cached by nginx; the next visitor's Chromium fetches
    consent.js (and would post its choice) from attacker.test."""
    with httpx.Client(base_url=based_cache) as http:
        http.get("/based", headers={"Host": "attacker.test"})
    context = browser.new_context()
    context.route("**/*", _fake_network)
    try:
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(based_cache + "/based")
        _quiet(page, asked)
        foreign = [url for url in asked if "/_consent/" in url and "attacker.test" in url]
        assert foreign == []
    finally:
        context.close()


# -- RED-TEAM FINDING 4: a g1 visitor's grant shows as refused on a cached page ------------

VIDEO = """<!doctype html><html><head><meta charset="utf-8"><title>Video</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-VIDEO"></script></head>
<body><h1>Video</h1>
<iframe src="https://www.youtube.com/embed/abc123" width="320" height="180"></iframe>
</body></html>"""


async def _video(request: Request) -> Response:
    return HTMLResponse(VIDEO, headers={"Cache-Control": "public, max-age=300"})


@pytest.fixture(scope="module")
def video_site() -> Iterator[str]:
    app = ConsentMiddleware(
        Starlette(routes=[Path("/video", _video)]), secret_key=SECRET, cacheable_html=True
    )
    server = LoopbackServer(app)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_redteam_a_placeholder_grant_shows_switched_off_on_a_cached_page(
    video_site: str, browser: Browser
) -> None:
    """A visitor clicked "Allow and load" (g1 cookie: media granted, banner still
    asking). On a page made for them the banner's media switch is on
    (`BannerRenderer.banner(granted=...)`); on a cached page consent.js wakes the video
    but leaves the switch off, so "Save" without touching it takes the grant back."""
    context = browser.new_context()
    context.route("**/*", _fake_network)
    try:
        page = context.new_page()
        page.goto(video_site + "/video")
        page.wait_for_function("window.asgiConsent !== undefined")
        page.locator("[data-consent-placeholder] button").first.click()  # Allow and load
        page.wait_for_function("document.querySelector('iframe[src*=youtube]') !== null")
        cookie = next(c for c in context.cookies(video_site) if c["name"] == "asgi_consent")
        assert cookie["value"].startswith("g1~")
        page.goto(video_site + "/video")  # the same cached bytes as for everyone
        page.wait_for_function("window.asgiConsent !== undefined")
        page.wait_for_function("document.querySelector('iframe[src*=youtube]') !== null")
        assert page.locator("#asgi-consent").is_visible()  # still asking: right
        assert page.evaluate("window.__fake_ga") is None  # analytics not woken: right
        media = page.locator('#asgi-consent input[name="category"][value="media"]')
        assert media.is_checked()  # the grant the visitor gave
    finally:
        context.close()


# -- RED-TEAM FINDING 5: the guard lets a <style> through that the server holds ------------

# The tracker's URL is put together at run time, as a bundle does: the server cannot see it
# in the inline code, so only the run-time guard can hold what the code adds.
STYLE_VECTORS = {
    "appended-import": "const s = document.createElement('style');"
    " s.textContent = '@import url(\"' + T + '\");'; document.head.appendChild(s);",
    "appended-background": "const s = document.createElement('style');"
    " s.textContent = 'body{background:url(\"' + T + '\")}'; document.head.append(s);",
    "markup-import": "document.body.insertAdjacentHTML('beforeend',"
    " '<style>@import url(\"' + T + '\");</style>');",
}
STYLED = """<!doctype html><html><head><meta charset="utf-8"><title>Styled</title></head>
<body><h1>Styled</h1><script>
const T = "https://www.goo" + "gle-analytics.com/collect?v=1&t=style";
{code}
</script></body></html>"""


async def _styled(request: Request) -> Response:
    return HTMLResponse(STYLED.replace("{code}", STYLE_VECTORS[request.path_params["name"]]))


@pytest.fixture(scope="module")
def styled_site() -> Iterator[str]:
    app = ConsentMiddleware(Starlette(routes=[Path("/styled/{name}", _styled)]), secret_key=SECRET)
    server = LoopbackServer(app)
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


@pytest.mark.parametrize("name", sorted(STYLE_VECTORS))
def test_redteam_a_style_naming_a_tracker_added_at_run_time_is_not_held(
    styled_site: str, browser: Browser, name: str
) -> None:
    """The server holds `<style>` whose CSS fetches a catalogued tracker (@import or
    url(): data-consent-css). The guard, "one rule set" with the server, lets the same
    element through when page code adds it, and Chromium fetches the tracker before any
    choice."""
    context = browser.new_context()
    context.route("**/*", _fake_network)
    try:
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(f"{styled_site}/styled/{name}")
        page.wait_for_function("window.asgiConsent !== undefined")
        _quiet(page, asked)
        assert page.evaluate("document.querySelector('[data-consent-banner]') !== null")
        assert [url for url in asked if "google-analytics.com" in url] == []
    finally:
        context.close()


# -- RED-TEAM FINDING 7: a cookie the server refuses decides a cached page ----------------


def test_redteam_a_cookie_signed_by_a_sibling_site_hides_the_banner_and_wakes_trackers(
    video_site: str, browser: Browser
) -> None:
    """shop.example.com runs asgi-consent too, with its own secret and
    `cookie_domain="example.com"`; the visitor accepted there, never on www. On www the
    server verifies nothing of that cookie (another key): no choice, banner due, no
    record in www's consent log. A cached page reads it in consent-cache.js, which
    cannot check signatures: banner hidden, every category woken. (The same after a key
    rotation that drops a leaked key at once.) Stood in for here by the same value on
    this host; the browser reads and sends it alike."""
    from asgi_consent import ConsentConfig
    from asgi_consent.cookie import ConsentCodec

    sibling = ConsentCodec(ConsentConfig(secret_key="the-shop-s-own-secret-0123456789abc"))
    value = sibling.encode(["analytics", "marketing", "media"])
    context = browser.new_context()
    context.route("**/*", _fake_network)
    context.add_cookies([{"name": "asgi_consent", "value": value, "url": video_site}])
    try:
        page = context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        status = page.request.get(video_site + "/_consent/status").json()
        assert status["decided"] is False  # www's server: no choice, the banner is due
        page.goto(video_site + "/video")
        page.wait_for_function("window.asgiConsent !== undefined")
        _quiet(page, asked)
        assert page.locator("#asgi-consent").is_visible()
        assert [url for url in asked if is_tracker(url)] == []
        assert page.evaluate("window.__fake_ga") is None
    finally:
        context.close()
